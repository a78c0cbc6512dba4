//! DynamoDB JSON: attribute values and items on the wire, mapped to and from the store's types.
//!
//! On the wire an attribute value is an object with exactly one type member:
//! `{"S":"x"}`, `{"N":"1.5"}`, `{"B":"<base64>"}`, `{"BOOL":true}`, `{"NULL":true}`,
//! `{"M":{...}}`, `{"L":[...]}`, `{"SS":[...]}`, `{"NS":[...]}`, `{"BS":[...]}`.
//! [`decode_value`] / [`decode_item`] validate and convert such JSON into
//! [`tarn_store::AttributeValue`] / [`tarn_store::Item`], reporting problems as DynamoDB does:
//! a JSON member of the wrong JSON type is a `SerializationException` (as DynamoDB's front end
//! reports it, e.g. `class java.lang.Integer can not be converted to an String`), a well-formed
//! but invalid value is a `ValidationException` with DynamoDB's words. Decoding stops at 32 levels
//! of map/list nesting, so a hostile body cannot exhaust the stack. [`encode_value`] /
//! [`encode_item`] write values back (numbers in canonical form, binaries in base64, sets in the
//! store's canonical order).
//!
//! The second half of the module holds small typed accessors for request members
//! ([`required_str`], [`optional_bool`], [`optional_attribute_values`]...) and
//! [`ValidationErrors`], which collects constraint failures into DynamoDB's
//! `N validation errors detected: ...; ...` message.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};
use tarn_store::value::{ValueError, MAX_NESTING};
use tarn_store::{AttributeValue, Item, Number};

use super::error::ApiError;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

const EMPTY_VALUE: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
const MANY_TYPES: &str =
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
const NULL_NOT_TRUE: &str = "One or more parameter values were invalid: Null attribute value types must have the value of true";

/// The ten type members an attribute value object may carry.
const TYPE_MEMBERS: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];

// ---------------------------------------------------------------------------------------------
// Attribute values
// ---------------------------------------------------------------------------------------------

/// Decodes one DynamoDB JSON attribute value (`{"S":"x"}`...).
pub fn decode_value(json: &Value) -> Result<AttributeValue, ApiError> {
    decode_at(json, 0)
}

/// Decodes a DynamoDB JSON item: an object of attribute names to attribute values.
pub fn decode_item(json: &Value) -> Result<Item, ApiError> {
    match json {
        Value::Object(map) => decode_map(map, 0),
        other => Err(wrong_json_type(JsonType::Map, other)),
    }
}

/// Decodes an object of names to attribute values whose values are nested `levels` deep
/// (0 for an item's attributes).
fn decode_map(
    map: &Map<String, Value>,
    levels: usize,
) -> Result<BTreeMap<String, AttributeValue>, ApiError> {
    let mut out = BTreeMap::new();
    for (name, v) in map {
        if v.is_null() {
            // A null member is absent to DynamoDB's deserializer.
            continue;
        }
        out.insert(name.clone(), decode_at(v, levels)?);
    }
    Ok(out)
}

