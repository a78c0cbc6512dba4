//! The open database: tables in a catalog, items in one fjall keyspace per table, and the
//! paths every item write and read takes.
//!
//! [`Db`] holds what the store shares between requests and background work: the fjall
//! database, the catalog of open tables, the item locks, the commit order, the commit pipeline
//! ([`crate::commit`]: group commit, the durable read view, the free-space reserve) and the item
//! codec. The files of this module, bottom up:
//!
//! - what one write records beside the item, each a function of keyspaces, definitions and a
//!   batch: [`index_entries`] (secondary index entries), [`expiry`] (the TTL expiry index),
//!   [`stream_log`] (stream records), [`changelog`] (the point-in-time recovery log), and the
//!   [`sequencer`] that numbers the last two in commit order;
//! - the means of a write: [`locks`] (item locks), [`counts`] (exact item and index entry
//!   counts, committed with the writes that change them);
//! - [`table`]: a table's open keyspaces; [`catalog`]: table definitions (create, update,
//!   delete), tables being restored, deleted tables whose history is kept;
//!   [`deleted_streams`]: the streams of deleted tables, kept for the retention period;
//!   [`state`]: tarn's own durable records;
//! - [`write`]: the write path (one item, or several atomically); [`read`]: GetItem, Query and
//!   Scan, on a table or on an index; [`row_cache`]: items GetItem read recently, served again
//!   without the LSM tree (every write removes its items' entries as it commits).
//!
//! Every write goes the same way: pass the free-space reserve, lock the item's stripe, read the
//! current item, let the caller decide the new state (this is where conditions and update
//! expressions run), commit the change and every record derived from it as one atomic fjall
//! batch, release the lock, and settle: wait (or, in a deferring scope, arrange to wait) until
//! the journal holding the write, and whatever the write read, is synced.
//!
//! Writes read the latest committed data under their locks; user-facing reads read the durable
//! view ([`Db::read_view`]), which never shows a write a crash could still lose.
//!
//! Nothing here starts a thread or knows the store's background work: that is the business of
//! the modules above ([`crate::index`], [`crate::ttl`], [`crate::stream`], [`crate::backup`]),
//! which work through a [`Db`].

pub(crate) mod catalog;
pub(crate) mod changelog;
pub(crate) mod counts;
pub(crate) mod deleted_streams;
pub(crate) mod expiry;
pub(crate) mod index_entries;
pub(crate) mod locks;
pub(crate) mod read;
pub(crate) mod row_cache;
pub(crate) mod sequencer;
pub(crate) mod state;
pub(crate) mod stream_log;
pub(crate) mod table;
pub(crate) mod write;

#[cfg(test)]
mod region_tests;
#[cfg(test)]
mod row_cache_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use parking_lot::{Mutex, RwLock};

use crate::commit::{Commit, ReadView};
use crate::crypto::{self, EncryptionKey};
use crate::encoding::ItemCodec;
use crate::error::{Result, StoreError};
use crate::schema::TableMeta;
use catalog::Restoring;
use changelog::LogSizes;
use counts::Counts;
use locks::{KeyLocks, Ongoing};
use row_cache::RowCache;
use sequencer::Sequencer;
use table::Table;

const CATALOG: &str = "catalog";
const STATE: &str = "state";

/// Options for opening a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Sync the journal before acknowledging each write (group-committed). Turning this off
    /// trades durability for speed, for throwaway data.
    pub sync_writes: bool,
    /// Encrypt item values at rest with keys derived from this one (see [`crate::crypto`]). A
    /// store encrypted once must always be opened with the same key.
    pub encryption_key: Option<EncryptionKey>,
    /// Bytes of the block cache: table files' blocks (items, their index and filter blocks)
    /// kept in memory, shared by every table. Reads of a table larger than the cache go to the
    /// disk (or the OS's page cache) for the blocks it does not hold.
    pub cache_bytes: u64,
    /// Writes are refused while the disk holding the store has fewer bytes free than this
    /// (at least [`crate::commit::MIN_FREE_SPACE_FLOOR`]); see [`crate::commit`].
    pub min_free_space: u64,
    /// Shards a new stream's records are split into by partition-key hash (1 to
    /// [`MAX_STREAM_SHARDS`]); streams made earlier keep theirs.
    pub stream_shards: u16,
    /// Bytes of the row cache: items GetItem and BatchGetItem read recently, decoded, served
    /// again without reading the LSM tree (see `db::row_cache`); 0 turns it off.
    pub row_cache_bytes: u64,
}

