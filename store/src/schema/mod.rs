//! Definitions: what a table is, and the rules DynamoDB applies to it. This is the store's
//! vocabulary; it imports none of the machinery (only values, keys, the clock and the error
//! type), so every layer above can use it.
//!
//! - this module: key schemas, billing, status, tags, naming rules; [`TableSpec`] is what a
//!   caller asks for in CreateTable, [`TableMeta`] what the catalog keeps (the spec plus
//!   identity, time stamps, status and the definitions below), [`TableInfo`] what
//!   DescribeTable reports, [`TableUpdate`] what UpdateTable may change.
//! - [`index`]: secondary indexes ([`IndexSpec`], [`IndexMeta`]) and their rules.
//! - [`stream`]: streams ([`StreamMeta`]) and the records they hold ([`StreamRecord`]).
//! - [`ttl`]: time to live ([`TtlSpec`]) and when an item expires.
//! - [`backup`]: point-in-time recovery settings ([`PitrMeta`]) and restore summaries.
//! - [`region`]: a table's region, and the table references the store names tables by.
//!
//! Validation here follows DynamoDB's rules and messages, so every caller of the store gets
//! the same answers.

pub mod backup;
pub mod index;
pub mod region;
pub mod stream;
pub mod ttl;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::now_secs_f64;
use crate::error::{Result, StoreError};
use crate::key;
use crate::value::{AttributeValue, Item, ValueType};

pub use backup::{PitrMeta, RestoreSummary, MAX_RECOVERY_DAYS};
pub use index::{
    check_item, IndexInfo, IndexKind, IndexMeta, IndexProjection, IndexRead, IndexSpec,
    IndexStatus, IndexUpdate, MAX_GLOBAL_INDEXES, MAX_LOCAL_INDEXES,
};
pub use region::{split_table_ref, table_ref, HOME_REGION};
pub use stream::{
    ChangeKind, StreamChange, StreamMeta, StreamRead, StreamRecord, StreamState, StreamViewType,
};
pub use ttl::{expiry_of, TtlChange, TtlSpec, TtlStatus};

/// The types a key attribute may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalarType {
    /// String
    S,
    /// Number
    N,
    /// Binary
    B,
}

impl ScalarType {
    /// `"S"`, `"N"` or `"B"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }

    /// Parses `"S"`, `"N"` or `"B"`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }

    /// The matching value type.
    pub fn value_type(self) -> ValueType {
        match self {
            ScalarType::S => ValueType::S,
            ScalarType::N => ValueType::N,
            ScalarType::B => ValueType::B,
        }
    }
}

/// One key attribute: its name and type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttribute {
    /// Attribute name.
    pub name: String,
    /// Attribute type.
    pub attr_type: ScalarType,
}

impl KeyAttribute {
    /// Reads a key attribute the way tarn.toml and the command line write one: `name` (a string
    /// key) or `name:T` with T one of S, N, B in any case. The name is everything before the last
    /// `:`, so it may hold colons itself. The error says what is wrong, for people.
    pub fn from_spec(spec: &str) -> std::result::Result<KeyAttribute, String> {
        let (name, ty) = spec.rsplit_once(':').unwrap_or((spec, "S"));
        if name.is_empty() {
            return Err(format!("{spec:?}: the attribute name is empty"));
        }
        let attr_type = ScalarType::parse(&ty.to_ascii_uppercase())
            .ok_or_else(|| format!("{spec:?}: the type must be S, N or B"))?;
        Ok(KeyAttribute {
            name: name.to_string(),
            attr_type,
        })
    }
}

/// A primary key (or index key): a partition (HASH) key and an optional sort (RANGE) key.
///
/// A global secondary index may have a multi-attribute key: up to
/// [`MAX_KEY_PART_ATTRIBUTES`] partition key attributes (`hash`, then `hash_rest`) and as many
/// sort key attributes (`range`, then `range_rest`), in KeySchema order. Tables and local
/// indexes keep both lists empty, and then the catalog record is the same as before
/// multi-attribute keys existed (the lists are left out when empty, and read as empty when
/// absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    /// The partition key (the first partition key attribute of a multi-attribute key).
    pub hash: KeyAttribute,
    /// The sort key, if the table has one (the first sort key attribute of a multi-attribute
    /// key).
    pub range: Option<KeyAttribute>,
    /// The further partition key attributes of a multi-attribute key, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hash_rest: Vec<KeyAttribute>,
    /// The further sort key attributes of a multi-attribute key, in order (only with `range`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub range_rest: Vec<KeyAttribute>,
}

