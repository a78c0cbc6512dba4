//! Secondary indexes: definitions and DynamoDB's rules for them, the on-disk entries, their
//! maintenance inside every write, Query and Scan on an index, and the online build (backfill)
//! of a global secondary index added to a table that holds data.
//!
//! # Layout
//!
//! Every index has its own fjall keyspace, `x-<index uuid>` (a new uuid per index, so an index
//! dropped and created again under the same name never sees old entries). An entry's key is the
//! index key encoded like an item key (2-byte hash of the index partition key, the partition
//! key, the index sort key if any: see [`crate::key`]) followed by the encoded primary key of
//! the table item (partition key, then sort key), which makes entries unique and orders items
//! with equal index keys by their table key. Its value is the projected item (KEYS_ONLY,
//! INCLUDE or ALL), encoded like a table item, so Query and Scan on an index read the index
//! keyspace alone (a local secondary index fetches the table item only when the request asks
//! for attributes the index does not project). A local secondary index uses the table's
//! partition key as its own. Items lacking an index key attribute have no entry (sparse
//! indexes).
//!
//! # Consistency
//!
//! Index entries are written in the same atomic batch as the item ([`stage`], called from the
//! store's single commit path): the old item's entry is removed and the new one's inserted, so
//! an index never shows an item state the table never had, even after a crash.
//!
//! A global secondary index created by UpdateTable starts CREATING. From the moment it is in the
//! catalog every write maintains it; a background thread then walks the table and, holding the
//! item locks of each chunk of keys, re-reads every item and writes its entry, so the result is
//! exact whatever writes race with it. The switch of the index list waits for in-flight writes
//! (the store's writers gate), so no write that missed the new index can commit after the walk
//! started. When the walk ends the index becomes ACTIVE. A walk cut short by a crash starts over
//! when the store opens again (entries are idempotent). Deleting an index removes it from the
//! catalog and drops its keyspace.

use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{sort_bounds, Page, PageRequest, Store};
use crate::encoding::ItemCodec;
use crate::error::{Result, StoreError};
use crate::expr::KeyCondition;
use crate::key;
use crate::schema::{
    BillingMode, KeyAttribute, KeySchema, TableMeta, TableSpec, Throughput,
    MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES,
};
use crate::value::{item_size, AttributeValue, Item};

/// Most global secondary indexes on one table (DynamoDB's default quota).
pub const MAX_GLOBAL_INDEXES: usize = 20;
/// Most local secondary indexes on one table.
pub const MAX_LOCAL_INDEXES: usize = 5;

/// Items re-read under their locks per backfill batch.
const BACKFILL_CHUNK: usize = 256;

/// Global (any partition key, across the table) or local (the table's partition key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexKind {
    /// A global secondary index.
    Global,
    /// A local secondary index.
    Local,
}

/// Which attributes an index copies from the item, beside the table and index keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexProjection {
    /// Only the keys.
    KeysOnly,
    /// The keys and these attributes (NonKeyAttributes).
    Include(Vec<String>),
    /// Every attribute.
    All,
}

impl IndexProjection {
    /// `"KEYS_ONLY"`, `"INCLUDE"` or `"ALL"`.
    pub fn type_str(&self) -> &'static str {
        match self {
            IndexProjection::KeysOnly => "KEYS_ONLY",
            IndexProjection::Include(_) => "INCLUDE",
            IndexProjection::All => "ALL",
        }
    }
}

/// An index's lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexStatus {
    /// Being built: writes maintain it, reads are refused until the backfill ends.
    Creating,
    /// Usable.
    Active,
}

impl IndexStatus {
    /// `"CREATING"` or `"ACTIVE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            IndexStatus::Creating => "CREATING",
            IndexStatus::Active => "ACTIVE",
        }
    }
}

/// What CreateTable (or UpdateTable's Create action) asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexSpec {
    /// Index name.
    pub name: String,
    /// Global or local.
    pub kind: IndexKind,
    /// The index key; its types come from the table's AttributeDefinitions.
    pub key_schema: KeySchema,
    /// Projected attributes.
    pub projection: IndexProjection,
    /// Provisioned throughput (global indexes of provisioned tables).
    pub throughput: Option<Throughput>,
}

/// What the catalog keeps about an index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// Index name.
    pub name: String,
    /// Unique id; the entries live in keyspace `x-<id>`.
    pub id: Uuid,
    /// Global or local.
    pub kind: IndexKind,
    /// The index key.
    pub key_schema: KeySchema,
    /// Projected attributes.
    pub projection: IndexProjection,
    /// Provisioned throughput, if any.
    #[serde(default)]
    pub throughput: Option<Throughput>,
    /// Lifecycle status.
    pub status: IndexStatus,
    /// Added to an existing table by UpdateTable (so DescribeTable reports `Backfilling`).
    #[serde(default)]
    pub online: bool,
}

impl IndexMeta {
    fn new(spec: IndexSpec, status: IndexStatus, online: bool) -> IndexMeta {
        IndexMeta {
            name: spec.name,
            id: Uuid::new_v4(),
            kind: spec.kind,
            key_schema: spec.key_schema,
            projection: spec.projection,
            throughput: spec.throughput,
            status,
            online,
        }
    }

    /// Name of the fjall keyspace holding the index entries.
    pub fn keyspace(&self) -> String {
        keyspace_name(&self.id)
    }

    /// Whether the index holds every attribute named in `attributes` (top-level names).
    pub fn projects<'a>(
        &self,
        table_keys: &KeySchema,
        mut attributes: impl Iterator<Item = &'a str>,
    ) -> bool {
        match &self.projection {
            IndexProjection::All => true,
            IndexProjection::KeysOnly => attributes
                .all(|a| table_keys.is_key_attribute(a) || self.key_schema.is_key_attribute(a)),
            IndexProjection::Include(extra) => attributes.all(|a| {
                table_keys.is_key_attribute(a)
                    || self.key_schema.is_key_attribute(a)
                    || extra.iter().any(|e| e == a)
            }),
        }
    }
}

const KEYSPACE_PREFIX: &str = "x-";

fn keyspace_name(id: &Uuid) -> String {
    format!("{KEYSPACE_PREFIX}{}", id.simple())
}

/// Live figures about one index, for DescribeTable.
#[derive(Clone, Debug)]
pub struct IndexInfo {
    /// Index name.
    pub name: String,
    /// Approximate number of entries.
    pub item_count: u64,
    /// Approximate size in bytes.
    pub size_bytes: u64,
}

/// One change to a table's global secondary indexes (an element of UpdateTable's
/// GlobalSecondaryIndexUpdates).
#[derive(Clone, Debug)]
pub enum IndexUpdate {
    /// Add a global secondary index and build it in the background.
    Create {
        /// The index.
        index: IndexSpec,
        /// The request's AttributeDefinitions (they must define the new key attributes).
        attribute_definitions: Vec<KeyAttribute>,
    },
    /// Drop a global secondary index.
    Delete {
        /// Index name.
        name: String,
    },
    /// Change a global secondary index's provisioned throughput.
    Throughput {
        /// Index name.
        name: String,
        /// The new throughput.
        throughput: Throughput,
    },
}

/// Which index a Query or Scan reads, and whether it returns the table's items.
#[derive(Clone, Copy, Debug)]
pub struct IndexRead<'a> {
    /// Index name.
    pub name: &'a str,
    /// Read each item from the table (a local index asked for attributes it does not
    /// project); otherwise the projected item is returned.
    pub fetch_table_items: bool,
}

fn invalid<T>(m: impl std::fmt::Display) -> Result<T> {
    Err(StoreError::Validation(format!(
        "One or more parameter values were invalid: {m}"
    )))
}

