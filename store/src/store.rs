//! [`Store`]: the store's whole public surface, a facade over the layers below.
//!
//! Opening a store opens the database ([`crate::db`]), starts the background runner
//! ([`crate::runner`]) and the work a crash may have left (interrupted restores are dropped,
//! interrupted backups marked failed, interrupted index builds resumed). Every method then
//! delegates: tables, items, Query and Scan to the database; index, stream, TTL and backup
//! operations to their modules, which take the database (and the runner, when they start
//! background work). Dropping the store stops and joins its background work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::backup::pitr::{BaseWrites, PitrStatus};
use crate::backup::{self, BackupMeta, RestoreRequest};
use crate::commit::{Durability, Health, StoreHealth};
use crate::db::{Db, StoreOptions};
use crate::error::Result;
use crate::expr::{KeyCondition, RangeCondition};
use crate::runner::Runner;
use crate::schema::{
    IndexMeta, IndexRead, IndexUpdate, StreamMeta, StreamRead, StreamState, TableInfo, TableMeta,
    TableSpec, TableUpdate, TtlChange, TtlSpec,
};
use crate::value::{AttributeValue, Item};
use crate::{
    index, stream, ttl, Mutation, Page, PageRequest, SharedItem, TransactAction, WriteOutcome,
};

/// The embedded database.
pub struct Store {
    /// Background work: index builds, backups, restores, base snapshots. Declared first, so
    /// it is dropped first: the work is stopped and joined before the database closes.
    pub(crate) runner: Runner,
    /// The open database, shared with background work.
    pub(crate) db: Arc<Db>,
    /// Point-in-time base snapshots being written.
    pitr: Arc<BaseWrites>,
}

