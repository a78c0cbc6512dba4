//! Time to live: items that expire, and the sweeper that deletes them.
//!
//! A table with TTL enabled names one attribute; an item whose value there is a number of epoch
//! seconds expires at that second. Every write keeps the table's expiry index (the keyspace
//! `e-<table id>`, keys `[expiry seconds, big-endian u64][item storage key]`: see
//! `db::expiry`) in the same batch as the item, so the sweeper reads only the entries whose
//! time has come, never the table.
//!
//! The sweeper ([`crate::Store::sweep_expired`]) deletes each expired item as an ordinary write would
//! (its stream record, index entries and expiry entry go in the same batch), but marks the
//! change as the store's own, so its stream record names the service as the one who deleted it.
//! Before deleting it looks at the item again under the item's lock: an entry whose item has
//! been given a new expiry since, or deleted, is only dropped. As in DynamoDB, items whose TTL
//! attribute is missing or not a number are never deleted, and neither are items that expired
//! more than five years ago. Until the sweeper runs, reads still return an expired item.
//!
//! Enabling TTL on a table that holds items indexes the existing items ([`crate::Store::backfill_ttl`]): the
//! table reports ENABLING until that is done. The server's upkeep runs the backfill and the
//! sweeper now and then. The definitions live in [`crate::schema::ttl`] and are re-exported
//! here.

use std::ops::Bound;
use std::sync::Arc;

use crate::db::expiry;
use crate::db::table::Table;
use crate::db::write::Change;
use crate::db::Db;
use crate::error::{Result, StoreError};

pub use crate::schema::ttl::{expiry_of, TtlChange, TtlSpec, TtlStatus};

/// Items that expired longer ago than this are left alone, as DynamoDB does.
pub const MAX_PAST_SECS: u64 = 5 * 365 * 24 * 60 * 60;

/// Enables or disables TTL on a table (UpdateTimeToLive). Enabling starts as ENABLING until
/// [`backfill_ttl`] has indexed the items already there.
pub(crate) fn update_time_to_live(
    db: &Db,
    table: &str,
    change: TtlChange,
) -> Result<Option<TtlSpec>> {
    let _ddl = db.ddl.lock();
    let t = db.table(table)?;
    let mut meta = t.meta.clone();
    let invalid = |m: String| Err(StoreError::Validation(m));
    match (&meta.ttl, &change) {
        (Some(spec), TtlChange::Enable(a)) if *a == spec.attribute => {
            return invalid("TimeToLive is already enabled".into())
        }
        (None, TtlChange::Disable(_)) => return invalid("TimeToLive is already disabled".into()),
        (Some(spec), TtlChange::Enable(a) | TtlChange::Disable(a)) if *a != spec.attribute => {
            return invalid(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                spec.attribute
            ))
        }
        _ => {}
    }
    meta.ttl = match change {
        TtlChange::Enable(attribute) => Some(TtlSpec {
            attribute,
            status: TtlStatus::Enabling,
        }),
        TtlChange::Disable(_) => None,
    };
    let spec = meta.ttl.clone();
    db.replace_meta(meta)?;
    if spec.is_none() {
        expiry::clear(&db.fjall, &t.expiry)?;
    }
    tracing::info!(table, ttl = ?spec, "time to live changed");
    Ok(spec)
}

