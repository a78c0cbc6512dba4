//! Table schema members shared by CreateTable, UpdateTable, the index operations, restores and
//! ImportTable: AttributeDefinitions and their types, KeySchema lists (read and written), and
//! ProvisionedThroughput.

use serde_json::{json, Value};
use tarn_store::schema::{KeyAttribute, KeySchema, ScalarType, Throughput};
use tarn_wire::{optional_i64, optional_object, required_str, ApiError, ValidationErrors};

/// Most attributes in one part (partition or sort) of a multi-attribute index key.
const MAX_KEY_PART_ELEMENTS: usize = 4;

/// Longest name of a key attribute (of a table or an index), in bytes.
const MAX_KEY_ATTRIBUTE_NAME_BYTES: usize = 255;

/// Reads an AttributeDefinitions list. An unknown type is recorded in `errors` (and read as
/// `S`), so it is reported with the request's other constraint failures.
pub(crate) fn attribute_definitions(
    list: &[Value],
    errors: &mut ValidationErrors,
) -> Result<Vec<KeyAttribute>, ApiError> {
    let mut definitions = Vec::with_capacity(list.len());
    for (i, def) in list.iter().enumerate() {
        let name = required_str(def, "AttributeName")?;
        if name.is_empty() || name.len() > MAX_KEY_ATTRIBUTE_NAME_BYTES {
            errors.push(
                &format!("attributeDefinitions.{}.member.attributeName", i + 1),
                Some(name),
                if name.is_empty() {
                    "Member must have length greater than or equal to 1"
                } else {
                    "Member must have length less than or equal to 255"
                },
            );
        }
        let ty = required_str(def, "AttributeType")?;
        let attr_type = scalar_type(
            ty,
            &format!("attributeDefinitions.{}.member.attributeType", i + 1),
            errors,
        );
        definitions.push(KeyAttribute {
            name: name.to_string(),
            attr_type,
        });
    }
    Ok(definitions)
}

/// Checks the attribute names of a KeySchema list (at `path`: `keySchema`, or an index's
/// `globalSecondaryIndexes.1.member.keySchema`) against the API's length constraint, 1 to 255
/// bytes. DynamoDB checks every member's constraints before it compares the key schema with
/// the AttributeDefinitions, so an over-long key name is reported as such even when it has no
/// definition.
pub(crate) fn key_schema_name_lengths(
    key_elems: &[Value],
    path: &str,
    errors: &mut ValidationErrors,
) {
    for (i, elem) in key_elems.iter().enumerate() {
        let Some(name) = elem.get("AttributeName").and_then(Value::as_str) else {
            continue;
        };
        if name.is_empty() || name.len() > MAX_KEY_ATTRIBUTE_NAME_BYTES {
            errors.push(
                &format!("{path}.{}.member.attributeName", i + 1),
                Some(name),
                if name.is_empty() {
                    "Member must have length greater than or equal to 1"
                } else {
                    "Member must have length less than or equal to 255"
                },
            );
        }
    }
}

/// An AttributeType (`S`, `N` or `B`); anything else is recorded in `errors` against `path`.
fn scalar_type(s: &str, path: &str, errors: &mut ValidationErrors) -> ScalarType {
    ScalarType::parse(s).unwrap_or_else(|| {
        errors.push(
            path,
            Some(s),
            "Member must satisfy enum value set: [B, N, S]",
        );
        ScalarType::S
    })
}

/// The ProvisionedThroughput member of `body` (a request, or an index structure).
pub(crate) fn throughput(body: &Value) -> Result<Option<Throughput>, ApiError> {
    let Some(pt) = optional_object(body, "ProvisionedThroughput")? else {
        return Ok(None);
    };
    let pt = Value::Object(pt.clone());
    let mut errors = ValidationErrors::new();
    let read = optional_i64(&pt, "ReadCapacityUnits")?;
    let write = optional_i64(&pt, "WriteCapacityUnits")?;
    if read.is_none() {
        errors.not_null("provisionedThroughput.readCapacityUnits");
    }
    if write.is_none() {
        errors.not_null("provisionedThroughput.writeCapacityUnits");
    }
    for (v, path) in [
        (read, "provisionedThroughput.readCapacityUnits"),
        (write, "provisionedThroughput.writeCapacityUnits"),
    ] {
        if let Some(v) = v.filter(|v| *v < 1) {
            errors.push(
                path,
                Some(&v.to_string()),
                "Member must have value greater than or equal to 1",
            );
        }
    }
    errors.finish()?;
    Ok(Some(Throughput {
        read: read.unwrap_or(0) as u64,
        write: write.unwrap_or(0) as u64,
    }))
}

