//! Streams: the ordered log of a table's item changes (DynamoDB Streams' data).
//!
//! A table with a stream enabled gets one record per item change, written into the stream's own
//! keyspace in the same atomic batch as the change itself, so the log holds exactly the committed
//! changes. Records are keyed by a sequence number that the [`Sequencer`] hands out while it
//! holds the commit order: a record with a higher number was committed later, and a reader that
//! has seen number `n` has seen every record before it. Sequence numbers never repeat, not even
//! after a crash loses writes that were never acknowledged: a number is never below the current
//! time in microseconds.
//!
//! Each stream is one shard. Disabling a stream closes it (it stays readable for the retention
//! period); enabling again starts a new stream with a new label. [`Store::trim_streams`] drops
//! records older than the retention period and remembers how far it trimmed, so a reader asking
//! for trimmed records is told so rather than silently skipping them. In an encrypted store a
//! record is sealed like an item (see [`crate::encoding`]).

use std::time::Duration;

use fjall::{Keyspace, KeyspaceCreateOptions};
use parking_lot::{Mutex, MutexGuard};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::{now_micros, now_millis};
use crate::db::Store;
use crate::encoding::ItemCodec;
use crate::error::{Result, StoreError};
use crate::value::{item_size, Item};

/// What a stream record carries of the item (DynamoDB's StreamViewType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamViewType {
    /// Only the key attributes.
    KeysOnly,
    /// The item as it is after the change.
    NewImage,
    /// The item as it was before the change.
    OldImage,
    /// Both.
    NewAndOldImages,
}

impl StreamViewType {
    /// DynamoDB's name for the view type.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamViewType::KeysOnly => "KEYS_ONLY",
            StreamViewType::NewImage => "NEW_IMAGE",
            StreamViewType::OldImage => "OLD_IMAGE",
            StreamViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    /// Parses DynamoDB's name for a view type.
    pub fn parse(s: &str) -> Option<StreamViewType> {
        Some(match s {
            "KEYS_ONLY" => StreamViewType::KeysOnly,
            "NEW_IMAGE" => StreamViewType::NewImage,
            "OLD_IMAGE" => StreamViewType::OldImage,
            "NEW_AND_OLD_IMAGES" => StreamViewType::NewAndOldImages,
            _ => return None,
        })
    }

    fn keeps_new(self) -> bool {
        matches!(
            self,
            StreamViewType::NewImage | StreamViewType::NewAndOldImages
        )
    }

    fn keeps_old(self) -> bool {
        matches!(
            self,
            StreamViewType::OldImage | StreamViewType::NewAndOldImages
        )
    }
}

/// One stream of a table, as the catalog keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    /// Unique id; the records live in the keyspace `s-<id>`.
    pub id: Uuid,
    /// When the stream was enabled, milliseconds since the epoch. Unique among a table's streams
    /// (DynamoDB's StreamLabel is this instant written as an ISO 8601 timestamp).
    pub created_ms: u64,
    /// What the records carry.
    pub view_type: StreamViewType,
    /// The first sequence number the stream could hold.
    pub start_seq: u64,
    /// When the stream was disabled (its shard closed), milliseconds since the epoch.
    pub disabled_ms: Option<u64>,
    /// The last sequence number handed out before the stream was disabled.
    pub end_seq: Option<u64>,
}

impl StreamMeta {
    /// Name of the fjall keyspace holding the stream's records.
    pub fn keyspace(&self) -> String {
        format!("s-{}", self.id.simple())
    }

    /// Whether new changes are still recorded.
    pub fn is_enabled(&self) -> bool {
        self.disabled_ms.is_none()
    }
}

/// The kind of change a record describes (DynamoDB's eventName).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// A new item was written.
    Insert,
    /// An existing item was changed.
    Modify,
    /// An item was deleted.
    Remove,
}

impl ChangeKind {
    /// DynamoDB's eventName.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Insert => "INSERT",
            ChangeKind::Modify => "MODIFY",
            ChangeKind::Remove => "REMOVE",
        }
    }
}

/// One item change, as a stream holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// The record's sequence number: unique, and increasing in commit order.
    pub seq: u64,
    /// Commit time, milliseconds since the epoch.
    pub time_ms: u64,
    /// Insert, modify or remove.
    pub kind: ChangeKind,
    /// The item's key attributes.
    pub keys: Item,
    /// The item before the change, if the view type keeps it and the item existed.
    pub old: Option<Item>,
    /// The item after the change, if the view type keeps it and the item exists.
    pub new: Option<Item>,
    /// The change was a TTL expiry made by the store itself, not a client's write.
    pub by_ttl: bool,
    /// The view type the record was written under.
    pub view_type: StreamViewType,
}