/// Indexes the items of every table whose TTL is ENABLING, then marks it ENABLED. Returns
/// the number of items indexed.
pub(crate) fn backfill_ttl(db: &Db) -> Result<usize> {
    let enabling: Vec<_> = db
        .tables_snapshot()
        .into_iter()
        .filter(|t| {
            t.meta
                .ttl
                .as_ref()
                .is_some_and(|s| s.status == TtlStatus::Enabling)
        })
        .collect();
    let mut indexed = 0;
    for t in enabling {
        let Some(spec) = &t.meta.ttl else { continue };
        db.admit()?;
        // Every write committed from now on keeps the index itself (TTL was enabled before
        // this snapshot of the table); the items before are indexed here. An entry for an
        // item that changes meanwhile may be stale: the sweeper checks before deleting.
        for guard in t.items.iter() {
            let (key, value) = guard.into_inner()?;
            let item = db.codec.decode(&t.meta.id, &key, &value)?;
            if let Some(e) = expiry_of(&item, &spec.attribute) {
                t.expiry
                    .insert(expiry::entry_key(e, &key), [])
                    .map_err(|e| db.commit.engine_error(e))?;
                indexed += 1;
            }
        }
        let _ddl = db.ddl.lock();
        let current = db.table(&t.meta.table_ref())?;
        if current.meta.id == t.meta.id && current.meta.ttl.as_ref() == Some(spec) {
            let mut meta = current.meta.clone();
            meta.ttl = Some(TtlSpec {
                attribute: spec.attribute.clone(),
                status: TtlStatus::Enabled,
            });
            db.replace_meta(meta)?;
            tracing::info!(table = %t.meta.name, indexed, "time to live enabled");
        }
    }
    Ok(indexed)
}

/// Deletes up to `max` items whose TTL expired before `now_secs` (and not more than five
/// years before), in every table with TTL enabled. Returns the number deleted.
pub(crate) fn sweep_expired(db: &Db, now_secs: u64, max: usize) -> Result<usize> {
    Ok(sweep_expired_tables(db, now_secs, max)?
        .iter()
        .map(|(_, n)| n)
        .sum())
}

/// [`sweep_expired`], answering how many items each table lost (tables that lost none are
/// left out).
pub(crate) fn sweep_expired_tables(
    db: &Db,
    now_secs: u64,
    max: usize,
) -> Result<Vec<(String, usize)>> {
    let tables: Vec<_> = db
        .tables_snapshot()
        .into_iter()
        .filter(|t| t.meta.ttl.is_some())
        .collect();
    let mut deleted = 0;
    let mut per_table = Vec::new();
    for t in tables {
        if deleted >= max {
            break;
        }
        let n = sweep_table(db, &t, now_secs, max - deleted)?;
        if n > 0 {
            per_table.push((t.meta.table_ref(), n));
        }
        deleted += n;
    }
    Ok(per_table)
}

