//! A table as the database holds it open: its definition and the keyspaces it writes (items,
//! index entries, expiry entries, stream logs, the point-in-time change log).
//!
//! An open table never changes: a new definition (UpdateTable, a new index, TTL...) opens a new
//! [`Table`] and swaps it into the catalog, so a write that looked a table up sees one
//! consistent definition and set of keyspaces from start to commit.

use std::collections::HashMap;
use std::sync::Arc;

use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use uuid::Uuid;

use super::counts::{Counter, Counts};
use super::index_entries::{self, OpenIndex};
use super::{changelog, stream_log};
use crate::error::Result;
use crate::schema::{StreamMeta, TableInfo, TableMeta};

/// A table open in the database: its definition and the keyspaces it writes.
pub(crate) struct Table {
    /// The definition (a write borrows it from the shared table; nothing copies it).
    pub(crate) meta: TableMeta,
    /// The items.
    pub(crate) items: Keyspace,
    /// The exact number of items (see [`super::counts`]).
    pub(crate) item_count: Arc<Counter>,
    /// The keyspaces of `meta.indexes`, in the same order.
    pub(crate) indexes: Vec<OpenIndex>,
    /// The expiry index (see [`super::expiry`]).
    pub(crate) expiry: Keyspace,
    /// The record logs of the table's streams, by stream id.
    pub(crate) stream_logs: HashMap<Uuid, Keyspace>,
    /// The point-in-time recovery change log, while PITR is on (see [`super::changelog`]).
    pub(crate) pitr_log: Option<Keyspace>,
}

impl Table {
    /// Opens (or creates) the keyspaces of a table.
    pub(crate) fn open(db: &Database, counts: &Counts, meta: TableMeta) -> Result<Table> {
        let items = db.keyspace(&meta.items_keyspace(), KeyspaceCreateOptions::default)?;
        let item_count = counts.counter(&meta.items_keyspace(), &items)?;
        let indexes = index_entries::open_all(db, counts, &meta)?;
        let expiry = db.keyspace(&meta.expiry_keyspace(), KeyspaceCreateOptions::default)?;
        let stream_logs = meta
            .streams
            .iter()
            .map(|s| Ok((s.id, stream_log::open_log(db, s)?)))
            .collect::<Result<_>>()?;
        let pitr_log = match meta.pitr {
            Some(_) => Some(changelog::open_log(db, &meta.id)?),
            None => None,
        };
        Ok(Table {
            meta,
            items,
            item_count,
            indexes,
            expiry,
            stream_logs,
            pitr_log,
        })
    }

    /// The stream that records changes now, with its log.
    pub(crate) fn active_stream(&self) -> Option<(&StreamMeta, &Keyspace)> {
        let s = self.meta.streams.iter().find(|s| s.is_enabled())?;
        Some((s, self.stream_logs.get(&s.id)?))
    }

    /// The table's description: its definition and live figures.
    pub(crate) fn info(&self) -> TableInfo {
        TableInfo {
            meta: self.meta.clone(),
            item_count: self.item_count.get(),
            size_bytes: self.items.disk_space(),
            indexes: index_entries::infos(&self.indexes),
        }
    }

    /// Drops the keyspaces of items, index entries and expiry entries (a deleted table, or a
    /// restore that did not finish). Stream logs and the change log are the caller's.
    pub(crate) fn drop_data(&self, db: &Database, counts: &Counts) -> Result<()> {
        db.delete_keyspace(self.items.clone())?;
        counts.forget(&self.meta.items_keyspace())?;
        for ix in &self.indexes {
            db.delete_keyspace(ix.keyspace.clone())?;
            counts.forget(&ix.meta.keyspace())?;
        }
        db.delete_keyspace(self.expiry.clone())?;
        Ok(())
    }
}
