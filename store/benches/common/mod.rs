//! What the store's benchmarks share: a table definition, a store for loading fast.

use std::collections::BTreeMap;
use std::sync::Arc;

use tarn_store::schema::{BillingMode, KeyAttribute, KeySchema, ScalarType, TableSpec};
use tarn_store::{Store, StoreOptions};

/// An on-demand table `name` with a string HASH key `pk` and no sort key.
pub fn table_spec(name: &str) -> TableSpec {
    let pk = KeyAttribute {
        name: "pk".into(),
        attr_type: ScalarType::S,
    };
    TableSpec {
        name: name.into(),
        key_schema: KeySchema {
            hash: pk.clone(),
            range: None,
            hash_rest: Vec::new(),
            range_rest: Vec::new(),
        },
        attribute_definitions: vec![pk],
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        tags: BTreeMap::new(),
        deletion_protection: false,
        table_class: None,
        stream: None,
        indexes: Vec::new(),
    }
}

/// A store in a fresh temporary directory that does not sync its journal (benchmarks load
/// much data; what they measure is not the sync).
#[allow(dead_code)]
pub fn unsynced_store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        sync_writes: false,
        ..Default::default()
    };
    let store = Arc::new(Store::open_with(dir.path(), options).unwrap());
    (dir, store)
}