/// Deletes up to `max` expired items of one table.
fn sweep_table(db: &Db, t: &Arc<Table>, now_secs: u64, max: usize) -> Result<usize> {
    const CHUNK: usize = 256;
    let Some(spec) = &t.meta.ttl else {
        return Ok(0);
    };
    let lo = expiry::entry_key(now_secs.saturating_sub(MAX_PAST_SECS), &[]);
    let hi = expiry::entry_key(now_secs, &[]);
    let mut deleted = 0;
    let mut start = Bound::Included(lo);
    while deleted < max {
        let mut entries = Vec::new();
        for guard in t
            .expiry
            .range::<Vec<u8>, _>((start.clone(), Bound::Excluded(hi.clone())))
        {
            if entries.len() == CHUNK.min(max - deleted) {
                break;
            }
            entries.push(guard.key()?.to_vec());
        }
        let Some(last) = entries.last() else { break };
        start = Bound::Excluded(last.clone());
        db.admit()?;
        // As every write: the writers gate (definitions stay put), then the items' locks.
        let _writers = db.writers.read();
        let held = db.locks.lock(
            entries
                .iter()
                .filter_map(|e| expiry::split_entry(e))
                .map(|(_, k)| (&t.meta.id, k)),
        );
        let mut changes = Vec::new();
        for entry in &entries {
            let Some((expiry, key)) = expiry::split_entry(entry) else {
                continue;
            };
            match db.read_item(t, key)? {
                Some(item) if expiry_of(&item, &spec.attribute) == Some(expiry) => {
                    changes.push(Change {
                        table: t.clone(),
                        key: key.to_vec(),
                        old: Some(item),
                        new: None,
                        by_ttl: true,
                    });
                }
                // The item was deleted or given another expiry since: the entry is stale.
                _ => t
                    .expiry
                    .remove(entry.as_slice())
                    .map_err(|e| db.commit.engine_error(e))?,
            }
        }
        let n = changes.len();
        db.commit(&changes)?;
        drop(held);
        db.sync()?;
        deleted += n;
    }
    if deleted > 0 {
        tracing::debug!(table = %t.meta.name, deleted, "expired items deleted");
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ChangeKind, StreamViewType};
    use crate::testutil::{item, n, open, s, spec};

    const NOW: u64 = 2_000_000_000;

    #[test]
    fn the_sweeper_deletes_what_expired_and_nothing_else() {
        let (_dir, store) = open();
        store
            .create_table(crate::schema::TableSpec {
                stream: Some(StreamViewType::NewAndOldImages),
                ..spec("tbl", None)
            })
            .unwrap();
        store
            .update_time_to_live("tbl", TtlChange::Enable("exp".into()))
            .unwrap();
        let rows = [
            ("expired", n(NOW as i64 - 10)),
            ("future", n(NOW as i64 + 10)),
            ("a-string", s("1")),
            ("ancient", n((NOW - MAX_PAST_SECS - 1) as i64)),
            ("renewed", n(NOW as i64 - 5)),
        ];
        for (k, v) in &rows {
            store
                .put_item("tbl", item(&[("pk", s(k)), ("exp", v.clone())]), |_| Ok(()))
                .unwrap();
        }
        // Renewed before the sweep: its old entry is stale and must not delete it.
        store
            .put_item(
                "tbl",
                item(&[("pk", s("renewed")), ("exp", n(NOW as i64 + 100))]),
                |_| Ok(()),
            )
            .unwrap();
        assert_eq!(store.sweep_expired(NOW, 100).unwrap(), 1);
        assert_eq!(store.describe_table("tbl").unwrap().item_count, 4);
        let left: Vec<bool> = rows
            .iter()
            .map(|(k, _)| {
                store
                    .get_item("tbl", &item(&[("pk", s(k))]))
                    .unwrap()
                    .is_some()
            })
            .collect();
        assert_eq!(left, [false, true, true, true, true]);
        let id = store.table_meta("tbl").unwrap().streams[0].id;
        let last = store
            .read_stream("tbl", id, 0, 100, usize::MAX)
            .unwrap()
            .records
            .pop()
            .unwrap();
        assert_eq!(last.kind, ChangeKind::Remove);
        assert!(last.by_ttl);
        assert_eq!(last.keys, item(&[("pk", s("expired"))]));
        // Nothing more to do: the sweep is idempotent.
        assert_eq!(store.sweep_expired(NOW, 100).unwrap(), 0);
    }

    #[test]
    fn enabling_indexes_the_items_already_there() {
        let (_dir, store) = open();
        store.create_table(spec("tbl", None)).unwrap();
        for i in 0..50 {
            store
                .put_item(
                    "tbl",
                    item(&[("pk", s(&format!("k{i}"))), ("exp", n(NOW as i64 - 1 - i))]),
                    |_| Ok(()),
                )
                .unwrap();
        }
        let spec = store
            .update_time_to_live("tbl", TtlChange::Enable("exp".into()))
            .unwrap()
            .unwrap();
        assert_eq!(spec.status, TtlStatus::Enabling);
        assert!(matches!(
            store.update_time_to_live("tbl", TtlChange::Enable("exp".into())),
            Err(StoreError::Validation(m)) if m == "TimeToLive is already enabled"
        ));
        assert_eq!(store.backfill_ttl().unwrap(), 50);
        assert_eq!(
            store.table_meta("tbl").unwrap().ttl.unwrap().status,
            TtlStatus::Enabled
        );
        assert_eq!(store.sweep_expired(NOW, 20).unwrap(), 20, "bounded by max");
        assert_eq!(store.sweep_expired(NOW, 100).unwrap(), 30);
        store
            .update_time_to_live("tbl", TtlChange::Disable("exp".into()))
            .unwrap();
        assert!(matches!(
            store.update_time_to_live("tbl", TtlChange::Disable("exp".into())),
            Err(StoreError::Validation(m)) if m == "TimeToLive is already disabled"
        ));
        assert_eq!(store.db.table("tbl").unwrap().expiry.iter().count(), 0);
    }
}