/// Decodes a value enclosed by `levels` maps/lists.
fn decode_at(json: &Value, levels: usize) -> Result<AttributeValue, ApiError> {
    let obj = match json {
        Value::Object(obj) => obj,
        other => return Err(wrong_json_type(JsonType::Structure, other)),
    };
    let mut present = TYPE_MEMBERS
        .iter()
        .filter_map(|t| obj.get(*t).filter(|v| !v.is_null()).map(|v| (*t, v)));
    let (ty, v) = present
        .next()
        .ok_or_else(|| ApiError::validation(EMPTY_VALUE))?;
    if present.next().is_some() {
        return Err(ApiError::validation(MANY_TYPES));
    }
    Ok(match ty {
        "S" => AttributeValue::S(json_str(v)?.to_owned()),
        "N" => AttributeValue::N(parse_number(json_str(v)?)?),
        "B" => AttributeValue::B(decode_base64(v)?),
        "BOOL" => AttributeValue::Bool(json_bool(v)?),
        "NULL" => {
            if json_bool(v)? {
                AttributeValue::Null
            } else {
                return Err(ApiError::validation(NULL_NOT_TRUE));
            }
        }
        "M" => {
            check_depth(levels)?;
            match v {
                Value::Object(m) => AttributeValue::M(decode_map(m, levels + 1)?),
                other => return Err(wrong_json_type(JsonType::Map, other)),
            }
        }
        "L" => {
            check_depth(levels)?;
            let list = json_array(v)?;
            let mut out = Vec::with_capacity(list.len());
            for member in list {
                out.push(decode_at(member, levels + 1)?);
            }
            AttributeValue::L(out)
        }
        "SS" => {
            let members = json_array(v)?
                .iter()
                .map(|m| json_str(m).map(str::to_owned))
                .collect::<Result<_, _>>()?;
            AttributeValue::string_set(members)?
        }
        "NS" => {
            let members = json_array(v)?
                .iter()
                .map(|m| parse_number(json_str(m)?))
                .collect::<Result<_, _>>()?;
            AttributeValue::number_set(members)?
        }
        "BS" => {
            let members = json_array(v)?
                .iter()
                .map(decode_base64)
                .collect::<Result<_, _>>()?;
            AttributeValue::binary_set(members)?
        }
        _ => unreachable!("TYPE_MEMBERS lists only the ten types"),
    })
}

/// A map or list enclosed by `levels` others: refuse a 33rd level.
fn check_depth(levels: usize) -> Result<(), ApiError> {
    if levels >= MAX_NESTING {
        Err(ValueError::TooDeep.into())
    } else {
        Ok(())
    }
}

/// Parses a number member with DynamoDB's messages (an empty string has no `: value` suffix).
fn parse_number(s: &str) -> Result<Number, ApiError> {
    if s.is_empty() {
        return Err(ApiError::validation(
            "The parameter cannot be converted to a numeric value",
        ));
    }
    Ok(Number::parse(s)?)
}

/// Decodes a base64 blob member; malformed base64 is a `SerializationException`, worded as
/// DynamoDB words it.
fn decode_base64(v: &Value) -> Result<Vec<u8>, ApiError> {
    let s = match v {
        Value::String(s) => s.as_str(),
        other => return Err(wrong_json_type(JsonType::Blob, other)),
    };
    let fail = |why: String| {
        ApiError::serialization(format!("'{s}' can not be converted to a Blob: {why}"))
    };
    if s.len() % 4 != 0 {
        return Err(fail(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            s.len()
        )));
    }
    BASE64.decode(s).map_err(|e| match e {
        base64::DecodeError::InvalidByte(_, b) => {
            fail(format!("Invalid Base64 character: '{}'", b as char))
        }
        base64::DecodeError::InvalidLength(n) => fail(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {n}"
        )),
        base64::DecodeError::InvalidLastSymbol(..) | base64::DecodeError::InvalidPadding => {
            fail("Invalid last non-pad Base64 character dectected".to_string())
        }
    })
}

/// Encodes one attribute value as DynamoDB JSON.
pub fn encode_value(value: &AttributeValue) -> Value {
    let (ty, v) = match value {
        AttributeValue::S(s) => ("S", Value::String(s.clone())),
        AttributeValue::N(n) => ("N", Value::String(n.to_string())),
        AttributeValue::B(b) => ("B", Value::String(BASE64.encode(b))),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null => ("NULL", Value::Bool(true)),
        AttributeValue::M(m) => ("M", encode_item(m)),
        AttributeValue::L(l) => ("L", Value::Array(l.iter().map(encode_value).collect())),
        AttributeValue::Ss(ss) => (
            "SS",
            Value::Array(ss.iter().cloned().map(Value::String).collect()),
        ),
        AttributeValue::Ns(ns) => (
            "NS",
            Value::Array(ns.iter().map(|n| Value::String(n.to_string())).collect()),
        ),
        AttributeValue::Bs(bs) => (
            "BS",
            Value::Array(bs.iter().map(|b| Value::String(BASE64.encode(b))).collect()),
        ),
    };
    let mut obj = Map::with_capacity(1);
    obj.insert(ty.to_string(), v);
    Value::Object(obj)
}

