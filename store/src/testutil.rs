//! Helpers for the store's unit tests: tables, indexes, items, a store in a temporary
//! directory, and reads of whole indexes.

use std::collections::BTreeMap;

use crate::db::index_entries::entry;
use crate::expr::{KeyCondition, RangeCondition};
use crate::schema::IndexRead;
use crate::schema::{
    BillingMode, IndexKind, IndexProjection, IndexSpec, KeyAttribute, KeySchema, ScalarType,
    TableSpec,
};
use crate::value::{AttributeValue, Item, Number};
use crate::{Mutation, PageRequest, Result, Store, StoreOptions, TransactAction};

/// A string value.
pub(crate) fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number value.
pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(Number::from_i64(v))
}

/// An item from name-value pairs.
pub(crate) fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A pay-per-request table `name` keyed by `pk` (S) and, if given, `sk` of type `range`.
pub(crate) fn spec(name: &str, range: Option<ScalarType>) -> TableSpec {
    let hash = KeyAttribute {
        name: "pk".into(),
        attr_type: ScalarType::S,
    };
    let range = range.map(|t| KeyAttribute {
        name: "sk".into(),
        attr_type: t,
    });
    TableSpec {
        name: name.into(),
        attribute_definitions: std::iter::once(hash.clone()).chain(range.clone()).collect(),
        key_schema: KeySchema::new(hash, range),
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        tags: BTreeMap::new(),
        deletion_protection: false,
        table_class: None,
        stream: None,
        indexes: Vec::new(),
    }
}

/// A key attribute.
pub(crate) fn attr(name: &str, t: ScalarType) -> KeyAttribute {
    KeyAttribute {
        name: name.into(),
        attr_type: t,
    }
}

/// A key schema.
pub(crate) fn keys(hash: KeyAttribute, range: Option<KeyAttribute>) -> KeySchema {
    KeySchema::new(hash, range)
}

/// A global index `name` keyed by `hash` (S) and, if given, `range` (N).
pub(crate) fn gsi(
    name: &str,
    hash: &str,
    range: Option<&str>,
    projection: IndexProjection,
) -> IndexSpec {
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

/// A local index `name` with the sort key `range` (N).
pub(crate) fn lsi(name: &str, range: &str, projection: IndexProjection) -> IndexSpec {
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
pub(crate) fn indexed_spec(name: &str, indexes: Vec<IndexSpec>) -> TableSpec {
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
        ..spec(name, Some(ScalarType::N))
    }
}

/// The message of an error.
pub(crate) fn message(r: Result<impl std::fmt::Debug>) -> String {
    r.unwrap_err().to_string()
}

/// A store without journal syncs (the tests' writes need no durability; reopening a store
/// in the same process still finds them).
pub(crate) fn open_unsynced_at(path: &std::path::Path) -> Store {
    Store::open_with(
        path,
        StoreOptions {
            sync_writes: false,
            ..Default::default()
        },
    )
    .unwrap()
}

/// [`open_unsynced_at`] in a fresh temporary directory.
pub(crate) fn open_unsynced() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_unsynced_at(dir.path());
    (dir, store)
}

/// A store in a fresh temporary directory (keep the directory alive as long as the store).
pub(crate) fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A transaction action that puts `item` into `table`.
pub(crate) fn put_action(table: &str, item: Item) -> TransactAction<'static> {
    TransactAction {
        table: table.into(),
        key: item
            .iter()
            .filter(|(k, _)| *k == "pk" || *k == "sk")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        decide: Box::new(move |_, _| Ok(Mutation::Put(item))),
    }
}

/// A transaction action that deletes the item with `key` from `table`.
pub(crate) fn delete_action(table: &str, key: Item) -> TransactAction<'static> {
    TransactAction {
        table: table.into(),
        key,
        decide: Box::new(|_, _| Ok(Mutation::Delete)),
    }
}

/// Every entry of an index, read page by page through Scan (small pages, so paging with
/// LastEvaluatedKey is exercised too).
pub(crate) fn scan_index_all(store: &Store, table: &str, index: &str) -> Vec<Item> {
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
pub(crate) fn expected_index(store: &Store, table: &str, index: &str) -> Vec<Item> {
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
        .map(|(k, i)| (k, i.into_owned()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, i)| i).collect()
}

/// One page of a Query on an index, all items.
pub(crate) fn query_index(
    store: &Store,
    table: &str,
    index: &str,
    hash: AttributeValue,
    range: Option<RangeCondition>,
    forward: bool,
) -> Vec<Item> {
    let cond = KeyCondition::single(hash, range);
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
