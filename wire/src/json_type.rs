//! JSON type errors: the `SerializationException` DynamoDB's front end sends when a member has
//! the wrong JSON type, worded as it words them (`class java.lang.Integer can not be converted
//! to an String`, `Start of list found where not expected`...), and the small readers of a
//! string, boolean or array member that report it.
//!
//! Both the value decoder ([`crate::value`]) and the request readers ([`crate::request`]) use
//! these, so a mistyped `{"S": 5}` and a mistyped `"TableName": 5` read the same.

use serde_json::Value;

use crate::error::ApiError;

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

/// A string, or the `SerializationException` for whatever else `v` is.
pub(crate) fn json_str(v: &Value) -> Result<&str, ApiError> {
    v.as_str()
        .ok_or_else(|| wrong_json_type(JsonType::String, v))
}

/// A boolean, or the `SerializationException` for whatever else `v` is.
pub(crate) fn json_bool(v: &Value) -> Result<bool, ApiError> {
    v.as_bool()
        .ok_or_else(|| wrong_json_type(JsonType::Boolean, v))
}

/// An array, or the `SerializationException` for whatever else `v` is.
pub(crate) fn json_array(v: &Value) -> Result<&Vec<Value>, ApiError> {
    v.as_array()
        .ok_or_else(|| wrong_json_type(JsonType::List, v))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::kind;

    #[test]
    fn messages_name_java_classes() {
        let e = wrong_json_type(JsonType::String, &json!(5));
        assert_eq!(e.kind, kind::SERIALIZATION);
        assert_eq!(
            e.message,
            "class java.lang.Short can not be converted to an String"
        );
        assert_eq!(
            wrong_json_type(JsonType::Blob, &json!(100000)).message,
            "class java.lang.Integer can not be converted to a Blob"
        );
        assert_eq!(
            wrong_json_type(JsonType::Long, &json!(1.5)).message,
            "class java.lang.Double can not be converted to an Long"
        );
        assert_eq!(
            wrong_json_type(JsonType::List, &json!("x")).message,
            "Expected list or null"
        );
        assert_eq!(
            wrong_json_type(JsonType::Boolean, &json!("yes")).message,
            "'YES' can not be converted to an Boolean"
        );
    }
}
