//! Mapping between serde types and DynamoDB items (`{"id": {"S": "a"}, "n": {"N": "1"}}`).
//!
//! A value goes through `serde_json::Value`: strings become `S`, numbers `N`, booleans `BOOL`,
//! unit/`None` `NULL`, sequences `L`, maps and structs `M`. Back from DynamoDB, `SS`/`NS`/`BS`
//! become sequences and `B` its base64 text. `N` values become JSON numbers when an `i64`, `u64`
//! or `f64` holds them exactly, else strings (deserialize those into `String` to keep all 38
//! digits).

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Number, Value};

/// A DynamoDB item in DynamoDB JSON: attribute name -> attribute value (`{"S": "..."}`).
pub type Item = Map<String, Value>;

/// Why a value could not become an item, or an item a value.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    /// Items (and keys) are maps: structs, maps, `serde_json::Value::Object`.
    #[error("an item must serialize to a map, not {0}")]
    NotAMap(&'static str),
    /// serde could not convert the value.
    #[error("{0}")]
    Serde(#[from] serde_json::Error),
    /// An attribute value is not DynamoDB JSON.
    #[error("invalid attribute value: {0}")]
    BadAttribute(String),
}

/// Serializes `value` (a struct or map) to a DynamoDB item.
pub fn to_item<T: Serialize + ?Sized>(value: &T) -> Result<Item, ItemError> {
    match serde_json::to_value(value)? {
        Value::Object(map) => Ok(map
            .into_iter()
            .map(|(k, v)| (k, json_to_attribute(v)))
            .collect()),
        other => Err(ItemError::NotAMap(kind_name(&other))),
    }
}

/// Deserializes a DynamoDB item into `T`.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, ItemError> {
    let mut map = Map::new();
    for (k, v) in item {
        map.insert(k, attribute_to_json(v)?);
    }
    Ok(serde_json::from_value(Value::Object(map))?)
}

/// Serializes any value to one DynamoDB attribute value (`"a"` -> `{"S": "a"}`).
pub fn to_attribute<T: Serialize + ?Sized>(value: &T) -> Result<Value, ItemError> {
    Ok(json_to_attribute(serde_json::to_value(value)?))
}

/// Deserializes one DynamoDB attribute value into `T`.
pub fn from_attribute<T: DeserializeOwned>(value: Value) -> Result<T, ItemError> {
    Ok(serde_json::from_value(attribute_to_json(value)?)?)
}

/// Converts plain JSON to a DynamoDB attribute value.
pub fn json_to_attribute(value: Value) -> Value {
    let (tag, inner) = match value {
        Value::Null => ("NULL", Value::Bool(true)),
        Value::Bool(b) => ("BOOL", Value::Bool(b)),
        Value::Number(n) => ("N", Value::String(n.to_string())),
        Value::String(s) => ("S", Value::String(s)),
        Value::Array(a) => (
            "L",
            Value::Array(a.into_iter().map(json_to_attribute).collect()),
        ),
        Value::Object(m) => (
            "M",
            Value::Object(
                m.into_iter()
                    .map(|(k, v)| (k, json_to_attribute(v)))
                    .collect(),
            ),
        ),
    };
    let mut m = Map::new();
    m.insert(tag.to_string(), inner);
    Value::Object(m)
}

/// Converts a DynamoDB attribute value to plain JSON.
pub fn attribute_to_json(value: Value) -> Result<Value, ItemError> {
    let bad = |v: &Value| ItemError::BadAttribute(v.to_string());
    let Value::Object(m) = value else {
        return Err(bad(&value));
    };
    if m.len() != 1 {
        return Err(bad(&Value::Object(m)));
    }
    let (tag, inner) = m.into_iter().next().expect("one entry");
    Ok(match (tag.as_str(), inner) {
        ("S" | "B", Value::String(s)) => Value::String(s),
        ("N", Value::String(n)) => number(&n),
        ("BOOL", Value::Bool(b)) => Value::Bool(b),
        ("NULL", _) => Value::Null,
        ("L", Value::Array(a)) => Value::Array(
            a.into_iter()
                .map(attribute_to_json)
                .collect::<Result<_, _>>()?,
        ),
        ("M", Value::Object(m)) => Value::Object(
            m.into_iter()
                .map(|(k, v)| Ok((k, attribute_to_json(v)?)))
                .collect::<Result<_, ItemError>>()?,
        ),
        ("SS" | "BS", Value::Array(a)) => Value::Array(a),
        ("NS", Value::Array(a)) => Value::Array(
            a.into_iter()
                .map(|v| match v {
                    Value::String(n) => Ok(number(&n)),
                    other => Err(bad(&other)),
                })
                .collect::<Result<_, _>>()?,
        ),
        (tag, inner) => return Err(ItemError::BadAttribute(format!("{{\"{tag}\": {inner}}}"))),
    })
}

