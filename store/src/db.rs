//! The database: tables in a catalog, items in one fjall keyspace per table.
//!
//! [`Store`] is the store's whole public surface for tables and items. Every write goes the same
//! way: lock the item's stripe, read the current item, let the caller decide the new state (this
//! is where conditions and update expressions run), commit the change as one atomic fjall batch,
//! release the lock, and wait for group commit to sync the journal before returning. Later
//! records of a change (its stream record, its expiry entry; later its index entries) join that
//! same batch in [`Store::commit_changes`], so one write is always one atomic batch. Streams and
//! TTL have their own modules ([`crate::stream`], [`crate::ttl`]); this one calls into them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fjall::{Database, Keyspace, KeyspaceCreateOptions};
use parking_lot::RwLock;
use uuid::Uuid;

use crate::backup::pitr::{self, PitrRuntime};
use crate::backup::restore::Restoring;
use crate::clock::{now_millis, now_secs_f64};
use crate::commit::GroupCommit;
use crate::crypto::{self, EncryptionKey};
use crate::encoding::ItemCodec;
use crate::error::{CancellationReason, Result, StoreError};
use crate::expr::RangeCondition;
use crate::index::{self, Background, IndexInfo, OpenIndex};
use crate::key;
use crate::locks::KeyLocks;
use crate::schema::{
    validate_billing, BillingMode, KeyAttribute, KeySchema, TableMeta, TableSpec, Throughput,
};
use crate::stream::{self, Sequencer, StreamMeta, StreamViewType};
use crate::ttl;
use crate::value::{item_size, validate_item, AttributeValue, Item};

const CATALOG: &str = "catalog";
const STATE: &str = "state";

/// DynamoDB's page limit for Query and Scan: reading stops after 1 MB of items.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// A table as the store holds it open: its definition and the keyspaces it writes.
pub(crate) struct Table {
    pub(crate) meta: TableMeta,
    pub(crate) items: Keyspace,
    /// The keyspaces of `meta.indexes`, in the same order.
    pub(crate) indexes: Vec<OpenIndex>,
    /// The expiry index (see [`crate::ttl`]).
    pub(crate) expiry: Keyspace,
    /// The record logs of the table's streams, by stream id.
    pub(crate) stream_logs: HashMap<Uuid, Keyspace>,
    /// The point-in-time recovery change log, while PITR is on (see [`crate::backup::pitr`]).
    pub(crate) pitr_log: Option<Keyspace>,
}

impl Table {
    /// Opens (or creates) the keyspaces of a table.
    pub(crate) fn open(db: &Database, meta: TableMeta) -> Result<Table> {
        let items = db.keyspace(&meta.items_keyspace(), KeyspaceCreateOptions::default)?;
        let indexes = index::open_all(db, &meta)?;
        let expiry = db.keyspace(&meta.expiry_keyspace(), KeyspaceCreateOptions::default)?;
        let stream_logs = meta
            .streams
            .iter()
            .map(|s| Ok((s.id, stream::open_log(db, s)?)))
            .collect::<Result<_>>()?;
        let pitr_log = match meta.pitr {
            Some(_) => Some(pitr::open_log(db, &meta.id)?),
            None => None,
        };
        Ok(Table {
            meta,
            items,
            indexes,
            expiry,
            stream_logs,
            pitr_log,
        })
    }

    /// The stream that records changes now, with its log.
    fn active_stream(&self) -> Option<(&StreamMeta, &Keyspace)> {
        let s = self.meta.streams.iter().find(|s| s.is_enabled())?;
        Some((s, self.stream_logs.get(&s.id)?))
    }
}

/// Options for opening a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Sync the journal before acknowledging each write (group-committed). Turning this off
    /// trades durability for speed, for throwaway data.
    pub sync_writes: bool,
    /// Encrypt item values at rest with keys derived from this one (see [`crate::crypto`]). A
    /// store encrypted once must always be opened with the same key.
    pub encryption_key: Option<EncryptionKey>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sync_writes: true,
            encryption_key: None,
        }
    }
}

/// The embedded database.
pub struct Store {
    pub(crate) db: Database,
    catalog: Keyspace,
    /// tarn's own records (see [`crate::state`]).
    pub(crate) state: Keyspace,
    pub(crate) tables: Arc<RwLock<HashMap<String, Arc<Table>>>>,
    /// Serializes catalog changes (create, delete, update of tables).
    pub(crate) ddl: Arc<parking_lot::Mutex<()>>,
    pub(crate) locks: Arc<KeyLocks>,
    /// The commit order of writes to tables with streams, and the sequence numbers that
    /// follow it.
    pub(crate) sequencer: Arc<Sequencer>,
    pub(crate) group_commit: Arc<GroupCommit>,
    options: StoreOptions,
    /// How item values are stored (encrypted or not).
    pub(crate) codec: Arc<ItemCodec>,
    path: PathBuf,
    /// Held shared by every item write from its table lookup to its commit, and exclusively
    /// while a table's definition is switched: once the switch is done, no write that saw the
    /// old definition (say, without a new index) is still in flight.
    pub(crate) writers: Arc<RwLock<()>>,
    /// Background work: index builds, backups, restores (stopped and joined when the opening
    /// store is dropped).
    pub(crate) background: Background,
    /// Tables being restored: not open for items yet, but their names are taken.
    pub(crate) restoring: Arc<RwLock<HashMap<String, Arc<Restoring>>>>,
    /// Point-in-time recovery bookkeeping.
    pub(crate) pitr: Arc<PitrRuntime>,
}

/// What a write decided to do with an item.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Store this item (it must carry the same key).
    Put(Item),
    /// Delete the item.
    Delete,
    /// Leave the item as it is.
    Keep,
}

/// The item before and after a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOutcome {
    /// The item before the write, if it existed.
    pub old: Option<Item>,
    /// The item after the write, if it exists.
    pub new: Option<Item>,
}

