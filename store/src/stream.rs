//! Streams: the ordered log of a table's item changes (DynamoDB Streams' data), and what the
//! store does with it: list a table's streams, say how far a log reaches, read records, and
//! trim records past the retention period.
//!
//! A table with a stream enabled gets one record per item change, written into the stream's own
//! keyspace in the same atomic batch as the change itself (the write path, `db::stream_log`), so
//! the log holds exactly the committed changes. Records are keyed by a sequence number handed
//! out while the writer holds the commit order (`db::sequencer`): a record with a higher number
//! was committed later, and a reader that has seen number `n` has seen every record before it.
//!
//! A stream's records are split into shards by partition-key hash ([`StreamMeta::shards`],
//! [`crate::StoreOptions::stream_shards`] for new streams): one item's records are in one shard,
//! in order. A shard can be read alone ([`read_stream_shard`], what DynamoDB Streams'
//! GetRecords serves), or every shard merged back into commit order ([`read_stream`], what the
//! store's own stream triggers read). Disabling a stream closes it (it stays readable for the retention
//! period); enabling again starts a new stream with a new label. [`crate::Store::trim_streams`] drops records
//! older than the retention period and remembers how far it trimmed, so a reader asking for
//! trimmed records is told so rather than silently skipping them. A deleted table's streams
//! are closed and kept for the retention period too ([`stream_tables`] finds them), as
//! DynamoDB keeps them for 24 hours. The definitions live in
//! [`crate::schema::stream`] and are re-exported here.

use std::time::Duration;

use fjall::Keyspace;
use uuid::Uuid;

use crate::clock::now_millis;
use crate::db::{stream_log, Db};
use crate::error::{Result, StoreError};
use crate::schema::TableMeta;

pub use crate::schema::stream::{
    ChangeKind, StreamChange, StreamMeta, StreamRead, StreamRecord, StreamState, StreamViewType,
};

/// Every stream of every table (enabled ones and closed ones still within retention, and
/// those of tables deleted within retention), with the reference of its table (see
/// [`crate::schema::region`]), in reference then creation order.
pub(crate) fn list_streams(db: &Db) -> Vec<(String, StreamMeta)> {
    let live = db.tables_snapshot();
    let deleted = db.deleted_streams();
    let metas = live
        .iter()
        .map(|t| &t.meta)
        .chain(deleted.iter().map(|d| &d.meta));
    let mut out: Vec<(String, StreamMeta)> = metas
        .flat_map(|m| m.streams.iter().map(|s| (m.table_ref(), s.clone())))
        .collect();
    out.sort_by(|a, b| (&a.0, a.1.created_ms).cmp(&(&b.0, b.1.created_ms)));
    out
}

/// A stream of `table` and how far its log reaches.
pub(crate) fn stream_state(db: &Db, table: &str, stream: Uuid) -> Result<StreamState> {
    let (meta, log, _) = stream_log_of(db, table, stream)?;
    let view = db.read_view();
    let parts = stream_log::parts(&meta);
    Ok(StreamState {
        table: table.to_string(),
        first_seq: stream_log::first_seq(&view, &log, &parts)?,
        last_seq: stream_log::last_seq(&view, &log, &parts)?,
        trimmed_through: stream_log::read_horizon(&view, &log)?,
        meta,
    })
}