/// Most attributes in each part (partition key, sort key) of a multi-attribute GSI key.
pub const MAX_KEY_PART_ATTRIBUTES: usize = 4;

/// Largest partition key value, in bytes.
pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// Largest sort key value, in bytes.
pub const MAX_SORT_KEY_BYTES: usize = 1024;

impl KeySchema {
    /// A key of one partition key attribute and an optional sort key attribute.
    pub fn new(hash: KeyAttribute, range: Option<KeyAttribute>) -> KeySchema {
        KeySchema {
            hash,
            range,
            hash_rest: Vec::new(),
            range_rest: Vec::new(),
        }
    }

    /// The key attributes, partition key attributes first, each part in KeySchema order.
    pub fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        self.hash_attributes().chain(self.range_attributes())
    }

    /// The partition key attributes, in order (one unless this is a multi-attribute key).
    pub fn hash_attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.hash).chain(self.hash_rest.iter())
    }

    /// The sort key attributes, in order (none, one, or up to four of a multi-attribute key).
    pub fn range_attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        self.range.iter().chain(self.range_rest.iter())
    }

    /// Whether either part of the key has more than one attribute.
    pub fn is_multi_attribute(&self) -> bool {
        !self.hash_rest.is_empty() || !self.range_rest.is_empty()
    }

    /// Whether `name` is one of the key attributes.
    pub fn is_key_attribute(&self, name: &str) -> bool {
        self.attributes().any(|a| a.name == name)
    }

    /// Extracts exactly the key attributes from a full item, checking they are present and of
    /// the right type and size (PutItem's rules).
    pub fn key_of_item(&self, item: &Item) -> Result<Item> {
        let mut key = Item::new();
        for attr in self.attributes() {
            match item.get(&attr.name) {
                None => {
                    return Err(StoreError::Validation(format!(
                        "One or more parameter values were invalid: Missing the key {} in the item",
                        attr.name
                    )))
                }
                Some(v) => {
                    self.check_key_value(attr, v, true)?;
                    key.insert(attr.name.clone(), v.clone());
                }
            }
        }
        Ok(key)
    }

    /// Checks that `key` holds exactly the key attributes with the right types (GetItem's and
    /// DeleteItem's rules).
    pub fn validate_key(&self, key: &Item) -> Result<()> {
        let expected = self.attributes().count();
        if key.len() != expected || !self.attributes().all(|a| key.contains_key(&a.name)) {
            return Err(StoreError::Validation(
                "The provided key element does not match the schema".into(),
            ));
        }
        for attr in self.attributes() {
            self.check_key_value(attr, &key[&attr.name], false)?;
        }
        Ok(())
    }

    /// The storage key of `key` (exactly the key attributes, checked as [`Self::validate_key`]
    /// does): where the item lives in its table's keyspace.
    pub fn storage_key(&self, key: &Item) -> Result<Vec<u8>> {
        self.validate_key(key)?;
        let range = self.range.as_ref().map(|r| &key[&r.name]);
        key::item_key(&key[&self.hash.name], range).ok_or_else(no_match)
    }

    /// The storage key of a full item, checking its key attributes as
    /// [`Self::key_of_item`] does (PutItem's rules) without copying them out.
    pub fn storage_key_of_item(&self, item: &Item) -> Result<Vec<u8>> {
        let value = |attr: &KeyAttribute| -> Result<&AttributeValue> {
            let v = item.get(&attr.name).ok_or_else(|| {
                StoreError::Validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    attr.name
                ))
            })?;
            self.check_key_value(attr, v, true)?;
            Ok(v)
        };
        let hash = value(&self.hash)?;
        let range = self.range.as_ref().map(value).transpose()?;
        key::item_key(hash, range).ok_or_else(no_match)
    }

    fn check_key_value(
        &self,
        attr: &KeyAttribute,
        v: &AttributeValue,
        in_item: bool,
    ) -> Result<()> {
        if v.value_type() != attr.attr_type.value_type() {
            return Err(StoreError::Validation(if in_item {
                format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                    attr.name,
                    attr.attr_type.as_str(),
                    v.value_type()
                )
            } else {
                "The provided key element does not match the schema".into()
            }));
        }
        let is_hash = attr.name == self.hash.name;
        let (len, empty) = match v {
            AttributeValue::S(s) => (s.len(), s.is_empty()),
            AttributeValue::B(b) => (b.len(), b.is_empty()),
            _ => (0, false),
        };
        if empty {
            return Err(StoreError::Validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}",
                if matches!(v, AttributeValue::S(_)) { "string" } else { "binary" },
                attr.name
            )));
        }
        let (limit, which) = if is_hash {
            (MAX_PARTITION_KEY_BYTES, "Hash")
        } else {
            (MAX_SORT_KEY_BYTES, "Range")
        };
        if len > limit {
            return Err(StoreError::Validation(format!(
                "One or more parameter values were invalid: Size of {which}Key is too large. Key: {}, maximum allowed size is {limit} bytes",
                attr.name
            )));
        }
        Ok(())
    }
}

