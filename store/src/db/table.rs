//! A table as the database holds it open: its definition and the keyspaces it writes (items,
//! index entries, expiry entries, stream logs, the point-in-time change log).
//!
//! An open table never changes: a new definition (UpdateTable, a new index, TTL...) opens a new
//! [`Table`] and swaps it into the catalog, so a write that looked a table up sees one
//! consistent definition and set of keyspaces from start to commit.

use std::collections::HashMap;
use std::sync::Arc;

use fjall::config::PinningPolicy;
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

/// The fjall options a table's items keyspace is created with: fjall's defaults, with every
/// table file's index block and bloom filter block pinned in memory at every level.
///
/// A GetItem's key is looked up in each level of the tree (the keys' partition hash spreads
/// every table file over the whole key space, so after a burst of writes each level holds a
/// file that may contain it): its filter is probed, and in the file that has the key its index
/// is searched. fjall pins these blocks only in the first levels (filters in L0, indexes in L0
/// and L1) and otherwise fetches them from the block cache on every read: a hash lookup, a
/// reference count taken and dropped on a block both cores read, and for an unpinned index the
/// whole block (one entry per 4 KiB data block: about 16,000 entries in a 64 MiB file)
/// searched through the cache's copy. Pinned, they are read in place. The memory this holds
/// outside the block cache is small: about 1.2 bytes of filter per item and 30 bytes of index
/// per 4 KiB of items in the levels that keep a full index (L0 to L2); deeper levels use
/// fjall's partitioned index and filter, of which only the top-level blocks are pinned.
/// Options are recorded when a keyspace is created: tables made before this keep theirs.
fn items_options() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default()
        .index_block_pinning_policy(PinningPolicy::all(true))
        .filter_block_pinning_policy(PinningPolicy::all(true))
}

impl Table {
    /// Opens (or creates) the keyspaces of a table.
    pub(crate) fn open(db: &Database, counts: &Counts, meta: TableMeta) -> Result<Table> {
        let items = db.keyspace(&meta.items_keyspace(), items_options)?;
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
