//! The on-disk form of items and catalog entries.
//!
//! Items are stored as a version byte followed by their postcard encoding (compact, and fast to
//! decode). The version byte leaves room to change the format without rewriting old data.
//!
//! In a store opened with an encryption key ([`crate::crypto`]), an item record is instead
//! version byte 2 followed by the sealed (AES-256-GCM, per-table key) version-1 record, with the
//! table id and the item's storage key as associated data. [`ItemCodec`] picks the form; it
//! refuses an unencrypted record in an encrypted store and an encrypted one without a key.

use std::borrow::Cow;

use uuid::Uuid;

use crate::crypto::{EncryptionKey, Keyring};
use crate::error::{Result, StoreError};
use crate::value::Item;

const ITEM_FORMAT_V1: u8 = 1;
const ITEM_FORMAT_SEALED_V1: u8 = 2;

/// How a store writes and reads its item records: in the clear, or sealed under per-table keys.
pub(crate) struct ItemCodec {
    keyring: Option<Keyring>,
}

impl ItemCodec {
    /// A codec sealing with `key`, or writing plain records without one.
    pub(crate) fn new(key: Option<EncryptionKey>) -> Self {
        ItemCodec {
            keyring: key.map(Keyring::new),
        }
    }

    /// Whether records are sealed (the store is encrypted).
    pub(crate) fn is_sealing(&self) -> bool {
        self.keyring.is_some()
    }

    /// The record of `item`, stored under `key` in table `table`.
    pub(crate) fn encode(&self, table: &Uuid, key: &[u8], item: &Item) -> Vec<u8> {
        self.seal(table, key, encode_item(item))
    }

    /// The item of a record stored under `key` in table `table`.
    pub(crate) fn decode(&self, table: &Uuid, key: &[u8], record: &[u8]) -> Result<Item> {
        decode_item(&self.open(table, key, record)?)
    }

    /// Seals `plain` (a version-1 record of any kind: an item, a stream record) stored under
    /// `key` for table `table`; returns it as it is without a key.
    pub(crate) fn seal(&self, table: &Uuid, key: &[u8], plain: Vec<u8>) -> Vec<u8> {
        let Some(keyring) = &self.keyring else {
            return plain;
        };
        let sealed = keyring.items(table).seal(&aad(table, key), &plain);
        let mut out = Vec::with_capacity(1 + sealed.len());
        out.push(ITEM_FORMAT_SEALED_V1);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plain version-1 record [`ItemCodec::seal`] made: the record itself (not a copy)
    /// when it is not sealed.
    pub(crate) fn open<'a>(
        &self,
        table: &Uuid,
        key: &[u8],
        record: &'a [u8],
    ) -> Result<Cow<'a, [u8]>> {
        match (record.split_first(), &self.keyring) {
            (Some((&ITEM_FORMAT_SEALED_V1, sealed)), Some(keyring)) => Ok(Cow::Owned(
                keyring.items(table).open(&aad(table, key), sealed)?,
            )),
            (Some((&ITEM_FORMAT_SEALED_V1, _)), None) => Err(StoreError::Corrupt(
                "an encrypted record in a store opened without a key".into(),
            )),
            (Some((&ITEM_FORMAT_V1, _)), Some(_)) => Err(StoreError::Corrupt(
                "an unencrypted record in an encrypted store".into(),
            )),
            _ => Ok(Cow::Borrowed(record)),
        }
    }
}

/// The associated data of an item record: the table id and the storage key.
fn aad(table: &Uuid, key: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + key.len());
    aad.extend_from_slice(table.as_bytes());
    aad.extend_from_slice(key);
    aad
}

/// Encodes an item for storage (the plain, version-1 record).
pub fn encode_item(item: &Item) -> Vec<u8> {
    encode_item_into(Vec::new(), item)
}

/// Appends the plain record of `item` to `out` (a record that carries an item after other
/// fields), in one buffer.
pub(crate) fn encode_item_into(mut out: Vec<u8>, item: &Item) -> Vec<u8> {
    out.push(ITEM_FORMAT_V1);
    // Serializing an in-memory map of plain values into a Vec cannot fail.
    postcard::to_extend(item, out).expect("items always serialize")
}

/// Decodes a plain (version-1) item record. Any bytes give an item or an error, never a panic
/// (a fuzz target checks this).
pub fn decode_item(bytes: &[u8]) -> Result<Item> {
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

    #[test]
    fn sealed_records_round_trip_and_stay_in_place() {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S("secret value".into()));
        let (t1, t2) = (Uuid::new_v4(), Uuid::new_v4());
        let key = EncryptionKey::from_bytes(&[3; 32]).unwrap();
        let sealed = ItemCodec::new(Some(key.clone()));
        let plain = ItemCodec::new(None);

        let record = sealed.encode(&t1, b"k1", &item);
        assert_eq!(record[0], ITEM_FORMAT_SEALED_V1);
        assert!(!record.windows(12).any(|w| w == b"secret value"));
        assert_eq!(sealed.decode(&t1, b"k1", &record).unwrap(), item);
        // Moved to another key or table, or read with another master key: refused.
        assert!(sealed.decode(&t1, b"k2", &record).is_err());
        assert!(sealed.decode(&t2, b"k1", &record).is_err());
        let other = ItemCodec::new(Some(EncryptionKey::from_bytes(&[4; 32]).unwrap()));
        assert!(other.decode(&t1, b"k1", &record).is_err());
        // Mixing forms is refused both ways.
        assert!(plain.decode(&t1, b"k1", &record).is_err());
        let clear = plain.encode(&t1, b"k1", &item);
        assert_eq!(clear, encode_item(&item));
        assert!(sealed.decode(&t1, b"k1", &clear).is_err());
        assert_eq!(plain.decode(&t1, b"k1", &clear).unwrap(), item);
    }
}
