//! Request members: typed readers of the members of a DynamoDB JSON request body.
//!
//! Each reader treats an absent member and a JSON `null` alike (DynamoDB's deserializer does),
//! answers a member of the wrong JSON type with DynamoDB's `SerializationException`
//! ([`crate::json_type`]), and a missing required member with the `ValidationException` DynamoDB
//! sends (`Value null at 'tableName' failed to satisfy constraint: Member must not be null`).
//! Item-shaped members decode through [`crate::value`]; table and index names are checked
//! against the store's one name rule ([`tarn_store::schema::name_rule_violations`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tarn_store::{AttributeValue, Item};

use crate::error::ApiError;
use crate::json_type::{json_array, json_bool, json_str, wrong_json_type, JsonType};
use crate::validation::ValidationErrors;
use crate::value::decode_item;

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

/// An optional timestamp member (`ExportTime`, `TimeRangeLowerBound`...): seconds since the
/// epoch, as the JSON protocol sends timestamps.
pub fn optional_time(body: &Value, name: &str) -> Result<Option<f64>, ApiError> {
    member(body, name)
        .map(|v| {
            v.as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| wrong_json_type(JsonType::Double, v))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::kind;

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

    #[test]
    fn timestamps_are_numbers() {
        let body = json!({"At": 1700000000.5, "Null": null, "Text": "yesterday"});
        assert_eq!(optional_time(&body, "At").unwrap(), Some(1700000000.5));
        assert_eq!(optional_time(&body, "Null").unwrap(), None);
        assert_eq!(optional_time(&body, "Absent").unwrap(), None);
        assert_eq!(
            optional_time(&body, "Text").unwrap_err().kind,
            kind::SERIALIZATION
        );
    }
}