/// Reads a KeySchema list (of a table, or of an index at `path`) whose attribute types come
/// from `definitions`.
pub(crate) fn parse_key_schema(
    key_elems: &[Value],
    definitions: &[KeyAttribute],
    path: &str,
) -> Result<KeySchema, ApiError> {
    let mut hash = None;
    let mut range = None;
    for (i, elem) in key_elems.iter().enumerate() {
        let attr_name = required_str(elem, "AttributeName")?;
        let key_type = required_str(elem, "KeyType")?;
        let attr_type = definitions
            .iter()
            .find(|d| d.name == attr_name)
            .map(|d| d.attr_type)
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                    key_elems.iter().filter_map(|e| e.get("AttributeName").and_then(Value::as_str)).collect::<Vec<_>>().join(", "),
                    definitions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })?;
        let attr = KeyAttribute {
            name: attr_name.to_string(),
            attr_type,
        };
        match (i, key_type) {
            (0, "HASH") => hash = Some(attr),
            (1, "RANGE") => range = Some(attr),
            (0, "RANGE") => {
                return Err(ApiError::validation(
                    "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
                ))
            }
            (1, "HASH") => {
                return Err(ApiError::validation("Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key"))
            }
            (_, other) => {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{other}' at '{path}.{}.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]",
                    i + 1
                )))
            }
        }
    }
    let hash = hash.ok_or_else(|| {
        ApiError::validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    })?;
    Ok(KeySchema::new(hash, range))
}

/// Reads the KeySchema of a global secondary index, which may be a multi-attribute key: one to
/// four HASH elements, then up to four RANGE elements, in the order that makes the key (the
/// counts and repeated names are checked by the store, with the rest of the index's rules).
/// Attribute types come from `definitions`.
pub(crate) fn parse_global_key_schema(
    key_elems: &[Value],
    definitions: &[KeyAttribute],
    path: &str,
) -> Result<KeySchema, ApiError> {
    // DynamoDB's messages for a multi-attribute key's misuses (as DynamoDB Local 3.3 answers
    // them).
    if key_elems.len() > 2 * MAX_KEY_PART_ELEMENTS {
        return Err(ApiError::validation(
            "Key Schema too big.  Key Schema must at most consist of the hash and range key of a table",
        ));
    }
    // A key of one partition attribute (and at most one sort attribute) is read as a table's.
    let hash_count = key_elems
        .iter()
        .filter(|e| e.get("KeyType").and_then(Value::as_str) == Some("HASH"))
        .count();
    if key_elems.len() <= 2 && hash_count < 2 {
        return parse_key_schema(key_elems, definitions, path);
    }
    let names: Vec<&str> = key_elems
        .iter()
        .filter_map(|e| e.get("AttributeName").and_then(Value::as_str))
        .collect();
    if names
        .iter()
        .enumerate()
        .any(|(i, n)| names[..i].contains(n))
    {
        return Err(ApiError::validation("Two keys can not have the same name"));
    }
    let mut hash: Vec<KeyAttribute> = Vec::new();
    let mut range: Vec<KeyAttribute> = Vec::new();
    for (i, elem) in key_elems.iter().enumerate() {
        let attr_name = required_str(elem, "AttributeName")?;
        let key_type = required_str(elem, "KeyType")?;
        if !matches!(key_type, "HASH" | "RANGE") {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{key_type}' at '{path}.{}.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]",
                i + 1
            )));
        }
        let attr_type = definitions
            .iter()
            .find(|d| d.name == attr_name)
            .map(|d| d.attr_type)
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                    key_elems.iter().filter_map(|e| e.get("AttributeName").and_then(Value::as_str)).collect::<Vec<_>>().join(", "),
                    definitions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
                ))
            })?;
        let attr = KeyAttribute {
            name: attr_name.to_string(),
            attr_type,
        };
        match key_type {
            "HASH" if i == 0 || range.is_empty() => hash.push(attr),
            "HASH" => return Err(ApiError::validation(
                "Invalid key order. Hash Key must be specified first in key schema, Range Key must be specifed second",
            )),
            _ if i == 0 => {
                return Err(ApiError::validation(
                    "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
                ))
            }
            _ => range.push(attr),
        }
    }
    let mut hash = hash.into_iter();
    let mut range = range.into_iter();
    let first = hash.next().ok_or_else(|| {
        ApiError::validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    })?;
    Ok(KeySchema {
        hash: first,
        range: range.next(),
        hash_rest: hash.collect(),
        range_rest: range.collect(),
    })
}

/// A KeySchema as DynamoDB describes it: the HASH element(s), then the RANGE one(s), in key
/// order.
pub(crate) fn key_schema_json(ks: &KeySchema) -> Value {
    let hash = ks
        .hash_attributes()
        .map(|a| json!({"AttributeName": a.name, "KeyType": "HASH"}));
    let range = ks
        .range_attributes()
        .map(|a| json!({"AttributeName": a.name, "KeyType": "RANGE"}));
    Value::Array(hash.chain(range).collect())
}
