//! Typed requests: the common shape of a hot operation's request, decoded straight from the
//! body's bytes into borrowed members, without a [`serde_json::Value`] tree.
//!
//! A GetItem from an SDK is `{"TableName":"t","Key":{"pk":{"S":"..."}}}`, perhaps with
//! `ConsistentRead` and `ReturnConsumedCapacity`. Building a JSON tree for it, then reading the
//! members out of the tree, allocates a string for every member name and value and a map for
//! every object; here the request is read in one pass, the table name borrowed from the body and
//! the key built directly as the store's [`Item`].
//!
//! Only the common shape is taken: every other member (a projection, expression attribute
//! names...), a string with an escape in it (it could not be borrowed), a key attribute of a type
//! other than `S` or `N`, a duplicate member, a `null`, and anything invalid make the decoder
//! answer `None`, and the caller decodes the request the general way ([`crate::request`]), which
//! gives every error DynamoDB's words. So a request decoded here is one the general path would
//! have accepted with the same meaning, and the errors stay the general path's.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use tarn_store::{AttributeValue, Item, Number};

use crate::validation::ValidationErrors;

/// A GetItem request in its common shape: `TableName` and `Key`, and optionally
/// `ConsistentRead` and `ReturnConsumedCapacity` (see the module doc).
#[derive(Debug, PartialEq)]
pub struct GetItemRequest<'a> {
    /// `TableName`, checked against DynamoDB's name rules.
    pub table_name: &'a str,
    /// `Key`.
    pub key: Item,
    /// `ConsistentRead` (false when absent).
    pub consistent_read: bool,
    /// `ReturnConsumedCapacity` as sent (`None` when absent); the caller checks its value.
    pub return_consumed_capacity: Option<&'a str>,
}

/// Decodes `body` as a GetItem request in its common shape; `None` for any other body (decode
/// it the general way then).
pub fn get_item_request(body: &[u8]) -> Option<GetItemRequest<'_>> {
    let shape: GetItemShape<'_> = serde_json::from_slice(body).ok()?;
    let mut errors = ValidationErrors::new();
    errors.check_name("TableName", shape.table_name);
    errors.finish().ok()?;
    Some(GetItemRequest {
        table_name: shape.table_name,
        key: shape.key.0,
        consistent_read: shape.consistent_read.unwrap_or(false),
        return_consumed_capacity: shape.return_consumed_capacity,
    })
}

/// The members GetItem's common shape may have: any other member is an error (and so the
/// general path's business), as is a member given twice or a `null` one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetItemShape<'a> {
    #[serde(rename = "TableName", borrow)]
    table_name: &'a str,
    #[serde(rename = "Key")]
    key: KeyShape,
    #[serde(rename = "ConsistentRead", default, deserialize_with = "present_bool")]
    consistent_read: Option<bool>,
    #[serde(
        rename = "ReturnConsumedCapacity",
        default,
        borrow,
        deserialize_with = "present_str"
    )]
    return_consumed_capacity: Option<&'a str>,
}

/// A boolean member that is present (a `null` is not the common shape).
fn present_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    bool::deserialize(d).map(Some)
}

/// A string member that is present and has no escape in it.
fn present_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de str>, D::Error> {
    <&'de str>::deserialize(d).map(Some)
}

/// A key: attribute names (without escapes, each once) to `{"S": ...}` or `{"N": ...}`.
struct KeyShape(Item);

impl<'de> Deserialize<'de> for KeyShape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyShape;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key of string and number attributes")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyShape, A::Error> {
                let mut item = BTreeMap::new();
                while let Some(name) = map.next_key::<&'de str>()? {
                    let value = map.next_value::<ScalarShape>()?;
                    if item.insert(name.to_owned(), value.0).is_some() {
                        return Err(de::Error::custom("an attribute named twice"));
                    }
                }
                Ok(KeyShape(item))
            }
        }

        d.deserialize_map(KeyVisitor)
    }
}

/// One key attribute's value: `{"S": "..."}` or `{"N": "..."}` (a valid number), nothing else.
struct ScalarShape(AttributeValue);

