//! Helpers for the store's unit tests: tables, items and a store in a temporary directory.

use std::collections::BTreeMap;

use crate::schema::{BillingMode, KeyAttribute, KeySchema, ScalarType, TableSpec};
use crate::value::{AttributeValue, Item, Number};
use crate::{Mutation, Store, TransactAction};

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
        key_schema: KeySchema { hash, range },
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        tags: BTreeMap::new(),
        deletion_protection: false,
        table_class: None,
        stream: None,
        indexes: Vec::new(),
    }
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
