//! A stream's log: the keyspace `s-<stream id>` holding one record per item change, keyed by
//! sequence number, plus its trim horizon.
//!
//! A record is staged into the same batch as the change it describes ([`stage_record`], from
//! the write path), under the commit order ([`super::sequencer`]), so the log holds exactly the
//! committed changes in commit order. [`trim`] drops records older than the retention period
//! and remembers how far it trimmed, so a reader asking for trimmed records is told so rather
//! than silently skipping them. In an encrypted store a record is sealed like an item (see
//! [`crate::encoding`]). The functions here take the log's keyspace and what else they need;
//! which stream of which table is the caller's business.

use fjall::{Keyspace, KeyspaceCreateOptions};
use serde::Serialize;
use uuid::Uuid;

use super::sequencer::SequenceGuard;
use crate::commit::ReadView;
use crate::encoding::ItemCodec;
use crate::error::{Result, StoreError};
use crate::schema::{ChangeKind, StreamMeta, StreamRead, StreamRecord, StreamViewType};
use crate::value::Item;

/// Key of the trim horizon (the highest trimmed sequence number); records sort after it.
const HORIZON_KEY: [u8; 1] = [0];
const RECORD_TAG: u8 = 1;
const RECORD_FORMAT_V1: u8 = 1;

fn record_key(seq: u64) -> [u8; 9] {
    let mut k = [RECORD_TAG; 9];
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn seq_of_key(key: &[u8]) -> Option<u64> {
    match key {
        [RECORD_TAG, rest @ ..] => rest.try_into().ok().map(u64::from_be_bytes),
        _ => None,
    }
}

fn encode_record(r: &impl Serialize) -> Vec<u8> {
    postcard::to_extend(r, vec![RECORD_FORMAT_V1]).expect("records always serialize")
}

/// A record as it is written: the fields of [`StreamRecord`] in its order, borrowing the keys
/// and images, so writing a record copies no item (the encoding is the same).
#[derive(Serialize)]
struct RecordRef<'a> {
    seq: u64,
    time_ms: u64,
    kind: ChangeKind,
    keys: &'a Item,
    old: Option<&'a Item>,
    new: Option<&'a Item>,
    by_ttl: bool,
    view_type: StreamViewType,
}

fn decode_record(bytes: &[u8]) -> Result<StreamRecord> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT_V1, rest)) => postcard::from_bytes(rest)
            .map_err(|e| StoreError::Corrupt(format!("undecodable stream record: {e}"))),
        _ => Err(StoreError::Corrupt("unknown stream record format".into())),
    }
}

pub(crate) fn read_horizon(view: &ReadView, log: &Keyspace) -> Result<u64> {
    Ok(view
        .get(log, &HORIZON_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(&v[..]).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}

pub(crate) fn last_seq(view: &ReadView, log: &Keyspace) -> Result<Option<u64>> {
    match view.range::<&[u8], _>(log, ..).next_back() {
        Some(guard) => Ok(seq_of_key(&guard.key()?)),
        None => Ok(None),
    }
}

pub(crate) fn first_seq(view: &ReadView, log: &Keyspace) -> Result<Option<u64>> {
    match view.range::<&[u8], _>(log, &[RECORD_TAG][..]..).next() {
        Some(guard) => Ok(seq_of_key(&guard.key()?)),
        None => Ok(None),
    }
}

/// Opens (or creates) the keyspace of a stream.
pub(crate) fn open_log(db: &fjall::Database, meta: &StreamMeta) -> Result<Keyspace> {
    Ok(db.keyspace(&meta.keyspace(), KeyspaceCreateOptions::default)?)
}

/// The highest sequence number held in any of these logs.
pub(crate) fn highest_seq<'a>(logs: impl IntoIterator<Item = &'a Keyspace>) -> Result<u64> {
    let mut high = 0;
    for log in logs {
        high = high.max(last_seq(&ReadView::Latest, log)?.unwrap_or(0));
        high = high.max(read_horizon(&ReadView::Latest, log)?);
    }
    Ok(high)
}

/// Adds the record of one item change to `batch`, under the commit order `seq`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_record(
    batch: &mut fjall::OwnedWriteBatch,
    seq: &mut SequenceGuard<'_>,
    codec: &ItemCodec,
    table_id: &Uuid,
    log: &Keyspace,
    view_type: StreamViewType,
    keys: &Item,
    old: Option<&Item>,
    new: Option<&Item>,
    by_ttl: bool,
    time_ms: u64,
) {
    let kind = match (old, new) {
        (None, Some(_)) => ChangeKind::Insert,
        (Some(_), Some(_)) => ChangeKind::Modify,
        (Some(_), None) => ChangeKind::Remove,
        (None, None) => return,
    };
    let record = RecordRef {
        seq: seq.next(),
        time_ms,
        kind,
        keys,
        old: old.filter(|_| view_type.keeps_old()),
        new: new.filter(|_| view_type.keeps_new()),
        by_ttl,
        view_type,
    };
    let key = record_key(record.seq);
    batch.insert(log, key, codec.seal(table_id, &key, encode_record(&record)));
}

