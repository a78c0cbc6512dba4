//! Attribute values and items in DynamoDB JSON, mapped to and from the store's types.
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
//! store's canonical order); [`ItemJson`] writes an item's bytes without the JSON tree.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};
use tarn_store::value::{ValueError, MAX_NESTING};
use tarn_store::{AttributeValue, Item, Number};

use crate::error::ApiError;
use crate::json_type::{json_array, json_bool, json_str, wrong_json_type, JsonType};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

const EMPTY_VALUE: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
const MANY_TYPES: &str =
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
const NULL_NOT_TRUE: &str = "One or more parameter values were invalid: Null attribute value types must have the value of true";

/// The ten type members an attribute value object may carry.
const TYPE_MEMBERS: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];

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

/// An item written as DynamoDB JSON straight from the store's types, without building a
/// [`Value`] tree first: `serde_json::to_writer(&mut out, &ItemJson(&item))` writes the bytes
/// `serde_json::to_writer(&mut out, &encode_item(&item))` would, with fewer allocations (the
/// hot paths, GetItem's and Query's answers, use it).
pub struct ItemJson<'a>(pub &'a Item);

/// One attribute value written as DynamoDB JSON, as [`ItemJson`] writes an item.
pub struct ValueJson<'a>(pub &'a AttributeValue);

impl serde::Serialize for ItemJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, ValueJson(v))))
    }
}

/// A number or binary written as a JSON string through its `Display`, without a `String`.
struct Displayed<T: std::fmt::Display>(T);

impl<T: std::fmt::Display> serde::Serialize for Displayed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

fn base64_of(
    b: &[u8],
) -> Displayed<base64::display::Base64Display<'_, 'static, base64::engine::GeneralPurpose>> {
    Displayed(base64::display::Base64Display::new(b, &BASE64))
}

impl serde::Serialize for ValueJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self.0 {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", &Displayed(n))?,
            AttributeValue::B(b) => map.serialize_entry("B", &base64_of(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", &ItemJson(m))?,
            AttributeValue::L(l) => map.serialize_entry("L", &List(l))?,
            AttributeValue::Ss(ss) => map.serialize_entry("SS", ss)?,
            AttributeValue::Ns(ns) => map.serialize_entry("NS", &Numbers(ns))?,
            AttributeValue::Bs(bs) => map.serialize_entry("BS", &Binaries(bs))?,
        }
        map.end()
    }
}

/// An `L` value's members.
struct List<'a>(&'a [AttributeValue]);

impl serde::Serialize for List<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ValueJson))
    }
}

/// An `NS` value's members.
struct Numbers<'a>(&'a [Number]);

impl serde::Serialize for Numbers<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Displayed))
    }
}

/// A `BS` value's members.
struct Binaries<'a>(&'a [Vec<u8>]);

impl serde::Serialize for Binaries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|b| base64_of(b)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::error::kind;

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

    fn arb_number() -> impl Strategy<Value = Number> {
        (any::<i64>(), -20i32..20).prop_map(|(m, e)| Number::parse(&format!("{m}e{e}")).unwrap())
    }

    fn arb_value() -> impl Strategy<Value = AttributeValue> {
        arb_value_with(".{0,6}".boxed())
    }

    /// Any attribute value, nested up to four deep, its strings (S, SS members and M names)
    /// drawn from `strings`.
    pub(crate) fn arb_value_with(
        strings: BoxedStrategy<String>,
    ) -> impl Strategy<Value = AttributeValue> {
        let leaf = prop_oneof![
            strings.clone().prop_map(AttributeValue::S),
            arb_number().prop_map(AttributeValue::N),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            proptest::collection::btree_set(strings.clone(), 1..4)
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
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                proptest::collection::btree_map(strings.clone(), inner, 0..4)
                    .prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        #[test]
        fn item_json_writes_what_encode_item_writes(
            item in proptest::collection::btree_map(".{0,6}", arb_value(), 0..6)
        ) {
            let direct = serde_json::to_vec(&ItemJson(&item)).unwrap();
            let through_value = serde_json::to_vec(&encode_item(&item)).unwrap();
            prop_assert_eq!(direct, through_value);
        }

        #[test]
        fn round_trip(v in arb_value()) {
            let json = encode_value(&v);
            let text = serde_json::to_string(&json).unwrap();
            let back = decode_value(&serde_json::from_str(&text).unwrap()).unwrap();
            prop_assert_eq!(back, v);
        }
    }
}