impl Store {
    /// Opens (or creates) a store in `path` with default options.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) a store in `path`.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store> {
        let store = Store {
            runner: Runner::new(),
            db: Arc::new(Db::open(path, options)?),
            pitr: Arc::default(),
        };
        backup::restore::drop_interrupted(&store.db)?;
        backup::fail_interrupted(&store.db)?;
        index::resume(&store.db, &store.runner);
        Ok(store)
    }

    /// The directory the store lives in.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// Whether an item write waits for its journal sync before returning
    /// ([`StoreOptions::sync_writes`]).
    pub fn syncs_writes(&self) -> bool {
        self.db.syncs_writes()
    }

    /// Runs `f` with the journal syncs of the item writes it makes on this thread deferred:
    /// they return once committed, and the caller owes them a [`Store::sync`] before it relies
    /// on them (until then a crash may lose them; whatever it keeps of them is a prefix, in
    /// commit order). [`Store::defer_syncs`] without the [`Durability`]: for a caller that
    /// makes many writes and waits for one sync covering all of them (a stream trigger's
    /// batch). Writes on other threads are not affected.
    pub fn deferring_syncs<T>(&self, f: impl FnOnce() -> T) -> T {
        self.db.commit.defer(f).0
    }

    /// Waits for a journal sync covering every write committed so far, including those made
    /// under [`Store::deferring_syncs`]. Concurrent callers share syncs (group commit).
    pub fn sync(&self) -> Result<()> {
        self.db.sync()
    }

    // ---- durability and health ----

    /// Runs `f` with this thread's item writes not waiting for their journal syncs, and
    /// returns what `f` returned with the [`Durability`] of every item write `f` made (and of
    /// every item it read to decide one, such as a condition that failed).
    ///
    /// The writes are committed (visible to later writes, not yet to reads) but not durable:
    /// await the `Durability` (or [`Durability::wait`]) before telling anyone about them. The
    /// thread is free meanwhile: a request handler writes on its worker and awaits the sync
    /// there, holding no thread while the disk works. Table changes and tarn's own records
    /// made inside `f` still wait for their syncs. A store that does not sync its writes
    /// returns a ready `Durability`.
    pub fn defer_syncs<R>(&self, f: impl FnOnce() -> R) -> (R, Durability) {
        self.db.commit.defer(f)
    }

    /// The store's health: whether it takes writes, and why not.
    pub fn health(&self) -> Health {
        self.db.commit.health()
    }

    /// A handle on the store's health that does not keep the store open (for health checks
    /// and watchers).
    pub fn health_handle(&self) -> StoreHealth {
        self.db.commit.health_handle()
    }

    /// Looks at the free space on the store's disk now, rather than at the watcher's next
    /// look (every 100 ms, or sooner under heavy writes).
    pub fn check_free_space(&self) {
        self.db.commit.look_at_space();
    }

    // ---- tables ----

    /// Creates a table. Fails with ResourceInUse when the name is taken.
    pub fn create_table(&self, spec: TableSpec) -> Result<TableMeta> {
        self.db.create_table(spec)
    }

    /// Deletes a table and all its items.
    pub fn delete_table(&self, name: &str) -> Result<TableInfo> {
        self.db.delete_table(name)
    }

    /// Describes a table.
    pub fn describe_table(&self, name: &str) -> Result<TableInfo> {
        self.db.describe_table(name)
    }

    /// The references of every region's tables (see [`crate::schema::region`]) in ascending
    /// order, starting after `exclusive_start`, at most `limit`. Returns them and, when more
    /// remain, the last one returned.
    pub fn list_tables(
        &self,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        self.db.list_tables(exclusive_start, limit)
    }

    /// The names of `region`'s tables in ascending order, starting after `exclusive_start`,
    /// at most `limit` (ListTables in one region; see [`crate::schema::region`]). Returns the
    /// names and, when more remain, the last name returned.
    pub fn list_tables_in(
        &self,
        region: &str,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        self.db.list_tables_in(region, exclusive_start, limit)
    }

    /// Changes a table's billing, throughput, deletion protection, class or stream.
    pub fn update_table(&self, name: &str, update: TableUpdate) -> Result<TableMeta> {
        self.db.update_table(name, update)
    }

    /// Adds or replaces tags on a table.
    pub fn tag_table(&self, name: &str, tags: BTreeMap<String, String>) -> Result<()> {
        self.db.tag_table(name, tags)
    }

    /// Removes tags from a table by key.
    pub fn untag_table(&self, name: &str, keys: &[String]) -> Result<()> {
        self.db.untag_table(name, keys)
    }

    /// The definition of a table.
    pub fn table_meta(&self, name: &str) -> Result<TableMeta> {
        self.db.table_meta(name)
    }

    /// Runs `f` on the definition of a table, without copying it (a lookup and a reference
    /// count: cheap enough for every request).
    pub fn with_table_meta<R>(&self, name: &str, f: impl FnOnce(&TableMeta) -> R) -> Result<R> {
        Ok(f(&self.db.table(name)?.meta))
    }

    /// Figures about the open database for monitoring: disk, journal, memtables, compactions,
    /// block cache, write-stall conditions (see [`crate::stats`]).
    pub fn stats(&self) -> crate::stats::StoreStats {
        crate::stats::stats(&self.db)
    }

    // ---- items ----

    /// Reads one item by its key.
    pub fn get_item(&self, table: &str, key: &Item) -> Result<Option<Item>> {
        self.db.get_item(table, key)
    }

    /// Reads one item by its key, shared with the row cache rather than copied, with its size
    /// and room for one rendering of it: for a reader that only looks at the item (GetItem's
    /// answer).
    pub fn get_item_shared(&self, table: &str, key: &Item) -> Result<Option<Arc<SharedItem>>> {
        self.db.get_item_shared(table, key)
    }

    /// Reads several items as of one instant: every item is read with its lock held, so no
    /// multi-item write lands between the reads (TransactGetItems).
    pub fn get_items(&self, keys: &[(String, Item)]) -> Result<Vec<Option<Item>>> {
        self.db.get_items(keys)
    }

    /// Reads, decides and writes one item atomically. `decide` sees the table and the current
    /// item (or `None`) and returns what to do; its error aborts the write and is returned.
    pub fn write_item<F>(&self, table: &str, key: &Item, decide: F) -> Result<WriteOutcome>
    where
        F: FnOnce(&TableMeta, Option<&Item>) -> Result<Mutation>,
    {
        self.db.write_item(table, key, decide)
    }

    /// Stores an item, replacing any item with the same key. `check` sees the current item and
    /// may refuse the write (a condition). Returns the item it replaced.
    pub fn put_item<C>(&self, table: &str, item: Item, check: C) -> Result<Option<Item>>
    where
        C: FnOnce(Option<&Item>) -> Result<()>,
    {
        self.db.put_item(table, item, check)
    }

    /// Deletes an item by key. `check` may refuse the delete. Returns the deleted item.
    pub fn delete_item<C>(&self, table: &str, key: &Item, check: C) -> Result<Option<Item>>
    where
        C: FnOnce(Option<&Item>) -> Result<()>,
    {
        self.db.delete_item(table, key, check)
    }

    /// Applies several item writes atomically: all happen or none does. Each action's `decide`
    /// runs with every involved item locked; if any fails, nothing is written and the error is
    /// [`crate::StoreError::TransactionCanceled`] with one reason per action.
    pub fn write_items(&self, actions: Vec<TransactAction<'_>>) -> Result<Vec<WriteOutcome>> {
        self.db.write_items(actions)
    }

    /// [`Store::write_items`] as a transaction (TransactWriteItems), with DynamoDB's conflict
    /// rules: while it runs its items are marked ongoing, so a single-item write to one of them
    /// fails with [`crate::StoreError::TransactionConflict`], and a transaction that finds one
    /// of its items marked by another is cancelled ([`crate::StoreError::TransactionCanceled`]
    /// with a `TransactionConflict` reason for that item) without waiting.
    pub fn transact_items(&self, actions: Vec<TransactAction<'_>>) -> Result<Vec<WriteOutcome>> {
        self.db.transact_items(actions)
    }

    /// Reads one page of a partition in sort-key order (or reverse), optionally restricted by a
    /// sort-key condition. `filter` decides which read items are returned.
    pub fn query(
        &self,
        table: &str,
        partition_key: &AttributeValue,
        sort: Option<&RangeCondition>,
        forward: bool,
        page: &PageRequest,
        filter: impl FnMut(&Item) -> Result<bool>,
    ) -> Result<Page> {
        self.db
            .query(table, partition_key, sort, forward, page, filter)
    }

    /// Reads one page of a whole table, or of one segment of a parallel scan
    /// (`segment` of `total_segments`, together covering the table exactly once).
    pub fn scan(
        &self,
        table: &str,
        segment: Option<(u32, u32)>,
        page: &PageRequest,
        filter: impl FnMut(&Item) -> Result<bool>,
    ) -> Result<Page> {
        self.db.scan(table, segment, page, filter)
    }

    // ---- secondary indexes ----

    /// Applies one change to a table's global secondary indexes. Creating one adds it CREATING
    /// and builds it in the background; deleting one drops it at once. Returns the table's new
    /// definition and, for a deletion, the index that was removed.
    pub fn update_global_index(
        &self,
        table: &str,
        update: IndexUpdate,
    ) -> Result<(TableMeta, Option<IndexMeta>)> {
        index::update_global_index(&self.db, &self.runner, table, update)
    }

    /// Query on a secondary index: one page of the entries whose index partition key equals
    /// the key condition's value, in index sort-key order (or reverse).
    pub fn query_index(
        &self,
        table: &str,
        index: IndexRead<'_>,
        condition: &KeyCondition,
        forward: bool,
        page: &PageRequest,
        filter: impl FnMut(&Item) -> Result<bool>,
    ) -> Result<Page> {
        self.db
            .query_index(table, index, condition, forward, page, filter)
    }

    /// Scan on a secondary index: one page of all its entries, or of one parallel-scan segment.
    pub fn scan_index(
        &self,
        table: &str,
        index: IndexRead<'_>,
        segment: Option<(u32, u32)>,
        page: &PageRequest,
        filter: impl FnMut(&Item) -> Result<bool>,
    ) -> Result<Page> {
        self.db.scan_index(table, index, segment, page, filter)
    }

    // ---- streams ----

    /// Every stream of every table (enabled ones and closed ones still within retention), with
    /// the name of its table, in table-name then creation order.
    pub fn list_streams(&self) -> Vec<(String, StreamMeta)> {
        stream::list_streams(&self.db)
    }

    /// The definitions of the tables named `table` whose streams can be read: the table
    /// itself (if it exists), then deleted tables of that name whose streams are kept for the
    /// retention period (closed, as DynamoDB keeps them), newest first.
    pub fn stream_tables(&self, table: &str) -> Vec<TableMeta> {
        stream::stream_tables(&self.db, table)
    }

    /// A stream of `table` and how far its log reaches.
    pub fn stream_state(&self, table: &str, stream: Uuid) -> Result<StreamState> {
        stream::stream_state(&self.db, table, stream)
    }

    /// The last sequence number handed out so far, in any stream (a LATEST iterator starts
    /// after it).
    pub fn latest_sequence_number(&self) -> u64 {
        self.db.sequencer.lock().last()
    }

    /// Reads up to `limit` records (and about `max_bytes` of them) with sequence numbers above
    /// `after`, from every shard of the stream merged in sequence order. Fails with
    /// [`crate::StoreError::TrimmedDataAccess`] when records after `after` have been trimmed
    /// away.
    pub fn read_stream(
        &self,
        table: &str,
        stream: Uuid,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<StreamRead> {
        stream::read_stream(&self.db, table, stream, after, limit, max_bytes)
    }

    /// [`Store::read_stream`] of one shard (`0..`[`crate::stream::StreamMeta::shard_count`]); ResourceNotFound
    /// for a shard the stream does not have.
    pub fn read_stream_shard(
        &self,
        table: &str,
        stream: Uuid,
        shard: u16,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<StreamRead> {
        stream::read_stream_shard(&self.db, table, stream, shard, after, limit, max_bytes)
    }

    /// Drops records older than `retention` from every stream, the closed streams whose
    /// retention has passed, and the streams of tables deleted longer ago than `retention`. Returns the number of records dropped.
    pub fn trim_streams(&self, retention: Duration) -> Result<usize> {
        stream::trim_streams(&self.db, retention)
    }

    // ---- time to live ----

    /// Enables or disables TTL on a table (UpdateTimeToLive). Enabling starts as ENABLING until
    /// [`Store::backfill_ttl`] has indexed the items already there.
    pub fn update_time_to_live(&self, table: &str, change: TtlChange) -> Result<Option<TtlSpec>> {
        ttl::update_time_to_live(&self.db, table, change)
    }

    /// Indexes the items of every table whose TTL is ENABLING, then marks it ENABLED. Returns
    /// the number of items indexed.
    pub fn backfill_ttl(&self) -> Result<usize> {
        ttl::backfill_ttl(&self.db)
    }

    /// Deletes up to `max` items whose TTL expired before `now_secs` (and not more than five
    /// years before), in every table with TTL enabled. Returns the number deleted.
    pub fn sweep_expired(&self, now_secs: u64, max: usize) -> Result<usize> {
        ttl::sweep_expired(&self.db, now_secs, max)
    }

    /// [`Store::sweep_expired`], answering how many items each table lost (tables that lost
    /// none are left out).
    pub fn sweep_expired_tables(&self, now_secs: u64, max: usize) -> Result<Vec<(String, usize)>> {
        ttl::sweep_expired_tables(&self.db, now_secs, max)
    }

    // ---- backups, point-in-time recovery, restores ----

    /// The file of backup `id`.
    pub fn backup_file(&self, id: &str) -> PathBuf {
        backup::backup_file(self.db.path(), id)
    }

    /// Starts an on-demand backup of `table`: the table as it is now, written to a file in the
    /// background. Returns the backup's record (CREATING).
    pub fn create_backup(&self, table: &str, name: &str) -> Result<BackupMeta> {
        backup::create_backup(&self.db, &self.runner, table, name)
    }

    /// The backup `id`, or BackupNotFound.
    pub fn describe_backup(&self, id: &str) -> Result<BackupMeta> {
        backup::describe_backup(&self.db, id)
    }

    /// Every backup, oldest first.
    pub fn list_backups(&self) -> Result<Vec<BackupMeta>> {
        backup::list_backups(&self.db)
    }

    /// Deletes backup `id` (its record and its file). A backup still being written or being
    /// restored from is in use.
    pub fn delete_backup(&self, id: &str) -> Result<BackupMeta> {
        backup::delete_backup(&self.db, id)
    }

    /// Reads every item of `table` as it was at `at` (seconds since the epoch; `None`: now, at
    /// one instant), handing each to `each`. A past instant needs point-in-time recovery on
    /// the table (and may name a deleted table). Returns the table's definition then.
    pub fn read_table(
        &self,
        table: &str,
        at: Option<f64>,
        each: &mut dyn FnMut(Item) -> Result<()>,
    ) -> Result<TableMeta> {
        backup::read_table(&self.db, table, at, each)
    }

    /// Turns PITR on or off for `table` (UpdateContinuousBackups). Turning it off forgets the
    /// table's history. `recovery_period_days` must be 1..=35.
    pub fn update_pitr(
        &self,
        table: &str,
        enabled: bool,
        recovery_period_days: u32,
    ) -> Result<PitrStatus> {
        backup::pitr::update_pitr(
            &self.db,
            &self.runner,
            &self.pitr,
            table,
            enabled,
            recovery_period_days,
        )
    }

    /// PITR status of `table` (DescribeContinuousBackups).
    pub fn pitr_status(&self, table: &str) -> Result<PitrStatus> {
        backup::pitr::pitr_status(&self.db, table)
    }

    /// PITR housekeeping, run by the server now and then: takes missing or due base
    /// snapshots, drops bases and log records older than any restore may need, and forgets
    /// deleted tables past their recovery period.
    pub fn pitr_upkeep(&self) -> Result<()> {
        backup::pitr::pitr_upkeep(&self.db, &self.runner, &self.pitr)
    }

    /// The definition of the table a point-in-time restore of `table` reads: the live table,
    /// or the newest deleted one of that name whose history is kept.
    pub fn pitr_source(&self, table: &str) -> Result<TableMeta> {
        backup::pitr::pitr_source(&self.db, table)
    }

    /// Restores a table into the new table `req.target`. Returns its description (CREATING,
    /// restore in progress); the items load in the background.
    pub fn restore_table(&self, req: RestoreRequest) -> Result<TableInfo> {
        backup::restore::restore_table(&self.db, &self.runner, req)
    }

    // ---- tarn's own records ----

    /// The record stored under `key`, if any.
    pub fn get_state(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.db.get_state(key)
    }

    /// Stores `value` under `key`, durably.
    pub fn put_state(&self, key: &str, value: &[u8]) -> Result<()> {
        self.db.put_state(key, value)
    }

    /// Removes the record under `key`.
    pub fn delete_state(&self, key: &str) -> Result<()> {
        self.db.delete_state(key)
    }

    /// Every record whose key starts with `prefix`, in key order, as (key, value) pairs.
    pub fn list_state(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.db.list_state(prefix)
    }
}
