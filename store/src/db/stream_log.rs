//! A stream's log: the keyspace `s-<stream id>` holding one record per item change, keyed by
//! shard and sequence number, plus its trim horizon.
//!
//! A stream's records are split into shards by the hash of the item's partition key (the first
//! two bytes of its storage key, see [`crate::key`]): every record of one item lands in one
//! shard, in sequence order. A record's key is `[2][shard, big-endian u16][sequence number,
//! big-endian u64]`; a stream made before streams had shards ([`StreamMeta::shards`] `None`)
//! keeps its records under `[1][sequence number]`, one shard ([`Part`]). Sequence numbers are
//! the store's, shared by all shards: a reader of the whole stream ([`read`] over every part)
//! merges the shards back into commit order.
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

/// Key of the trim horizon (the highest trimmed sequence number, in any shard); records sort
/// after it.
const HORIZON_KEY: [u8; 1] = [0];
/// Tag of the records of a stream without shards: `[1][seq]`.
const RECORD_TAG: u8 = 1;
/// Tag of the records of a sharded stream: `[2][shard][seq]`.
const SHARD_RECORD_TAG: u8 = 2;
const RECORD_FORMAT_V1: u8 = 1;

/// Where one shard of a log keeps its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Part {
    /// The one shard of a stream made before streams had shards.
    Unsharded,
    /// Shard `n` of a sharded stream.
    Shard(u16),
}

impl Part {
    fn prefix(self) -> Vec<u8> {
        match self {
            Part::Unsharded => vec![RECORD_TAG],
            Part::Shard(n) => {
                let [a, b] = n.to_be_bytes();
                vec![SHARD_RECORD_TAG, a, b]
            }
        }
    }

    /// The key of record `seq` in this part.
    fn key(self, seq: u64) -> Vec<u8> {
        let mut k = self.prefix();
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    /// The keys of the part's records above `after`: `[start, end)`.
    fn range_after(self, after: u64) -> (Vec<u8>, Vec<u8>) {
        let start = match after.checked_add(1) {
            Some(first) => self.key(first),
            None => self.end(),
        };
        (start, self.end())
    }

    /// The first key after the part.
    fn end(self) -> Vec<u8> {
        match self {
            Part::Unsharded => vec![RECORD_TAG + 1],
            // Shard numbers stay below MAX_STREAM_SHARDS: the next one's prefix exists.
            Part::Shard(n) => Part::Shard(n + 1).prefix(),
        }
    }
}

/// Every part of a stream's log, shard by shard.
pub(crate) fn parts(meta: &StreamMeta) -> Vec<Part> {
    match meta.shards {
        None => vec![Part::Unsharded],
        Some(n) => (0..n.max(1)).map(Part::Shard).collect(),
    }
}

/// The part of shard `shard` of a stream, if it has that shard.
pub(crate) fn part(meta: &StreamMeta, shard: u16) -> Option<Part> {
    match meta.shards {
        None => (shard == 0).then_some(Part::Unsharded),
        Some(n) => (shard < n.max(1)).then_some(Part::Shard(shard)),
    }
}

/// The shard of a change to the item whose storage key is `key`: by the partition key's hash.
pub(crate) fn part_of(meta: &StreamMeta, key: &[u8]) -> Part {
    match (meta.shards, key) {
        (None, _) => Part::Unsharded,
        (Some(n), [a, b, ..]) => Part::Shard(u16::from_be_bytes([*a, *b]) % n.max(1)),
        (Some(_), _) => Part::Shard(0),
    }
}

fn seq_of_key(key: &[u8]) -> Option<u64> {
    match key {
        [RECORD_TAG, rest @ ..] | [SHARD_RECORD_TAG, _, _, rest @ ..] => {
            rest.try_into().ok().map(u64::from_be_bytes)
        }
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

/// The highest sequence number in these parts of a log.
pub(crate) fn last_seq(view: &ReadView, log: &Keyspace, parts: &[Part]) -> Result<Option<u64>> {
    let mut last = None;
    for p in parts {
        if let Some(guard) = view.range(log, p.prefix()..p.end()).next_back() {
            last = last.max(seq_of_key(&guard.key()?));
        }
    }
    Ok(last)
}

/// The lowest sequence number in these parts of a log.
pub(crate) fn first_seq(view: &ReadView, log: &Keyspace, parts: &[Part]) -> Result<Option<u64>> {
    let mut first: Option<u64> = None;
    for p in parts {
        if let Some(guard) = view.range(log, p.prefix()..p.end()).next() {
            if let Some(seq) = seq_of_key(&guard.key()?) {
                first = Some(first.map_or(seq, |f| f.min(seq)));
            }
        }
    }
    Ok(first)
}

/// Opens (or creates) the keyspace of a stream.
pub(crate) fn open_log(db: &fjall::Database, meta: &StreamMeta) -> Result<Keyspace> {
    Ok(db.keyspace(&meta.keyspace(), KeyspaceCreateOptions::default)?)
}

/// The highest sequence number held in any of these streams' logs.
pub(crate) fn highest_seq<'a>(
    logs: impl IntoIterator<Item = (&'a StreamMeta, &'a Keyspace)>,
) -> Result<u64> {
    let mut high = 0;
    for (meta, log) in logs {
        high = high.max(last_seq(&ReadView::Latest, log, &parts(meta))?.unwrap_or(0));
        high = high.max(read_horizon(&ReadView::Latest, log)?);
    }
    Ok(high)
}

/// Adds the record of one item change to `batch`, in shard `part`, under the commit order
/// `seq`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_record(
    batch: &mut fjall::OwnedWriteBatch,
    seq: &mut SequenceGuard<'_>,
    codec: &ItemCodec,
    table_id: &Uuid,
    log: &Keyspace,
    part: Part,
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
    let key = part.key(record.seq);
    let value = codec.seal(table_id, &key, encode_record(&record));
    batch.insert(log, key, value);
}

/// The next record of one part's range: its sequence number, key and value.
type Head = Option<(u64, fjall::UserKey, fjall::UserValue)>;

fn next_head(it: &mut fjall::Iter) -> Result<Head> {
    match it.next() {
        None => Ok(None),
        Some(guard) => {
            let (key, value) = guard.into_inner()?;
            let seq = seq_of_key(&key)
                .ok_or_else(|| StoreError::Corrupt("a stream record key is malformed".into()))?;
            Ok(Some((seq, key, value)))
        }
    }
}

/// Reads up to `limit` records (and about `max_bytes` of them) with sequence numbers above
/// `after` from `parts` of the log of a stream of table `table_id` (one shard, or several
/// merged in sequence order); `closed`: the stream is disabled (a read that reaches its end
/// reaches the end of its shards). Fails with [`StoreError::TrimmedDataAccess`] when records
/// after `after` may have been trimmed away.
#[allow(clippy::too_many_arguments)] // the read's place and bounds, each a plain value
pub(crate) fn read(
    view: &ReadView,
    log: &Keyspace,
    codec: &ItemCodec,
    table_id: &Uuid,
    parts: &[Part],
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
    let mut iters: Vec<fjall::Iter> = parts
        .iter()
        .map(|p| {
            let (start, end) = p.range_after(after);
            view.range(log, start..end)
        })
        .collect();
    let mut heads: Vec<Head> = iters.iter_mut().map(next_head).collect::<Result<_>>()?;
    let mut out = StreamRead::default();
    let mut bytes = 0;
    let mut exhausted = true;
    // The shards merged: always the lowest sequence number among their next records.
    while let Some((_, i)) = heads
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.as_ref().map(|(seq, _, _)| (*seq, i)))
        .min()
    {
        if out.records.len() >= limit || bytes >= max_bytes {
            exhausted = false;
            break;
        }
        let Some((_, key, value)) = heads[i].take() else {
            break;
        };
        let record = decode_record(&codec.open(table_id, &key, &value)?)?;
        bytes += record.size_bytes();
        out.records.push(record);
        heads[i] = next_head(&mut iters[i])?;
    }
    out.end_of_shard = exhausted && closed;
    Ok(out)
}