impl StreamRecord {
    /// DynamoDB's SizeBytes: the size of the keys and images the record carries.
    pub fn size_bytes(&self) -> usize {
        item_size(&self.keys)
            + self.old.as_ref().map_or(0, item_size)
            + self.new.as_ref().map_or(0, item_size)
    }
}

/// A stream's state: its definition and how far its log reaches.
#[derive(Clone, Debug)]
pub struct StreamState {
    /// The table's name.
    pub table: String,
    /// The stream.
    pub meta: StreamMeta,
    /// Sequence number of the oldest record still held, if any.
    pub first_seq: Option<u64>,
    /// Sequence number of the newest record, if any.
    pub last_seq: Option<u64>,
    /// Every record up to this number has been trimmed (0: none ever was).
    pub trimmed_through: u64,
}

/// A batch of records read from a stream.
#[derive(Clone, Debug, Default)]
pub struct StreamRead {
    /// Records in sequence order.
    pub records: Vec<StreamRecord>,
    /// The stream is closed and the read reached its last record.
    pub end_of_shard: bool,
}

// ---- keys and encoding inside a stream keyspace ----

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

fn encode_record(r: &StreamRecord) -> Vec<u8> {
    let mut out = vec![RECORD_FORMAT_V1];
    out.extend(postcard::to_allocvec(r).expect("records always serialize"));
    out
}

fn decode_record(bytes: &[u8]) -> Result<StreamRecord> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT_V1, rest)) => postcard::from_bytes(rest)
            .map_err(|e| StoreError::Corrupt(format!("undecodable stream record: {e}"))),
        _ => Err(StoreError::Corrupt("unknown stream record format".into())),
    }
}

fn read_horizon(log: &Keyspace) -> Result<u64> {
    Ok(log
        .get(HORIZON_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(&v[..]).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}

fn last_seq(log: &Keyspace) -> Result<Option<u64>> {
    match log.last_key_value() {
        Some(guard) => Ok(seq_of_key(&guard.key()?)),
        None => Ok(None),
    }
}

fn first_seq(log: &Keyspace) -> Result<Option<u64>> {
    match log.range::<&[u8], _>(&[RECORD_TAG][..]..).next() {
        Some(guard) => Ok(seq_of_key(&guard.key()?)),
        None => Ok(None),
    }
}

/// Opens (or creates) the keyspace of a stream.
pub(crate) fn open_log(db: &fjall::Database, meta: &StreamMeta) -> Result<Keyspace> {
    Ok(db.keyspace(&meta.keyspace(), KeyspaceCreateOptions::default)?)
}

// ---- sequence numbers ----

/// Hands out sequence numbers in commit order.
///
/// Holding the [`SequenceGuard`] is holding the commit order: a batch committed while it is held
/// commits after every batch whose numbers were handed out before.
pub(crate) struct Sequencer {
    last: Mutex<u64>,
}

/// The commit order, held; hands out the next sequence numbers.
pub(crate) struct SequenceGuard<'a> {
    last: MutexGuard<'a, u64>,
}

impl Sequencer {
    /// A sequencer that continues after `last` (the highest number found on disk).
    pub(crate) fn new(last: u64) -> Self {
        Sequencer {
            last: Mutex::new(last),
        }
    }

    /// Takes the commit order.
    pub(crate) fn lock(&self) -> SequenceGuard<'_> {
        SequenceGuard {
            last: self.last.lock(),
        }
    }
}

impl SequenceGuard<'_> {
    /// The next sequence number: above every number handed out, and never below the current
    /// time in microseconds, so numbers lost in a crash are never handed out again.
    pub(crate) fn next(&mut self) -> u64 {
        *self.last = (*self.last + 1).max(now_micros());
        *self.last
    }

    /// The last number handed out.
    pub(crate) fn last(&self) -> u64 {
        *self.last
    }
}