/// A table's description: its definition plus live figures.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// The definition.
    pub meta: TableMeta,
    /// Approximate item count (DynamoDB's own is refreshed about every six hours).
    pub item_count: u64,
    /// Approximate size in bytes.
    pub size_bytes: u64,
    /// Figures of each secondary index.
    pub indexes: Vec<IndexInfo>,
}

/// The table-level settings UpdateTable may change.
#[derive(Debug, Clone, Default)]
pub struct TableUpdate {
    /// New billing mode.
    pub billing_mode: Option<BillingMode>,
    /// New provisioned throughput.
    pub throughput: Option<Throughput>,
    /// New deletion-protection setting.
    pub deletion_protection: Option<bool>,
    /// New table class.
    pub table_class: Option<String>,
    /// Enable or disable the table's stream.
    pub stream: Option<StreamChange>,
}

/// What UpdateTable's StreamSpecification asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamChange {
    /// Start a new stream with this view type.
    Enable(StreamViewType),
    /// Close the current stream.
    Disable,
}

/// Where a Query or Scan page starts and how much it may read.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Continue after this key (the previous page's LastEvaluatedKey).
    pub exclusive_start_key: Option<Item>,
    /// Most items to read (evaluate), before any filter.
    pub limit: Option<usize>,
}

/// One page of a Query or Scan.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Items that passed the filter.
    pub items: Vec<Item>,
    /// Items read before filtering (DynamoDB's ScannedCount).
    pub scanned_count: usize,
    /// Bytes read before filtering, by DynamoDB's item-size rules (for capacity accounting).
    pub scanned_bytes: usize,
    /// Where the next page starts, when there may be more.
    pub last_evaluated_key: Option<Item>,
}

/// One action of a write transaction: an item and a decision on it.
pub struct TransactAction<'a> {
    /// Table name.
    pub table: String,
    /// The item's key (key attributes only).
    pub key: Item,
    /// Decides the item's new state from its current one; an error cancels the transaction.
    pub decide: Decide<'a>,
}

/// How a [`TransactAction`] decides an item's new state from its current one.
pub type Decide<'a> = Box<dyn FnOnce(&TableMeta, Option<&Item>) -> Result<Mutation> + 'a>;

/// A lower and an upper bound on encoded keys.
type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

