//! Items and attribute values: DynamoDB's data model as the store holds it.
//!
//! An [`Item`] is a map from attribute names to [`AttributeValue`]s of DynamoDB's ten types.
//! Sets are kept in canonical order (strings and binaries by bytes, numbers numerically), so two
//! sets with the same members compare equal. The rules DynamoDB enforces on values (non-empty,
//! duplicate-free sets, 32 levels of nesting, 400 KB items) are checked by [`validate_item`].
//! Wire formats (DynamoDB JSON) are not here: the runtime maps them to and from these types.

mod number;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use number::{Number, NumberError, MAX_DIGITS, MAX_EXPONENT, MIN_EXPONENT};

/// An item: attribute names to values. Ordered, so output is deterministic.
pub type Item = BTreeMap<String, AttributeValue>;

/// Largest item, counted by DynamoDB's size rules (names plus values).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// Longest attribute name, in bytes.
pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 64 * 1024 - 1;
/// Deepest nesting of maps and lists.
pub const MAX_NESTING: usize = 32;

/// One attribute value, of DynamoDB's ten types.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttributeValue {
    /// String (UTF-8).
    S(String),
    /// Number (exact decimal).
    N(Number),
    /// Binary.
    B(Vec<u8>),
    /// Boolean.
    Bool(bool),
    /// Null (always `true` in DynamoDB's JSON).
    Null,
    /// Map of named values.
    M(BTreeMap<String, AttributeValue>),
    /// Ordered list of values.
    L(Vec<AttributeValue>),
    /// String set (non-empty, no duplicates, kept sorted).
    Ss(Vec<String>),
    /// Number set (non-empty, no duplicates, kept sorted).
    Ns(Vec<Number>),
    /// Binary set (non-empty, no duplicates, kept sorted).
    Bs(Vec<Vec<u8>>),
}

/// DynamoDB's type descriptors, as they appear in key schemas, `attribute_type` and errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueType {
    /// `S`
    S,
    /// `N`
    N,
    /// `B`
    B,
    /// `BOOL`
    Bool,
    /// `NULL`
    Null,
    /// `M`
    M,
    /// `L`
    L,
    /// `SS`
    Ss,
    /// `NS`
    Ns,
    /// `BS`
    Bs,
}

