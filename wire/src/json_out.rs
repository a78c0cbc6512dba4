//! An item written as DynamoDB JSON straight into a byte buffer: the hot answers' writer
//! (GetItem's item).
//!
//! The bytes are exactly those `serde_json::to_vec(&ItemJson(item))` writes (the tests hold
//! the two to each other over arbitrary items and strings), so any path may use either. This
//! one exists for speed: serde_json escapes a string a byte at a time through a lookup table,
//! which for a 1 KB string attribute was the largest single piece of a GetItem's answer. Here
//! strings are escaped by `json-escape-simd` (sonic-rs's SIMD escaper), which checks 16 or 32
//! bytes at once and escapes as serde_json does. `cargo bench -p tarn-wire --bench json_out`
//! compares the two writers.

use base64::Engine as _;
use tarn_store::{AttributeValue, Item, Number};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Writes `item` as a DynamoDB JSON object (`{"name":{"S":"x"},...}`, names in the item's
/// order) to the end of `out`.
pub fn write_item(out: &mut Vec<u8>, item: &Item) {
    out.push(b'{');
    for (i, (name, value)) in item.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, name);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

/// Writes one attribute value (`{"S":"x"}`, `{"N":"1.5"}`...) to the end of `out`.
pub fn write_value(out: &mut Vec<u8>, value: &AttributeValue) {
    match value {
        AttributeValue::S(s) => {
            out.extend_from_slice(b"{\"S\":");
            write_str(out, s);
        }
        AttributeValue::N(n) => {
            out.extend_from_slice(b"{\"N\":");
            write_number(out, n);
        }
        AttributeValue::B(b) => {
            out.extend_from_slice(b"{\"B\":");
            write_base64(out, b);
        }
        AttributeValue::Bool(true) => out.extend_from_slice(b"{\"BOOL\":true"),
        AttributeValue::Bool(false) => out.extend_from_slice(b"{\"BOOL\":false"),
        AttributeValue::Null => out.extend_from_slice(b"{\"NULL\":true"),
        AttributeValue::M(m) => {
            out.extend_from_slice(b"{\"M\":");
            write_item(out, m);
        }
        AttributeValue::L(l) => {
            out.extend_from_slice(b"{\"L\":");
            write_list(out, l, write_value);
        }
        AttributeValue::Ss(ss) => {
            out.extend_from_slice(b"{\"SS\":");
            write_list(out, ss, |out, s| write_str(out, s));
        }
        AttributeValue::Ns(ns) => {
            out.extend_from_slice(b"{\"NS\":");
            write_list(out, ns, write_number);
        }
        AttributeValue::Bs(bs) => {
            out.extend_from_slice(b"{\"BS\":");
            write_list(out, bs, |out, b| write_base64(out, b));
        }
    }
    out.push(b'}');
}

/// `[a,b,...]`, each member written by `write`.
fn write_list<T>(out: &mut Vec<u8>, members: &[T], write: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, m);
    }
    out.push(b']');
}

/// A number as a JSON string of its canonical form (digits, `-`, `.`, `E`: nothing to escape).
fn write_number(out: &mut Vec<u8>, n: &Number) {
    use std::io::Write as _;
    out.push(b'"');
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{n}");
    out.push(b'"');
}

/// Bytes as a JSON string of their base64 (nothing to escape).
fn write_base64(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'"');
    let start = out.len();
    out.resize(start + b.len().div_ceil(3) * 4, 0);
    // The room is exactly the padded encoding's length; the fallback is never expected.
    match BASE64.encode_slice(b, &mut out[start..]) {
        Ok(written) => out.truncate(start + written),
        Err(_) => {
            out.truncate(start);
            out.extend_from_slice(BASE64.encode(b).as_bytes());
        }
    }
    out.push(b'"');
}

/// Writes `s` as a JSON string, escaped as serde_json escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    json_escape_simd::escape_into(s, out);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::value::ItemJson;

    fn written(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut every_byte: String = (0u8..128).map(char::from).collect();
        every_byte.push_str("é€😀 and a long tail with \"quotes\" and \\ in it");
        for s in [
            "",
            "plain",
            "exactly8",
            "sixteen bytes ok",
            "\"",
            "\\",
            "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{0}i\u{1f}j\u{7f}k",
            "0123456789abcde\"",
            "0123456\u{1}89abcdef0123",
            &every_byte,
        ] {
            assert_eq!(written(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn an_escape_is_found_at_every_position_of_a_long_string() {
        // Wide enough for every chunk size the escaper scans with, and their tails.
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for len in [1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100] {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    let s = String::from_utf8(bytes).unwrap();
                    assert_eq!(written(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
                }
            }
        }
    }

    fn arb_string() -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => proptest::char::range('\u{0}', '\u{7f}'),
            1 => any::<char>(),
        ];
        proptest::collection::vec(chars, 0..40).prop_map(|c| c.into_iter().collect())
    }

    fn arb_value() -> impl Strategy<Value = AttributeValue> {
        crate::value::tests::arb_value_with(arb_string().boxed())
    }

    proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in any::<String>()) {
            prop_assert_eq!(written(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn any_item_is_written_as_item_json_writes_it(
            item in proptest::collection::btree_map(arb_string(), arb_value(), 0..6)
        ) {
            let mut out = Vec::new();
            write_item(&mut out, &item);
            prop_assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&ItemJson(&item)).unwrap()
            );
        }
    }
}