fn no_match() -> StoreError {
    StoreError::Validation("The provided key element does not match the schema".into())
}

/// How the table is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingMode {
    /// Provisioned capacity.
    Provisioned,
    /// On-demand.
    PayPerRequest,
}

impl BillingMode {
    /// `"PROVISIONED"` or `"PAY_PER_REQUEST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::Provisioned => "PROVISIONED",
            BillingMode::PayPerRequest => "PAY_PER_REQUEST",
        }
    }
}

/// Provisioned read and write capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    /// Read capacity units.
    pub read: u64,
    /// Write capacity units.
    pub write: u64,
}

/// A table's lifecycle status, as DescribeTable reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableStatus {
    /// Just created (reported by CreateTable's own answer).
    Creating,
    /// Usable.
    Active,
    /// Being changed by UpdateTable.
    Updating,
    /// Being deleted (reported by DeleteTable's own answer).
    Deleting,
}

impl TableStatus {
    /// `"CREATING"`, `"ACTIVE"`, `"UPDATING"` or `"DELETING"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TableStatus::Creating => "CREATING",
            TableStatus::Active => "ACTIVE",
            TableStatus::Updating => "UPDATING",
            TableStatus::Deleting => "DELETING",
        }
    }
}

/// What CreateTable asks for.
#[derive(Clone, Debug)]
pub struct TableSpec {
    /// The table's reference: its name, prefixed with `region/` outside the home region (see
    /// [`region`]).
    pub name: String,
    /// Primary key.
    pub key_schema: KeySchema,
    /// Every attribute named in AttributeDefinitions, with its type.
    pub attribute_definitions: Vec<KeyAttribute>,
    /// Billing mode.
    pub billing_mode: BillingMode,
    /// Provisioned throughput (required for PROVISIONED, absent for PAY_PER_REQUEST).
    pub throughput: Option<Throughput>,
    /// Tags to attach.
    pub tags: BTreeMap<String, String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    pub table_class: Option<String>,
    /// Start a stream with this view type.
    pub stream: Option<StreamViewType>,
    /// Global and local secondary indexes.
    pub indexes: Vec<IndexSpec>,
}

