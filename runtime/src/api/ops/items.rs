//! Single-item operations: PutItem, GetItem, DeleteItem.

use serde_json::{json, Map, Value};
use tarn_store::Item;

use super::super::codec::{encode_item, optional_array, optional_str, required_item, table_name};
use super::super::{Api, ApiError};

/// The ReturnValues member, checked against what the operation allows.
fn return_values<'a>(body: &'a Value, allowed: &[&str]) -> Result<&'a str, ApiError> {
    let rv = optional_str(body, "ReturnValues")?.unwrap_or("NONE");
    if !allowed.contains(&rv) {
        return Err(ApiError::validation(format!("ReturnValues can only be {} on this operation", allowed.join(" or "))));
    }
    Ok(rv)
}

fn refuse_unsupported(body: &Value, members: &[&str]) -> Result<(), ApiError> {
    for m in members {
        if body.get(*m).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::validation(format!("{m} is not supported by this version of tarn yet")));
        }
    }
    Ok(())
}

fn with_attributes(item: Option<Item>) -> Value {
    let mut out = Map::new();
    if let Some(item) = item {
        out.insert("Attributes".into(), encode_item(&item));
    }
    Value::Object(out)
}

/// PutItem.
pub(crate) fn put_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    refuse_unsupported(body, &["ConditionExpression", "Expected"])?;
    let table = table_name(body)?;
    let item = required_item(body, "Item")?;
    let rv = return_values(body, &["NONE", "ALL_OLD"])?;
    let old = api.store().put_item(table, item, |_| Ok(()))?;
    Ok(with_attributes(old.filter(|_| rv == "ALL_OLD")))
}

/// GetItem.
pub(crate) fn get_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    refuse_unsupported(body, &["ProjectionExpression"])?;
    let table = table_name(body)?;
    let key = required_item(body, "Key")?;
    let item = api.store().get_item(table, &key)?;
    let item = match optional_array(body, "AttributesToGet")? {
        Some(names) => {
            let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
            item.map(|i| i.into_iter().filter(|(k, _)| names.contains(&k.as_str())).collect::<Item>())
        }
        None => item,
    };
    Ok(match item {
        Some(item) => json!({"Item": encode_item(&item)}),
        None => json!({}),
    })
}

/// DeleteItem.
pub(crate) fn delete_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    refuse_unsupported(body, &["ConditionExpression", "Expected"])?;
    let table = table_name(body)?;
    let key = required_item(body, "Key")?;
    let rv = return_values(body, &["NONE", "ALL_OLD"])?;
    let old = api.store().delete_item(table, &key, |_| Ok(()))?;
    Ok(with_attributes(old.filter(|_| rv == "ALL_OLD")))
}
