//! The point-in-time recovery change log of a table, the keyspace `p-<table id>`: while PITR
//! is on, every change to the table's items also writes a record (the item's storage key and
//! its new state, or a tombstone), in the change's own batch, keyed by the store's sequence
//! number. Numbers follow the commit order and are never below the commit time in
//! microseconds, so a record's number is also its time.
//!
//! This module writes and reads records and counts how many bytes each table has logged; base
//! snapshots, restores to a point in time and the upkeep that trims the log live in
//! [`crate::backup::pitr`].

use std::collections::HashMap;

use fjall::{Keyspace, KeyspaceCreateOptions};
use parking_lot::Mutex;
use uuid::Uuid;

use super::sequencer::SequenceGuard;
use crate::encoding::{decode_item, encode_item_into, ItemCodec};
use crate::error::{Result, StoreError};
use crate::value::Item;

const LOG_FORMAT_V1: u8 = 1;

/// Bytes of change log written per table since its last base snapshot (kept by the write
/// path, read by the upkeep that decides when a new base is due).
#[derive(Default)]
pub(crate) struct LogSizes(Mutex<HashMap<Uuid, u64>>);

impl LogSizes {
    /// Counts `bytes` more for table `id`.
    pub(crate) fn add(&self, id: Uuid, bytes: u64) {
        *self.0.lock().entry(id).or_insert(0) += bytes;
    }

    /// The bytes counted for table `id`, if it has been counted since the store opened.
    pub(crate) fn get(&self, id: &Uuid) -> Option<u64> {
        self.0.lock().get(id).copied()
    }

    /// Sets the count of table `id` (after a base snapshot, or a first measure).
    pub(crate) fn set(&self, id: Uuid, bytes: u64) {
        self.0.lock().insert(id, bytes);
    }

    /// Forgets table `id` (its history was dropped).
    pub(crate) fn forget(&self, id: &Uuid) {
        self.0.lock().remove(id);
    }
}

/// The keyspace name of table `id`'s change log.
pub(crate) fn log_keyspace(id: &Uuid) -> String {
    format!("p-{}", id.simple())
}

/// Opens the change log of a table.
pub(crate) fn open_log(db: &fjall::Database, id: &Uuid) -> Result<Keyspace> {
    Ok(db.keyspace(&log_keyspace(id), KeyspaceCreateOptions::default)?)
}

/// Adds the log record of one change to `batch`, under the commit order.
pub(crate) fn stage_log_record(
    batch: &mut fjall::OwnedWriteBatch,
    seq: &mut SequenceGuard<'_>,
    codec: &ItemCodec,
    table_id: &Uuid,
    log: &Keyspace,
    key: &[u8],
    new: Option<&Item>,
) -> u64 {
    let mut plain = Vec::with_capacity(16 + key.len());
    plain.push(LOG_FORMAT_V1);
    plain.extend_from_slice(&(key.len() as u32).to_be_bytes());
    plain.extend_from_slice(key);
    if let Some(item) = new {
        plain = encode_item_into(plain, item);
    }
    let k = seq.next().to_be_bytes();
    let value = codec.seal(table_id, &k, plain);
    let n = value.len() as u64;
    batch.insert(log, k, value);
    n
}

/// Reads one log record: the item's storage key and its new state.
pub(crate) fn decode_log_record(
    codec: &ItemCodec,
    table_id: &Uuid,
    k: &[u8],
    v: &[u8],
) -> Result<(Vec<u8>, Option<Item>)> {
    let plain = codec.open(table_id, k, v)?;
    let bad = || StoreError::Corrupt("unreadable point-in-time log record".into());
    let (&version, rest) = plain.split_first().ok_or_else(bad)?;
    if version != LOG_FORMAT_V1 || rest.len() < 4 {
        return Err(bad());
    }
    let n = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
    let key = rest.get(4..4 + n).ok_or_else(bad)?.to_vec();
    let item = &rest[4 + n..];
    let item = if item.is_empty() {
        None
    } else {
        Some(decode_item(item)?)
    };
    Ok((key, item))
}

/// The highest sequence number in these change logs (when the store opens).
pub(crate) fn highest_seq<'a>(logs: impl IntoIterator<Item = &'a Keyspace>) -> Result<u64> {
    let mut high = 0;
    for log in logs {
        if let Some(g) = log.last_key_value() {
            high = high.max(seq_of(&g.key()?));
        }
    }
    Ok(high)
}

/// The sequence number of a log record's key (0 for a key that is not one).
pub(crate) fn seq_of(k: &[u8]) -> u64 {
    k.try_into().map(u64::from_be_bytes).unwrap_or(0)
}