fn names(attrs: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    attrs
        .into_iter()
        .map(|a| a.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks one index's key schema: its attributes are defined with the same types, and hash and
/// range differ.
fn check_index_keys(spec: &IndexSpec, definitions: &[KeyAttribute]) -> Result<()> {
    for attr in spec.key_schema.attributes() {
        match definitions.iter().find(|d| d.name == attr.name) {
            None => {
                return invalid(format!(
                    "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                    names(spec.key_schema.attributes().map(|a| &a.name)),
                    names(definitions.iter().map(|d| &d.name))
                ))
            }
            Some(d) if d.attr_type != attr.attr_type => {
                return invalid("Type mismatch between KeySchema and AttributeDefinitions")
            }
            Some(_) => {}
        }
    }
    if spec
        .key_schema
        .range
        .as_ref()
        .is_some_and(|r| r.name == spec.key_schema.hash.name)
    {
        return Err(StoreError::Validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
                .into(),
        ));
    }
    Ok(())
}

fn check_global_throughput(spec: &IndexSpec, billing: BillingMode) -> Result<()> {
    match (billing, &spec.throughput) {
        (BillingMode::PayPerRequest, Some(_)) => invalid(format!(
            "ProvisionedThroughput should not be specified for index: {} when BillingMode is PAY_PER_REQUEST",
            spec.name
        )),
        (BillingMode::Provisioned, None) => invalid(format!(
            "ProvisionedThroughput must be specified for index: {}",
            spec.name
        )),
        (BillingMode::Provisioned, Some(t)) if t.read == 0 || t.write == 0 => {
            invalid("Provisioned throughput values must be greater than 0")
        }
        _ => Ok(()),
    }
}

/// Checks the indexes of a CreateTable request against DynamoDB's rules, and that the
/// AttributeDefinitions define exactly the key attributes of the table and its indexes.
pub(crate) fn validate_specs(spec: &TableSpec) -> Result<()> {
    let definitions = &spec.attribute_definitions;
    let mut seen = HashSet::new();
    let locals: Vec<&IndexSpec> = spec
        .indexes
        .iter()
        .filter(|i| i.kind == IndexKind::Local)
        .collect();
    let globals: Vec<&IndexSpec> = spec
        .indexes
        .iter()
        .filter(|i| i.kind == IndexKind::Global)
        .collect();
    if !locals.is_empty() && spec.key_schema.range.is_none() {
        return invalid("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex");
    }
    for ix in &locals {
        check_index_keys(ix, definitions)?;
        if ix.key_schema.range.is_none() {
            return invalid(format!(
                "Index KeySchema does not have a range key for index: {}",
                ix.name
            ));
        }
        if ix.key_schema.hash.name != spec.key_schema.hash.name {
            return invalid(format!(
                "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                ix.name, ix.key_schema.hash.name, spec.key_schema.hash.name
            ));
        }
        if ix.throughput.is_some() {
            return invalid(format!(
                "ProvisionedThroughput should not be specified for local secondary index: {}",
                ix.name
            ));
        }
        if !seen.insert(ix.name.as_str()) {
            return invalid(format!("Duplicate index name: {}", ix.name));
        }
    }
    if locals.len() > MAX_LOCAL_INDEXES {
        return invalid(format!(
            "Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LOCAL_INDEXES}"
        ));
    }
    for ix in &globals {
        check_index_keys(ix, definitions)?;
        check_global_throughput(ix, spec.billing_mode)?;
        if !seen.insert(ix.name.as_str()) {
            return invalid(format!("Duplicate index name: {}", ix.name));
        }
    }
    if globals.len() > MAX_GLOBAL_INDEXES {
        return invalid(format!(
            "GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GLOBAL_INDEXES}"
        ));
    }
    let mut used: Vec<&str> = Vec::new();
    for attr in spec
        .key_schema
        .attributes()
        .chain(spec.indexes.iter().flat_map(|i| i.key_schema.attributes()))
    {
        if !used.contains(&attr.name.as_str()) {
            used.push(&attr.name);
        }
    }
    if definitions.iter().any(|d| !used.contains(&d.name.as_str())) {
        return invalid(format!(
            "Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
            names(definitions.iter().map(|d| &d.name)),
            names(&used)
        ));
    }
    Ok(())
}

/// The catalog entries for the indexes of a new (empty) table: ACTIVE from the start.
pub(crate) fn new_table_indexes(specs: Vec<IndexSpec>) -> Vec<IndexMeta> {
    specs
        .into_iter()
        .map(|s| IndexMeta::new(s, IndexStatus::Active, false))
        .collect()
}

// ---- keys and entries ----

fn check_index_key_value(
    index: &IndexMeta,
    attr: &KeyAttribute,
    is_hash: bool,
    v: &AttributeValue,
) -> Result<()> {
    if v.value_type() != attr.attr_type.value_type() {
        return invalid(format!(
            "Type mismatch for Index Key {} Expected: {} Actual: {} IndexName: {}",
            attr.name,
            attr.attr_type.as_str(),
            v.value_type(),
            index.name
        ));
    }
    let (len, empty, kind) = match v {
        AttributeValue::S(s) => (s.len(), s.is_empty(), "string"),
        AttributeValue::B(b) => (b.len(), b.is_empty(), "binary"),
        _ => (0, false, ""),
    };
    if empty {
        return Err(StoreError::Validation(format!(
            "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. IndexName: {}, IndexKey: {}",
            index.name, attr.name
        )));
    }
    let (limit, which) = if is_hash {
        (MAX_PARTITION_KEY_BYTES, "Hash")
    } else {
        (MAX_SORT_KEY_BYTES, "Range")
    };
    if len > limit {
        return invalid(format!(
            "Size of {which}Key is too large. Key: {}, maximum allowed size is {limit} bytes. IndexName: {}",
            attr.name, index.name
        ));
    }
    Ok(())
}

/// The index key values of `item`: `Ok(None)` when an index key attribute is missing (the item
/// is not in the index), an error when one has the wrong type or an invalid value.
fn index_key_values<'a>(
    index: &IndexMeta,
    item: &'a Item,
) -> Result<Option<(&'a AttributeValue, Option<&'a AttributeValue>)>> {
    let hash = item.get(&index.key_schema.hash.name);
    if let Some(v) = hash {
        check_index_key_value(index, &index.key_schema.hash, true, v)?;
    }
    let range = match &index.key_schema.range {
        None => None,
        Some(attr) => match item.get(&attr.name) {
            None => return Ok(None),
            Some(v) => {
                check_index_key_value(index, attr, false, v)?;
                Some(v)
            }
        },
    };
    Ok(hash.map(|h| (h, range)))
}

/// Checks the index key attributes an item carries against every index of its table, as a
/// write does before storing it: a present index key attribute must have the type the
/// AttributeDefinitions give it and a valid key value.
pub fn check_item(meta: &TableMeta, item: &Item) -> Result<()> {
    for index in &meta.indexes {
        index_key_values(index, item)?;
    }
    Ok(())
}

/// The storage key of an item's entry: the index key, then the table key.
fn entry_key(
    table_keys: &KeySchema,
    hash: &AttributeValue,
    range: Option<&AttributeValue>,
    table_key: &Item,
) -> Option<Vec<u8>> {
    let mut out = key::item_key(hash, range)?;
    for attr in table_keys.attributes() {
        if !key::encode_key_value(table_key.get(&attr.name)?, &mut out) {
            return None;
        }
    }
    Some(out)
}