impl Store {
    /// Opens (or creates) a store in `path` with default options.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) a store in `path`.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store> {
        std::fs::create_dir_all(path)?;
        let db = Database::builder(path).open()?;
        let catalog = db.keyspace(CATALOG, KeyspaceCreateOptions::default)?;
        let state = db.keyspace(STATE, KeyspaceCreateOptions::default)?;
        let mut tables = HashMap::new();
        for entry in catalog.iter() {
            let (_, value) = entry.into_inner()?;
            let meta: TableMeta = serde_json::from_slice(&value)
                .map_err(|e| StoreError::Corrupt(format!("unreadable catalog entry: {e}")))?;
            tables.insert(meta.name.clone(), Arc::new(Table::open(&db, meta)?));
        }
        match &options.encryption_key {
            Some(key) => crypto::check_key(path, key, tables.is_empty())?,
            None => crypto::check_no_key(path)?,
        }
        let codec = ItemCodec::new(options.encryption_key.clone());
        index::drop_orphans(&db, tables.values().map(|t| &t.meta))?;
        let last_seq = stream::highest_seq(tables.values().flat_map(|t| t.stream_logs.values()))?
            .max(pitr::highest_seq(
                tables.values().filter_map(|t| t.pitr_log.as_ref()),
            )?);
        tracing::info!(path = %path.display(), tables = tables.len(), "store opened");
        let store = Store {
            db,
            catalog,
            state,
            tables: Arc::new(RwLock::new(tables)),
            ddl: Arc::default(),
            locks: Arc::default(),
            sequencer: Arc::new(Sequencer::new(last_seq)),
            group_commit: Arc::default(),
            options,
            codec: Arc::new(codec),
            path: path.to_path_buf(),
            writers: Arc::default(),
            background: Background::new(),
            restoring: Arc::default(),
            pitr: Arc::default(),
        };
        store.drop_interrupted_restores()?;
        store.fail_interrupted_backups()?;
        store.resume_index_builds();
        Ok(store)
    }

    /// Another handle on the same store, for a background thread. It does not own the
    /// background work: dropping it stops nothing.
    pub(crate) fn handle(&self) -> Store {
        Store {
            db: self.db.clone(),
            catalog: self.catalog.clone(),
            state: self.state.clone(),
            tables: self.tables.clone(),
            ddl: self.ddl.clone(),
            locks: self.locks.clone(),
            sequencer: self.sequencer.clone(),
            group_commit: self.group_commit.clone(),
            options: self.options.clone(),
            codec: self.codec.clone(),
            path: self.path.clone(),
            writers: self.writers.clone(),
            background: self.background.handle(),
            restoring: self.restoring.clone(),
            pitr: self.pitr.clone(),
        }
    }

    /// Every open table.
    pub(crate) fn tables_snapshot(&self) -> Vec<Arc<Table>> {
        self.tables.read().values().cloned().collect()
    }

    /// The directory the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether an item write waits for its journal sync before returning
    /// ([`StoreOptions::sync_writes`]).
    pub fn syncs_writes(&self) -> bool {
        self.options.sync_writes
    }

    pub(crate) fn table(&self, name: &str) -> Result<Arc<Table>> {
        self.tables
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::TableNotFound(name.to_string()))
    }

    pub(crate) fn sync(&self) -> Result<()> {
        if self.options.sync_writes {
            self.group_commit.sync(&self.db)?;
        }
        Ok(())
    }

    fn save_meta(&self, meta: &TableMeta) -> Result<()> {
        let json = serde_json::to_vec(meta).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.catalog.insert(meta.name.as_str(), json)?;
        self.group_commit.sync(&self.db)
    }

    // ---- tables ----

    /// Creates a table. Fails with ResourceInUse when the name is taken.
    pub fn create_table(&self, spec: TableSpec) -> Result<TableMeta> {
        let meta = self.new_table_meta(spec)?;
        let _ddl = self.ddl.lock();
        if self.tables.read().contains_key(&meta.name)
            || self.restoring.read().contains_key(&meta.name)
        {
            return Err(StoreError::ResourceInUse(format!(
                "Table already exists: {}",
                meta.name
            )));
        }
        let table = Table::open(&self.db, meta.clone())?;
        self.save_meta(&meta)?;
        self.tables
            .write()
            .insert(meta.name.clone(), Arc::new(table));
        tracing::info!(table = %meta.name, id = %meta.id, "table created");
        Ok(meta)
    }

    /// The definition of a new table made from `spec` (checked), with a fresh id.
    pub(crate) fn new_table_meta(&self, spec: TableSpec) -> Result<TableMeta> {
        spec.validate()?;
        let now = now_secs_f64();
        let streams = spec
            .stream
            .map(|view| new_stream(view, &[], self.sequencer.lock().last()))
            .into_iter()
            .collect();
        let meta = TableMeta {
            name: spec.name,
            id: Uuid::new_v4(),
            key_schema: spec.key_schema,
            attribute_definitions: spec.attribute_definitions,
            billing_mode: spec.billing_mode,
            throughput: spec.throughput,
            created_at: now,
            billing_mode_updated_at: now,
            last_increase_at: None,
            last_decrease_at: None,
            decreases_today: 0,
            tags: spec.tags,
            deletion_protection: spec.deletion_protection,
            table_class: spec.table_class,
            indexes: index::new_table_indexes(spec.indexes),
            streams,
            ttl: None,
            pitr: None,
            restore: None,
        };
        Ok(meta)
    }

    /// Deletes a table and all its items.
    pub fn delete_table(&self, name: &str) -> Result<TableInfo> {
        let _ddl = self.ddl.lock();
        if self.restoring.read().contains_key(name) {
            return Err(StoreError::ResourceInUse(format!(
                "Attempt to change a resource which is still in use: Table is being restored: {name}"
            )));
        }
        let table = self.table(name)?;
        if table.meta.deletion_protection {
            return Err(StoreError::Validation(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.".into(),
            ));
        }
        let info = self.info(&table);
        if table.meta.pitr.is_some() {
            // Its change log and bases stay for the recovery period (see backup::pitr).
            self.keep_deleted_history(&table.meta)?;
        }
        self.catalog.remove(name)?;
        self.group_commit.sync(&self.db)?;
        {
            let _writers = self.writers.write();
            self.tables.write().remove(name);
        }
        self.db.delete_keyspace(table.items.clone())?;
        for ix in &table.indexes {
            self.db.delete_keyspace(ix.keyspace.clone())?;
        }
        self.db.delete_keyspace(table.expiry.clone())?;
        for log in table.stream_logs.values() {
            self.db.delete_keyspace(log.clone())?;
        }
        tracing::info!(table = %name, "table deleted");
        Ok(info)
    }

    fn info(&self, table: &Table) -> TableInfo {
        TableInfo {
            meta: table.meta.clone(),
            item_count: table.items.approximate_len() as u64,
            size_bytes: table.items.disk_space(),
            indexes: Self::index_infos(&table.indexes),
        }
    }

    /// Describes a table.
    pub fn describe_table(&self, name: &str) -> Result<TableInfo> {
        match self.table(name) {
            Ok(table) => Ok(self.info(&table)),
            Err(e) => self.restoring_table(name).ok_or(e),
        }
    }

    /// Table names in ascending order, starting after `exclusive_start`, at most `limit`.
    /// Returns the names and, when more remain, the last name returned.
    pub fn list_tables(
        &self,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        let mut names: Vec<String> = self.tables.read().keys().cloned().collect();
        names.extend(self.restoring.read().keys().cloned());
        names.sort();
        let start = match exclusive_start {
            Some(s) => names.partition_point(|n| n.as_str() <= s),
            None => 0,
        };
        let page: Vec<String> = names[start..].iter().take(limit).cloned().collect();
        let more = start + page.len() < names.len();
        let last = if more { page.last().cloned() } else { None };
        (page, last)
    }

    /// Changes a table's billing, throughput, deletion protection or class.
    pub fn update_table(&self, name: &str, update: TableUpdate) -> Result<TableMeta> {
        let _ddl = self.ddl.lock();
        let table = self.table(name)?;
        let mut meta = table.meta.clone();
        let now = now_secs_f64();
        if let Some(mode) = update.billing_mode {
            if mode != meta.billing_mode {
                meta.billing_mode_updated_at = now;
            }
            meta.billing_mode = mode;
            if mode == BillingMode::PayPerRequest {
                meta.throughput = None;
            }
        }
        if let Some(t) = update.throughput {
            if let Some(old) = meta.throughput {
                if t.read > old.read || t.write > old.write {
                    meta.last_increase_at = Some(now);
                }
                if t.read < old.read || t.write < old.write {
                    meta.last_decrease_at = Some(now);
                    meta.decreases_today += 1;
                }
            }
            meta.throughput = Some(t);
        }
        validate_billing(meta.billing_mode, meta.throughput.as_ref())?;
        if let Some(p) = update.deletion_protection {
            meta.deletion_protection = p;
        }
        if let Some(c) = update.table_class {
            meta.table_class = Some(c);
        }
        match update.stream {
            None => self.replace_meta(meta),
            Some(change) => {
                // With the writers gate held no write is in flight, so no record lands between
                // the stream's start (or end) and the new definition taking effect.
                let _writers = self.writers.write();
                let last_seq = self.sequencer.lock().last();
                let enabled = meta.streams.iter_mut().find(|s| s.is_enabled());
                match (change, enabled) {
                    (StreamChange::Enable(_), Some(_)) => {
                        return Err(StoreError::Validation(format!(
                            "Table already has an enabled stream: TableName: {name}"
                        )))
                    }
                    (StreamChange::Disable, None) => {
                        return Err(StoreError::Validation(format!(
                            "Table has no stream to disable: TableName: {name}"
                        )))
                    }
                    (StreamChange::Enable(view), None) => {
                        let stream = new_stream(view, &meta.streams, last_seq);
                        tracing::info!(table = %name, stream = %stream.id, "stream enabled");
                        meta.streams.push(stream);
                    }
                    (StreamChange::Disable, Some(stream)) => {
                        stream.disabled_ms = Some(now_millis());
                        stream.end_seq = Some(last_seq);
                        tracing::info!(table = %name, stream = %stream.id, "stream disabled");
                    }
                }
                self.install_meta(meta)
            }
        }
    }

    /// Saves a table's new definition and switches to it, waiting for in-flight writes (the
    /// writers gate): no write straddles the switch.
    pub(crate) fn replace_meta(&self, meta: TableMeta) -> Result<TableMeta> {
        let _writers = self.writers.write();
        self.install_meta(meta)
    }

    /// [`Store::replace_meta`] for a caller that holds the writers gate already.
    pub(crate) fn install_meta(&self, meta: TableMeta) -> Result<TableMeta> {
        self.save_meta(&meta)?;
        let table = Table::open(&self.db, meta.clone())?;
        self.tables
            .write()
            .insert(meta.name.clone(), Arc::new(table));
        Ok(meta)
    }

    /// Removes closed streams from a table's definition and drops their records.
    pub(crate) fn forget_streams(&self, name: &str, id: Uuid, streams: &[Uuid]) -> Result<()> {
        let _ddl = self.ddl.lock();
        let table = self.table(name)?;
        if table.meta.id != id {
            return Ok(());
        }
        let mut meta = table.meta.clone();
        meta.streams.retain(|s| !streams.contains(&s.id));
        self.replace_meta(meta)?;
        for s in streams {
            if let Some(log) = table.stream_logs.get(s) {
                self.db.delete_keyspace(log.clone())?;
            }
        }
        Ok(())
    }

    /// Adds or replaces tags on a table.
    pub fn tag_table(&self, name: &str, tags: BTreeMap<String, String>) -> Result<()> {
        let _ddl = self.ddl.lock();
        let table = self.table(name)?;
        let mut meta = table.meta.clone();
        meta.tags.extend(tags);
        if meta.tags.len() > 50 {
            return Err(StoreError::LimitExceeded(
                "The number of tags on the resource exceeds the limit of 50".into(),
            ));
        }
        self.replace_meta(meta).map(|_| ())
    }

    /// Removes tags from a table by key.
    pub fn untag_table(&self, name: &str, keys: &[String]) -> Result<()> {
        let _ddl = self.ddl.lock();
        let table = self.table(name)?;
        let mut meta = table.meta.clone();
        for k in keys {
            meta.tags.remove(k);
        }
        self.replace_meta(meta).map(|_| ())
    }

    // ---- items ----

    pub(crate) fn storage_key(meta: &TableMeta, key: &Item) -> Result<Vec<u8>> {
        meta.key_schema.validate_key(key)?;
        let hash = &key[&meta.key_schema.hash.name];
        let range = meta.key_schema.range.as_ref().map(|r| &key[&r.name]);
        key::item_key(hash, range).ok_or_else(|| {
            StoreError::Validation("The provided key element does not match the schema".into())
        })
    }

    /// The definition of a table.
    pub fn table_meta(&self, name: &str) -> Result<TableMeta> {
        Ok(self.table(name)?.meta.clone())
    }

    /// Reads one item by its key.
    pub fn get_item(&self, table: &str, key: &Item) -> Result<Option<Item>> {
        let table = self.table(table)?;
        let k = Self::storage_key(&table.meta, key)?;
        let codec = &self.codec;
        (table.items.get(&k)?)
            .map(|v| codec.decode(&table.meta.id, &k, &v))
            .transpose()
    }

    /// Reads several items as of one instant: every item is read with its lock held, so no
    /// multi-item write lands between the reads (TransactGetItems).
    pub fn get_items(&self, keys: &[(String, Item)]) -> Result<Vec<Option<Item>>> {
        let mut resolved = Vec::with_capacity(keys.len());
        for (table, key) in keys {
            let table = self.table(table)?;
            let k = Self::storage_key(&table.meta, key)?;
            resolved.push((table, k));
        }
        let _held = self
            .locks
            .lock(resolved.iter().map(|(t, k)| (&t.meta.id, k.as_slice())));
        resolved
            .iter()
            .map(|(t, k)| {
                (t.items.get(k)?)
                    .map(|v| self.codec.decode(&t.meta.id, k, &v))
                    .transpose()
            })
            .collect()
    }

    /// Reads, decides and writes one item atomically. `decide` sees the table and the current
    /// item (or `None`) and returns what to do; its error aborts the write.
    pub fn write_item<F>(&self, table: &str, key: &Item, decide: F) -> Result<WriteOutcome>
    where
        F: FnOnce(&TableMeta, Option<&Item>) -> Result<Mutation>,
    {
        let mut outcomes = self
            .write_items(vec![TransactAction {
                table: table.to_string(),
                key: key.clone(),
                decide: Box::new(decide),
            }])
            .map_err(|e| match e {
                // A single write reports its own error, not a transaction's.
                StoreError::TransactionCanceled(mut reasons) => {
                    reasons.pop().map(reason_to_error).unwrap_or_else(|| {
                        StoreError::Corrupt("write cancelled without reason".into())
                    })
                }
                other => other,
            })?;
        Ok(outcomes.pop().unwrap_or_default())
    }

    /// Stores an item, replacing any item with the same key. `check` sees the current item and
    /// may refuse the write (a condition). Returns the item it replaced.
    pub fn put_item<C>(&self, table: &str, item: Item, check: C) -> Result<Option<Item>>
    where
        C: FnOnce(Option<&Item>) -> Result<()>,
    {
        let meta = self.table(table)?.meta.clone();
        let key = meta.key_schema.key_of_item(&item)?;
        validate_item(&item)?;
        index::check_item(&meta, &item)?;
        self.write_item(table, &key, move |_, old| {
            check(old)?;
            Ok(Mutation::Put(item))
        })
        .map(|o| o.old)
    }

    /// Deletes an item by key. `check` may refuse the delete. Returns the deleted item.
    pub fn delete_item<C>(&self, table: &str, key: &Item, check: C) -> Result<Option<Item>>
    where
        C: FnOnce(Option<&Item>) -> Result<()>,
    {
        self.write_item(table, key, move |_, old| {
            check(old)?;
            Ok(Mutation::Delete)
        })
        .map(|o| o.old)
    }

    /// Applies several item writes atomically: all happen or none does. Each action's `decide`
    /// runs with every involved item locked; if any fails, nothing is written and the error is
    /// [`StoreError::TransactionCanceled`] with one reason per action.
    pub fn write_items(&self, actions: Vec<TransactAction<'_>>) -> Result<Vec<WriteOutcome>> {
        let writers = self.writers.read();
        // Resolve tables and keys first: these are request errors, not cancellations.
        let mut resolved = Vec::with_capacity(actions.len());
        let mut seen = HashSet::new();
        for action in actions {
            let table = self.table(&action.table)?;
            let k = Self::storage_key(&table.meta, &action.key)?;
            if !seen.insert((table.meta.id, k.clone())) {
                return Err(StoreError::Validation(
                    "Transaction request cannot include multiple operations on one item".into(),
                ));
            }
            resolved.push((table, k, action.decide));
        }
        let held = self
            .locks
            .lock(resolved.iter().map(|(t, k, _)| (&t.meta.id, k.as_slice())));
        let mut planned = Vec::with_capacity(resolved.len());
        let mut reasons = Vec::with_capacity(resolved.len());
        let mut failed = false;
        for (table, k, decide) in resolved {
            let old = (table.items.get(&k)?)
                .map(|v| self.codec.decode(&table.meta.id, &k, &v))
                .transpose()?;
            match decide(&table.meta, old.as_ref()).and_then(|m| check_mutation(&table.meta, m)) {
                Ok(m) => {
                    reasons.push(CancellationReason {
                        code: "None".into(),
                        message: None,
                        item: None,
                    });
                    planned.push((table, k, old, m));
                }
                Err(e) => {
                    failed = true;
                    reasons.push(error_to_reason(e));
                }
            }
        }
        if failed {
            return Err(StoreError::TransactionCanceled(reasons));
        }
        let changes: Vec<Change> = planned
            .into_iter()
            .map(|(table, k, old, m)| {
                let new = match m {
                    Mutation::Put(item) => Some(item),
                    Mutation::Delete => None,
                    Mutation::Keep => old.clone(),
                };
                Change {
                    table,
                    key: k,
                    old,
                    new,
                    by_ttl: false,
                }
            })
            .collect();
        self.commit_changes(&changes)?;
        drop(held);
        drop(writers);
        self.sync()?;
        Ok(changes
            .into_iter()
            .map(|c| WriteOutcome {
                old: c.old,
                new: c.new,
            })
            .collect())
    }

    /// Writes a set of item changes as one atomic batch, with every record derived from them:
    /// index entries, expiry entries and stream records. Call it with the items' locks and the
    /// writers gate held (so the tables' definitions cannot change meanwhile).
    ///
    /// When a change has a stream record, the batch is committed holding the sequencer: stream
    /// sequence numbers follow the commit order.
    pub(crate) fn commit_changes(&self, changes: &[Change]) -> Result<()> {
        let mut batch = self.db.batch();
        let mut recorded = Vec::new();
        let mut logged = Vec::new();
        for c in changes {
            if c.old == c.new {
                continue;
            }
            match &c.new {
                Some(item) => batch.insert(
                    &c.table.items,
                    c.key.as_slice(),
                    self.codec.encode(&c.table.meta.id, &c.key, item),
                ),
                None => batch.remove(&c.table.items, c.key.as_slice()),
            }
            index::stage(
                &mut batch,
                &self.codec,
                &c.table.meta.id,
                &c.table.meta.key_schema,
                &c.table.indexes,
                c.old.as_ref(),
                c.new.as_ref(),
            );
            if let Some(spec) = &c.table.meta.ttl {
                ttl::stage_entries(
                    &mut batch,
                    &c.table.expiry,
                    &spec.attribute,
                    &c.key,
                    c.old.as_ref(),
                    c.new.as_ref(),
                );
            }
            if let Some(stream) = c.table.active_stream() {
                recorded.push((c, stream));
            }
            if c.table.pitr_log.is_some() {
                logged.push(c);
            }
        }
        if recorded.is_empty() && logged.is_empty() {
            batch.commit()?;
            return Ok(());
        }
        let mut order = self.sequencer.lock();
        pitr::stage_changes(self, &mut batch, &mut order, &logged);
        let time_ms = now_millis();
        for (c, (stream, log)) in recorded {
            let item = c
                .new
                .as_ref()
                .or(c.old.as_ref())
                .expect("a change has an item");
            stream::stage_record(
                &mut batch,
                &mut order,
                &self.codec,
                &c.table.meta.id,
                log,
                stream.view_type,
                Self::key_attributes(&[&c.table.meta.key_schema], item),
                c.old.as_ref(),
                c.new.as_ref(),
                c.by_ttl,
                time_ms,
            );
        }
        batch.commit()?;
        Ok(())
    }

    // ---- reads of many items ----

    /// The attributes of `item` that belong to one of the key schemas `keys`.
    fn key_attributes(keys: &[&KeySchema], item: &Item) -> Item {
        keys.iter()
            .flat_map(|k| k.attributes())
            .filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
            .collect()
    }

    fn read_page<I>(
        &self,
        meta: &TableMeta,
        iter: I,
        limit: Option<usize>,
        filter: impl FnMut(&Item) -> Result<bool>,
    ) -> Result<Page>
    where
        I: Iterator<Item = fjall::Guard>,
    {
        self.read_entries(
            &meta.id,
            &[&meta.key_schema],
            iter,
            limit,
            |i| Ok(Some(i)),
            filter,
        )
    }

    /// Reads one page from `iter`: items are decoded, turned into what the read returns by
    /// `resolve` (`None` skips one), counted, filtered. LastEvaluatedKey carries the attributes
    /// of the key schemas `keys` (the table's, and an index's when reading one).
    pub(crate) fn read_entries<I>(
        &self,
        table_id: &Uuid,
        keys: &[&KeySchema],
        iter: I,
        limit: Option<usize>,
        mut resolve: impl FnMut(Item) -> Result<Option<Item>>,
        mut filter: impl FnMut(&Item) -> Result<bool>,
    ) -> Result<Page>
    where
        I: Iterator<Item = fjall::Guard>,
    {
        let mut page = Page::default();
        let limit = limit.unwrap_or(usize::MAX);
        let mut last: Option<Item> = None;
        let mut exhausted = true;
        for guard in iter {
            if page.scanned_count >= limit || page.scanned_bytes >= MAX_PAGE_BYTES {
                exhausted = false;
                break;
            }
            let (k, value) = guard.into_inner()?;
            let stored = self.codec.decode(table_id, &k, &value)?;
            let key = Self::key_attributes(keys, &stored);
            let Some(item) = resolve(stored)? else {
                continue;
            };
            page.scanned_count += 1;
            page.scanned_bytes += item_size(&item);
            last = Some(key);
            if filter(&item)? {
                page.items.push(item);
            }
        }
        // DynamoDB returns LastEvaluatedKey when it stopped because of Limit or the page size,
        // even if nothing is left: a page that hit its limit exactly still carries it.
        if !exhausted || (page.scanned_count > 0 && page.scanned_count == limit) {
            page.last_evaluated_key = last;
        }
        Ok(page)
    }

    fn start_after(meta: &TableMeta, esk: Option<&Item>) -> Result<Option<Vec<u8>>> {
        esk.map(|k| {
            Self::storage_key(meta, k).map_err(|_| {
                StoreError::Validation("The provided starting key is invalid: The provided key element does not match the schema".into())
            })
        })
        .transpose()
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
        let table = self.table(table)?;
        let meta = &table.meta;
        if partition_key.value_type() != meta.key_schema.hash.attr_type.value_type() {
            return Err(StoreError::Validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type".into(),
            ));
        }
        let prefix = key::partition_prefix(partition_key)
            .ok_or_else(|| StoreError::Validation("Query key condition not supported".into()))?;
        let (mut lo, mut hi) = sort_bounds(&prefix, sort, meta.key_schema.range.as_ref())?;
        if let Some(start) = Self::start_after(meta, page.exclusive_start_key.as_ref())? {
            if !start.starts_with(&prefix) {
                return Err(StoreError::Validation(
                    "The provided starting key is invalid: The provided key element does not match the condition".into(),
                ));
            }
            if forward {
                lo = Bound::Excluded(start);
            } else {
                hi = Bound::Excluded(start);
            }
        }
        let range = table.items.range::<Vec<u8>, _>((lo, hi));
        if forward {
            self.read_page(meta, range, page.limit, filter)
        } else {
            self.read_page(meta, range.rev(), page.limit, filter)
        }
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
        let table = self.table(table)?;
        let meta = &table.meta;
        let (mut lo, hi) = match segment {
            Some((s, total)) => {
                let (start, end) = key::segment_bounds(s, total);
                (
                    Bound::Included(start),
                    end.map_or(Bound::Unbounded, Bound::Excluded),
                )
            }
            None => (Bound::Unbounded, Bound::Unbounded),
        };
        if let Some(start) = Self::start_after(meta, page.exclusive_start_key.as_ref())? {
            lo = Bound::Excluded(start);
        }
        self.read_page(
            meta,
            table.items.range::<Vec<u8>, _>((lo, hi)),
            page.limit,
            filter,
        )
    }
}

