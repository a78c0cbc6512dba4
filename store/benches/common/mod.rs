//! What the store's benchmarks share: a table definition.

use std::collections::BTreeMap;

use tarn_store::schema::{BillingMode, KeyAttribute, KeySchema, ScalarType, TableSpec};

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
