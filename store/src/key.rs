//! Order-preserving key encoding.
//!
//! Items live in a table's keyspace under a byte key built from their primary key:
//!
//! ```text
//! [ 2-byte hash of the encoded partition key ][ encoded partition key ][ encoded sort key ]
//! ```
//!
//! Each key value is encoded so that comparing the bytes compares the values the way DynamoDB
//! orders them: numbers numerically, strings and binaries by their bytes. The hash in front
//! spreads partitions evenly over the key space, so a parallel Scan can split it into disjoint
//! segments by hash range, and all items of one partition stay contiguous and ordered by sort key
//! for Query.

use crate::value::{AttributeValue, Number};

/// Tag bytes: they keep values of different types apart (a key attribute has one type, so these
/// never compare against each other in practice).
const TAG_NEG: u8 = 0x01;
const TAG_ZERO: u8 = 0x02;
const TAG_POS: u8 = 0x03;
const TAG_BYTES: u8 = 0x10;

/// Exponents are stored biased so that they sort as unsigned big-endian integers.
const EXP_BIAS: i64 = 1 << 15;

/// Appends the order-preserving encoding of a key value (S, N or B) to `out`.
///
/// The encoding is self-delimiting, so encodings can be concatenated and the concatenation still
/// sorts by the first value, then the second.
///
/// Strings and binaries: tag, then the bytes with `0x00` escaped as `0x00 0xFF`, then the
/// terminator `0x00 0x01`. Numbers: a sign tag; then, for non-zero numbers, the decimal exponent
/// (biased, big-endian) and the significant digits as ASCII followed by `0x00` — all bitwise
/// inverted for negative numbers, so that larger magnitudes sort first.
///
/// Returns `false` (writing nothing) for types that cannot be key values.
pub fn encode_key_value(value: &AttributeValue, out: &mut Vec<u8>) -> bool {
    match value {
        AttributeValue::S(s) => encode_bytes(s.as_bytes(), out),
        AttributeValue::B(b) => encode_bytes(b, out),
        AttributeValue::N(n) => encode_number(n, out),
        _ => return false,
    }
    true
}

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(TAG_BYTES);
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

fn encode_number(n: &Number, out: &mut Vec<u8>) {
    if n.is_zero() {
        out.push(TAG_ZERO);
        return;
    }
    let negative = n.is_negative();
    out.push(if negative { TAG_NEG } else { TAG_POS });
    let start = out.len();
    let exp = (n.exponent() + EXP_BIAS) as u16;
    out.extend_from_slice(&exp.to_be_bytes());
    out.extend_from_slice(n.digits().as_bytes());
    out.push(0x00);
    if negative {
        for b in &mut out[start..] {
            *b = !*b;
        }
    }
}