/// A new stream for a table whose streams so far are `earlier`, when the last sequence number
/// handed out is `last_seq`.
pub(crate) fn new_stream(
    view_type: StreamViewType,
    earlier: &[StreamMeta],
    last_seq: u64,
) -> StreamMeta {
    // Stream labels are creation times to the millisecond: keep them distinct.
    let after = earlier.iter().map(|s| s.created_ms + 1).max().unwrap_or(0);
    StreamMeta {
        id: Uuid::new_v4(),
        created_ms: now_millis().max(after),
        view_type,
        start_seq: last_seq + 1,
        disabled_ms: None,
        end_seq: None,
    }
}

/// One item change inside a commit.
pub(crate) struct Change {
    pub(crate) table: Arc<Table>,
    /// The item's storage key.
    pub(crate) key: Vec<u8>,
    pub(crate) old: Option<Item>,
    pub(crate) new: Option<Item>,
    /// The store's TTL sweeper made this change (its stream record says so).
    pub(crate) by_ttl: bool,
}

fn check_mutation(meta: &TableMeta, m: Mutation) -> Result<Mutation> {
    if let Mutation::Put(item) = &m {
        meta.key_schema.key_of_item(item)?;
        validate_item(item)?;
        index::check_item(meta, item)?;
    }
    Ok(m)
}