/// What the catalog keeps about a table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TableMeta {
    /// Table name.
    pub name: String,
    /// The region the table belongs to (see [`region`]); definitions written before tables
    /// had regions belong to the home region.
    #[serde(default = "region::home_region")]
    pub region: String,
    /// Unique id: a table dropped and created again under the same name gets a new one, and
    /// its data lives in a keyspace named after the id, so it never sees the old data.
    pub id: Uuid,
    /// Primary key.
    pub key_schema: KeySchema,
    /// AttributeDefinitions, as given.
    pub attribute_definitions: Vec<KeyAttribute>,
    /// Billing mode.
    pub billing_mode: BillingMode,
    /// Provisioned throughput, if provisioned.
    pub throughput: Option<Throughput>,
    /// Creation time, seconds since the epoch.
    pub created_at: f64,
    /// When the billing mode was last set, seconds since the epoch.
    pub billing_mode_updated_at: f64,
    /// Last throughput increase, seconds since the epoch.
    #[serde(default)]
    pub last_increase_at: Option<f64>,
    /// Last throughput decrease, seconds since the epoch.
    #[serde(default)]
    pub last_decrease_at: Option<f64>,
    /// Throughput decreases made today.
    #[serde(default)]
    pub decreases_today: u64,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Deletion protection.
    #[serde(default)]
    pub deletion_protection: bool,
    /// Table class.
    #[serde(default)]
    pub table_class: Option<String>,
    /// The table's streams: at most one enabled (the last), and closed ones still within their
    /// retention period, oldest first.
    #[serde(default)]
    pub streams: Vec<StreamMeta>,
    /// Time to live, when enabled.
    #[serde(default)]
    pub ttl: Option<TtlSpec>,
    /// Global and local secondary indexes.
    #[serde(default)]
    pub indexes: Vec<IndexMeta>,
    /// Point-in-time recovery, when enabled.
    #[serde(default)]
    pub pitr: Option<PitrMeta>,
    /// Where the table was restored from, if it was.
    #[serde(default)]
    pub restore: Option<RestoreSummary>,
}

impl TableMeta {
    /// The definition of a new table made from `spec` (checked), with a fresh id; its stream,
    /// if it asks for one, starts after sequence number `last_seq`.
    pub(crate) fn new(spec: TableSpec, last_seq: u64) -> Result<TableMeta> {
        spec.validate()?;
        let (region, name) = split_table_ref(&spec.name);
        let (region, name) = (region.to_string(), name.to_string());
        let now = now_secs_f64();
        let streams = spec
            .stream
            .map(|view| StreamMeta::new(view, &[], last_seq))
            .into_iter()
            .collect();
        Ok(TableMeta {
            name,
            region,
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
        })
    }

    /// The table's reference, under which the catalog keeps it (see [`region`]).
    pub fn table_ref(&self) -> String {
        table_ref(&self.region, &self.name)
    }

    /// Name of the fjall keyspace holding the table's items.
    pub fn items_keyspace(&self) -> String {
        format!("t-{}", self.id.simple())
    }

    /// Name of the fjall keyspace holding the table's expiry index (see [`crate::ttl`]).
    pub fn expiry_keyspace(&self) -> String {
        format!("e-{}", self.id.simple())
    }

    /// The stream that records changes now, if one is enabled.
    pub fn enabled_stream(&self) -> Option<&StreamMeta> {
        self.streams.iter().find(|s| s.is_enabled())
    }

    /// The most recent stream, enabled or not (DynamoDB's LatestStreamArn names it).
    pub fn latest_stream(&self) -> Option<&StreamMeta> {
        self.streams.last()
    }
}

/// A table's description: its definition plus live figures.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// The definition.
    pub meta: TableMeta,
    /// Item count, exact (kept by every write; DynamoDB refreshes its own about every six hours).
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

/// One way a table or index name breaks DynamoDB's naming rule (3 to 255 characters of
/// `[a-zA-Z0-9_.-]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// A character outside `[a-zA-Z0-9_.-]`.
    Pattern,
    /// Fewer than 3 characters.
    TooShort,
    /// More than 255 characters.
    TooLong,
}

impl NameRule {
    /// The constraint as DynamoDB's validation messages word it.
    pub fn constraint(self) -> &'static str {
        match self {
            NameRule::Pattern => "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            NameRule::TooShort => "Member must have length greater than or equal to 3",
            NameRule::TooLong => "Member must have length less than or equal to 255",
        }
    }
}

/// The ways `name` breaks DynamoDB's rule for table and index names, in the order DynamoDB
/// reports them; empty when it is a valid name. Lengths count characters.
pub fn name_rule_violations(name: &str) -> Vec<NameRule> {
    let mut broken = Vec::new();
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        broken.push(NameRule::Pattern);
    }
    match name.chars().count() {
        n if n < 3 => broken.push(NameRule::TooShort),
        n if n > 255 => broken.push(NameRule::TooLong),
        _ => {}
    }
    broken
}

