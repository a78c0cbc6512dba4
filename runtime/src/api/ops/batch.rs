//! BatchGetItem and BatchWriteItem.
//!
//! DynamoDB's limits and validation apply: 100 keys per BatchGetItem, 25 requests per
//! BatchWriteItem, no duplicate keys. tarn processes every request of a batch, so
//! UnprocessedKeys and UnprocessedItems are empty except where a BatchGetItem answer would pass
//! DynamoDB's 16 MB response limit. The writes of one BatchWriteItem are applied in one atomic,
//! group-committed batch (DynamoDB promises less: each write on its own).

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};
use tarn_store::value::{item_size, validate_item};
use tarn_store::{Mutation, TransactAction};

use super::capacity::{self, Kind, Report};
use super::expressions::RequestExprs;
use crate::api::Api;
use tarn_wire::ApiError;
use tarn_wire::{decode_item, encode_item, required_object};

const MAX_GET_KEYS: usize = 100;
const MAX_WRITES: usize = 25;
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

fn duplicates() -> ApiError {
    ApiError::validation("Provided list of item keys contains duplicates")
}

/// Records each table's units in the metrics; the ConsumedCapacity list when asked for.
fn capacity_list(
    api: &Api,
    report: Report,
    per_table: BTreeMap<String, f64>,
    kind: Kind,
) -> Option<Value> {
    let entries: Vec<Value> = per_table
        .into_iter()
        .filter_map(|(t, u)| capacity::consumed(api, report, &t, u, kind))
        .collect();
    (report != Report::None).then_some(Value::Array(entries))
}

/// BatchGetItem.
pub(crate) fn batch_get_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let report = Report::from_request(body)?;
    let request_items = required_object(body, "RequestItems")?;
    if request_items.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let total: usize = request_items
        .values()
        .map(|t| t.get("Keys").and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    if total > MAX_GET_KEYS {
        return Err(ApiError::validation(
            "Too many items requested for the BatchGetItem call",
        ));
    }
    let mut responses = Map::new();
    let mut unprocessed = Map::new();
    let mut units = BTreeMap::new();
    let mut bytes_out = 0usize;
    for (table, request) in request_items {
        let meta = api.store().table_meta(&api.table_ref(table))?;
        let keys = request
            .get("Keys")
            .and_then(Value::as_array)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::validation("1 validation error detected: Value null at 'requestItems.keys' failed to satisfy constraint: Member must have length greater than or equal to 1"))?;
        let consistent = request
            .get("ConsistentRead")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut exprs = RequestExprs::new(request)?;
        let projection = exprs.projection()?;
        exprs.check_key_paths(api, &api.table_ref(table))?;
        exprs.finish()?;
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        let mut left = Vec::new();
        for key_json in keys {
            let key = decode_item(key_json)?;
            meta.key_schema.validate_key(&key).map_err(ApiError::from)?;
            if !seen.insert(key.clone()) {
                return Err(duplicates());
            }
            if bytes_out >= MAX_RESPONSE_BYTES {
                left.push(key_json.clone());
                continue;
            }
            // Shared with the row cache, with the size it already knows: a hit copies nothing.
            if let Some(item) = api.store().get_item_shared(&api.table_ref(table), &key)? {
                let size = item.size();
                if bytes_out + size > MAX_RESPONSE_BYTES {
                    // This item would pass the 16 MB response limit: it, and every key after
                    // it, is left for the client to ask again.
                    bytes_out = MAX_RESPONSE_BYTES;
                    left.push(key_json.clone());
                    continue;
                }
                bytes_out += size;
                *units.entry(table.clone()).or_insert(0.0) +=
                    capacity::read_units(size, consistent);
                items.push(match &projection {
                    Some(p) => encode_item(&p.apply(&item)),
                    None => encode_item(&item),
                });
            } else {
                *units.entry(table.clone()).or_insert(0.0) += capacity::read_units(0, consistent);
            }
        }
        responses.insert(table.clone(), Value::Array(items));
        if !left.is_empty() {
            let mut again = request.as_object().cloned().unwrap_or_default();
            again.insert("Keys".into(), Value::Array(left));
            unprocessed.insert(table.clone(), Value::Object(again));
        }
    }
    let mut out = json!({"Responses": responses, "UnprocessedKeys": unprocessed});
    if let Some(c) = capacity_list(api, report, units, Kind::Read) {
        out["ConsumedCapacity"] = c;
    }
    Ok(out)
}

/// BatchWriteItem.
pub(crate) fn batch_write_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let report = Report::from_request(body)?;
    let request_items = required_object(body, "RequestItems")?;
    let total: usize = request_items
        .values()
        .map(|t| t.as_array().map_or(0, Vec::len))
        .sum();
    if total == 0 {
        return Err(ApiError::validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    if total > MAX_WRITES
        || request_items
            .values()
            .any(|t| t.as_array().is_some_and(Vec::is_empty))
    {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
        ));
    }
    let mut actions = Vec::with_capacity(total);
    let mut seen = HashSet::new();
    let mut tally = capacity::WriteTally::default();
    // Each action's table as the request names it (capacity is reported by that name).
    let mut tables: Vec<String> = Vec::with_capacity(total);
    for (table, requests) in request_items {
        let meta = api.store().table_meta(&api.table_ref(table))?;
        let requests = requests
            .as_array()
            .ok_or_else(|| ApiError::serialization("RequestItems values must be lists"))?;
        for request in requests {
            let (key, mutation) =
                match (request.get("PutRequest"), request.get("DeleteRequest")) {
                    (Some(put), None) => {
                        let item = decode_item(put.get("Item").ok_or_else(|| {
                            ApiError::validation("PutRequest must contain Item")
                        })?)?;
                        let key = meta.key_schema.key_of_item(&item)?;
                        validate_item(&item)?;
                        tarn_store::index::check_item(&meta, &item)?;
                        tally.add_table(table, capacity::write_units(item_size(&item)));
                        (key, Mutation::Put(item))
                    }
                    (None, Some(del)) => {
                        let key = decode_item(del.get("Key").ok_or_else(|| {
                            ApiError::validation("DeleteRequest must contain Key")
                        })?)?;
                        meta.key_schema.validate_key(&key)?;
                        tally.add_table(table, capacity::write_units(0));
                        (key, Mutation::Delete)
                    }
                    _ => return Err(ApiError::validation(
                        "A WriteRequest must contain exactly one of PutRequest or DeleteRequest",
                    )),
                };
            if !seen.insert((table.clone(), key.clone())) {
                return Err(duplicates());
            }
            tables.push(table.clone());
            actions.push(TransactAction {
                table: api.table_ref(table).into_owned(),
                key,
                decide: Box::new(move |_, _| Ok(mutation)),
            });
        }
    }
    let outcomes = api.store().write_items(actions)?;
    for (table, o) in tables.iter().zip(&outcomes) {
        tally.add_index_writes(api, table, o.old.as_ref(), o.new.as_ref(), 1.0);
    }
    let mut out = json!({"UnprocessedItems": {}});
    if let Some(c) = tally.consumed(api, report) {
        out["ConsumedCapacity"] = c;
    }
    Ok(out)
}
