//! The streams of deleted tables. DynamoDB keeps a deleted table's stream for 24 hours: it is
//! listed (ListStreams), described (`DISABLED`) and its records read as before. DeleteTable
//! therefore closes the table's enabled stream, keeps every stream log of the table and records
//! the table's last definition (a `deleted-streams/<table id>` state record, so a restart finds
//! them); [`crate::Store::trim_streams`] drops them once the retention period has passed since
//! the deletion.

use std::collections::HashMap;
use std::sync::Arc;

use fjall::Keyspace;
use serde::{Deserialize, Serialize};

use super::{stream_log, Db};
use crate::error::{Result, StoreError};
use crate::schema::TableMeta;

/// State records of deleted tables' kept streams.
const RECORD: &str = "deleted-streams/";

/// The durable record of a deleted table whose streams are kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    /// The table's definition when it was deleted (its streams all closed).
    table: TableMeta,
    /// When it was deleted, milliseconds since the epoch.
    deleted_ms: u64,
}

/// A deleted table whose streams are kept, with their logs open.
pub(crate) struct DeletedStreams {
    /// The table's definition when it was deleted (its streams all closed).
    pub(crate) meta: TableMeta,
    /// When it was deleted, milliseconds since the epoch.
    pub(crate) deleted_ms: u64,
    /// The record logs of its streams, by stream id.
    pub(crate) logs: HashMap<uuid::Uuid, Keyspace>,
}

fn record_key(meta: &TableMeta) -> String {
    format!("{RECORD}{}", meta.id.simple())
}

fn open(db: &fjall::Database, meta: TableMeta, deleted_ms: u64) -> Result<DeletedStreams> {
    let logs = meta
        .streams
        .iter()
        .map(|s| Ok((s.id, stream_log::open_log(db, s)?)))
        .collect::<Result<_>>()?;
    Ok(DeletedStreams {
        meta,
        deleted_ms,
        logs,
    })
}

/// Opens the kept streams of deleted tables recorded in `state` (at startup).
pub(crate) fn load(db: &fjall::Database, state: &Keyspace) -> Result<Vec<Arc<DeletedStreams>>> {
    let mut out = Vec::new();
    for entry in state.prefix(RECORD) {
        let (k, v) = entry.into_inner()?;
        let r: Record = serde_json::from_slice(&v).map_err(|e| {
            StoreError::Corrupt(format!(
                "unreadable deleted stream record {}: {e}",
                String::from_utf8_lossy(&k)
            ))
        })?;
        out.push(Arc::new(open(db, r.table, r.deleted_ms)?));
    }
    Ok(out)
}

impl Db {
    /// Adds to `batch` the record that keeps the streams of a table being deleted (`meta`: its
    /// definition with every stream closed), and answers them opened; the caller commits the
    /// batch (with the removal of the table's definition), then adds them to the kept ones.
    pub(crate) fn stage_deleted_streams(
        &self,
        batch: &mut fjall::OwnedWriteBatch,
        meta: TableMeta,
        deleted_ms: u64,
    ) -> Result<DeletedStreams> {
        let record = Record {
            table: meta,
            deleted_ms,
        };
        let json = serde_json::to_vec(&record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        batch.insert(&self.state, record_key(&record.table), json);
        open(&self.fjall, record.table, deleted_ms)
    }

    /// The deleted tables whose streams are kept, oldest deletion first.
    pub(crate) fn deleted_streams(&self) -> Vec<Arc<DeletedStreams>> {
        let mut all = self.deleted_streams.read().clone();
        all.sort_by_key(|d| d.deleted_ms);
        all
    }

    /// Drops the kept streams of tables deleted before `cutoff` (milliseconds since the epoch):
    /// their logs and records. Returns how many tables' streams were dropped.
    pub(crate) fn drop_deleted_streams(&self, cutoff: u64) -> Result<usize> {
        let expired: Vec<Arc<DeletedStreams>> = self
            .deleted_streams
            .read()
            .iter()
            .filter(|d| d.deleted_ms < cutoff)
            .cloned()
            .collect();
        for d in &expired {
            self.delete_state(&record_key(&d.meta))?;
            self.deleted_streams
                .write()
                .retain(|x| x.meta.id != d.meta.id);
            for log in d.logs.values() {
                self.fjall.delete_keyspace(log.clone())?;
            }
            tracing::info!(table = %d.meta.name, region = %d.meta.region, "deleted table's streams dropped");
        }
        Ok(expired.len())
    }
}