/// Encodes an item (or a map value's members) as a DynamoDB JSON object.
pub fn encode_item(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), encode_value(v)))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// JSON type errors (SerializationException, as DynamoDB's front end words them)
// ---------------------------------------------------------------------------------------------

/// The JSON type a member is modelled as, for type-mismatch messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonType {
    /// A string member.
    String,
    /// A boolean member.
    Boolean,
    /// An integer member.
    Integer,
    /// A long integer member.
    Long,
    /// A floating-point member.
    Double,
    /// A base64 blob member.
    Blob,
    /// A JSON array member.
    List,
    /// A JSON object of arbitrary keys.
    Map,
    /// A JSON object with modelled members.
    Structure,
}

/// The `SerializationException` DynamoDB sends when a member has the wrong JSON type.
pub fn wrong_json_type(expected: JsonType, found: &Value) -> ApiError {
    let article = if expected == JsonType::Blob {
        "a"
    } else {
        "an"
    };
    let target = match expected {
        JsonType::String => "String",
        JsonType::Boolean => "Boolean",
        JsonType::Integer => "Integer",
        JsonType::Long => "Long",
        JsonType::Double => "Double",
        JsonType::Blob => "Blob",
        JsonType::List | JsonType::Map | JsonType::Structure => "",
    };
    let message = match (expected, found) {
        (JsonType::List, Value::Object(_)) => {
            "Start of structure or map found where not expected.".to_string()
        }
        (JsonType::List, _) => "Expected list or null".to_string(),
        (JsonType::Map | JsonType::Structure, Value::Array(_)) => {
            "Start of list found where not expected".to_string()
        }
        (JsonType::Map, _) => "Expected map or null".to_string(),
        (JsonType::Structure, _) => "Expected null".to_string(),
        (_, Value::Object(_)) => "Start of structure or map found where not expected.".to_string(),
        (_, Value::Array(_)) => "Start of list found where not expected".to_string(),
        (_, Value::Bool(_)) => {
            format!("class java.lang.Boolean can not be converted to {article} {target}")
        }
        (_, Value::Number(n)) => format!(
            "class {} can not be converted to {article} {target}",
            java_number_class(n)
        ),
        (_, Value::String(s)) => {
            if expected == JsonType::Boolean {
                format!("'{}' can not be converted to an Boolean", s.to_uppercase())
            } else {
                format!("class java.lang.String can not be converted to {article} {target}")
            }
        }
        (_, Value::Null) => "Unexpected null".to_string(),
    };
    ApiError::serialization(message)
}

/// The Java class DynamoDB's deserializer reads a JSON number as.
fn java_number_class(n: &serde_json::Number) -> &'static str {
    match n.as_i64() {
        Some(i) if (-32768..=32767).contains(&i) => "java.lang.Short",
        Some(i) if (-2147483648..=2147483647).contains(&i) => "java.lang.Integer",
        Some(_) => "java.lang.Long",
        None if n.is_u64() => "java.lang.Long",
        None => "java.lang.Double",
    }
}

fn json_str(v: &Value) -> Result<&str, ApiError> {
    v.as_str()
        .ok_or_else(|| wrong_json_type(JsonType::String, v))
}

fn json_bool(v: &Value) -> Result<bool, ApiError> {
    v.as_bool()
        .ok_or_else(|| wrong_json_type(JsonType::Boolean, v))
}

fn json_array(v: &Value) -> Result<&Vec<Value>, ApiError> {
    v.as_array()
        .ok_or_else(|| wrong_json_type(JsonType::List, v))
}

// ---------------------------------------------------------------------------------------------
// Request members
// ---------------------------------------------------------------------------------------------

