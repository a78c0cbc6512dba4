//! The on-disk form of items and catalog entries.
//!
//! Items are stored as a version byte followed by their postcard encoding (compact, and fast to
//! decode). The version byte leaves room to change the format without rewriting old data.

use crate::error::{Result, StoreError};
use crate::value::Item;

const ITEM_FORMAT_V1: u8 = 1;

/// Encodes an item for storage.
pub(crate) fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = vec![ITEM_FORMAT_V1];
    // Serializing an in-memory map of plain values into a Vec cannot fail.
    out.extend(postcard::to_allocvec(item).expect("items always serialize"));
    out
}

/// Decodes a stored item.
pub(crate) fn decode_item(bytes: &[u8]) -> Result<Item> {
    match bytes.split_first() {
        Some((&ITEM_FORMAT_V1, rest)) => postcard::from_bytes(rest)
            .map_err(|e| StoreError::Corrupt(format!("undecodable item: {e}"))),
        Some((v, _)) => Err(StoreError::Corrupt(format!(
            "unknown item format version {v}"
        ))),
        None => Err(StoreError::Corrupt("empty item record".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{AttributeValue, Number};

    #[test]
    fn items_round_trip() {
        let mut item = Item::new();
        item.insert("s".into(), AttributeValue::S("x".into()));
        item.insert(
            "n".into(),
            AttributeValue::N(Number::parse("-1.5e-7").unwrap()),
        );
        item.insert("b".into(), AttributeValue::B(vec![0, 1, 255]));
        item.insert(
            "l".into(),
            AttributeValue::L(vec![AttributeValue::Null, AttributeValue::Bool(true)]),
        );
        item.insert(
            "ns".into(),
            AttributeValue::number_set(vec![Number::from_i64(2), Number::from_i64(1)]).unwrap(),
        );
        let mut m = std::collections::BTreeMap::new();
        m.insert("k".into(), AttributeValue::Ss(vec!["a".into()]));
        item.insert("m".into(), AttributeValue::M(m));
        assert_eq!(decode_item(&encode_item(&item)).unwrap(), item);
        assert!(decode_item(&[9, 1, 2]).is_err());
        assert!(decode_item(&[]).is_err());
    }
}
