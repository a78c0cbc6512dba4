//! Opaque paging tokens: a `LastEvaluatedKey` as URL-safe base64 (no padding) of its JSON.

use crate::error::{Error, Result};
use crate::item::Item;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encodes a last-evaluated key as a token safe in a URL query string.
pub fn encode(key: &Item) -> String {
    let json = serde_json::to_vec(key).expect("a JSON map serializes");
    let mut out = String::with_capacity(json.len() * 4 / 3 + 3);
    for chunk in json.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes a token made by [`encode`]; anything else is [`Error::InvalidToken`].
pub fn decode(token: &str) -> Result<Item> {
    let mut bytes = Vec::with_capacity(token.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in token.bytes() {
        let v = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or(Error::InvalidToken)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    serde_json::from_slice(&bytes).map_err(|_| Error::InvalidToken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        for key in [
            json!({}),
            json!({"id": {"S": "a"}}),
            json!({"pk": {"S": "x/y?z"}, "sk": {"N": "10"}}),
        ] {
            let serde_json::Value::Object(key) = key else {
                unreachable!()
            };
            let t = encode(&key);
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{t}"
            );
            assert_eq!(decode(&t).unwrap(), key);
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(decode("!!"), Err(Error::InvalidToken)));
        assert!(matches!(decode("abcd"), Err(Error::InvalidToken)));
    }
}