/// A member name as DynamoDB writes it in validation messages: first letter lower-cased
/// (`TableName` -> `tableName`).
pub fn member_path(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The member `name` of a request body, `None` when absent or JSON `null`.
pub fn member<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|v| !v.is_null())
}

/// The `1 validation error detected: Value null at 'tableName' failed to satisfy constraint:
/// Member must not be null` error for a missing required member.
pub fn missing(name: &str) -> ApiError {
    let mut errors = ValidationErrors::new();
    errors.not_null(name);
    errors.into_error().expect("one error was pushed")
}

/// A required string member.
pub fn required_str<'a>(body: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    optional_str(body, name)?.ok_or_else(|| missing(name))
}

/// An optional string member.
pub fn optional_str<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, ApiError> {
    member(body, name).map(json_str).transpose()
}

/// An optional boolean member.
pub fn optional_bool(body: &Value, name: &str) -> Result<Option<bool>, ApiError> {
    member(body, name).map(json_bool).transpose()
}

/// An optional integer member (`Limit`, `Segment`, `TotalSegments`...). Fractions are truncated,
/// as DynamoDB's deserializer does.
pub fn optional_i64(body: &Value, name: &str) -> Result<Option<i64>, ApiError> {
    member(body, name)
        .map(|v| match v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.is_finite())
                        .map(|f| f.trunc() as i64)
                })
                .ok_or_else(|| wrong_json_type(JsonType::Integer, v)),
            other => Err(wrong_json_type(JsonType::Integer, other)),
        })
        .transpose()
}

/// An optional object member (a structure or a map).
pub fn optional_object<'a>(
    body: &'a Value,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    member(body, name)
        .map(|v| {
            v.as_object()
                .ok_or_else(|| wrong_json_type(JsonType::Structure, v))
        })
        .transpose()
}

/// A required object member.
pub fn required_object<'a>(
    body: &'a Value,
    name: &str,
) -> Result<&'a Map<String, Value>, ApiError> {
    optional_object(body, name)?.ok_or_else(|| missing(name))
}

/// An optional array member.
pub fn optional_array<'a>(body: &'a Value, name: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
    member(body, name).map(json_array).transpose()
}

/// A required array member.
pub fn required_array<'a>(body: &'a Value, name: &str) -> Result<&'a Vec<Value>, ApiError> {
    optional_array(body, name)?.ok_or_else(|| missing(name))
}

/// An optional item-shaped member (`Item`, `Key`, `ExclusiveStartKey`...).
pub fn optional_item(body: &Value, name: &str) -> Result<Option<Item>, ApiError> {
    member(body, name).map(decode_item).transpose()
}

/// A required item-shaped member.
pub fn required_item(body: &Value, name: &str) -> Result<Item, ApiError> {
    optional_item(body, name)?.ok_or_else(|| missing(name))
}

/// `ExpressionAttributeNames`-style member: an object of strings to strings.
pub fn optional_string_map(
    body: &Value,
    name: &str,
) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let Some(v) = member(body, name) else {
        return Ok(None);
    };
    let obj = v
        .as_object()
        .ok_or_else(|| wrong_json_type(JsonType::Map, v))?;
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        if v.is_null() {
            continue;
        }
        out.insert(k.clone(), json_str(v)?.to_owned());
    }
    Ok(Some(out))
}

/// `ExpressionAttributeValues`-style member: an object of names to attribute values.
pub fn optional_attribute_values(
    body: &Value,
    name: &str,
) -> Result<Option<BTreeMap<String, AttributeValue>>, ApiError> {
    optional_item(body, name)
}

/// The `TableName` member, checked against DynamoDB's table name constraints (3 to 255
/// characters of `[a-zA-Z0-9_.-]`).
pub fn table_name(body: &Value) -> Result<&str, ApiError> {
    table_name_member(body, "TableName")
}

/// A table or index name member (`TableName`, `IndexName`...), checked against DynamoDB's name
/// constraints.
pub fn table_name_member<'a>(body: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    let value = required_str(body, name)?;
    let mut errors = ValidationErrors::new();
    errors.check_name(name, value);
    errors.finish()?;
    Ok(value)
}