/// The default of [`StoreOptions::stream_shards`]: the shards DynamoDB gives a new small table's
/// stream, one per partition. A new on-demand table sustains 4,000 writes and 12,000 reads a
/// second, and one partition 1,000 and 3,000: four partitions.
pub const DEFAULT_STREAM_SHARDS: u16 = 4;
/// The most shards a stream can have.
pub const MAX_STREAM_SHARDS: u16 = 1024;

/// The block cache's default size ([`StoreOptions::cache_bytes`]).
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// The row cache's default size ([`StoreOptions::row_cache_bytes`]).
pub const DEFAULT_ROW_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sync_writes: true,
            encryption_key: None,
            cache_bytes: DEFAULT_CACHE_BYTES,
            min_free_space: crate::commit::DEFAULT_MIN_FREE_SPACE,
            stream_shards: DEFAULT_STREAM_SHARDS,
            row_cache_bytes: DEFAULT_ROW_CACHE_BYTES,
        }
    }
}

/// The open database: what requests and background work share.
pub(crate) struct Db {
    /// The fjall database holding every keyspace.
    pub(crate) fjall: Database,
    /// Table definitions, by name (see [`catalog`]).
    catalog: Keyspace,
    /// tarn's own records (see [`state`]).
    state: Keyspace,
    /// The open tables, by name.
    tables: RwLock<HashMap<String, Arc<Table>>>,
    /// Serializes catalog changes (create, delete, update of tables).
    pub(crate) ddl: Mutex<()>,
    /// Held shared by every item write from its table lookup to its commit, and exclusively
    /// while a table's definition is switched: once the switch is done, no write that saw the
    /// old definition (say, without a new index) is still in flight.
    pub(crate) writers: RwLock<()>,
    /// Deleted tables whose streams are kept (see [`deleted_streams`]).
    deleted_streams: RwLock<Vec<Arc<deleted_streams::DeletedStreams>>>,
    /// Tables being restored: not open for items yet, but their names are taken.
    pub(crate) restoring: RwLock<HashMap<String, Arc<Restoring>>>,
    /// Item locks for read-modify-write.
    pub(crate) locks: KeyLocks,
    /// The items of the write transactions in progress (see [`locks::Ongoing`]).
    pub(crate) ongoing: Ongoing,
    /// The commit order of writes that leave numbered records, and the numbers that follow it.
    pub(crate) sequencer: Sequencer,
    /// Group commit, the durable view, the free-space reserve, the store's health.
    pub(crate) commit: Commit,
    /// How item values are stored (encrypted or not).
    pub(crate) codec: ItemCodec,
    /// Bytes of point-in-time change log written per table since its last base.
    pub(crate) log_sizes: LogSizes,
    /// The exact item and index entry counts.
    pub(crate) counts: Counts,
    /// Items read recently (see [`row_cache`]).
    pub(crate) rows: RowCache,
    options: StoreOptions,
    path: PathBuf,
}