/// The highest sequence number held in any of these logs.
pub(crate) fn highest_seq<'a>(logs: impl IntoIterator<Item = &'a Keyspace>) -> Result<u64> {
    let mut high = 0;
    for log in logs {
        high = high.max(last_seq(log)?.unwrap_or(0));
        high = high.max(read_horizon(log)?);
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
    keys: Item,
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
    let record = StreamRecord {
        seq: seq.next(),
        time_ms,
        kind,
        keys,
        old: old.filter(|_| view_type.keeps_old()).cloned(),
        new: new.filter(|_| view_type.keeps_new()).cloned(),
        by_ttl,
        view_type,
    };
    let key = record_key(record.seq);
    batch.insert(log, key, codec.seal(table_id, &key, encode_record(&record)));
}

// ---- the store's stream operations ----

impl Store {
    /// Every stream of every table (enabled ones and closed ones still within retention), with
    /// the name of its table, in table-name then creation order.
    pub fn list_streams(&self) -> Vec<(String, StreamMeta)> {
        let tables = self.tables.read();
        let mut out: Vec<(String, StreamMeta)> = tables
            .values()
            .flat_map(|t| {
                t.meta
                    .streams
                    .iter()
                    .map(|s| (t.meta.name.clone(), s.clone()))
            })
            .collect();
        out.sort_by(|a, b| (&a.0, a.1.created_ms).cmp(&(&b.0, b.1.created_ms)));
        out
    }

    /// A stream of `table` and how far its log reaches.
    pub fn stream_state(&self, table: &str, stream: Uuid) -> Result<StreamState> {
        let (meta, log) = self.stream_log(table, stream)?;
        Ok(StreamState {
            table: table.to_string(),
            first_seq: first_seq(&log)?,
            last_seq: last_seq(&log)?,
            trimmed_through: read_horizon(&log)?,
            meta,
        })
    }

    /// The last sequence number handed out so far, in any stream (a LATEST iterator starts
    /// after it).
    pub fn latest_sequence_number(&self) -> u64 {
        self.sequencer.lock().last()
    }

    /// Reads up to `limit` records (and about `max_bytes` of them) with sequence numbers above
    /// `after`. Fails with [`StoreError::TrimmedDataAccess`] when records after `after` have
    /// been trimmed away.
    pub fn read_stream(
        &self,
        table: &str,
        stream: Uuid,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<StreamRead> {
        let (meta, log) = self.stream_log(table, stream)?;
        let table_id = self.table(table)?.meta.id;
        let horizon = read_horizon(&log)?;
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
        for guard in log.range::<&[u8], _>(&start[..]..&end[..]) {
            if out.records.len() >= limit || bytes >= max_bytes {
                exhausted = false;
                break;
            }
            let (key, value) = guard.into_inner()?;
            let record = decode_record(&self.codec.open(&table_id, &key, &value)?)?;
            bytes += record.size_bytes();
            out.records.push(record);
        }
        out.end_of_shard = exhausted && !meta.is_enabled();
        Ok(out)
    }

    /// Drops records older than `retention` from every stream, and the closed streams whose
    /// retention has passed. Returns the number of records dropped.
    pub fn trim_streams(&self, retention: Duration) -> Result<usize> {
        let cutoff = now_millis().saturating_sub(retention.as_millis() as u64);
        let tables: Vec<_> = self.tables.read().values().cloned().collect();
        let mut dropped = 0;
        for table in tables {
            for meta in &table.meta.streams {
                let Some(log) = table.stream_logs.get(&meta.id) else {
                    continue;
                };
                dropped += trim_log(&self.db, &self.codec, &table.meta.id, log, cutoff)?;
            }
            let expired: Vec<Uuid> = table
                .meta
                .streams
                .iter()
                .filter(|s| s.disabled_ms.is_some_and(|d| d < cutoff))
                .map(|s| s.id)
                .collect();
            if !expired.is_empty() {
                self.forget_streams(&table.meta.name, table.meta.id, &expired)?;
            }
        }
        if dropped > 0 {
            tracing::debug!(dropped, "stream records trimmed");
        }
        Ok(dropped)
    }

    fn stream_log(&self, table: &str, stream: Uuid) -> Result<(StreamMeta, Keyspace)> {
        let not_found = || {
            StoreError::ResourceNotFound(format!(
                "Requested resource not found: Stream of table {table} not found"
            ))
        };
        let t = self.table(table).map_err(|_| not_found())?;
        let meta = t
            .meta
            .streams
            .iter()
            .find(|s| s.id == stream)
            .cloned()
            .ok_or_else(not_found)?;
        let log = t.stream_logs.get(&stream).cloned().ok_or_else(not_found)?;
        Ok((meta, log))
    }
}

/// Removes the records of `log` committed before `cutoff_ms` and moves its trim horizon.
fn trim_log(
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
    use crate::db::StreamChange;
    use crate::testutil::{delete_action, item, n, open, put_action, s, spec};
    use crate::TableUpdate;

    fn with_stream(view: StreamViewType) -> crate::schema::TableSpec {
        crate::schema::TableSpec {
            stream: Some(view),
            ..spec("tbl", None)
        }
    }

    fn read_all(store: &Store, id: Uuid) -> Vec<StreamRecord> {
        store
            .read_stream("tbl", id, 0, 1000, usize::MAX)
            .unwrap()
            .records
    }

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
    fn sequence_numbers_increase_and_follow_the_clock() {
        let s = Sequencer::new(0);
        let mut g = s.lock();
        let a = g.next();
        let b = g.next();
        assert!(b > a);
        assert!(a >= now_millis() * 1000 - 1_000_000);
        drop(g);
        // A store that handed out numbers far in the future continues after them.
        let s = Sequencer::new(u64::MAX / 2);
        assert_eq!(s.lock().next(), u64::MAX / 2 + 1);
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
        assert!(decode_record(&[9]).is_err());
        for v in ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"] {
            assert_eq!(StreamViewType::parse(v).unwrap().as_str(), v);
        }
    }

    #[test]
    fn every_change_is_recorded_once_in_commit_order() {
        let (_dir, store) = open();
        store
            .create_table(with_stream(StreamViewType::NewAndOldImages))
            .unwrap();
        let id = store.table_meta("tbl").unwrap().streams[0].id;
        let a1 = item(&[("pk", s("a")), ("v", n(1))]);
        let a2 = item(&[("pk", s("a")), ("v", n(2))]);
        store.put_item("tbl", a1.clone(), |_| Ok(())).unwrap();
        store.put_item("tbl", a2.clone(), |_| Ok(())).unwrap();
        // A write that changes nothing records nothing.
        store.put_item("tbl", a2.clone(), |_| Ok(())).unwrap();
        store
            .write_items(vec![
                put_action("tbl", item(&[("pk", s("b"))])),
                delete_action("tbl", item(&[("pk", s("a"))])),
            ])
            .unwrap();
        let records = read_all(&store, id);
        let kinds: Vec<_> = records.iter().map(|r| (r.kind, r.keys.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (ChangeKind::Insert, item(&[("pk", s("a"))])),
                (ChangeKind::Modify, item(&[("pk", s("a"))])),
                (ChangeKind::Insert, item(&[("pk", s("b"))])),
                (ChangeKind::Remove, item(&[("pk", s("a"))])),
            ]
        );
        assert!(records.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(records[1].old.as_ref(), Some(&a1));
        assert_eq!(records[1].new.as_ref(), Some(&a2));
        assert_eq!(records[3].old.as_ref(), Some(&a2));
        assert!(records[3].new.is_none() && !records[3].by_ttl);
        // Paging: after the second record come the last two.
        let rest = store
            .read_stream("tbl", id, records[1].seq, 10, usize::MAX)
            .unwrap();
        assert_eq!(rest.records, records[2..]);
        assert!(!rest.end_of_shard);
    }

    #[test]
    fn view_types_keep_only_their_images() {
        let (_dir, store) = open();
        store
            .create_table(with_stream(StreamViewType::KeysOnly))
            .unwrap();
        store
            .put_item("tbl", item(&[("pk", s("a")), ("v", n(1))]), |_| Ok(()))
            .unwrap();
        let id = store.table_meta("tbl").unwrap().streams[0].id;
        let r = &read_all(&store, id)[0];
        assert!(r.old.is_none() && r.new.is_none());
        assert_eq!(r.keys, item(&[("pk", s("a"))]));
    }

    #[test]
    fn disabling_closes_the_shard_and_enabling_starts_a_new_stream() {
        let (_dir, store) = open();
        store.create_table(spec("tbl", None)).unwrap();
        let enable = |view| TableUpdate {
            stream: Some(StreamChange::Enable(view)),
            ..Default::default()
        };
        let disable = TableUpdate {
            stream: Some(StreamChange::Disable),
            ..Default::default()
        };
        assert!(matches!(
            store.update_table("tbl", disable.clone()),
            Err(StoreError::Validation(m)) if m.contains("no stream to disable")
        ));
        store
            .update_table("tbl", enable(StreamViewType::NewImage))
            .unwrap();
        assert!(matches!(
            store.update_table("tbl", enable(StreamViewType::KeysOnly)),
            Err(StoreError::Validation(m)) if m.contains("already has an enabled stream")
        ));
        store
            .put_item("tbl", item(&[("pk", s("a"))]), |_| Ok(()))
            .unwrap();
        store.update_table("tbl", disable.clone()).unwrap();
        store
            .put_item("tbl", item(&[("pk", s("b"))]), |_| Ok(()))
            .unwrap();
        let first = store.table_meta("tbl").unwrap().streams[0].clone();
        let read = store
            .read_stream("tbl", first.id, 0, 10, usize::MAX)
            .unwrap();
        assert_eq!(read.records.len(), 1, "nothing recorded after disabling");
        assert!(read.end_of_shard);
        assert_eq!(first.end_seq, Some(read.records[0].seq));
        store
            .update_table("tbl", enable(StreamViewType::NewImage))
            .unwrap();
        store
            .put_item("tbl", item(&[("pk", s("c"))]), |_| Ok(()))
            .unwrap();
        let meta = store.table_meta("tbl").unwrap();
        assert_eq!(meta.streams.len(), 2);
        assert!(meta.streams[1].created_ms > first.created_ms);
        let second = read_all(&store, meta.streams[1].id);
        assert_eq!(second.len(), 1);
        assert!(second[0].seq > read.records[0].seq);
        assert_eq!(store.list_streams().len(), 2);
    }

    #[test]
    fn trimmed_records_are_reported_not_skipped() {
        let (_dir, store) = open();
        store
            .create_table(with_stream(StreamViewType::KeysOnly))
            .unwrap();
        let id = store.table_meta("tbl").unwrap().streams[0].id;
        for k in ["a", "b", "c"] {
            store
                .put_item("tbl", item(&[("pk", s(k))]), |_| Ok(()))
                .unwrap();
        }
        let before = read_all(&store, id);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(store.trim_streams(Duration::ZERO).unwrap(), 3);
        let state = store.stream_state("tbl", id).unwrap();
        assert_eq!(state.trimmed_through, before[2].seq);
        assert_eq!(state.first_seq, None);
        assert!(matches!(
            store.read_stream("tbl", id, before[0].seq, 10, usize::MAX),
            Err(StoreError::TrimmedDataAccess(_))
        ));
        // Reading from the horizon on is fine, and sees later records.
        store
            .put_item("tbl", item(&[("pk", s("d"))]), |_| Ok(()))
            .unwrap();
        let after = store
            .read_stream("tbl", id, state.trimmed_through, 10, usize::MAX)
            .unwrap();
        assert_eq!(after.records.len(), 1);
    }

    #[test]
    fn an_encrypted_store_seals_its_stream_records() {
        let dir = tempfile::tempdir().unwrap();
        let options = crate::StoreOptions {
            encryption_key: Some(crate::crypto::EncryptionKey::from_bytes(&[7; 32]).unwrap()),
            ..Default::default()
        };
        let store = Store::open_with(dir.path(), options).unwrap();
        store
            .create_table(with_stream(StreamViewType::NewImage))
            .unwrap();
        let secret = "a-secret-only-the-key-holder-reads";
        store
            .put_item("tbl", item(&[("pk", s("a")), ("v", s(secret))]), |_| Ok(()))
            .unwrap();
        let id = store.table_meta("tbl").unwrap().streams[0].id;
        let records = read_all(&store, id);
        assert_eq!(records[0].new.as_ref().unwrap()["v"], s(secret));
        let log = store.table("tbl").unwrap().stream_logs[&id].clone();
        for guard in log.iter() {
            let (_, value) = guard.into_inner().unwrap();
            assert!(!value.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }

    #[test]
    fn records_and_numbering_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (id, last) = {
            let store = Store::open(dir.path()).unwrap();
            store
                .create_table(with_stream(StreamViewType::NewImage))
                .unwrap();
            store
                .put_item("tbl", item(&[("pk", s("a"))]), |_| Ok(()))
                .unwrap();
            let id = store.table_meta("tbl").unwrap().streams[0].id;
            (id, read_all(&store, id)[0].seq)
        };
        let store = Store::open(dir.path()).unwrap();
        assert!(store.latest_sequence_number() >= last);
        store
            .put_item("tbl", item(&[("pk", s("b"))]), |_| Ok(()))
            .unwrap();
        let records = read_all(&store, id);
        assert_eq!(records.len(), 2);
        assert!(records[1].seq > last);
    }
}
