//! The read paths: GetItem (one item, or several as of one instant), and pages of Query and
//! Scan on a table or on one of its secondary indexes.
//!
//! Plain reads take no lock and read through the durable view ([`Db::read_view`]): a
//! snapshot of what the last journal sync made durable, so a read never shows a write that a
//! crash could still lose (a store that does not sync reads the latest data). A snapshot holds
//! committed batches whole, so an item, an index entry or a page never shows half a write. A
//! page stops at the request's Limit or at 1 MB of items read, and carries the key to continue
//! after (LastEvaluatedKey) when it stopped early.
//!
//! GetItem (and BatchGetItem, item by item) first asks the row cache ([`super::row_cache`]),
//! which holds items as a durable view read them and loses them when a write commits; a miss
//! reads through the view and offers what it read.
//!
//! The write path reads the latest data instead ([`Db::read_item`], under the item's lock):
//! a condition must see the write before it.

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

use uuid::Uuid;

use super::index_entries::{self, OpenIndex};
use super::row_cache::SharedItem;
use super::table::Table;
use super::Db;
use crate::commit::ReadView;
use crate::error::{Result, StoreError};
use crate::expr::{KeyCondition, RangeCondition};
use crate::key;
use crate::schema::{IndexMeta, IndexRead, IndexStatus, KeyAttribute, KeySchema, TableMeta};
use crate::value::{item_size, AttributeValue, Item};

/// DynamoDB's page limit for Query and Scan: reading stops after 1 MB of items.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

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

/// A lower and an upper bound on encoded keys.
type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

impl Db {
    /// The latest item stored under `key` in `table`, if any, durable or not (the write
    /// path, under the item's lock).
    pub(crate) fn read_item(&self, table: &Table, key: &[u8]) -> Result<Option<Item>> {
        self.read_item_in(&ReadView::Latest, table, key)
    }

    /// The item stored under `key` in `table` as `view` sees it.
    fn read_item_in(&self, view: &ReadView, table: &Table, key: &[u8]) -> Result<Option<Item>> {
        (view.get(&table.items, key)?)
            .map(|v| self.codec.decode(&table.meta.id, key, &v))
            .transpose()
    }

    /// Reads one item by its key: from the row cache ([`super::row_cache`]) when it holds
    /// the item, or through the durable view, offering what it read to the cache. The item is
    /// shared with the cache: a hit copies nothing.
    pub(crate) fn get_item_shared(
        &self,
        table: &str,
        key: &Item,
    ) -> Result<Option<Arc<SharedItem>>> {
        let table = self.table(table)?;
        let k = table.meta.key_schema.storage_key(key)?;
        if !self.rows.is_on() {
            return Ok(self
                .read_item_in(&self.read_view(), &table, &k)?
                .map(|item| Arc::new(SharedItem::new(item))));
        }
        let id = &table.meta.id;
        if let Some(row) = self.rows.get(id, &k) {
            return Ok(row);
        }
        let view = self.read_view();
        // Taken before the read (for the latest data, the read may see more, never less).
        let seen = view.seqno(&self.fjall);
        let item = self
            .read_item_in(&view, &table, &k)?
            .map(|item| Arc::new(SharedItem::new(item)));
        self.rows.offer(id, &k, seen, item.clone());
        Ok(item)
    }

    /// Reads one item by its key, as [`Db::get_item_shared`] does, as an item of its own.
    pub(crate) fn get_item(&self, table: &str, key: &Item) -> Result<Option<Item>> {
        Ok(self.get_item_shared(table, key)?.map(SharedItem::into_item))
    }