/// Collects constraint failures and reports them in one `ValidationException`, as DynamoDB
/// does: `2 validation errors detected: Value 'ab' at 'tableName' failed to satisfy constraint:
/// Member must have length greater than or equal to 3; Value ...`.
#[derive(Debug, Default, Clone)]
pub struct ValidationErrors {
    errors: Vec<String>,
}

impl ValidationErrors {
    /// No failures yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the member at `path` (a request member name like `TableName`, or a dotted
    /// path like `keySchema.1.member.attributeName`) holding `value` (`None` for null) breaks
    /// `constraint` (`Member must not be null`...).
    pub fn push(&mut self, path: &str, value: Option<&str>, constraint: &str) {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        self.errors.push(format!(
            "Value {value} at '{}' failed to satisfy constraint: {constraint}",
            member_path(path)
        ));
    }

    /// Records a missing required member.
    pub fn not_null(&mut self, path: &str) {
        self.push(path, None, "Member must not be null");
    }

    /// Checks a table or index name: 3 to 255 characters of `[a-zA-Z0-9_.-]`.
    pub fn check_name(&mut self, path: &str, value: &str) {
        for rule in tarn_store::schema::name_rule_violations(value) {
            self.push(path, Some(value), rule.constraint());
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The combined error, if any failure was recorded.
    pub fn into_error(self) -> Option<ApiError> {
        if self.errors.is_empty() {
            return None;
        }
        let n = self.errors.len();
        let plural = if n == 1 { "" } else { "s" };
        Some(ApiError::validation(format!(
            "{n} validation error{plural} detected: {}",
            self.errors.join("; ")
        )))
    }

    /// `Ok` when nothing was recorded, else the combined error.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.into_error() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::api::error::kind;

    fn num(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    fn validation_message(v: Value) -> String {
        let e = decode_value(&v).unwrap_err();
        assert_eq!(e.kind, kind::VALIDATION, "{e}");
        e.message
    }

    fn serialization_message(v: Value) -> String {
        let e = decode_value(&v).unwrap_err();
        assert_eq!(e.kind, kind::SERIALIZATION, "{e}");
        e.message
    }

    #[test]
    fn decodes_every_type() {
        assert_eq!(
            decode_value(&json!({"S": "x"})).unwrap(),
            AttributeValue::S("x".into())
        );
        assert_eq!(
            decode_value(&json!({"S": ""})).unwrap(),
            AttributeValue::S("".into())
        );
        assert_eq!(
            decode_value(&json!({"N": "01.50"})).unwrap(),
            AttributeValue::N(num("1.5"))
        );
        assert_eq!(
            decode_value(&json!({"B": "aGk="})).unwrap(),
            AttributeValue::B(b"hi".to_vec())
        );
        assert_eq!(
            decode_value(&json!({"BOOL": false})).unwrap(),
            AttributeValue::Bool(false)
        );
        assert_eq!(
            decode_value(&json!({"NULL": true})).unwrap(),
            AttributeValue::Null
        );
        assert_eq!(
            decode_value(&json!({"M": {"a": {"N": "1"}, "b": {"L": [{"S": "x"}]}}})).unwrap(),
            AttributeValue::M(BTreeMap::from([
                ("a".to_string(), AttributeValue::N(num("1"))),
                (
                    "b".to_string(),
                    AttributeValue::L(vec![AttributeValue::S("x".into())])
                ),
            ]))
        );
        assert_eq!(
            decode_value(&json!({"SS": ["b", "a"]})).unwrap(),
            AttributeValue::Ss(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            decode_value(&json!({"NS": ["10", "2"]})).unwrap(),
            AttributeValue::Ns(vec![num("2"), num("10")])
        );
        assert_eq!(
            decode_value(&json!({"BS": ["Yg==", "YQ=="]})).unwrap(),
            AttributeValue::Bs(vec![b"a".to_vec(), b"b".to_vec()])
        );
    }

    #[test]
    fn encodes_canonically() {
        let v = decode_value(&json!({"N": "1e2"})).unwrap();
        assert_eq!(encode_value(&v), json!({"N": "100"}));
        let v = decode_value(&json!({"NS": ["3", "1.0", "-2"]})).unwrap();
        assert_eq!(encode_value(&v), json!({"NS": ["-2", "1", "3"]}));
        assert_eq!(
            encode_value(&AttributeValue::B(vec![0, 255])),
            json!({"B": "AP8="})
        );
        assert_eq!(encode_value(&AttributeValue::Null), json!({"NULL": true}));
        let item = decode_item(&json!({"pk": {"S": "a"}, "n": {"N": "5"}})).unwrap();
        assert_eq!(
            encode_item(&item),
            json!({"n": {"N": "5"}, "pk": {"S": "a"}})
        );
    }

    #[test]
    fn one_type_exactly() {
        assert_eq!(validation_message(json!({})), EMPTY_VALUE);
        assert_eq!(validation_message(json!({"X": "1"})), EMPTY_VALUE);
        assert_eq!(validation_message(json!({"S": null})), EMPTY_VALUE);
        assert_eq!(validation_message(json!({"S": "a", "N": "1"})), MANY_TYPES);
        assert_eq!(
            decode_value(&json!({"S": "a", "N": null})).unwrap(),
            AttributeValue::S("a".into())
        );
    }

    #[test]
    fn value_errors_are_dynamodbs() {
        assert_eq!(validation_message(json!({"NULL": false})), NULL_NOT_TRUE);
        assert_eq!(
            validation_message(json!({"N": "abc"})),
            "The parameter cannot be converted to a numeric value: abc"
        );
        assert_eq!(
            validation_message(json!({"N": ""})),
            "The parameter cannot be converted to a numeric value"
        );
        assert_eq!(
            validation_message(json!({"NS": ["1", "b"]})),
            "The parameter cannot be converted to a numeric value: b"
        );
        assert_eq!(
            validation_message(json!({"NS": []})),
            "One or more parameter values were invalid: An number set  may not be empty"
        );
        assert_eq!(
            validation_message(json!({"SS": []})),
            "One or more parameter values were invalid: An string set  may not be empty"
        );
        assert!(validation_message(json!({"SS": ["a", "a"]})).contains("contains duplicates"));
        assert!(validation_message(json!({"NS": ["1", "1.0"]})).contains("contains duplicates"));
        assert_eq!(
            validation_message(json!({"N": "1e126"})),
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        );
    }

    #[test]
    fn json_type_errors_are_serialization() {
        assert_eq!(
            serialization_message(json!({"S": 5})),
            "class java.lang.Short can not be converted to an String"
        );
        assert_eq!(
            serialization_message(json!({"S": true})),
            "class java.lang.Boolean can not be converted to an String"
        );
        assert_eq!(
            serialization_message(json!({"BOOL": "yes"})),
            "'YES' can not be converted to an Boolean"
        );
        assert_eq!(
            serialization_message(json!({"L": {}})),
            "Start of structure or map found where not expected."
        );
        assert_eq!(
            serialization_message(json!({"M": []})),
            "Start of list found where not expected"
        );
        assert_eq!(serialization_message(json!("x")), "Expected null");
        let e = decode_item(&json!([])).unwrap_err();
        assert_eq!(e.kind, kind::SERIALIZATION);
    }

    #[test]
    fn bad_base64_is_serialization() {
        assert_eq!(
            serialization_message(json!({"B": "abc"})),
            "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"
        );
        assert_eq!(
            serialization_message(json!({"B": "ab!d"})),
            "'ab!d' can not be converted to a Blob: Invalid Base64 character: '!'"
        );
        assert!(serialization_message(json!({"BS": ["YQ==", "Y"]}))
            .contains("can not be converted to a Blob"));
        assert_eq!(
            serialization_message(json!({"B": "YR=="})),
            "'YR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"
        );
    }

    fn nested_lists(depth: usize) -> Value {
        let mut v = json!({"S": "x"});
        for _ in 0..depth {
            v = json!({ "L": [v] });
        }
        v
    }

    #[test]
    fn nesting_is_limited_to_32() {
        assert_eq!(decode_value(&nested_lists(32)).unwrap().depth(), 32);
        let e = decode_value(&nested_lists(33)).unwrap_err();
        assert_eq!(e.kind, kind::VALIDATION);
        assert!(
            e.message
                .starts_with("Nesting Levels have exceeded supported limits"),
            "{}",
            e.message
        );
    }

    #[test]
    fn very_deep_input_does_not_overflow() {
        // Built by hand (serde_json's parser stops at 128 levels; the host may hand us anything).
        let mut v = json!({"NULL": true});
        for _ in 0..100_000 {
            // Not `json!`: it would serialize `v` recursively.
            let mut inner = Map::new();
            inner.insert("a".into(), v);
            let mut m = Map::new();
            m.insert("M".into(), Value::Object(inner));
            v = Value::Object(m);
        }
        assert!(decode_value(&v).is_err());
        // Drop without recursion on the deep part: serde_json's Drop is recursive.
        let mut cur = v;
        loop {
            let next = cur
                .get_mut("M")
                .and_then(|m| m.get_mut("a"))
                .map(Value::take);
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
    }

    #[test]
    fn request_members() {
        let body = json!({"TableName": "t1x", "Limit": 5, "ConsistentRead": true, "Key": {"pk": {"S": "a"}},
                          "ExpressionAttributeNames": {"#a": "a"}, "Bad": 3});
        assert_eq!(required_str(&body, "TableName").unwrap(), "t1x");
        assert_eq!(optional_i64(&body, "Limit").unwrap(), Some(5));
        assert_eq!(optional_bool(&body, "ConsistentRead").unwrap(), Some(true));
        assert_eq!(optional_bool(&body, "Nope").unwrap(), None);
        assert_eq!(
            required_item(&body, "Key").unwrap()["pk"],
            AttributeValue::S("a".into())
        );
        assert_eq!(
            optional_string_map(&body, "ExpressionAttributeNames")
                .unwrap()
                .unwrap()["#a"],
            "a"
        );
        assert_eq!(
            required_str(&body, "Bad").unwrap_err().kind,
            kind::SERIALIZATION
        );
        let e = required_str(&json!({}), "TableName").unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
        );
        let e = table_name(&json!({"TableName": "a!"})).unwrap_err();
        assert_eq!(
            e.message,
            "2 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a!' at 'tableName' failed to satisfy constraint: \
             Member must have length greater than or equal to 3"
        );
        assert_eq!(
            table_name(&json!({"TableName": "My_table.v-1"})).unwrap(),
            "My_table.v-1"
        );
    }

    fn arb_number() -> impl Strategy<Value = Number> {
        (any::<i64>(), -20i32..20).prop_map(|(m, e)| Number::parse(&format!("{m}e{e}")).unwrap())
    }

    fn arb_value() -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            ".{0,8}".prop_map(AttributeValue::S),
            arb_number().prop_map(AttributeValue::N),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            proptest::collection::btree_set(".{0,4}", 1..4)
                .prop_map(|s| AttributeValue::string_set(s.into_iter().collect()).unwrap()),
            proptest::collection::btree_set(any::<i32>(), 1..4).prop_map(|s| {
                AttributeValue::number_set(
                    s.into_iter().map(|i| Number::from_i64(i.into())).collect(),
                )
                .unwrap()
            }),
            proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..4), 1..4)
                .prop_map(|s| AttributeValue::binary_set(s.into_iter().collect()).unwrap()),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                proptest::collection::btree_map(".{0,4}", inner, 0..4).prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trip(v in arb_value()) {
            let json = encode_value(&v);
            let text = serde_json::to_string(&json).unwrap();
            let back = decode_value(&serde_json::from_str(&text).unwrap()).unwrap();
            prop_assert_eq!(back, v);
        }
    }
}
