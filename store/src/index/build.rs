//! The online build (backfill) of a global secondary index added to a table that holds data.
//!
//! The index is in the catalog, CREATING, before the build starts, so every write from then on
//! maintains it; the switch of the index list waited for in-flight writes (the writers gate),
//! so no write that missed the new index can commit after the walk started. The build walks
//! the table in chunks of keys and, holding the item locks of each chunk, re-reads every item
//! and writes its entry, so the result is exact whatever writes race with it. When the walk
//! ends the index becomes ACTIVE. A walk cut short (the store closed, or crashed) starts over
//! when the store opens again ([`resume`]); entries are idempotent.

use std::ops::Bound;
use std::sync::Arc;

use uuid::Uuid;

use crate::db::counts::Deltas;
use crate::db::index_entries::{entry, OpenIndex};
use crate::db::Db;
use crate::error::Result;
use crate::runner::Runner;
use crate::schema::IndexStatus;

/// Items re-read under their locks per backfill batch.
const BACKFILL_CHUNK: usize = 256;

/// How a build ended.
enum BuildEnd {
    /// Every item was visited.
    Done,
    /// The index or its table is gone, or the store is closing.
    Abandoned,
}

/// Starts the build of every CREATING index (when the store opens).
pub(crate) fn resume(db: &Arc<Db>, runner: &Runner) {
    let pending: Vec<(String, Uuid, Uuid)> = db
        .tables_snapshot()
        .into_iter()
        .flat_map(|t| {
            t.meta
                .indexes
                .iter()
                .filter(|i| i.status == IndexStatus::Creating)
                .map(|i| (t.meta.table_ref(), t.meta.id, i.id))
                .collect::<Vec<_>>()
        })
        .collect();
    for (table, table_id, index_id) in pending {
        tracing::info!(%table, %index_id, "resuming an interrupted index build");
        spawn(db, runner, table, table_id, index_id);
    }
}

/// Builds index `index_id` of table `table_id` on a background thread.
pub(super) fn spawn(db: &Arc<Db>, runner: &Runner, table: String, table_id: Uuid, index_id: Uuid) {
    let db = db.clone();
    let job = runner.handle();
    runner.spawn("tarn-index-build", move || {
        if let Err(e) = build(&db, &job, &table, table_id, index_id) {
            tracing::error!(%table, %index_id, error = %e, "index build failed; it resumes when the store opens again");
        }
    });
}

/// The index `index_id` of table `table_id`, if both still exist and it is CREATING.
fn building(db: &Db, table: &str, table_id: Uuid, index_id: Uuid) -> Option<OpenIndex> {
    let t = db.table(table).ok()?;
    if t.meta.id != table_id {
        return None;
    }
    t.indexes
        .iter()
        .find(|i| i.meta.id == index_id && i.meta.status == IndexStatus::Creating)
        .cloned()
}

/// Walks the table and writes every item's entry into the index, then marks it ACTIVE.
fn build(db: &Db, runner: &Runner, table: &str, table_id: Uuid, index_id: Uuid) -> Result<()> {
    let started = std::time::Instant::now();
    let Some(items) = db.table(table).ok().map(|t| t.items.clone()) else {
        return Ok(());
    };
    let mut after: Option<Vec<u8>> = None;
    let mut visited = 0usize;
    let end = loop {
        // A full disk pauses the build until space returns.
        db.admit_waiting(&|| runner.stopping())?;
        if runner.stopping() {
            break BuildEnd::Abandoned;
        }
        let lo = after.clone().map_or(Bound::Unbounded, Bound::Excluded);
        let keys: Vec<Vec<u8>> = items
            .range::<Vec<u8>, _>((lo, Bound::Unbounded))
            .take(BACKFILL_CHUNK)
            .map(|g| g.key().map(|k| k.to_vec()))
            .collect::<std::result::Result<_, _>>()?;
        let Some(last) = keys.last().cloned() else {
            break BuildEnd::Done;
        };
        // Shared writers gate: a deletion of the index (or of its table) waits for this
        // chunk, and this chunk sees the deletion if it came first.
        let _writers = db.writers.read();
        let Some(index) = building(db, table, table_id, index_id) else {
            break BuildEnd::Abandoned;
        };
        let Ok(current) = db.table(table) else {
            break BuildEnd::Abandoned;
        };
        let _held = db
            .locks
            .lock(keys.iter().map(|k| (&table_id, k.as_slice())));
        let mut batch = db.fjall.batch();
        let mut deltas = Deltas::default();
        for k in &keys {
            if let Some(v) = items.get(k)? {
                let item = db.codec.decode(&table_id, k, &v)?;
                if let Some((ek, projected)) = entry(&current.meta.key_schema, &index.meta, &item) {
                    let value = db.codec.encode(&table_id, &ek, &projected);
                    // A write since the build started may have written the entry already.
                    if !index.keyspace.contains_key(&ek)? {
                        deltas.add(&index.count, 1);
                    }
                    batch.insert(&index.keyspace, ek, value);
                }
            }
        }
        db.counts
            .commit(batch, deltas)
            .map_err(|e| db.commit.engine_error(e))?;
        visited += keys.len();
        after = Some(last);
    };
    if let BuildEnd::Abandoned = end {
        tracing::info!(%table, %index_id, visited, "index build stopped");
        return Ok(());
    }
    // Entries first, then the status, both durable.
    db.sync()?;
    let _ddl = db.ddl.lock();
    let Some(t) = db.table(table).ok().filter(|t| t.meta.id == table_id) else {
        return Ok(());
    };
    let mut meta = t.meta.clone();
    let Some(ix) = meta
        .indexes
        .iter_mut()
        .find(|i| i.id == index_id && i.status == IndexStatus::Creating)
    else {
        return Ok(());
    };
    ix.status = IndexStatus::Active;
    let name = ix.name.clone();
    db.replace_meta(meta)?;
    tracing::info!(%table, index = %name, visited, elapsed_ms = started.elapsed().as_millis() as u64, "index build finished");
    Ok(())
}