/// Checks a table name against DynamoDB's rules: 3 to 255 of `[a-zA-Z0-9_.-]`.
pub fn validate_table_name(name: &str) -> Result<()> {
    let problems: Vec<String> = name_rule_violations(name)
        .into_iter()
        .map(|rule| {
            format!(
                "Value '{name}' at 'tableName' failed to satisfy constraint: {}",
                rule.constraint()
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Validation(format!(
            "{} validation error{} detected: {}",
            problems.len(),
            if problems.len() > 1 { "s" } else { "" },
            problems.join("; ")
        )))
    }
}

impl TableSpec {
    /// Checks the spec against DynamoDB's CreateTable rules.
    pub fn validate(&self) -> Result<()> {
        let (region, name) = split_table_ref(&self.name);
        if !region::is_valid_region(region) {
            return Err(StoreError::Validation(format!("Invalid region: {region}")));
        }
        validate_table_name(name)?;
        let invalid = |m: &str| {
            Err(StoreError::Validation(format!(
                "One or more parameter values were invalid: {m}"
            )))
        };
        if let Some(range) = &self.key_schema.range {
            if range.name == self.key_schema.hash.name {
                return invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name");
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for def in &self.attribute_definitions {
            if !seen.insert(def.name.as_str()) {
                return invalid("Duplicate AttributeName in AttributeDefinitions");
            }
        }
        for key in self.key_schema.attributes() {
            match self.attribute_definitions.iter().find(|d| d.name == key.name) {
                None => {
                    return invalid(&format!(
                        "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                        self.key_schema.attributes().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
                        self.attribute_definitions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                }
                Some(d) if d.attr_type != key.attr_type => {
                    return invalid("Type mismatch between KeySchema and AttributeDefinitions")
                }
                Some(_) => {}
            }
        }
        if !self.indexes.is_empty() {
            index::validate_specs(self)?;
        } else if self.attribute_definitions.len() != self.key_schema.attributes().count() {
            return invalid(
                "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            );
        }
        validate_billing(self.billing_mode, self.throughput.as_ref())?;
        Ok(())
    }
}

/// Checks that billing mode and provisioned throughput agree, as DynamoDB requires.
pub fn validate_billing(mode: BillingMode, throughput: Option<&Throughput>) -> Result<()> {
    match (mode, throughput) {
        (BillingMode::Provisioned, None) => Err(StoreError::Validation(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED".into(),
        )),
        (BillingMode::PayPerRequest, Some(_)) => Err(StoreError::Validation(
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST".into(),
        )),
        (BillingMode::Provisioned, Some(t)) if t.read == 0 || t.write == 0 => Err(StoreError::Validation(
            "One or more parameter values were invalid: Provisioned throughput values must be greater than 0".into(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TableSpec {
        crate::testutil::spec("orders", Some(ScalarType::N))
    }

    #[test]
    fn valid_spec_passes() {
        spec().validate().unwrap();
    }

    #[test]
    fn invalid_specs_fail_with_dynamodb_messages() {
        let mut s = spec();
        s.name = "a!".into();
        let msg = s.validate().unwrap_err().to_string();
        assert!(msg.starts_with("2 validation errors detected"), "{msg}");
        let mut s = spec();
        s.attribute_definitions.push(KeyAttribute {
            name: "extra".into(),
            attr_type: ScalarType::S,
        });
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("does not exactly match"));
        let mut s = spec();
        s.billing_mode = BillingMode::Provisioned;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("must both be specified"));
    }

    #[test]
    fn keys_are_checked() {
        let ks = spec().key_schema;
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S("a".into()));
        assert!(ks
            .key_of_item(&item)
            .unwrap_err()
            .to_string()
            .contains("Missing the key sk"));
        item.insert("sk".into(), AttributeValue::S("x".into()));
        assert!(ks
            .key_of_item(&item)
            .unwrap_err()
            .to_string()
            .contains("Type mismatch for key sk expected: N actual: S"));
        item.insert("pk".into(), AttributeValue::S(String::new()));
        item.insert("sk".into(), AttributeValue::N(crate::Number::from_i64(1)));
        assert!(ks
            .key_of_item(&item)
            .unwrap_err()
            .to_string()
            .contains("cannot contain an empty string"));
        item.insert("pk".into(), AttributeValue::S("x".repeat(2049)));
        assert!(ks
            .key_of_item(&item)
            .unwrap_err()
            .to_string()
            .contains("Size of HashKey is too large"));
    }
}