/// Removes the records of `log` (shard by shard, `parts`) committed before `cutoff_ms` and
/// moves its trim horizon.
pub(crate) fn trim(
    db: &fjall::Database,
    codec: &ItemCodec,
    table_id: &Uuid,
    log: &Keyspace,
    parts: &[Part],
    cutoff_ms: u64,
) -> Result<usize> {
    let mut dropped = 0;
    for part in parts {
        dropped += trim_part(db, codec, table_id, log, *part, cutoff_ms)?;
    }
    Ok(dropped)
}

fn trim_part(
    db: &fjall::Database,
    codec: &ItemCodec,
    table_id: &Uuid,
    log: &Keyspace,
    part: Part,
    cutoff_ms: u64,
) -> Result<usize> {
    const CHUNK: usize = 10_000;
    let mut dropped = 0;
    loop {
        let mut batch = db.batch();
        let mut horizon = None;
        let mut n = 0;
        for guard in log.range(part.prefix()..part.end()) {
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
        // The horizon never moves back (another shard may have trimmed further).
        let h = h.max(read_horizon(&ReadView::Latest, log)?);
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
    fn record_keys_sort_by_shard_then_sequence_after_the_horizon() {
        for part in [Part::Unsharded, Part::Shard(0), Part::Shard(3)] {
            let a = part.key(5);
            let b = part.key(6);
            let c = part.key(256);
            assert!(HORIZON_KEY[..] < a[..] && a < b && b < c);
            assert!(part.prefix() <= a && c < part.end());
            assert_eq!(seq_of_key(&c), Some(256));
        }
        assert!(Part::Shard(0).key(u64::MAX) < Part::Shard(1).key(0));
        assert!(Part::Unsharded.end() <= Part::Shard(0).prefix());
        assert_eq!(seq_of_key(&HORIZON_KEY), None);
    }

    #[test]
    fn items_go_to_shards_by_partition_key_hash() {
        let mut meta = StreamMeta::new(StreamViewType::KeysOnly, &[], 0).with_shards(4);
        let shard_in = |meta: &StreamMeta, pk: &str| {
            let key = crate::key::item_key(&s(pk), Some(&n(1))).unwrap();
            part_of(meta, &key)
        };
        let shard = |pk: &str| shard_in(&meta, pk);
        let used: std::collections::HashSet<Part> =
            (0..64).map(|i| shard(&format!("k{i}"))).collect();
        assert_eq!(used.len(), 4, "64 keys spread over every shard");
        // One item, one shard, whatever its sort key.
        let one = crate::key::item_key(&s("k1"), Some(&n(99))).unwrap();
        assert_eq!(part_of(&meta, &one), shard("k1"));
        assert_eq!(parts(&meta).len(), 4);
        assert_eq!(part(&meta, 3), Some(Part::Shard(3)));
        assert_eq!(part(&meta, 4), None);
        meta.shards = None;
        assert_eq!(shard_in(&meta, "k1"), Part::Unsharded);
        assert_eq!(parts(&meta), vec![Part::Unsharded]);
        assert_eq!(part(&meta, 0), Some(Part::Unsharded));
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