impl ValueType {
    /// The descriptor as DynamoDB writes it (`"S"`, `"BOOL"`, `"SS"`...).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::S => "S",
            ValueType::N => "N",
            ValueType::B => "B",
            ValueType::Bool => "BOOL",
            ValueType::Null => "NULL",
            ValueType::M => "M",
            ValueType::L => "L",
            ValueType::Ss => "SS",
            ValueType::Ns => "NS",
            ValueType::Bs => "BS",
        }
    }

    /// Parses a descriptor (`"S"`, `"BOOL"`...).
    pub fn parse(s: &str) -> Option<ValueType> {
        Some(match s {
            "S" => ValueType::S,
            "N" => ValueType::N,
            "B" => ValueType::B,
            "BOOL" => ValueType::Bool,
            "NULL" => ValueType::Null,
            "M" => ValueType::M,
            "L" => ValueType::L,
            "SS" => ValueType::Ss,
            "NS" => ValueType::Ns,
            "BS" => ValueType::Bs,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a value or item breaks DynamoDB's rules. Messages follow DynamoDB's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// A set with no members.
    #[error("One or more parameter values were invalid: An number set  may not be empty")]
    EmptyNumberSet,
    /// A string set with no members.
    #[error("One or more parameter values were invalid: An string set  may not be empty")]
    EmptyStringSet,
    /// A binary set with no members.
    #[error("One or more parameter values were invalid: Binary sets should not be empty")]
    EmptyBinarySet,
    /// A set with a repeated member.
    #[error(
        "One or more parameter values were invalid: Input collection {0} contains duplicates."
    )]
    DuplicateInSet(String),
    /// An attribute with an empty name.
    #[error("One or more parameter values were invalid: Empty attribute name")]
    EmptyAttributeName,
    /// An attribute name of 64 KB or more (65,535 bytes is the longest DynamoDB takes).
    #[error("One or more parameter values were invalid: Attribute name is too large, must be less than 65536 bytes")]
    AttributeNameTooLong,
    /// Maps and lists nested deeper than 32 levels.
    #[error("Nesting Levels have exceeded supported limits: The document path has exceeded the maximum allowed nesting depth of 32")]
    TooDeep,
    /// Item larger than 400 KB.
    #[error("Item size has exceeded the maximum allowed size")]
    ItemTooLarge,
    /// A malformed number.
    #[error(transparent)]
    Number(#[from] NumberError),
}

impl AttributeValue {
    /// The value's type descriptor.
    pub fn value_type(&self) -> ValueType {
        match self {
            AttributeValue::S(_) => ValueType::S,
            AttributeValue::N(_) => ValueType::N,
            AttributeValue::B(_) => ValueType::B,
            AttributeValue::Bool(_) => ValueType::Bool,
            AttributeValue::Null => ValueType::Null,
            AttributeValue::M(_) => ValueType::M,
            AttributeValue::L(_) => ValueType::L,
            AttributeValue::Ss(_) => ValueType::Ss,
            AttributeValue::Ns(_) => ValueType::Ns,
            AttributeValue::Bs(_) => ValueType::Bs,
        }
    }

    /// A string set from members in any order: validated (non-empty, no duplicates) and sorted.
    pub fn string_set(mut members: Vec<String>) -> Result<Self, ValueError> {
        if members.is_empty() {
            return Err(ValueError::EmptyStringSet);
        }
        members.sort();
        if let Some(w) = members.windows(2).find(|w| w[0] == w[1]) {
            return Err(ValueError::DuplicateInSet(format!("[{}]", w[0])));
        }
        Ok(AttributeValue::Ss(members))
    }

    /// A number set from members in any order: validated and sorted numerically
    /// ("1" and "1.0" are the same member).
    pub fn number_set(mut members: Vec<Number>) -> Result<Self, ValueError> {
        if members.is_empty() {
            return Err(ValueError::EmptyNumberSet);
        }
        members.sort();
        if let Some(w) = members.windows(2).find(|w| w[0] == w[1]) {
            return Err(ValueError::DuplicateInSet(format!("[{}]", w[0])));
        }
        Ok(AttributeValue::Ns(members))
    }

    /// A binary set from members in any order: validated and sorted by bytes.
    pub fn binary_set(mut members: Vec<Vec<u8>>) -> Result<Self, ValueError> {
        if members.is_empty() {
            return Err(ValueError::EmptyBinarySet);
        }
        members.sort();
        if members.windows(2).any(|w| w[0] == w[1]) {
            return Err(ValueError::DuplicateInSet("of binaries".into()));
        }
        Ok(AttributeValue::Bs(members))
    }

    /// Size of the value under DynamoDB's rules (without the attribute name).
    pub fn size_bytes(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.size_bytes(),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::M(m) => {
                3 + m
                    .iter()
                    .map(|(k, v)| k.len() + v.size_bytes() + 1)
                    .sum::<usize>()
            }
            AttributeValue::L(l) => 3 + l.iter().map(|v| v.size_bytes() + 1).sum::<usize>(),
            AttributeValue::Ss(s) => s.iter().map(String::len).sum(),
            AttributeValue::Ns(n) => n.iter().map(Number::size_bytes).sum(),
            AttributeValue::Bs(b) => b.iter().map(Vec::len).sum(),
        }
    }

    /// Depth of map/list nesting below this value (a scalar is 0, `{"M":{}}` is 1).
    pub fn depth(&self) -> usize {
        match self {
            AttributeValue::M(m) => 1 + m.values().map(AttributeValue::depth).max().unwrap_or(0),
            AttributeValue::L(l) => 1 + l.iter().map(AttributeValue::depth).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// Size of an item under DynamoDB's rules: each attribute name plus its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size_bytes()).sum()
}

/// Checks an item against DynamoDB's value rules: attribute names of 1 byte to 64 KB, nesting
/// depth and the 400 KB size limit.
/// (Sets are validated when they are built.)
pub fn validate_item(item: &Item) -> Result<(), ValueError> {
    if item.keys().any(String::is_empty) {
        return Err(ValueError::EmptyAttributeName);
    }
    if item.keys().any(|k| k.len() > MAX_ATTRIBUTE_NAME_BYTES) {
        return Err(ValueError::AttributeNameTooLong);
    }
    if item.values().any(|v| v.depth() > MAX_NESTING) {
        return Err(ValueError::TooDeep);
    }
    if item_size(item) > MAX_ITEM_BYTES {
        return Err(ValueError::ItemTooLarge);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn sets_are_canonical_and_validated() {
        let a = AttributeValue::string_set(vec!["b".into(), "a".into()]).unwrap();
        let b = AttributeValue::string_set(vec!["a".into(), "b".into()]).unwrap();
        assert_eq!(a, b);
        assert!(matches!(
            AttributeValue::string_set(vec![]),
            Err(ValueError::EmptyStringSet)
        ));
        assert!(matches!(
            AttributeValue::number_set(vec![num("1"), num("1.0")]),
            Err(ValueError::DuplicateInSet(_))
        ));
        assert!(matches!(
            AttributeValue::binary_set(vec![vec![1], vec![1]]),
            Err(ValueError::DuplicateInSet(_))
        ));
    }

    #[test]
    fn nesting_limit_is_32() {
        let mut v = AttributeValue::S("x".into());
        for _ in 0..32 {
            v = AttributeValue::L(vec![v]);
        }
        let mut item = Item::new();
        item.insert("a".into(), v.clone());
        assert!(validate_item(&item).is_ok());
        item.insert("a".into(), AttributeValue::L(vec![v]));
        assert_eq!(validate_item(&item), Err(ValueError::TooDeep));
    }

    #[test]
    fn attribute_names_are_1_byte_to_64kb() {
        let mut item = Item::new();
        item.insert("n".repeat(MAX_ATTRIBUTE_NAME_BYTES), AttributeValue::Null);
        assert!(validate_item(&item).is_ok());
        item.insert(
            "n".repeat(MAX_ATTRIBUTE_NAME_BYTES + 1),
            AttributeValue::Null,
        );
        assert_eq!(validate_item(&item), Err(ValueError::AttributeNameTooLong));
        let mut item = Item::new();
        item.insert(String::new(), AttributeValue::Null);
        assert_eq!(validate_item(&item), Err(ValueError::EmptyAttributeName));
    }

    #[test]
    fn size_limit_is_400kb() {
        let mut item = Item::new();
        item.insert(
            "k".into(),
            AttributeValue::S("x".repeat(MAX_ITEM_BYTES - 1)),
        );
        assert!(validate_item(&item).is_ok());
        item.insert("k".into(), AttributeValue::S("x".repeat(MAX_ITEM_BYTES)));
        assert_eq!(validate_item(&item), Err(ValueError::ItemTooLarge));
    }
}