/// The attributes of `item` that `index` holds.
fn project(table_keys: &KeySchema, index: &IndexMeta, item: &Item) -> Item {
    match &index.projection {
        IndexProjection::All => item.clone(),
        IndexProjection::KeysOnly | IndexProjection::Include(_) => item
            .iter()
            .filter(|(name, _)| index.projects(table_keys, std::iter::once(name.as_str())))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// An item's entry in an index (key and projected item), or `None` if the item is not in it:
/// an index key attribute is missing, or invalid (an item stored before the index existed).
fn entry(table_keys: &KeySchema, index: &IndexMeta, item: &Item) -> Option<(Vec<u8>, Item)> {
    let (hash, range) = index_key_values(index, item).ok()??;
    let key = entry_key(table_keys, hash, range, item)?;
    Some((key, project(table_keys, index, item)))
}

/// The index writes one item change costs, as DynamoDB counts them: for each index the change
/// touches, the size in bytes of each entry written or deleted (a changed index key is a delete
/// and a put; an entry updated in place counts the larger of its two versions).
pub fn index_writes<'a>(
    meta: &'a TableMeta,
    old: Option<&Item>,
    new: Option<&Item>,
) -> Vec<(&'a IndexMeta, Vec<usize>)> {
    let mut out = Vec::new();
    for ix in &meta.indexes {
        let before = old.and_then(|o| entry(&meta.key_schema, ix, o));
        let after = new.and_then(|n| entry(&meta.key_schema, ix, n));
        let sizes = match (before, after) {
            (None, None) => continue,
            (Some(b), Some(a)) if b == a => continue,
            (Some((bk, bi)), Some((ak, ai))) if bk == ak => {
                vec![item_size(&bi).max(item_size(&ai))]
            }
            (Some((_, bi)), Some((_, ai))) => vec![item_size(&bi), item_size(&ai)],
            (Some((_, i)), None) | (None, Some((_, i))) => vec![item_size(&i)],
        };
        out.push((ix, sizes));
    }
    out
}

/// An index open in the store: its definition and keyspace.
#[derive(Clone)]
pub(crate) struct OpenIndex {
    pub(crate) meta: IndexMeta,
    pub(crate) keyspace: Keyspace,
}

/// Opens (creating when missing) the keyspaces of a table's indexes.
pub(crate) fn open_all(db: &Database, meta: &TableMeta) -> Result<Vec<OpenIndex>> {
    meta.indexes
        .iter()
        .map(|m| {
            Ok(OpenIndex {
                meta: m.clone(),
                keyspace: db.keyspace(&m.keyspace(), KeyspaceCreateOptions::default)?,
            })
        })
        .collect()
}

/// Adds to `batch` the index changes of one item write, `old` to `new`: the old entry
/// removed, the new one inserted, nothing for indexes the write does not affect.
pub(crate) fn stage(
    batch: &mut OwnedWriteBatch,
    codec: &ItemCodec,
    table_id: &Uuid,
    table_keys: &KeySchema,
    indexes: &[OpenIndex],
    old: Option<&Item>,
    new: Option<&Item>,
) {
    for ix in indexes {
        let before = old.and_then(|o| entry(table_keys, &ix.meta, o));
        let after = new.and_then(|n| entry(table_keys, &ix.meta, n));
        if before == after {
            continue;
        }
        if let Some((k, _)) = &before {
            if after.as_ref().is_none_or(|(nk, _)| nk != k) {
                batch.remove(&ix.keyspace, k.as_slice());
            }
        }
        if let Some((k, projected)) = after {
            let value = codec.encode(table_id, &k, &projected);
            batch.insert(&ix.keyspace, k, value);
        }
    }
}

/// Drops index keyspaces no catalog entry refers to (left by a crash between a catalog change
/// and the keyspace's creation or deletion).
pub(crate) fn drop_orphans<'a>(
    db: &Database,
    tables: impl Iterator<Item = &'a TableMeta>,
) -> Result<()> {
    let live: HashSet<String> = tables
        .flat_map(|t| t.indexes.iter().map(IndexMeta::keyspace))
        .collect();
    for name in db.list_keyspace_names() {
        let name: &str = &name;
        if name.starts_with(KEYSPACE_PREFIX) && !live.contains(name) {
            tracing::info!(keyspace = name, "dropping the keyspace of a deleted index");
            let ks = db.keyspace(name, KeyspaceCreateOptions::default)?;
            db.delete_keyspace(ks)?;
        }
    }
    Ok(())
}

// ---- background builds ----

struct BackgroundState {
    stop: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// The store's background index builds. The store that opened the database owns them: when it
/// is dropped, builds stop at their next chunk and are joined (they resume on the next open).
pub(crate) struct Background {
    state: Arc<BackgroundState>,
    owner: bool,
}

impl Background {
    /// The owner's handle, for a newly opened store.
    pub(crate) fn new() -> Background {
        Background {
            state: Arc::new(BackgroundState {
                stop: AtomicBool::new(false),
                threads: Mutex::new(Vec::new()),
            }),
            owner: true,
        }
    }

    /// A non-owning handle, for the store handle a build thread works through.
    pub(crate) fn handle(&self) -> Background {
        Background {
            state: self.state.clone(),
            owner: false,
        }
    }

    /// The owning store is closing: background work should stop at its next step.
    pub(crate) fn stopping(&self) -> bool {
        self.state.stop.load(Ordering::Relaxed)
    }