    /// Reads several items as of one instant (TransactGetItems): through one view, with every
    /// item's lock held, so no multi-item write lands between the reads.
    pub(crate) fn get_items(&self, keys: &[(String, Item)]) -> Result<Vec<Option<Item>>> {
        let mut resolved = Vec::with_capacity(keys.len());
        for (table, key) in keys {
            let table = self.table(table)?;
            let k = table.meta.key_schema.storage_key(key)?;
            resolved.push((table, k));
        }
        let _held = self
            .locks
            .lock(resolved.iter().map(|(t, k)| (&t.meta.id, k.as_slice())));
        let view = self.read_view();
        resolved
            .iter()
            .map(|(t, k)| self.read_item_in(&view, t, k))
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
            let key = key_attributes(keys, &stored);
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
            meta.key_schema.storage_key(k).map_err(|_| {
                StoreError::Validation("The provided starting key is invalid: The provided key element does not match the schema".into())
            })
        })
        .transpose()
    }

    /// Reads one page of a partition in sort-key order (or reverse), optionally restricted by a
    /// sort-key condition. `filter` decides which read items are returned.
    pub(crate) fn query(
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
        let range = self.read_view().range::<Vec<u8>, _>(&table.items, (lo, hi));
        if forward {
            self.read_page(meta, range, page.limit, filter)
        } else {
            self.read_page(meta, range.rev(), page.limit, filter)
        }
    }

    /// Reads one page of a whole table, or of one segment of a parallel scan
    /// (`segment` of `total_segments`, together covering the table exactly once).
    pub(crate) fn scan(
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
            self.read_view().range::<Vec<u8>, _>(&table.items, (lo, hi)),
            page.limit,
            filter,
        )
    }

    // ---- reads on a secondary index ----

    /// The table and the index a read on an index reads (the index must be ACTIVE).
    fn read_target(&self, table: &str, index: &str) -> Result<(Arc<Table>, OpenIndex)> {
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
        let index_key = index.key_values(esk).map_err(|_| bad())?.ok_or_else(bad)?;
        index_entries::entry_key(table_keys, &index_key, esk)
            .map(Some)
            .ok_or_else(bad)
    }

    /// Turns index entries into the items a read returns: the projected items, or the table's
    /// items as `view` sees them when `fetch` (an entry whose item vanished is skipped).
    fn resolver<'a>(
        &'a self,
        view: &'a ReadView,
        t: &'a Table,
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
            self.read_item_in(view, t, &k)
        }
    }

    /// Query on a secondary index: one page of the entries whose index partition key equals
    /// the key condition's value, in index sort-key order (or reverse).
    pub(crate) fn query_index(
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
        let (prefix, sorted) = index_prefix(keys, condition)?;
        let (mut lo, mut hi) = sort_bounds(&sorted, condition.range.as_ref(), {
            keys.range_attributes().nth(condition.range_prefix.len())
        })?;
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
        let view = self.read_view();
        let range = view.range::<Vec<u8>, _>(&ix.keyspace, (lo, hi));
        let resolve = self.resolver(&view, &t, index.fetch_table_items);
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
    pub(crate) fn scan_index(
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
        let view = self.read_view();
        self.read_entries(
            &t.meta.id,
            &key_schemas,
            view.range::<Vec<u8>, _>(&ix.keyspace, (lo, hi)),
            page.limit,
            self.resolver(&view, &t, index.fetch_table_items),
            filter,
        )
    }
}

/// The attributes of `item` that belong to one of the key schemas `keys`.
pub(crate) fn key_attributes(keys: &[&KeySchema], item: &Item) -> Item {
    keys.iter()
        .flat_map(|k| k.attributes())
        .filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
        .collect()
}

/// The prefixes of an index Query's entries: the partition's (every partition key attribute,
/// in order), and that followed by the sort key values the condition fixes by equality.
fn index_prefix(keys: &KeySchema, condition: &KeyCondition) -> Result<(Vec<u8>, Vec<u8>)> {
    let mismatch = || {
        StoreError::Validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type".into(),
        )
    };
    let hash: Vec<&AttributeValue> = condition.hash_values().collect();
    if hash.len() != keys.hash_attributes().count()
        || condition.range_prefix.len() > keys.range_attributes().count()
    {
        return Err(StoreError::Validation(
            "Query key condition not supported".into(),
        ));
    }
    let typed = |v: &AttributeValue, a: &KeyAttribute| v.value_type() == a.attr_type.value_type();
    if !hash
        .iter()
        .zip(keys.hash_attributes())
        .all(|(v, a)| typed(v, a))
        || !condition
            .range_prefix
            .iter()
            .zip(keys.range_attributes())
            .all(|(v, a)| typed(v, a))
    {
        return Err(mismatch());
    }
    let partition = key::composite_partition_prefix(&hash)
        .ok_or_else(|| StoreError::Validation("Query key condition not supported".into()))?;
    let mut sorted = partition.clone();
    for v in &condition.range_prefix {
        key::encode_key_value(v, &mut sorted);
    }
    Ok((partition, sorted))
}

/// The key range of a Query: the partition `prefix`, narrowed by the sort-key condition on
/// `range_attr`. Keys may continue after the sort key (index entries carry the table key
/// there), so a bound that must include a sort value covers every key starting with it.
fn sort_bounds(
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