/// A DynamoDB number as a JSON number when one holds it exactly, else as a string.
fn number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Ok(u) = n.parse::<u64>() {
        return Value::Number(u.into());
    }
    if let Ok(f) = n.parse::<f64>() {
        if let Some(num) = Number::from_f64(f) {
            // Keep the string when f64 would round it (more than ~15 significant digits).
            let digits = n
                .trim_start_matches(['-', '+'])
                .split(['e', 'E'])
                .next()
                .unwrap_or("");
            let significant = digits
                .replace('.', "")
                .trim_start_matches('0')
                .trim_end_matches('0')
                .len();
            if significant <= 15 {
                return Value::Number(num);
            }
        }
    }
    Value::String(n.to_string())
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Todo {
        id: String,
        title: String,
        done: bool,
        version: u64,
        score: f64,
        tags: Vec<String>,
        note: Option<String>,
        meta: BTreeMap<String, i32>,
    }

    fn todo() -> Todo {
        Todo {
            id: "t1".into(),
            title: "milk".into(),
            done: false,
            version: 3,
            score: 1.5,
            tags: vec!["a".into(), "b".into()],
            note: None,
            meta: [("x".to_string(), -2)].into_iter().collect(),
        }
    }

    #[test]
    fn struct_to_item() {
        let item = to_item(&todo()).unwrap();
        assert_eq!(
            Value::Object(item),
            json!({
                "id": {"S": "t1"}, "title": {"S": "milk"}, "done": {"BOOL": false},
                "version": {"N": "3"}, "score": {"N": "1.5"},
                "tags": {"L": [{"S": "a"}, {"S": "b"}]}, "note": {"NULL": true},
                "meta": {"M": {"x": {"N": "-2"}}}
            })
        );
    }

    #[test]
    fn round_trip() {
        let item = to_item(&todo()).unwrap();
        let back: Todo = from_item(item).unwrap();
        assert_eq!(back, todo());
    }

    #[test]
    fn sets_binary_and_missing_optionals() {
        #[derive(Deserialize)]
        struct T {
            ss: Vec<String>,
            ns: Vec<f64>,
            b: String,
            opt: Option<u8>,
        }
        let item =
            json!({"ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]}, "b": {"B": "AAE="}});
        let Value::Object(item) = item else {
            unreachable!()
        };
        let t: T = from_item(item).unwrap();
        assert_eq!(t.ss, ["x", "y"]);
        assert_eq!(t.ns, [1.0, 2.5]);
        assert_eq!(t.b, "AAE=");
        assert_eq!(t.opt, None);
    }

    #[test]
    fn big_numbers_stay_exact() {
        let v = attribute_to_json(json!({"N": "12345678901234567890123456789"})).unwrap();
        assert_eq!(v, json!("12345678901234567890123456789"));
        assert_eq!(
            attribute_to_json(json!({"N": "18446744073709551615"})).unwrap(),
            json!(u64::MAX)
        );
        assert_eq!(
            attribute_to_json(json!({"N": "-0.25"})).unwrap(),
            json!(-0.25)
        );
        let s: String = from_attribute(json!({"N": "0.1234567890123456789"})).unwrap();
        assert_eq!(s, "0.1234567890123456789");
    }

    #[test]
    fn errors() {
        assert!(matches!(to_item(&5), Err(ItemError::NotAMap("a number"))));
        assert!(matches!(
            attribute_to_json(json!({"X": 1})),
            Err(ItemError::BadAttribute(_))
        ));
        assert!(matches!(
            attribute_to_json(json!("S")),
            Err(ItemError::BadAttribute(_))
        ));
        let Value::Object(item) = json!({"id": {"N": "1"}}) else {
            unreachable!()
        };
        assert!(from_item::<Todo>(item).is_err());
    }

    #[test]
    fn single_attributes() {
        assert_eq!(to_attribute("a").unwrap(), json!({"S": "a"}));
        assert_eq!(to_attribute(&7u8).unwrap(), json!({"N": "7"}));
        let n: u32 = from_attribute(json!({"N": "7"})).unwrap();
        assert_eq!(n, 7);
    }
}