/// Reads up to `limit` records (and about `max_bytes` of them) with sequence numbers above
/// `after`, from every shard, in sequence order. Fails with [`StoreError::TrimmedDataAccess`]
/// when records after `after` have been trimmed away.
pub(crate) fn read_stream(
    db: &Db,
    table: &str,
    stream: Uuid,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<StreamRead> {
    let (meta, log, table_id) = stream_log_of(db, table, stream)?;
    stream_log::read(
        &db.read_view(),
        &log,
        &db.codec,
        &table_id,
        &stream_log::parts(&meta),
        !meta.is_enabled(),
        after,
        limit,
        max_bytes,
    )
}

/// [`read_stream`] of shard `shard` alone (0 to the stream's shard count, exclusive). Fails with
/// ResourceNotFound for a shard the stream does not have.
pub(crate) fn read_stream_shard(
    db: &Db,
    table: &str,
    stream: Uuid,
    shard: u16,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<StreamRead> {
    let (meta, log, table_id) = stream_log_of(db, table, stream)?;
    let part = stream_log::part(&meta, shard).ok_or_else(|| {
        StoreError::ResourceNotFound(format!(
            "Requested resource not found: Shard {shard} of the stream of table {table} not found"
        ))
    })?;
    stream_log::read(
        &db.read_view(),
        &log,
        &db.codec,
        &table_id,
        &[part],
        !meta.is_enabled(),
        after,
        limit,
        max_bytes,
    )
}

/// Drops records older than `retention` from every stream, and the closed streams whose
/// retention has passed. Returns the number of records dropped.
pub(crate) fn trim_streams(db: &Db, retention: Duration) -> Result<usize> {
    db.admit()?;
    let cutoff = now_millis().saturating_sub(retention.as_millis() as u64);
    let mut dropped = 0;
    for table in db.tables_snapshot() {
        for meta in &table.meta.streams {
            let Some(log) = table.stream_logs.get(&meta.id) else {
                continue;
            };
            dropped += stream_log::trim(
                &db.fjall,
                &db.codec,
                &table.meta.id,
                log,
                &stream_log::parts(meta),
                cutoff,
            )?;
        }
        let expired: Vec<Uuid> = table
            .meta
            .streams
            .iter()
            .filter(|s| s.disabled_ms.is_some_and(|d| d < cutoff))
            .map(|s| s.id)
            .collect();
        if !expired.is_empty() {
            db.forget_streams(&table.meta.table_ref(), table.meta.id, &expired)?;
        }
    }
    for d in db.deleted_streams() {
        for meta in &d.meta.streams {
            let Some(log) = d.logs.get(&meta.id) else {
                continue;
            };
            dropped += stream_log::trim(
                &db.fjall,
                &db.codec,
                &d.meta.id,
                log,
                &stream_log::parts(meta),
                cutoff,
            )?;
        }
    }
    // A deleted table's streams go once the retention period has passed since the deletion.
    db.drop_deleted_streams(cutoff)?;
    if dropped > 0 {
        // Durable, and so visible to readers of the durable view.
        db.sync()?;
        tracing::debug!(dropped, "stream records trimmed");
    }
    Ok(dropped)
}

/// The definitions of the tables named `table` that have streams to read: the table itself
/// (if it exists), then the deleted tables of that name whose streams are kept, newest first.
pub(crate) fn stream_tables(db: &Db, table: &str) -> Vec<TableMeta> {
    let mut out: Vec<TableMeta> = db
        .table(table)
        .map(|t| t.meta.clone())
        .into_iter()
        .collect();
    out.extend(
        db.deleted_streams()
            .iter()
            .rev()
            .filter(|d| d.meta.table_ref() == table)
            .map(|d| d.meta.clone()),
    );
    out
}

/// A stream of `table` (or of a deleted table of that name whose streams are kept), with its
/// log and the id of its table.
fn stream_log_of(db: &Db, table: &str, stream: Uuid) -> Result<(StreamMeta, Keyspace, Uuid)> {
    let not_found = || {
        StoreError::ResourceNotFound(format!(
            "Requested resource not found: Stream of table {} not found",
            crate::schema::split_table_ref(table).1
        ))
    };
    if let Ok(t) = db.table(table) {
        if let Some(meta) = t.meta.streams.iter().find(|s| s.id == stream) {
            let log = t.stream_logs.get(&stream).cloned().ok_or_else(not_found)?;
            return Ok((meta.clone(), log, t.meta.id));
        }
    }
    for d in db.deleted_streams() {
        if d.meta.table_ref() != table {
            continue;
        }
        if let Some(meta) = d.meta.streams.iter().find(|s| s.id == stream) {
            let log = d.logs.get(&stream).cloned().ok_or_else(not_found)?;
            return Ok((meta.clone(), log, d.meta.id));
        }
    }
    Err(not_found())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{delete_action, item, n, open, put_action, s, spec};
    use crate::{Store, TableUpdate};

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
        let log = store.db.table("tbl").unwrap().stream_logs[&id].clone();
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

    #[test]
    fn a_deleted_tables_streams_stay_readable_until_the_retention_passes() {
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
            store.delete_table("tbl").unwrap();
            assert!(store.table_meta("tbl").is_err());
            // Listed, closed, and its records read as before.
            let listed: Vec<Uuid> = store.list_streams().iter().map(|(_, m)| m.id).collect();
            assert_eq!(listed, vec![id]);
            let [meta] = &store.stream_tables("tbl")[..] else {
                panic!("the deleted table's streams are not kept")
            };
            assert!(!meta.streams[0].is_enabled() && meta.streams[0].end_seq.is_some());
            let records = read_all(&store, id);
            assert_eq!(records.len(), 1);
            assert!(store
                .stream_state("tbl", id)
                .unwrap()
                .meta
                .end_seq
                .is_some());
            (id, records[0].seq)
        };
        // A restart keeps them, and numbering goes on after them.
        let store = Store::open(dir.path()).unwrap();
        assert!(store.latest_sequence_number() >= last);
        assert_eq!(read_all(&store, id).len(), 1);
        // A new table of the same name has a stream of its own beside the kept one.
        store
            .create_table(with_stream(StreamViewType::NewImage))
            .unwrap();
        store
            .put_item("tbl", item(&[("pk", s("b"))]), |_| Ok(()))
            .unwrap();
        let new_id = store.table_meta("tbl").unwrap().streams[0].id;
        assert_eq!(store.list_streams().len(), 2);
        assert_eq!(store.stream_tables("tbl").len(), 2);
        assert!(read_all(&store, new_id)[0].seq > last);
        assert_eq!(read_all(&store, id).len(), 1);
        // Within the retention period nothing goes; past it, the deleted table's streams do.
        store.trim_streams(Duration::from_secs(3600)).unwrap();
        assert_eq!(read_all(&store, id).len(), 1);
        std::thread::sleep(Duration::from_millis(5));
        store.trim_streams(Duration::ZERO).unwrap();
        assert!(store.read_stream("tbl", id, 0, 10, usize::MAX).is_err());
        assert_eq!(store.stream_tables("tbl").len(), 1);
        let listed: Vec<Uuid> = store.list_streams().iter().map(|(_, m)| m.id).collect();
        assert_eq!(listed, vec![new_id]);
        // And they stay gone after a restart.
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.stream_tables("tbl").len(), 1);
    }

    /// Every shard read alone, page by page with `limit` records a read.
    fn read_shards(store: &Store, id: Uuid, shards: u16, limit: usize) -> Vec<Vec<StreamRecord>> {
        (0..shards)
            .map(|shard| {
                let mut out = Vec::new();
                let mut after = 0;
                loop {
                    let page = store
                        .read_stream_shard("tbl", id, shard, after, limit, usize::MAX)
                        .unwrap();
                    let Some(last) = page.records.last() else {
                        break;
                    };
                    after = last.seq;
                    out.extend(page.records);
                }
                out
            })
            .collect()
    }

    #[test]
    fn records_are_split_into_shards_by_key_and_merge_back_in_order() {
        let (_dir, store) = open();
        store
            .create_table(with_stream(StreamViewType::NewImage))
            .unwrap();
        let meta = store.table_meta("tbl").unwrap().streams[0].clone();
        assert_eq!(meta.shard_count(), crate::DEFAULT_STREAM_SHARDS);
        for i in 0..200 {
            let it = item(&[("pk", s(&format!("k{}", i % 23))), ("v", n(i))]);
            store.put_item("tbl", it, |_| Ok(())).unwrap();
        }
        store
            .write_items(vec![
                delete_action("tbl", item(&[("pk", s("k1"))])),
                put_action("tbl", item(&[("pk", s("new"))])),
            ])
            .unwrap();
        let all = read_all(&store, meta.id);
        assert_eq!(all.len(), 202);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        let shards = read_shards(&store, meta.id, meta.shard_count(), 7);
        // Each key's records all in one shard, in the order it was written.
        let mut home = std::collections::HashMap::new();
        for (i, records) in shards.iter().enumerate() {
            assert!(!records.is_empty(), "shard {i} has records");
            assert!(records.windows(2).all(|w| w[0].seq < w[1].seq));
            for r in records {
                assert_eq!(*home.entry(r.keys.clone()).or_insert(i), i, "{:?}", r.keys);
            }
        }
        // One key's records come in the order it was written.
        let k5 = item(&[("pk", s("k5"))]);
        let values: Vec<_> = shards[home[&k5]]
            .iter()
            .filter(|r| r.keys == k5)
            .map(|r| r.new.as_ref().unwrap()["v"].clone())
            .collect();
        let written: Vec<_> = (0..200).filter(|i| i % 23 == 5).map(n).collect();
        assert_eq!(values, written);
        // The shards together hold the stream, and merge back into it.
        let mut merged: Vec<StreamRecord> = shards.into_iter().flatten().collect();
        merged.sort_by_key(|r| r.seq);
        assert_eq!(merged, all);
        // Reading the merged stream page by page gives the same records.
        let mut paged = Vec::new();
        let mut after = 0;
        loop {
            let page = store
                .read_stream("tbl", meta.id, after, 9, usize::MAX)
                .unwrap();
            let Some(last) = page.records.last() else {
                break;
            };
            after = last.seq;
            paged.extend(page.records);
        }
        assert_eq!(paged, all);
        let state = store.stream_state("tbl", meta.id).unwrap();
        assert_eq!(state.first_seq, Some(all[0].seq));
        assert_eq!(state.last_seq, Some(all[201].seq));
        assert!(matches!(
            store.read_stream_shard("tbl", meta.id, meta.shard_count(), 0, 10, usize::MAX),
            Err(StoreError::ResourceNotFound(_))
        ));
        // A closed stream's shards end.
        store
            .update_table(
                "tbl",
                TableUpdate {
                    stream: Some(crate::StreamChange::Disable),
                    ..Default::default()
                },
            )
            .unwrap();
        let end = store
            .read_stream_shard("tbl", meta.id, 0, all[201].seq, 10, usize::MAX)
            .unwrap();
        assert!(end.records.is_empty() && end.end_of_shard);
    }

    #[test]
    fn the_shard_count_is_a_store_option() {
        let dir = tempfile::tempdir().unwrap();
        let options = crate::StoreOptions {
            stream_shards: 7,
            sync_writes: false,
            ..Default::default()
        };
        let store = Store::open_with(dir.path(), options).unwrap();
        store
            .create_table(with_stream(StreamViewType::KeysOnly))
            .unwrap();
        assert_eq!(store.table_meta("tbl").unwrap().streams[0].shards, Some(7));
    }

    #[test]
    fn a_stream_from_before_shards_stays_readable() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = Store::open(dir.path()).unwrap();
            store
                .create_table(with_stream(StreamViewType::NewImage))
                .unwrap();
            // As the catalog of a store from before shards holds it: no `shards`, so records
            // go where that store wrote them.
            let mut meta = store.table_meta("tbl").unwrap();
            meta.streams[0].shards = None;
            let json = serde_json::to_string(&meta.streams[0]).unwrap();
            assert!(!json.contains("shards"), "{json}");
            let back: StreamMeta = serde_json::from_str(&json).unwrap();
            assert_eq!(back.shards, None);
            store.db.replace_meta(meta).unwrap();
            for k in ["a", "b", "c"] {
                store
                    .put_item("tbl", item(&[("pk", s(k))]), |_| Ok(()))
                    .unwrap();
            }
            store.table_meta("tbl").unwrap().streams[0].id
        };
        let store = Store::open(dir.path()).unwrap();
        let meta = store.table_meta("tbl").unwrap().streams[0].clone();
        assert_eq!((meta.shards, meta.shard_count()), (None, 1));
        store
            .put_item("tbl", item(&[("pk", s("d"))]), |_| Ok(()))
            .unwrap();
        let all = read_all(&store, id);
        let keys: Vec<_> = all.iter().map(|r| r.keys["pk"].clone()).collect();
        assert_eq!(keys, ["a", "b", "c", "d"].map(s));
        assert_eq!(read_shards(&store, id, 1, 2), vec![all.clone()]);
        assert!(store
            .read_stream_shard("tbl", id, 1, 0, 10, usize::MAX)
            .is_err());
        let state = store.stream_state("tbl", id).unwrap();
        assert_eq!(
            (state.first_seq, state.last_seq),
            (Some(all[0].seq), Some(all[3].seq))
        );
    }
}