impl Db {
    /// Opens (or creates) the database in `path`: the catalog and every table in it.
    pub(crate) fn open(path: &Path, options: StoreOptions) -> Result<Db> {
        std::fs::create_dir_all(path)?;
        let fjall = Database::builder(path)
            .cache_size(options.cache_bytes)
            .open()?;
        let catalog = fjall.keyspace(CATALOG, KeyspaceCreateOptions::default)?;
        let state = fjall.keyspace(STATE, KeyspaceCreateOptions::default)?;
        let counts = Counts::open(&fjall)?;
        let mut tables = HashMap::new();
        for entry in catalog.iter() {
            let (_, value) = entry.into_inner()?;
            let meta: TableMeta = serde_json::from_slice(&value)
                .map_err(|e| StoreError::Corrupt(format!("unreadable catalog entry: {e}")))?;
            tables.insert(
                meta.table_ref(),
                Arc::new(Table::open(&fjall, &counts, meta)?),
            );
        }
        match &options.encryption_key {
            Some(key) => crypto::check_key(path, key, tables.is_empty())?,
            None => crypto::check_no_key(path)?,
        }
        let codec = ItemCodec::new(options.encryption_key.clone());
        index_entries::drop_orphans(&fjall, &counts, tables.values().map(|t| &t.meta))?;
        let kept_streams = deleted_streams::load(&fjall, &state)?;
        let last_seq = stream_log::highest_seq(
            tables
                .values()
                .flat_map(|t| {
                    t.meta
                        .streams
                        .iter()
                        .filter_map(|s| Some((s, t.stream_logs.get(&s.id)?)))
                })
                .chain(kept_streams.iter().flat_map(|d| {
                    d.meta
                        .streams
                        .iter()
                        .filter_map(|s| Some((s, d.logs.get(&s.id)?)))
                })),
        )?
        .max(changelog::highest_seq(
            tables.values().filter_map(|t| t.pitr_log.as_ref()),
        )?);
        let commit = Commit::start(&fjall, path, options.sync_writes, options.min_free_space)?;
        tracing::info!(path = %path.display(), tables = tables.len(), "store opened");
        Ok(Db {
            fjall,
            catalog,
            state,
            tables: RwLock::new(tables),
            deleted_streams: RwLock::new(kept_streams),
            ddl: Mutex::default(),
            writers: RwLock::default(),
            restoring: RwLock::default(),
            locks: KeyLocks::default(),
            ongoing: Ongoing::default(),
            sequencer: Sequencer::new(last_seq),
            commit,
            codec,
            log_sizes: LogSizes::default(),
            counts,
            rows: RowCache::new(options.row_cache_bytes),
            options,
            path: path.to_path_buf(),
        })
    }

    /// The directory the store lives in.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Shards a new stream gets ([`StoreOptions::stream_shards`]).
    pub(crate) fn stream_shards(&self) -> u16 {
        self.options.stream_shards.clamp(1, MAX_STREAM_SHARDS)
    }

    /// Whether an item write waits for its journal sync before returning
    /// ([`StoreOptions::sync_writes`]).
    pub(crate) fn syncs_writes(&self) -> bool {
        self.options.sync_writes
    }

    /// The open table `name`.
    pub(crate) fn table(&self, name: &str) -> Result<Arc<Table>> {
        self.tables.read().get(name).cloned().ok_or_else(|| {
            StoreError::TableNotFound(crate::schema::split_table_ref(name).1.to_string())
        })
    }

    /// Every open table.
    pub(crate) fn tables_snapshot(&self) -> Vec<Arc<Table>> {
        self.tables.read().values().cloned().collect()
    }

    /// Waits for the journal sync that covers the writes committed so far, if the store syncs
    /// writes (always blocking: definitions, tarn's own records, background work).
    pub(crate) fn sync(&self) -> Result<()> {
        self.commit.sync()
    }

    /// Refuses a write when the disk is below the free-space reserve or the store failed.
    pub(crate) fn admit(&self) -> Result<()> {
        self.commit.admit()
    }

    /// [`Db::admit`] for background work: waits while the disk is below the reserve (until
    /// `stopping` turns true) rather than failing.
    pub(crate) fn admit_waiting(&self, stopping: &dyn Fn() -> bool) -> Result<()> {
        self.commit.admit_waiting(stopping)
    }

    /// What user-facing reads read: the durable view (or the latest data, when writes are not
    /// synced).
    pub(crate) fn read_view(&self) -> ReadView {
        self.commit.read_view()
    }

    /// A snapshot for a long user-facing read (exports, backups): the durable view (or the
    /// latest data, when writes are not synced).
    pub(crate) fn read_snapshot(&self) -> fjall::Snapshot {
        self.commit.snapshot()
    }
}