/// Reads up to `limit` records (and about `max_bytes` of them) with sequence numbers above
/// `after` from the log of a stream of table `table_id`; `closed`: the stream is disabled (a
/// read that reaches its end reaches the end of its shard). Fails with
/// [`StoreError::TrimmedDataAccess`] when records after `after` have been trimmed away.
#[allow(clippy::too_many_arguments)] // the read's place and bounds, each a plain value
pub(crate) fn read(
    view: &ReadView,
    log: &Keyspace,
    codec: &ItemCodec,
    table_id: &Uuid,
    closed: bool,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<StreamRead> {
    let horizon = read_horizon(view, log)?;
    if after < horizon {
        return Err(StoreError::TrimmedDataAccess(format!(
            "Attempted to access data beyond the trim horizon: records up to sequence number {horizon} have been trimmed"
        )));
    }
    let start = record_key(after.saturating_add(1));
    let end = [RECORD_TAG + 1];
    let mut out = StreamRead::default();
    let mut bytes = 0;
    let mut exhausted = true;
    for guard in view.range::<&[u8], _>(log, &start[..]..&end[..]) {
        if out.records.len() >= limit || bytes >= max_bytes {
            exhausted = false;
            break;
        }
        let (key, value) = guard.into_inner()?;
        let record = decode_record(&codec.open(table_id, &key, &value)?)?;
        bytes += record.size_bytes();
        out.records.push(record);
    }
    out.end_of_shard = exhausted && closed;
    Ok(out)
}

/// Removes the records of `log` committed before `cutoff_ms` and moves its trim horizon.
pub(crate) fn trim(
    db: &fjall::Database,
    codec: &ItemCodec,
    table_id: &Uuid,
    log: &Keyspace,
    cutoff_ms: u64,
) -> Result<usize> {
    const CHUNK: usize = 10_000;
    let mut dropped = 0;
    loop {
        let mut batch = db.batch();
        let mut horizon = None;
        let mut n = 0;
        for guard in log.range::<&[u8], _>(&[RECORD_TAG][..]..) {
            let (key, value) = guard.into_inner()?;
            let record = decode_record(&codec.open(table_id, &key, &value)?)?;
            if record.time_ms >= cutoff_ms || n == CHUNK {
                break;
            }
            horizon = seq_of_key(&key);
            batch.remove(log, key);
            n += 1;
        }
        let Some(h) = horizon else { break };
        batch.insert(log, HORIZON_KEY, h.to_be_bytes());
        batch.commit()?;
        dropped += n;
        if n < CHUNK {
            break;
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{item, n, s};

    #[test]
    fn record_keys_sort_by_sequence_after_the_horizon() {
        let a = record_key(5);
        let b = record_key(6);
        let c = record_key(256);
        assert!(HORIZON_KEY[..] < a[..] && a < b && b < c);
        assert_eq!(seq_of_key(&c), Some(256));
        assert_eq!(seq_of_key(&HORIZON_KEY), None);
    }

    #[test]
    fn records_round_trip() {
        let r = StreamRecord {
            seq: 7,
            time_ms: 1,
            kind: ChangeKind::Modify,
            keys: item(&[("pk", s("a"))]),
            old: Some(item(&[("pk", s("a")), ("v", n(1))])),
            new: None,
            by_ttl: true,
            view_type: StreamViewType::OldImage,
        };
        assert_eq!(decode_record(&encode_record(&r)).unwrap(), r);
        // What the write path writes (borrowing the images) reads back the same.
        let written = RecordRef {
            seq: r.seq,
            time_ms: r.time_ms,
            kind: r.kind,
            keys: &r.keys,
            old: r.old.as_ref(),
            new: r.new.as_ref(),
            by_ttl: r.by_ttl,
            view_type: r.view_type,
        };
        assert_eq!(decode_record(&encode_record(&written)).unwrap(), r);
        assert!(decode_record(&[9]).is_err());
        for v in ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"] {
            assert_eq!(StreamViewType::parse(v).unwrap().as_str(), v);
        }
    }
}