fn error_to_reason(e: StoreError) -> CancellationReason {
    match e {
        StoreError::ConditionalCheckFailed { item } => CancellationReason {
            code: "ConditionalCheckFailed".into(),
            message: Some("The conditional request failed".into()),
            item: item.map(|b| *b),
        },
        StoreError::Validation(m) => CancellationReason {
            code: "ValidationError".into(),
            message: Some(m),
            item: None,
        },
        other => CancellationReason {
            code: "InternalError".into(),
            message: Some(other.to_string()),
            item: None,
        },
    }
}

fn reason_to_error(r: CancellationReason) -> StoreError {
    match r.code.as_str() {
        "ConditionalCheckFailed" => StoreError::ConditionalCheckFailed {
            item: r.item.map(Box::new),
        },
        "ValidationError" => StoreError::Validation(r.message.unwrap_or_default()),
        _ => StoreError::Corrupt(r.message.unwrap_or_default()),
    }
}

/// The key range of a Query: the partition `prefix`, narrowed by the sort-key condition on
/// `range_attr`. Keys may continue after the sort key (index entries carry the table key
/// there), so a bound that must include a sort value covers every key starting with it.
pub(crate) fn sort_bounds(
    prefix: &[u8],
    sort: Option<&RangeCondition>,
    range_attr: Option<&KeyAttribute>,
) -> Result<KeyBounds> {
    let whole = || {
        (
            Bound::Included(prefix.to_vec()),
            key::prefix_successor(prefix).map_or(Bound::Unbounded, Bound::Excluded),
        )
    };
    let Some(cond) = sort else { return Ok(whole()) };
    let Some(range_attr) = range_attr else {
        return Err(StoreError::Validation(
            "Query key condition not supported".into(),
        ));
    };
    let enc = |v: &AttributeValue| -> Result<Vec<u8>> {
        if v.value_type() != range_attr.attr_type.value_type() {
            return Err(StoreError::Validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type".into(),
            ));
        }
        let mut out = prefix.to_vec();
        key::encode_key_value(v, &mut out);
        Ok(out)
    };
    // Past every key that starts with `k` (encoded values are self-delimiting, so those are
    // exactly the keys with that sort value).
    let past = |k: &[u8]| key::prefix_successor(k).map_or(Bound::Unbounded, Bound::Excluded);
    let (start, end) = whole();
    Ok(match cond {
        RangeCondition::Eq(v) => {
            let k = enc(v)?;
            (Bound::Included(k.clone()), past(&k))
        }
        RangeCondition::Lt(v) => (start, Bound::Excluded(enc(v)?)),
        RangeCondition::Le(v) => (start, past(&enc(v)?)),
        RangeCondition::Gt(v) => {
            // Some: an encoded key starts with a type tag, never 0xFF.
            let after = key::prefix_successor(&enc(v)?)
                .ok_or_else(|| StoreError::Corrupt("sort key without successor".into()))?;
            (Bound::Included(after), end)
        }
        RangeCondition::Ge(v) => (Bound::Included(enc(v)?), end),
        RangeCondition::Between(a, b) => {
            let (ka, kb) = (enc(a)?, enc(b)?);
            if ka > kb {
                return Err(StoreError::Validation(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound".into(),
                ));
            }
            (Bound::Included(ka), past(&kb))
        }
        RangeCondition::BeginsWith(v) => {
            let mut full = enc(v)?;
            // Drop the 2-byte terminator: what remains is a prefix of every longer value.
            full.truncate(full.len() - 2);
            let end = key::prefix_successor(&full).map_or(Bound::Unbounded, Bound::Excluded);
            (Bound::Included(full), end)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ScalarType;
    use crate::testutil::{item, n, open, s, spec};
    use crate::value::Number;

    #[test]
    fn tables_persist_and_names_page() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            for name in ["ccc", "aaa", "bbb"] {
                store.create_table(spec(name, None)).unwrap();
            }
            assert!(matches!(
                store.create_table(spec("aaa", None)),
                Err(StoreError::ResourceInUse(_))
            ));
            store
                .put_item("aaa", item(&[("pk", s("x")), ("v", n(1))]), |_| Ok(()))
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.list_tables(None, 2),
            (
                vec!["aaa".to_string(), "bbb".to_string()],
                Some("bbb".to_string())
            )
        );
        assert_eq!(
            store.list_tables(Some("bbb"), 2),
            (vec!["ccc".to_string()], None)
        );
        let got = store
            .get_item("aaa", &item(&[("pk", s("x"))]))
            .unwrap()
            .unwrap();
        assert_eq!(got["v"], n(1));
    }

    #[test]
    fn a_recreated_table_starts_empty() {
        let (_dir, store) = open();
        store.create_table(spec("tbl1", None)).unwrap();
        store
            .put_item("tbl1", item(&[("pk", s("x"))]), |_| Ok(()))
            .unwrap();
        store.delete_table("tbl1").unwrap();
        assert!(matches!(
            store.get_item("tbl1", &item(&[("pk", s("x"))])),
            Err(StoreError::TableNotFound(_))
        ));
        store.create_table(spec("tbl1", None)).unwrap();
        assert_eq!(
            store.get_item("tbl1", &item(&[("pk", s("x"))])).unwrap(),
            None
        );
    }

    #[test]
    fn put_get_delete_and_conditions() {
        let (_dir, store) = open();
        store
            .create_table(spec("tbl", Some(ScalarType::N)))
            .unwrap();
        let key = item(&[("pk", s("a")), ("sk", n(1))]);
        let mut full = key.clone();
        full.insert("x".into(), s("one"));
        assert_eq!(
            store.put_item("tbl", full.clone(), |_| Ok(())).unwrap(),
            None
        );
        assert_eq!(
            store.put_item("tbl", full.clone(), |_| Ok(())).unwrap(),
            Some(full.clone())
        );
        let refused = store.delete_item("tbl", &key, |old| {
            Err(StoreError::ConditionalCheckFailed {
                item: old.cloned().map(Box::new),
            })
        });
        assert!(matches!(
            refused,
            Err(StoreError::ConditionalCheckFailed { item: Some(_) })
        ));
        assert_eq!(
            store.delete_item("tbl", &key, |_| Ok(())).unwrap(),
            Some(full)
        );
        assert_eq!(store.get_item("tbl", &key).unwrap(), None);
        // wrong key shapes
        assert!(matches!(
            store.get_item("tbl", &item(&[("pk", s("a"))])),
            Err(StoreError::Validation(_))
        ));
        assert!(matches!(
            store.put_item("tbl", item(&[("pk", s("a")), ("sk", s("1"))]), |_| Ok(())),
            Err(StoreError::Validation(_))
        ));
    }

    #[test]
    fn query_orders_by_sort_key_and_pages() {
        let (_dir, store) = open();
        store
            .create_table(spec("qry", Some(ScalarType::N)))
            .unwrap();
        for i in [5, -3, 10, 0, 7, 100, 2] {
            store
                .put_item("qry", item(&[("pk", s("p")), ("sk", n(i))]), |_| Ok(()))
                .unwrap();
        }
        store
            .put_item("qry", item(&[("pk", s("other")), ("sk", n(1))]), |_| Ok(()))
            .unwrap();
        let sks = |page: &Page| {
            page.items
                .iter()
                .map(|i| i["sk"].clone())
                .collect::<Vec<_>>()
        };
        let all = store
            .query("qry", &s("p"), None, true, &PageRequest::default(), |_| {
                Ok(true)
            })
            .unwrap();
        assert_eq!(
            sks(&all),
            vec![n(-3), n(0), n(2), n(5), n(7), n(10), n(100)]
        );
        assert!(all.last_evaluated_key.is_none());
        let rev = store
            .query(
                "qry",
                &s("p"),
                Some(&RangeCondition::Between(n(0), n(7))),
                false,
                &PageRequest::default(),
                |_| Ok(true),
            )
            .unwrap();
        assert_eq!(sks(&rev), vec![n(7), n(5), n(2), n(0)]);
        // paging with Limit
        let mut seen = Vec::new();
        let mut req = PageRequest {
            exclusive_start_key: None,
            limit: Some(3),
        };
        loop {
            let page = store
                .query(
                    "qry",
                    &s("p"),
                    Some(&RangeCondition::Gt(n(-3))),
                    true,
                    &req,
                    |_| Ok(true),
                )
                .unwrap();
            seen.extend(sks(&page));
            match page.last_evaluated_key {
                Some(k) => req.exclusive_start_key = Some(k),
                None => break,
            }
        }
        assert_eq!(seen, vec![n(0), n(2), n(5), n(7), n(10), n(100)]);
    }

    #[test]
    fn begins_with_on_strings() {
        let (_dir, store) = open();
        store
            .create_table(spec("bw_", Some(ScalarType::S)))
            .unwrap();
        for sk in ["a", "ab", "abc", "ab\0x", "b", "aa"] {
            store
                .put_item("bw_", item(&[("pk", s("p")), ("sk", s(sk))]), |_| Ok(()))
                .unwrap();
        }
        let page = store
            .query(
                "bw_",
                &s("p"),
                Some(&RangeCondition::BeginsWith(s("ab"))),
                true,
                &PageRequest::default(),
                |_| Ok(true),
            )
            .unwrap();
        let got: Vec<_> = page.items.iter().map(|i| i["sk"].clone()).collect();
        assert_eq!(got, vec![s("ab"), s("ab\0x"), s("abc")]);
    }

    #[test]
    fn parallel_scan_segments_cover_the_table_once() {
        let (_dir, store) = open();
        store.create_table(spec("scn", None)).unwrap();
        for i in 0..300 {
            store
                .put_item("scn", item(&[("pk", s(&format!("k{i}")))]), |_| Ok(()))
                .unwrap();
        }
        let mut seen = Vec::new();
        for seg in 0..4 {
            let mut req = PageRequest {
                exclusive_start_key: None,
                limit: Some(50),
            };
            loop {
                let page = store
                    .scan("scn", Some((seg, 4)), &req, |_| Ok(true))
                    .unwrap();
                seen.extend(page.items.iter().map(|i| i["pk"].clone()));
                match page.last_evaluated_key {
                    Some(k) => req.exclusive_start_key = Some(k),
                    None => break,
                }
            }
        }
        seen.sort_by_key(|v| format!("{v:?}"));
        let before = seen.len();
        seen.dedup();
        assert_eq!((before, seen.len()), (300, 300));
    }

    #[test]
    fn multi_item_writes_are_all_or_nothing() {
        let (_dir, store) = open();
        store.create_table(spec("tbl", None)).unwrap();
        store
            .put_item("tbl", item(&[("pk", s("a")), ("v", n(1))]), |_| Ok(()))
            .unwrap();
        let actions = vec![
            TransactAction {
                table: "tbl".into(),
                key: item(&[("pk", s("b"))]),
                decide: Box::new(|_, _| Ok(Mutation::Put(item(&[("pk", s("b"))])))),
            },
            TransactAction {
                table: "tbl".into(),
                key: item(&[("pk", s("a"))]),
                decide: Box::new(|_, old| {
                    Err(StoreError::ConditionalCheckFailed {
                        item: old.cloned().map(Box::new),
                    })
                }),
            },
        ];
        match store.write_items(actions) {
            Err(StoreError::TransactionCanceled(reasons)) => {
                assert_eq!(reasons[0].code, "None");
                assert_eq!(reasons[1].code, "ConditionalCheckFailed");
            }
            other => panic!("expected cancellation, got {other:?}"),
        }
        assert_eq!(
            store.get_item("tbl", &item(&[("pk", s("b"))])).unwrap(),
            None
        );
    }

    #[test]
    fn concurrent_read_modify_write_loses_nothing() {
        let (_dir, store) = open();
        store.create_table(spec("ctr", None)).unwrap();
        let store = Arc::new(store);
        let key = item(&[("pk", s("counter"))]);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (store, key) = (store.clone(), key.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        store
                            .write_item("ctr", &key, |_, old| {
                                let cur = old.and_then(|o| o.get("n").cloned()).unwrap_or(n(0));
                                let AttributeValue::N(cur) = cur else {
                                    unreachable!()
                                };
                                let mut next = key.clone();
                                next.insert(
                                    "n".into(),
                                    AttributeValue::N(cur.checked_add(&Number::from_i64(1))?),
                                );
                                Ok(Mutation::Put(next))
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(store.get_item("ctr", &key).unwrap().unwrap()["n"], n(400));
    }
}