    /// Runs `work` on a named thread that the owning store joins when it is dropped.
    pub(crate) fn spawn(&self, name: &str, work: impl FnOnce() + Send + 'static) {
        match std::thread::Builder::new().name(name.into()).spawn(work) {
            Ok(t) => {
                let mut threads = self.state.threads.lock();
                threads.retain(|t| !t.is_finished());
                threads.push(t);
            }
            Err(e) => {
                tracing::error!(error = %e, thread = name, "cannot start a background thread")
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        self.state.stop.store(true, Ordering::Relaxed);
        let threads = std::mem::take(&mut *self.state.threads.lock());
        for t in threads {
            if t.join().is_err() {
                tracing::error!("an index build thread panicked");
            }
        }
    }
}

/// How a build ended.
enum BuildEnd {
    /// Every item was visited.
    Done,
    /// The index or its table is gone, or the store is closing.
    Abandoned,
}

impl Store {
    /// Starts the build of every CREATING index (when the store opens).
    pub(crate) fn resume_index_builds(&self) {
        let pending: Vec<(String, Uuid, Uuid)> = self
            .tables_snapshot()
            .into_iter()
            .flat_map(|t| {
                t.meta
                    .indexes
                    .iter()
                    .filter(|i| i.status == IndexStatus::Creating)
                    .map(|i| (t.meta.name.clone(), t.meta.id, i.id))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (table, table_id, index_id) in pending {
            tracing::info!(%table, %index_id, "resuming an interrupted index build");
            self.spawn_index_build(table, table_id, index_id);
        }
    }

    fn spawn_index_build(&self, table: String, table_id: Uuid, index_id: Uuid) {
        let store = self.handle();
        self.background.spawn("tarn-index-build", move || {
            if let Err(e) = store.build_index(&table, table_id, index_id) {
                tracing::error!(%table, %index_id, error = %e, "index build failed; it resumes when the store opens again");
            }
        });
    }

    /// The index `index_id` of table `table_id`, if both still exist and it is CREATING.
    fn building(&self, table: &str, table_id: Uuid, index_id: Uuid) -> Option<OpenIndex> {
        let t = self.table(table).ok()?;
        if t.meta.id != table_id {
            return None;
        }
        t.indexes
            .iter()
            .find(|i| i.meta.id == index_id && i.meta.status == IndexStatus::Creating)
            .cloned()
    }

    /// Walks the table and writes every item's entry into the index, then marks it ACTIVE.
    fn build_index(&self, table: &str, table_id: Uuid, index_id: Uuid) -> Result<()> {
        let started = std::time::Instant::now();
        let Some(items) = self.table(table).ok().map(|t| t.items.clone()) else {
            return Ok(());
        };
        let mut after: Option<Vec<u8>> = None;
        let mut visited = 0usize;
        let end = loop {
            if self.background.stopping() {
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
            let _writers = self.writers.read();
            let Some(index) = self.building(table, table_id, index_id) else {
                break BuildEnd::Abandoned;
            };
            let Ok(current) = self.table(table) else {
                break BuildEnd::Abandoned;
            };
            let _held = self
                .locks
                .lock(keys.iter().map(|k| (&table_id, k.as_slice())));
            let mut batch = self.db.batch();
            for k in &keys {
                if let Some(v) = items.get(k)? {
                    let item = self.codec.decode(&table_id, k, &v)?;
                    if let Some((ek, projected)) =
                        entry(&current.meta.key_schema, &index.meta, &item)
                    {
                        let value = self.codec.encode(&table_id, &ek, &projected);
                        batch.insert(&index.keyspace, ek, value);
                    }
                }
            }
            batch.commit()?;
            visited += keys.len();
            after = Some(last);
        };
        if let BuildEnd::Abandoned = end {
            tracing::info!(%table, %index_id, visited, "index build stopped");
            return Ok(());
        }
        // Entries first, then the status, both durable.
        self.sync()?;
        let _ddl = self.ddl.lock();
        let Some(t) = self.table(table).ok().filter(|t| t.meta.id == table_id) else {
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
        self.replace_meta(meta)?;
        tracing::info!(%table, index = %name, visited, elapsed_ms = started.elapsed().as_millis() as u64, "index build finished");
        Ok(())
    }

    // ---- UpdateTable ----

    /// Applies one change to a table's global secondary indexes. Creating one adds it CREATING
    /// and builds it in the background; deleting one drops it at once. Returns the table's new
    /// definition and, for a deletion, the index that was removed.
    pub fn update_global_index(
        &self,
        table: &str,
        update: IndexUpdate,
    ) -> Result<(TableMeta, Option<IndexMeta>)> {
        let _ddl = self.ddl.lock();
        let t = self.table(table)?;
        let mut meta = t.meta.clone();
        match update {
            IndexUpdate::Create {
                index,
                attribute_definitions,
            } => {
                let mut definitions = meta.attribute_definitions.clone();
                for d in attribute_definitions {
                    match definitions.iter().find(|x| x.name == d.name) {
                        Some(x) if x.attr_type != d.attr_type => {
                            return invalid(format!(
                                "Cannot change the type of attribute {} in AttributeDefinitions: it is {} in the table",
                                d.name,
                                x.attr_type.as_str()
                            ))
                        }
                        Some(_) => {}
                        None => definitions.push(d),
                    }
                }
                if index.kind != IndexKind::Global {
                    return Err(StoreError::Validation(
                        "Local secondary indexes can only be created with the table (CreateTable)"
                            .into(),
                    ));
                }
                check_index_keys(&index, &definitions)?;
                check_global_throughput(&index, meta.billing_mode)?;
                if meta.indexes.iter().any(|i| i.name == index.name) {
                    return invalid(format!("Duplicate index name: {}", index.name));
                }
                let globals = meta
                    .indexes
                    .iter()
                    .filter(|i| i.kind == IndexKind::Global)
                    .count();
                if globals >= MAX_GLOBAL_INDEXES {
                    return Err(StoreError::LimitExceeded(format!(
                        "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GLOBAL_INDEXES}"
                    )));
                }
                meta.attribute_definitions = definitions;
                let ix = IndexMeta::new(index, IndexStatus::Creating, true);
                let (table_id, index_id) = (meta.id, ix.id);
                tracing::info!(table, index = %ix.name, "creating a global secondary index");
                meta.indexes.push(ix);
                self.replace_meta(meta.clone())?;
                self.spawn_index_build(table.to_string(), table_id, index_id);
                Ok((meta, None))
            }
            IndexUpdate::Delete { name } => {
                let Some(pos) = meta.indexes.iter().position(|i| i.name == name) else {
                    return Err(StoreError::ResourceNotFound(format!(
                        "Requested resource not found: Index: {name} not found"
                    )));
                };
                if meta.indexes[pos].kind == IndexKind::Local {
                    return Err(StoreError::Validation(format!(
                        "Local secondary index {name} cannot be deleted: local secondary indexes live as long as their table"
                    )));
                }
                let removed = meta.indexes.remove(pos);
                let used: BTreeSet<&str> = meta
                    .key_schema
                    .attributes()
                    .chain(meta.indexes.iter().flat_map(|i| i.key_schema.attributes()))
                    .map(|a| a.name.as_str())
                    .collect();
                let definitions = meta
                    .attribute_definitions
                    .iter()
                    .filter(|d| used.contains(d.name.as_str()))
                    .cloned()
                    .collect();
                meta.attribute_definitions = definitions;
                self.replace_meta(meta.clone())?;
                if let Some(open) = t.indexes.iter().find(|i| i.meta.id == removed.id) {
                    self.db.delete_keyspace(open.keyspace.clone())?;
                }
                tracing::info!(table, index = %removed.name, "deleted a global secondary index");
                Ok((meta, Some(removed)))
            }
            IndexUpdate::Throughput { name, throughput } => {
                let Some(ix) = meta.indexes.iter_mut().find(|i| i.name == name) else {
                    return Err(StoreError::ResourceNotFound(format!(
                        "Requested resource not found: Index: {name} not found"
                    )));
                };
                if meta.billing_mode == BillingMode::PayPerRequest {
                    return invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                    ));
                }
                if throughput.read == 0 || throughput.write == 0 {
                    return invalid("Provisioned throughput values must be greater than 0");
                }
                ix.throughput = Some(throughput);
                let meta = self.replace_meta(meta)?;
                Ok((meta, None))
            }
        }
    }

    // ---- reads ----

    fn read_target(&self, table: &str, index: &str) -> Result<(Arc<crate::db::Table>, OpenIndex)> {
        let t = self.table(table)?;
        let Some(ix) = t.indexes.iter().find(|i| i.meta.name == index).cloned() else {
            return Err(StoreError::Validation(format!(
                "The table does not have the specified index: {index}"
            )));
        };
        if ix.meta.status != IndexStatus::Active {
            return Err(StoreError::Validation(format!(
                "Cannot read from backfilling global secondary index: {index}"
            )));
        }
        Ok((t, ix))
    }

    /// The storage key an index read continues after: ExclusiveStartKey must carry the index
    /// key and the table key.
    fn index_start_after(
        table_keys: &KeySchema,
        index: &IndexMeta,
        esk: Option<&Item>,
    ) -> Result<Option<Vec<u8>>> {
        let Some(esk) = esk else { return Ok(None) };
        let bad = || {
            StoreError::Validation(
                "The provided starting key is invalid: The provided key element does not match the schema"
                    .into(),
            )
        };
        let expected: BTreeSet<&str> = table_keys
            .attributes()
            .chain(index.key_schema.attributes())
            .map(|a| a.name.as_str())
            .collect();
        if esk.len() != expected.len() || !esk.keys().all(|k| expected.contains(k.as_str())) {
            return Err(bad());
        }
        table_keys
            .validate_key(
                &table_keys
                    .attributes()
                    .map(|a| (a.name.clone(), esk[&a.name].clone()))
                    .collect(),
            )
            .map_err(|_| bad())?;
        let (hash, range) = index_key_values(index, esk)
            .map_err(|_| bad())?
            .ok_or_else(bad)?;
        entry_key(table_keys, hash, range, esk)
            .map(Some)
            .ok_or_else(bad)
    }

    /// Turns index entries into the items a read returns: the projected items, or the table's
    /// items when `fetch` (an entry whose item vanished meanwhile is skipped).
    fn resolver<'a>(
        &'a self,
        t: &'a crate::db::Table,
        fetch: bool,
    ) -> impl FnMut(Item) -> Result<Option<Item>> + 'a {
        move |projected| {
            if !fetch {
                return Ok(Some(projected));
            }
            let keys = &t.meta.key_schema;
            let hash = &projected[&keys.hash.name];
            let range = keys.range.as_ref().map(|r| &projected[&r.name]);
            let Some(k) = key::item_key(hash, range) else {
                return Ok(None);
            };
            t.items
                .get(&k)?
                .map(|v| self.codec.decode(&t.meta.id, &k, &v))
                .transpose()
        }
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
        let (t, ix) = self.read_target(table, index.name)?;
        let keys = &ix.meta.key_schema;
        if condition.hash_value.value_type() != keys.hash.attr_type.value_type() {
            return Err(StoreError::Validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type".into(),
            ));
        }
        let prefix = key::partition_prefix(&condition.hash_value)
            .ok_or_else(|| StoreError::Validation("Query key condition not supported".into()))?;
        let (mut lo, mut hi) = sort_bounds(&prefix, condition.range.as_ref(), keys.range.as_ref())?;
        if let Some(start) = Self::index_start_after(
            &t.meta.key_schema,
            &ix.meta,
            page.exclusive_start_key.as_ref(),
        )? {
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
        let key_schemas = [&t.meta.key_schema, keys];
        let range = ix.keyspace.range::<Vec<u8>, _>((lo, hi));
        let resolve = self.resolver(&t, index.fetch_table_items);
        if forward {
            self.read_entries(&t.meta.id, &key_schemas, range, page.limit, resolve, filter)
        } else {
            self.read_entries(
                &t.meta.id,
                &key_schemas,
                range.rev(),
                page.limit,
                resolve,
                filter,
            )
        }
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
        let (t, ix) = self.read_target(table, index.name)?;
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
        if let Some(start) = Self::index_start_after(
            &t.meta.key_schema,
            &ix.meta,
            page.exclusive_start_key.as_ref(),
        )? {
            lo = Bound::Excluded(start);
        }
        let key_schemas = [&t.meta.key_schema, &ix.meta.key_schema];
        self.read_entries(
            &t.meta.id,
            &key_schemas,
            ix.keyspace.range::<Vec<u8>, _>((lo, hi)),
            page.limit,
            self.resolver(&t, index.fetch_table_items),
            filter,
        )
    }

    /// Live figures of a table's indexes.
    pub(crate) fn index_infos(indexes: &[OpenIndex]) -> Vec<IndexInfo> {
        indexes
            .iter()
            .map(|i| IndexInfo {
                name: i.meta.name.clone(),
                item_count: i.keyspace.approximate_len() as u64,
                size_bytes: i.keyspace.disk_space(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::db::Mutation;
    use crate::expr::RangeCondition;
    use crate::schema::ScalarType;
    use crate::value::Number;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }
    fn n(v: i64) -> AttributeValue {
        AttributeValue::N(Number::from_i64(v))
    }
    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
    fn attr(name: &str, t: ScalarType) -> KeyAttribute {
        KeyAttribute {
            name: name.into(),
            attr_type: t,
        }
    }
    fn keys(hash: KeyAttribute, range: Option<KeyAttribute>) -> KeySchema {
        KeySchema { hash, range }
    }
    fn gsi(name: &str, hash: &str, range: Option<&str>, projection: IndexProjection) -> IndexSpec {
        IndexSpec {
            name: name.into(),
            kind: IndexKind::Global,
            key_schema: keys(
                attr(hash, ScalarType::S),
                range.map(|r| attr(r, ScalarType::N)),
            ),
            projection,
            throughput: None,
        }
    }
    fn lsi(name: &str, range: &str, projection: IndexProjection) -> IndexSpec {
        IndexSpec {
            name: name.into(),
            kind: IndexKind::Local,
            key_schema: keys(attr("pk", ScalarType::S), Some(attr(range, ScalarType::N))),
            projection,
            throughput: None,
        }
    }

    /// Table `pk` (S) / `sk` (N) with the given indexes; every index key attribute is defined
    /// with the type the index gives it.
    fn spec(name: &str, indexes: Vec<IndexSpec>) -> TableSpec {
        let mut definitions = vec![attr("pk", ScalarType::S), attr("sk", ScalarType::N)];
        for ix in &indexes {
            for a in ix.key_schema.attributes() {
                if !definitions.iter().any(|d| d.name == a.name) {
                    definitions.push(a.clone());
                }
            }
        }
        TableSpec {
            attribute_definitions: definitions,
            indexes,
            ..crate::testutil::spec(name, Some(ScalarType::N))
        }
    }

    /// A store without journal syncs (the tests' writes need no durability; reopening a store
    /// in the same process still finds them).
    fn open_at(path: &std::path::Path) -> Store {
        Store::open_with(
            path,
            crate::db::StoreOptions {
                sync_writes: false,
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = open_at(dir.path());
        (dir, store)
    }

    fn message(r: Result<impl std::fmt::Debug>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn index_definitions_follow_dynamodb_rules() {
        let ok = spec(
            "tbl",
            vec![
                gsi("by_g", "g", Some("gs"), IndexProjection::All),
                lsi("by_l", "l", IndexProjection::KeysOnly),
            ],
        );
        ok.validate().unwrap();

        let mut no_range = ok.clone();
        no_range.key_schema.range = None;
        no_range.attribute_definitions.retain(|d| d.name != "sk");
        assert!(message(no_range.validate())
            .contains("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"));

        let mut other_hash = ok.clone();
        other_hash.indexes[1].key_schema.hash = attr("g", ScalarType::S);
        assert!(message(other_hash.validate()).contains(
            "Index KeySchema does not have the same leading hash key as table KeySchema for index: by_l. index hash key: g, table hash key: pk"
        ));

        let mut lsi_without_range = ok.clone();
        lsi_without_range.indexes[1].key_schema.range = None;
        lsi_without_range
            .attribute_definitions
            .retain(|d| d.name != "l");
        assert!(message(lsi_without_range.validate())
            .contains("Index KeySchema does not have a range key for index: by_l"));

        let mut dup = ok.clone();
        dup.indexes[1].name = "by_g".into();
        assert!(message(dup.validate()).contains("Duplicate index name: by_g"));

        let mut unused = ok.clone();
        unused
            .attribute_definitions
            .push(attr("extra", ScalarType::S));
        assert_eq!(
            message(unused.validate()),
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [pk, sk, g, gs, l, extra], keys used: [pk, sk, g, gs, l]"
        );

        let mut undefined = ok.clone();
        undefined.attribute_definitions.retain(|d| d.name != "gs");
        assert!(message(undefined.validate()).contains(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [g, gs]"
        ));

        let mut typed = ok.clone();
        typed.indexes[0].key_schema.hash.attr_type = ScalarType::B;
        assert!(message(typed.validate())
            .contains("Type mismatch between KeySchema and AttributeDefinitions"));

        let many_lsi = spec(
            "tbl",
            (0..6)
                .map(|i| lsi(&format!("l{i}"), &format!("r{i}"), IndexProjection::All))
                .collect(),
        );
        assert!(message(many_lsi.validate())
            .contains("Number of LocalSecondaryIndexes exceeds per-table limit of 5"));
        let many_gsi = spec(
            "tbl",
            (0..21)
                .map(|i| {
                    gsi(
                        &format!("g{i}"),
                        &format!("h{i}"),
                        None,
                        IndexProjection::All,
                    )
                })
                .collect(),
        );
        assert!(message(many_gsi.validate())
            .contains("GlobalSecondaryIndex count exceeds the per-table limit of 20"));
        let twenty = spec(
            "tbl",
            (0..20)
                .map(|i| {
                    gsi(
                        &format!("g{i}"),
                        &format!("h{i}"),
                        None,
                        IndexProjection::All,
                    )
                })
                .collect(),
        );
        twenty.validate().unwrap();

        let mut on_demand_throughput = ok.clone();
        on_demand_throughput.indexes[0].throughput = Some(Throughput { read: 1, write: 1 });
        assert!(message(on_demand_throughput.validate()).contains(
            "ProvisionedThroughput should not be specified for index: by_g when BillingMode is PAY_PER_REQUEST"
        ));
        let mut provisioned = ok;
        provisioned.billing_mode = BillingMode::Provisioned;
        provisioned.throughput = Some(Throughput { read: 1, write: 1 });
        assert!(message(provisioned.validate())
            .contains("ProvisionedThroughput must be specified for index: by_g"));
    }

    #[test]
    fn entries_are_ordered_by_index_key_then_table_key() {
        let table_keys = keys(attr("pk", ScalarType::S), Some(attr("sk", ScalarType::N)));
        let ix = IndexMeta::new(
            gsi("g", "g", Some("gs"), IndexProjection::KeysOnly),
            IndexStatus::Active,
            false,
        );
        let e = |g: &str, gs: i64, pk: &str, sk: i64| {
            entry(
                &table_keys,
                &ix,
                &item(&[
                    ("pk", s(pk)),
                    ("sk", n(sk)),
                    ("g", s(g)),
                    ("gs", n(gs)),
                    ("other", s("x")),
                ]),
            )
            .unwrap()
        };
        let (k1, p1) = e("a", 1, "z", 9);
        let (k2, _) = e("a", 1, "zz", 0);
        let (k3, _) = e("a", 2, "a", 0);
        assert!(k1 < k2 && k2 < k3);
        // The same partition prefix as a table key with that value.
        assert!(k1.starts_with(&key::partition_prefix(&s("a")).unwrap()));
        // KEYS_ONLY: table and index keys only.
        assert_eq!(
            p1.keys().cloned().collect::<Vec<_>>(),
            vec!["g", "gs", "pk", "sk"]
        );
        // Sparse: no entry without every index key attribute.
        assert!(entry(
            &table_keys,
            &ix,
            &item(&[("pk", s("p")), ("sk", n(1)), ("g", s("a"))])
        )
        .is_none());
    }

    #[test]
    fn index_writes_follow_dynamodb_counting() {
        let (_dir, store) = open();
        let meta = store
            .create_table(spec(
                "tbl",
                vec![
                    gsi("by_g", "g", None, IndexProjection::KeysOnly),
                    gsi("by_h", "h", None, IndexProjection::All),
                ],
            ))
            .unwrap();
        let a = item(&[("pk", s("p")), ("sk", n(1)), ("g", s("x")), ("v", n(1))]);
        let names = |w: Vec<(&IndexMeta, Vec<usize>)>| {
            w.into_iter()
                .map(|(i, sizes)| (i.name.clone(), sizes.len()))
                .collect::<Vec<_>>()
        };
        // Insert into by_g only (no h).
        assert_eq!(
            names(index_writes(&meta, None, Some(&a))),
            vec![("by_g".to_string(), 1)]
        );
        // v is not projected into by_g: nothing to write.
        let mut b = a.clone();
        b.insert("v".into(), n(2));
        assert!(index_writes(&meta, Some(&a), Some(&b)).is_empty());
        // A new index key: delete and put.
        b.insert("g".into(), s("y"));
        assert_eq!(
            names(index_writes(&meta, Some(&a), Some(&b))),
            vec![("by_g".to_string(), 2)]
        );
        assert_eq!(
            names(index_writes(&meta, Some(&b), None)),
            vec![("by_g".to_string(), 1)]
        );
    }

    #[test]
    fn projections_keep_what_they_name() {
        let table_keys = keys(attr("pk", ScalarType::S), None);
        let full = item(&[("pk", s("p")), ("g", s("a")), ("x", n(1)), ("y", n(2))]);
        let include = IndexMeta::new(
            gsi("g", "g", None, IndexProjection::Include(vec!["x".into()])),
            IndexStatus::Active,
            false,
        );
        assert_eq!(
            project(&table_keys, &include, &full),
            item(&[("pk", s("p")), ("g", s("a")), ("x", n(1))])
        );
        assert!(include.projects(&table_keys, ["pk", "x", "g"].into_iter()));
        assert!(!include.projects(&table_keys, ["y"].into_iter()));
        let all = IndexMeta::new(
            gsi("g", "g", None, IndexProjection::All),
            IndexStatus::Active,
            false,
        );
        assert_eq!(project(&table_keys, &all, &full), full);
    }

    /// Every entry of an index, read page by page through Scan (small pages, so paging with
    /// LastEvaluatedKey is exercised too).
    fn scan_all(store: &Store, table: &str, index: &str) -> Vec<Item> {
        let mut out = Vec::new();
        let mut req = PageRequest {
            exclusive_start_key: None,
            limit: Some(7),
        };
        loop {
            let read = IndexRead {
                name: index,
                fetch_table_items: false,
            };
            let page = store
                .scan_index(table, read, None, &req, |_| Ok(true))
                .unwrap();
            out.extend(page.items);
            match page.last_evaluated_key {
                Some(k) => req.exclusive_start_key = Some(k),
                None => return out,
            }
        }
    }

    /// What an index must hold given the table's items (read by a full Scan).
    fn expected(store: &Store, table: &str, index: &str) -> Vec<Item> {
        let meta = store.table_meta(table).unwrap();
        let ix = meta.indexes.iter().find(|i| i.name == index).unwrap();
        let mut all = Vec::new();
        let mut req = PageRequest::default();
        loop {
            let page = store.scan(table, None, &req, |_| Ok(true)).unwrap();
            all.extend(page.items);
            match page.last_evaluated_key {
                Some(k) => req.exclusive_start_key = Some(k),
                None => break,
            }
        }
        let mut out: Vec<(Vec<u8>, Item)> = all
            .iter()
            .filter_map(|i| entry(&meta.key_schema, ix, i))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, i)| i).collect()
    }

    fn query(
        store: &Store,
        table: &str,
        index: &str,
        hash: AttributeValue,
        range: Option<RangeCondition>,
        forward: bool,
    ) -> Vec<Item> {
        let cond = KeyCondition {
            hash_value: hash,
            range,
        };
        let read = IndexRead {
            name: index,
            fetch_table_items: false,
        };
        store
            .query_index(table, read, &cond, forward, &PageRequest::default(), |_| {
                Ok(true)
            })
            .unwrap()
            .items
    }

    #[test]
    fn writes_maintain_indexes_in_the_same_batch() {
        let (_dir, store) = open();
        store
            .create_table(spec(
                "tbl",
                vec![
                    gsi(
                        "by_g",
                        "g",
                        Some("gs"),
                        IndexProjection::Include(vec!["x".into()]),
                    ),
                    lsi("by_l", "l", IndexProjection::KeysOnly),
                ],
            ))
            .unwrap();
        let put = |i: Item| store.put_item("tbl", i, |_| Ok(())).unwrap();
        put(item(&[
            ("pk", s("a")),
            ("sk", n(1)),
            ("g", s("red")),
            ("gs", n(5)),
            ("x", n(1)),
            ("y", n(1)),
            ("l", n(3)),
        ]));
        put(item(&[
            ("pk", s("a")),
            ("sk", n(2)),
            ("g", s("red")),
            ("gs", n(5)),
            ("l", n(1)),
        ]));
        put(item(&[
            ("pk", s("b")),
            ("sk", n(1)),
            ("g", s("blue")),
            ("gs", n(1)),
        ]));
        put(item(&[("pk", s("c")), ("sk", n(1)), ("x", n(9))])); // in no index

        let red = query(&store, "tbl", "by_g", s("red"), None, true);
        assert_eq!(red.len(), 2);
        assert_eq!(
            red[0],
            item(&[
                ("pk", s("a")),
                ("sk", n(1)),
                ("g", s("red")),
                ("gs", n(5)),
                ("x", n(1))
            ])
        );
        // Equal index keys: table key order; reverse order too.
        let rev = query(&store, "tbl", "by_g", s("red"), None, false);
        assert_eq!(rev[0]["sk"], n(2));
        // Sort-key conditions on an index whose entries share sort values.
        for (cond, count) in [
            (RangeCondition::Eq(n(5)), 2),
            (RangeCondition::Le(n(5)), 2),
            (RangeCondition::Lt(n(5)), 0),
            (RangeCondition::Ge(n(5)), 2),
            (RangeCondition::Gt(n(4)), 2),
            (RangeCondition::Gt(n(5)), 0),
            (RangeCondition::Between(n(5), n(5)), 2),
        ] {
            assert_eq!(
                query(&store, "tbl", "by_g", s("red"), Some(cond.clone()), true).len(),
                count,
                "{cond:?}"
            );
        }
        let local = query(&store, "tbl", "by_l", s("a"), None, true);
        assert_eq!(
            local.iter().map(|i| i["l"].clone()).collect::<Vec<_>>(),
            vec![n(1), n(3)]
        );
        assert_eq!(local[0], item(&[("pk", s("a")), ("sk", n(2)), ("l", n(1))]));

        // Move an item to another index partition, drop one out of the index, delete one.
        put(item(&[
            ("pk", s("a")),
            ("sk", n(1)),
            ("g", s("blue")),
            ("gs", n(0)),
            ("l", n(3)),
        ]));
        put(item(&[("pk", s("b")), ("sk", n(1)), ("gs", n(1))]));
        store
            .delete_item("tbl", &item(&[("pk", s("a")), ("sk", n(2))]), |_| Ok(()))
            .unwrap();
        assert!(query(&store, "tbl", "by_g", s("red"), None, true).is_empty());
        let blue = query(&store, "tbl", "by_g", s("blue"), None, true);
        assert_eq!(blue.len(), 1);
        assert_eq!(blue[0]["sk"], n(1));
        assert!(!blue[0].contains_key("x"));
        for ix in ["by_g", "by_l"] {
            assert_eq!(
                scan_all(&store, "tbl", ix),
                expected(&store, "tbl", ix),
                "{ix}"
            );
        }

        // A multi-item write that is cancelled leaves the indexes alone.
        let cancelled = store.write_items(vec![
            crate::db::TransactAction {
                table: "tbl".into(),
                key: item(&[("pk", s("z")), ("sk", n(1))]),
                decide: Box::new(|_, _| {
                    Ok(Mutation::Put(item(&[
                        ("pk", s("z")),
                        ("sk", n(1)),
                        ("g", s("red")),
                        ("gs", n(1)),
                    ])))
                }),
            },
            crate::db::TransactAction {
                table: "tbl".into(),
                key: item(&[("pk", s("c")), ("sk", n(1))]),
                decide: Box::new(|_, _| Err(StoreError::ConditionalCheckFailed { item: None })),
            },
        ]);
        assert!(cancelled.is_err());
        assert!(query(&store, "tbl", "by_g", s("red"), None, true).is_empty());
    }

    #[test]
    fn wrong_index_key_types_are_refused() {
        let (_dir, store) = open();
        store
            .create_table(spec(
                "tbl",
                vec![gsi("by_g", "g", Some("gs"), IndexProjection::All)],
            ))
            .unwrap();
        let refused = store.put_item(
            "tbl",
            item(&[("pk", s("a")), ("sk", n(1)), ("g", n(1))]),
            |_| Ok(()),
        );
        assert_eq!(
            message(refused),
            "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: by_g"
        );
        let empty = store.put_item(
            "tbl",
            item(&[("pk", s("a")), ("sk", n(1)), ("g", s(""))]),
            |_| Ok(()),
        );
        assert!(message(empty)
            .contains("cannot contain an empty string value. IndexName: by_g, IndexKey: g"));
        // Through a read-modify-write too.
        store
            .put_item("tbl", item(&[("pk", s("a")), ("sk", n(1))]), |_| Ok(()))
            .unwrap();
        let update = store.write_item("tbl", &item(&[("pk", s("a")), ("sk", n(1))]), |_, old| {
            let mut new = old.cloned().unwrap();
            new.insert("gs".into(), s("not a number"));
            Ok(Mutation::Put(new))
        });
        assert!(message(update).contains("Type mismatch for Index Key gs Expected: N Actual: S"));
    }

    #[test]
    fn index_reads_page_with_index_and_table_keys() {
        let (_dir, store) = open();
        store
            .create_table(spec(
                "tbl",
                vec![gsi("by_g", "g", Some("gs"), IndexProjection::KeysOnly)],
            ))
            .unwrap();
        for i in 0..25 {
            store
                .put_item(
                    "tbl",
                    item(&[
                        ("pk", s(&format!("p{}", i % 4))),
                        ("sk", n(i)),
                        ("g", s("same")),
                        ("gs", n(i % 3)),
                    ]),
                    |_| Ok(()),
                )
                .unwrap();
        }
        let cond = KeyCondition {
            hash_value: s("same"),
            range: Some(RangeCondition::Ge(n(1))),
        };
        let read = IndexRead {
            name: "by_g",
            fetch_table_items: false,
        };
        let mut req = PageRequest {
            exclusive_start_key: None,
            limit: Some(4),
        };
        let mut seen = Vec::new();
        loop {
            let page = store
                .query_index("tbl", read, &cond, true, &req, |_| Ok(true))
                .unwrap();
            if let Some(k) = &page.last_evaluated_key {
                assert_eq!(
                    k.keys().cloned().collect::<Vec<_>>(),
                    vec!["g", "gs", "pk", "sk"]
                );
            }
            seen.extend(page.items.iter().map(|i| i["sk"].clone()));
            match page.last_evaluated_key {
                Some(k) => req.exclusive_start_key = Some(k),
                None => break,
            }
        }
        let all = query(
            &store,
            "tbl",
            "by_g",
            s("same"),
            Some(RangeCondition::Ge(n(1))),
            true,
        );
        assert_eq!(seen.len(), all.len());
        assert_eq!(
            seen,
            all.iter().map(|i| i["sk"].clone()).collect::<Vec<_>>()
        );
        // A starting key with only the table key is refused.
        let bad = PageRequest {
            exclusive_start_key: Some(item(&[("pk", s("p0")), ("sk", n(0))])),
            limit: None,
        };
        assert!(
            message(store.query_index("tbl", read, &cond, true, &bad, |_| Ok(true)))
                .contains("The provided starting key is invalid")
        );
        // Unknown index.
        let missing = IndexRead {
            name: "nope",
            fetch_table_items: false,
        };
        assert_eq!(
            message(store.scan_index("tbl", missing, None, &PageRequest::default(), |_| Ok(true))),
            "The table does not have the specified index: nope"
        );
        // Parallel scan segments of an index cover it once.
        let mut count = 0;
        for seg in 0..3 {
            count += store
                .scan_index("tbl", read, Some((seg, 3)), &PageRequest::default(), |_| {
                    Ok(true)
                })
                .unwrap()
                .items
                .len();
        }
        assert_eq!(count, 25);
    }

    #[test]
    fn a_local_index_can_return_table_items() {
        let (_dir, store) = open();
        store
            .create_table(spec(
                "tbl",
                vec![lsi("by_l", "l", IndexProjection::KeysOnly)],
            ))
            .unwrap();
        let full = item(&[
            ("pk", s("a")),
            ("sk", n(1)),
            ("l", n(7)),
            ("big", s("payload")),
        ]);
        store.put_item("tbl", full.clone(), |_| Ok(())).unwrap();
        let read = IndexRead {
            name: "by_l",
            fetch_table_items: true,
        };
        let cond = KeyCondition {
            hash_value: s("a"),
            range: None,
        };
        let page = store
            .query_index("tbl", read, &cond, true, &PageRequest::default(), |_| {
                Ok(true)
            })
            .unwrap();
        assert_eq!(page.items, vec![full]);
    }

    fn wait_active(store: &Store, table: &str, index: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let meta = store.table_meta(table).unwrap();
            let ix = meta.indexes.iter().find(|i| i.name == index).unwrap();
            if ix.status == IndexStatus::Active {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "index {index} still {:?}",
                ix.status
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn create_gsi(store: &Store, table: &str, index: IndexSpec) {
        let definitions = index.key_schema.attributes().cloned().collect();
        store
            .update_global_index(
                table,
                IndexUpdate::Create {
                    index,
                    attribute_definitions: definitions,
                },
            )
            .unwrap();
    }

    #[test]
    fn an_index_added_to_a_busy_table_ends_exact() {
        let (_dir, store) = open();
        store.create_table(spec("tbl", vec![])).unwrap();
        let row = |p: u64, v: u64| {
            let mut i = item(&[("pk", s(&format!("p{p}"))), ("sk", n((p % 5) as i64))]);
            // Some items have no index key, some a wrong-typed one (skipped by the build).
            match v % 7 {
                0 => {}
                1 => {
                    i.insert("g".into(), n(1));
                }
                _ => {
                    i.insert("g".into(), s(&format!("g{}", v % 13)));
                    i.insert("gs".into(), n((v % 11) as i64));
                }
            }
            i.insert("v".into(), n(v as i64));
            i
        };
        for p in 0..3000 {
            store.put_item("tbl", row(p, p), |_| Ok(())).unwrap();
        }
        let store = Arc::new(store);
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..4u64)
            .map(|w| {
                let (store, stop) = (store.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut x = w;
                    while !stop.load(Ordering::Relaxed) {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let p = (x >> 33) % 3500;
                        let key = item(&[("pk", s(&format!("p{p}"))), ("sk", n((p % 5) as i64))]);
                        let v = x >> 40;
                        if v % 5 == 0 {
                            store.delete_item("tbl", &key, |_| Ok(())).unwrap();
                        } else if v % 7 == 1 {
                            // Wrong type once the index exists: refused then, accepted before.
                            let _ = store.put_item("tbl", row(p, v), |_| Ok(()));
                        } else {
                            store.put_item("tbl", row(p, v), |_| Ok(())).unwrap();
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        create_gsi(
            &store,
            "tbl",
            gsi(
                "by_g",
                "g",
                Some("gs"),
                IndexProjection::Include(vec!["v".into()]),
            ),
        );
        let meta = store.table_meta("tbl").unwrap();
        assert_eq!(meta.indexes[0].status, IndexStatus::Creating);
        let early = store.scan_index(
            "tbl",
            IndexRead {
                name: "by_g",
                fetch_table_items: false,
            },
            None,
            &PageRequest::default(),
            |_| Ok(true),
        );
        match early {
            Err(e) => assert_eq!(
                e.to_string(),
                "Cannot read from backfilling global secondary index: by_g"
            ),
            // Only if the build finished already.
            Ok(_) => assert_eq!(
                store.table_meta("tbl").unwrap().indexes[0].status,
                IndexStatus::Active
            ),
        }
        wait_active(&store, "tbl", "by_g");
        std::thread::sleep(Duration::from_millis(50));
        stop.store(true, Ordering::Relaxed);
        writers.into_iter().for_each(|t| t.join().unwrap());
        let got = scan_all(&store, "tbl", "by_g");
        assert!(got.len() > 1000, "{}", got.len());
        assert_eq!(got, expected(&store, "tbl", "by_g"));
    }

    #[test]
    fn indexes_survive_reopen_and_interrupted_builds_resume() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open_at(dir.path());
            store
                .create_table(spec("tbl", vec![lsi("by_l", "l", IndexProjection::All)]))
                .unwrap();
            for p in 0..5000 {
                store
                    .put_item(
                        "tbl",
                        item(&[
                            ("pk", s(&format!("p{p}"))),
                            ("sk", n(1)),
                            ("g", s("x")),
                            ("l", n(p)),
                        ]),
                        |_| Ok(()),
                    )
                    .unwrap();
            }
            // As if the process stopped: the build gives up before its first chunk.
            store.background.state.stop.store(true, Ordering::Relaxed);
            create_gsi(
                &store,
                "tbl",
                gsi("by_g", "g", None, IndexProjection::KeysOnly),
            );
        }
        let store = open_at(dir.path());
        let status = |store: &Store| store.table_meta("tbl").unwrap().indexes[1].status;
        if status(&store) == IndexStatus::Active {
            // Resumed and finished already: the interrupted build had written nothing.
            assert_eq!(scan_all(&store, "tbl", "by_g").len(), 5000);
        }
        wait_active(&store, "tbl", "by_g");
        for ix in ["by_g", "by_l"] {
            let got = scan_all(&store, "tbl", ix);
            assert_eq!(got.len(), 5000, "{ix}");
            assert_eq!(got, expected(&store, "tbl", ix), "{ix}");
        }
        let info = store.describe_table("tbl").unwrap();
        assert_eq!(info.indexes.len(), 2);
        assert!(info.indexes.iter().all(|i| i.item_count >= 5000));
    }

    #[test]
    fn deleting_an_index_drops_its_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_at(dir.path());
        store
            .create_table(spec(
                "tbl",
                vec![gsi("by_g", "g", None, IndexProjection::All)],
            ))
            .unwrap();
        store
            .put_item(
                "tbl",
                item(&[("pk", s("a")), ("sk", n(1)), ("g", s("x"))]),
                |_| Ok(()),
            )
            .unwrap();
        let first_id = store.table_meta("tbl").unwrap().indexes[0].id;
        let (meta, removed) = store
            .update_global_index(
                "tbl",
                IndexUpdate::Delete {
                    name: "by_g".into(),
                },
            )
            .unwrap();
        assert_eq!(removed.unwrap().name, "by_g");
        assert!(meta.indexes.is_empty());
        assert_eq!(
            meta.attribute_definitions
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>(),
            vec!["pk", "sk"]
        );
        assert!(!store.db.keyspace_exists(&keyspace_name(&first_id)));
        // Writes go on without the index; a new index of the same name starts from the items.
        store
            .put_item(
                "tbl",
                item(&[("pk", s("b")), ("sk", n(1)), ("g", s("x"))]),
                |_| Ok(()),
            )
            .unwrap();
        create_gsi(&store, "tbl", gsi("by_g", "g", None, IndexProjection::All));
        wait_active(&store, "tbl", "by_g");
        assert_eq!(scan_all(&store, "tbl", "by_g").len(), 2);
        let missing = store.update_global_index(
            "tbl",
            IndexUpdate::Delete {
                name: "nope".into(),
            },
        );
        assert!(matches!(missing, Err(StoreError::ResourceNotFound(_))));
        drop(store);
        let store = open_at(dir.path());
        assert_eq!(scan_all(&store, "tbl", "by_g").len(), 2);
        store.delete_table("tbl").unwrap();
        assert!(!store
            .db
            .list_keyspace_names()
            .iter()
            .any(|k| k.starts_with(KEYSPACE_PREFIX)));
    }
}
