//! Secondary index definitions and DynamoDB's rules for them: what CreateTable and UpdateTable
//! ask for ([`IndexSpec`], [`IndexUpdate`]), what the catalog keeps ([`IndexMeta`]), the checks
//! on a new table's indexes, and the checks on the index key attributes an item carries.
//!
//! How entries are stored and kept in step with the items lives in the database's write path
//! (`db::index_entries`); builds of an index added to a table with data in [`crate::index`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    BillingMode, KeyAttribute, KeySchema, TableMeta, TableSpec, Throughput,
    MAX_KEY_PART_ATTRIBUTES, MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES,
};
use crate::error::{Result, StoreError};
use crate::value::{AttributeValue, Item};

/// Most global secondary indexes on one table (DynamoDB's default quota).
pub const MAX_GLOBAL_INDEXES: usize = 20;
/// Most local secondary indexes on one table.
pub const MAX_LOCAL_INDEXES: usize = 5;

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
    /// A new index (with a fresh id) made from `spec`.
    pub(crate) fn new(spec: IndexSpec, status: IndexStatus, online: bool) -> IndexMeta {
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

    /// The index key values of `item`: `Ok(None)` when an index key attribute is missing (the
    /// item is not in the index: with a multi-attribute key, missing any one of them is
    /// enough), an error when one present has the wrong type or an invalid value.
    pub(crate) fn key_values<'a>(&self, item: &'a Item) -> Result<Option<IndexKeyValues<'a>>> {
        let mut complete = true;
        let mut part = |attrs: &mut dyn Iterator<Item = &KeyAttribute>, is_hash: bool| {
            let mut values = Vec::new();
            for attr in attrs {
                match item.get(&attr.name) {
                    None => complete = false,
                    Some(v) => {
                        check_index_key_value(self, attr, is_hash, v)?;
                        values.push(v);
                    }
                }
            }
            Ok::<_, StoreError>(values)
        };
        let hash = part(&mut self.key_schema.hash_attributes(), true)?;
        let range = part(&mut self.key_schema.range_attributes(), false)?;
        Ok(complete.then_some(IndexKeyValues { hash, range }))
    }
}

/// The index key values of one item, each part in key order.
#[derive(Debug)]
pub(crate) struct IndexKeyValues<'a> {
    /// The partition key attributes' values.
    pub(crate) hash: Vec<&'a AttributeValue>,
    /// The sort key attributes' values (empty when the index has no sort key).
    pub(crate) range: Vec<&'a AttributeValue>,
}

impl IndexKeyValues<'_> {
    /// The index part of the entry's storage key (see [`crate::key::composite_key`]).
    pub(crate) fn storage_key(&self) -> Option<Vec<u8>> {
        crate::key::composite_key(&self.hash, &self.range)
    }
}

/// Names of index keyspaces start with this (`x-<index id>`).
pub(crate) const KEYSPACE_PREFIX: &str = "x-";

/// The name of the keyspace holding the entries of index `id`.
pub(crate) fn keyspace_name(id: &Uuid) -> String {
    format!("{KEYSPACE_PREFIX}{}", id.simple())
}

/// Live figures about one index, for DescribeTable.
#[derive(Clone, Debug)]
pub struct IndexInfo {
    /// Index name.
    pub name: String,
    /// Number of entries, exact (kept by every write).
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

pub(crate) fn invalid<T>(m: impl std::fmt::Display) -> Result<T> {
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
pub(crate) fn check_index_keys(spec: &IndexSpec, definitions: &[KeyAttribute]) -> Result<()> {
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
    check_multi_attribute_key(spec)?;
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

/// Checks the parts of a multi-attribute index key: only a global index has one, each part has
/// at most [`MAX_KEY_PART_ATTRIBUTES`] attributes, and no attribute appears twice.
fn check_multi_attribute_key(spec: &IndexSpec) -> Result<()> {
    let ks = &spec.key_schema;
    if !ks.is_multi_attribute() {
        return Ok(());
    }
    if spec.kind == IndexKind::Local {
        return invalid(format!(
            "Multi-attribute keys are supported only for global secondary indexes. IndexName: {}",
            spec.name
        ));
    }
    // DynamoDB's messages (as DynamoDB Local 3.3 answers them).
    for (count, which) in [
        (ks.hash_attributes().count(), "partition"),
        (ks.range_attributes().count(), "sort"),
    ] {
        if count > MAX_KEY_PART_ATTRIBUTES {
            return Err(StoreError::Validation(format!(
                "Too many {which} keys. GSI can have at most {MAX_KEY_PART_ATTRIBUTES} {which} keys"
            )));
        }
    }
    let mut seen = HashSet::new();
    for a in ks.attributes() {
        if !seen.insert(a.name.as_str()) {
            return Err(StoreError::Validation(
                "Two keys can not have the same name".into(),
            ));
        }
    }
    Ok(())
}

/// Checks the provisioned throughput of a global index against the table's billing mode.
pub(crate) fn check_global_throughput(spec: &IndexSpec, billing: BillingMode) -> Result<()> {
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

// ---- the index keys an item carries ----

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

/// Checks the index key attributes an item carries against every index of its table, as a
/// write does before storing it: a present index key attribute must have the type the
/// AttributeDefinitions give it and a valid key value.
pub fn check_item(meta: &TableMeta, item: &Item) -> Result<()> {
    for index in &meta.indexes {
        index.key_values(item)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ScalarType;
    use crate::testutil::{attr, gsi, indexed_spec as spec, lsi, message};

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
}