impl<'de> Deserialize<'de> for ScalarShape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = ScalarShape;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"{"S": ...} or {"N": ...}"#)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ScalarShape, A::Error> {
                let value = match map.next_key::<&'de str>()? {
                    Some("S") => AttributeValue::S(map.next_value::<&'de str>()?.to_owned()),
                    Some("N") => {
                        let n = map.next_value::<&'de str>()?;
                        // An empty or invalid number is the general path's error to word.
                        let n = (!n.is_empty())
                            .then(|| Number::parse(n).ok())
                            .flatten()
                            .ok_or_else(|| de::Error::custom("not a valid number"))?;
                        AttributeValue::N(n)
                    }
                    _ => return Err(de::Error::custom("not a string or number attribute")),
                };
                if map.next_key::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("more than one member"));
                }
                Ok(ScalarShape(value))
            }
        }

        d.deserialize_map(ScalarVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::request::{optional_bool, optional_str, required_item, table_name};

    /// What the general path reads from the same body, for the members the typed one has.
    fn general(body: &str) -> Option<GetItemRequest<'_>> {
        let v: Value = serde_json::from_str(body).ok()?;
        let v: &'static Value = Box::leak(Box::new(v));
        Some(GetItemRequest {
            table_name: table_name(v).ok()?,
            key: required_item(v, "Key").ok()?,
            consistent_read: optional_bool(v, "ConsistentRead").ok()?.unwrap_or(false),
            return_consumed_capacity: optional_str(v, "ReturnConsumedCapacity").ok()?,
        })
    }

    #[test]
    fn the_common_shape_is_decoded_as_the_general_path_decodes_it() {
        for body in [
            r#"{"TableName":"bench","Key":{"pk":{"S":"key-000123"}}}"#,
            r#"{"Key":{"pk":{"S":"a"},"sk":{"N":"0012.50"}},"TableName":"My_table.v-1"}"#,
            r#" {"TableName":"bench","Key":{"pk":{"S":""}},"ConsistentRead":true} "#,
            r#"{"TableName":"bench","Key":{},"ConsistentRead":false,"ReturnConsumedCapacity":"TOTAL"}"#,
            r#"{"TableName":"bench","Key":{"n":{"N":"-1E3"}},"ReturnConsumedCapacity":"SOMETHING"}"#,
        ] {
            let typed = get_item_request(body.as_bytes()).unwrap_or_else(|| panic!("{body}"));
            assert_eq!(Some(&typed), general(body).as_ref(), "{body}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_general_path() {
        for body in [
            "",
            "  ",
            "[]",
            "{not json",
            "{}",
            r#"{"TableName":"bench"}"#,
            r#"{"Key":{"pk":{"S":"a"}}}"#,
            // Names the general path refuses, with its own words.
            r#"{"TableName":"a!","Key":{"pk":{"S":"a"}}}"#,
            r#"{"TableName":"ab","Key":{"pk":{"S":"a"}}}"#,
            // Members beyond the common shape.
            r#"{"TableName":"bench","Key":{"pk":{"S":"a"}},"ProjectionExpression":"pk"}"#,
            r#"{"TableName":"bench","Key":{"pk":{"S":"a"}},"AttributesToGet":["pk"]}"#,
            // Nulls, duplicates, escapes, wrong JSON types.
            r#"{"TableName":"bench","Key":{"pk":{"S":"a"}},"ConsistentRead":null}"#,
            r#"{"TableName":"bench","Key":{"pk":{"S":"a"}},"ReturnConsumedCapacity":null}"#,
            r#"{"TableName":null,"Key":{"pk":{"S":"a"}}}"#,
            r#"{"TableName":"bench","TableName":"bench","Key":{"pk":{"S":"a"}}}"#,
            r#"{"TableName":"bench","Key":{"pk":{"S":"a"},"pk":{"S":"b"}}}"#,
            r#"{"TableName":"bench","Key":{"pk":{"S":"a\"b"}}}"#,
            r#"{"TableName":"be\u006ech","Key":{"pk":{"S":"a"}}}"#,
            r#"{"TableName":"bench","Key":{"p\u006b":{"S":"a"}}}"#,
            r#"{"TableName":"bench","Key":{"pk":null}}"#,
            r#"{"TableName":"bench","Key":null}"#,
            r#"{"TableName":"bench","Key":[]}"#,
            r#"{"TableName":"bench","Key":{"pk":"a"}}"#,
            r#"{"TableName":"bench","Key":{"pk":{"S":1}}}"#,
            r#"{"TableName":"bench","Key":{"pk":{"S":"a","N":"1"}}}"#,
            r#"{"TableName":"bench","Key":{"pk":{"S":"a","N":null}}}"#,
            r#"{"TableName":"bench","Key":{"pk":{"S":"a"}},"ConsistentRead":"yes"}"#,
            r#"{"TableName":7,"Key":{"pk":{"S":"a"}}}"#,
            // Other types, invalid numbers.
            r#"{"TableName":"bench","Key":{"pk":{"B":"AAAA"}}}"#,
            r#"{"TableName":"bench","Key":{"pk":{"N":""}}}"#,
            r#"{"TableName":"bench","Key":{"pk":{"N":"abc"}}}"#,
            r#"{"TableName":"bench","Key":{"pk":{}}}"#,
            // Trailing bytes.
            r#"{"TableName":"bench","Key":{"pk":{"S":"a"}}} x"#,
        ] {
            assert_eq!(get_item_request(body.as_bytes()), None, "{body}");
        }
    }
}