/// The 2-byte partition hash: the first two bytes of every item key.
pub fn partition_hash(encoded_partition_key: &[u8]) -> [u8; 2] {
    // FNV-1a, folded to 16 bits: stable across versions and platforms, which the on-disk
    // layout needs (a std hasher gives no such promise).
    let mut h: u32 = 0x811c_9dc5;
    for &b in encoded_partition_key {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let folded = ((h >> 16) ^ (h & 0xFFFF)) as u16;
    folded.to_be_bytes()
}

/// The prefix shared by every item of one partition: hash and encoded partition key.
///
/// Returns `None` when the value cannot be a key value.
pub fn partition_prefix(partition_key: &AttributeValue) -> Option<Vec<u8>> {
    let mut enc = Vec::with_capacity(32);
    if !encode_key_value(partition_key, &mut enc) {
        return None;
    }
    let mut out = Vec::with_capacity(enc.len() + 2);
    out.extend_from_slice(&partition_hash(&enc));
    out.extend_from_slice(&enc);
    Some(out)
}

/// The full storage key of an item: partition prefix, then the encoded sort key if any.
///
/// Returns `None` when a value cannot be a key value.
pub fn item_key(
    partition_key: &AttributeValue,
    sort_key: Option<&AttributeValue>,
) -> Option<Vec<u8>> {
    let mut out = partition_prefix(partition_key)?;
    if let Some(sk) = sort_key {
        if !encode_key_value(sk, &mut out) {
            return None;
        }
    }
    Some(out)
}

/// The prefix shared by every entry of one partition of a multi-attribute index key: the hash
/// of the encoded partition key attributes (concatenated, in key order), then those encodings.
/// With one attribute it is [`partition_prefix`] exactly, so single-attribute indexes keep
/// their layout.
///
/// Returns `None` when a value cannot be a key value.
pub fn composite_partition_prefix(partition_key: &[&AttributeValue]) -> Option<Vec<u8>> {
    let mut enc = Vec::with_capacity(32 * partition_key.len());
    for v in partition_key {
        if !encode_key_value(v, &mut enc) {
            return None;
        }
    }
    let mut out = Vec::with_capacity(enc.len() + 2);
    out.extend_from_slice(&partition_hash(&enc));
    out.extend_from_slice(&enc);
    Some(out)
}

/// The key of a multi-attribute index entry's index part: [`composite_partition_prefix`], then
/// each sort key attribute encoded in order (so entries sort by the first sort attribute, then
/// the second, and so on). Equal to [`item_key`] for one partition and at most one sort
/// attribute.
///
/// Returns `None` when a value cannot be a key value.
pub fn composite_key(
    partition_key: &[&AttributeValue],
    sort_key: &[&AttributeValue],
) -> Option<Vec<u8>> {
    let mut out = composite_partition_prefix(partition_key)?;
    for v in sort_key {
        if !encode_key_value(v, &mut out) {
            return None;
        }
    }
    Some(out)
}

/// The storage-key range `[start, end)` of parallel-scan segment `segment` of `total`: the
/// partition-hash space split into `total` contiguous, disjoint pieces that cover it all.
pub fn segment_bounds(segment: u32, total: u32) -> (Vec<u8>, Option<Vec<u8>>) {
    let space: u64 = 1 << 16;
    let lo = space * u64::from(segment) / u64::from(total);
    let hi = space * (u64::from(segment) + 1) / u64::from(total);
    let start = (lo as u16).to_be_bytes().to_vec();
    let end = if hi >= space {
        None
    } else {
        Some((hi as u16).to_be_bytes().to_vec())
    };
    (start, end)
}

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// when there is none (the prefix is all `0xFF`).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last != 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(v: &AttributeValue) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(encode_key_value(v, &mut out));
        out
    }

    fn num(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn numbers_sort_numerically() {
        let ordered = [
            "-1e125", "-100", "-12.5", "-12", "-1.23", "-1.2", "-1", "-0.5", "-1e-130", "0",
            "1e-130", "0.5", "1", "1.2", "1.23", "12", "12.5", "100", "1e125",
        ];
        for w in ordered.windows(2) {
            assert!(enc(&num(w[0])) < enc(&num(w[1])), "{} < {}", w[0], w[1]);
        }
        assert_eq!(enc(&num("1.50")), enc(&num("01.5")));
    }

    #[test]
    fn composite_keys_sort_by_first_then_second() {
        let a = item_key(
            &AttributeValue::S("a".into()),
            Some(&AttributeValue::S("z".into())),
        )
        .unwrap();
        let a2 = item_key(
            &AttributeValue::S("a".into()),
            Some(&AttributeValue::S("zz".into())),
        )
        .unwrap();
        let p = partition_prefix(&AttributeValue::S("a".into())).unwrap();
        assert!(a.starts_with(&p) && a2.starts_with(&p));
        assert!(a < a2);
        // a partition key that extends another one never falls inside its prefix range
        let ab = item_key(&AttributeValue::S("a\0".into()), None).unwrap();
        assert!(!ab.starts_with(&p) || ab.len() == p.len());
    }

    #[test]
    fn composite_keys_match_single_keys_and_sort_part_by_part() {
        let (a, b) = (AttributeValue::S("a".into()), AttributeValue::S("b".into()));
        assert_eq!(composite_key(&[&a], &[&b]), item_key(&a, Some(&b)));
        assert_eq!(composite_key(&[&a], &[]), item_key(&a, None));
        assert_eq!(composite_partition_prefix(&[&a]), partition_prefix(&a));
        // ("a", "b") and ("ab", "") never share a partition prefix
        let ab = AttributeValue::S("ab".into());
        let p1 = composite_partition_prefix(&[&a, &b]).unwrap();
        let p2 = composite_partition_prefix(&[&ab, &AttributeValue::S(String::new())]).unwrap();
        assert_ne!(p1, p2);
        // sort: first attribute, then second
        let (n1, n2) = (num("2"), num("10"));
        let k = |x: &AttributeValue, y: &AttributeValue| composite_key(&[&a], &[x, y]).unwrap();
        assert!(k(&n1, &n2) < k(&n2, &n1));
        assert!(k(&n1, &n1) < k(&n1, &n2));
    }

    #[test]
    fn segments_cover_the_space_disjointly() {
        for total in [1u32, 2, 3, 7, 1000] {
            let mut prev_end: Option<Vec<u8>> = Some(vec![0, 0]);
            for s in 0..total {
                let (start, end) = segment_bounds(s, total);
                assert_eq!(Some(start.clone()), prev_end);
                prev_end = end.clone();
                if let Some(e) = &end {
                    assert!(&start <= e);
                }
            }
            assert_eq!(prev_end, None);
        }
    }

    fn arb_number() -> impl Strategy<Value = String> {
        (
            "[+-]?",
            "[0-9]{1,15}",
            proptest::option::of("[0-9]{1,10}"),
            -40i32..40,
        )
            .prop_map(|(sign, int, frac, exp)| {
                let mut s = format!("{sign}{int}");
                if let Some(f) = frac {
                    s.push('.');
                    s.push_str(&f);
                }
                format!("{s}e{exp}")
            })
    }

    proptest! {
        #[test]
        fn number_encoding_preserves_order(a in arb_number(), b in arb_number()) {
            let (x, y) = (Number::parse(&a).unwrap(), Number::parse(&b).unwrap());
            let (ex, ey) = (enc(&AttributeValue::N(x.clone())), enc(&AttributeValue::N(y.clone())));
            prop_assert_eq!(x.cmp(&y), ex.cmp(&ey));
        }

        #[test]
        fn string_encoding_preserves_order(a in ".{0,12}", b in ".{0,12}") {
            let (ea, eb) = (enc(&AttributeValue::S(a.clone())), enc(&AttributeValue::S(b.clone())));
            prop_assert_eq!(a.as_bytes().cmp(b.as_bytes()), ea.cmp(&eb));
        }

        #[test]
        fn binary_encoding_preserves_order(a in proptest::collection::vec(any::<u8>(), 0..12), b in proptest::collection::vec(any::<u8>(), 0..12)) {
            let (ea, eb) = (enc(&AttributeValue::B(a.clone())), enc(&AttributeValue::B(b.clone())));
            prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
        }

        #[test]
        fn composite_order_is_lexicographic(p1 in proptest::collection::vec(any::<u8>(), 0..6), s1 in arb_number(),
                                            s2 in arb_number()) {
            // Same partition: order follows the sort key.
            let pk = AttributeValue::B(p1);
            let (n1, n2) = (Number::parse(&s1).unwrap(), Number::parse(&s2).unwrap());
            let k1 = item_key(&pk, Some(&AttributeValue::N(n1.clone()))).unwrap();
            let k2 = item_key(&pk, Some(&AttributeValue::N(n2.clone()))).unwrap();
            prop_assert_eq!(n1.cmp(&n2), k1.cmp(&k2));
        }
    }
}
