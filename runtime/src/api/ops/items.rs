//! Single-item operations: PutItem, GetItem, DeleteItem and UpdateItem, with conditions,
//! ReturnValues, ReturnValuesOnConditionCheckFailure and ReturnConsumedCapacity.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tarn_store::expr::{Condition, Projection};
use tarn_store::value::item_size;
use tarn_store::{Item, Mutation, SharedItem, StoreError};

use super::capacity::{self, Kind, Report};
use super::expressions::{check_condition, return_old_on_failure, write_error, RequestExprs};
use crate::api::Api;
use tarn_wire::ApiError;
use tarn_wire::{encode_item, optional_bool, optional_str, required_item, table_name};

/// The ReturnValues member, checked against what the operation allows.
fn return_values<'a>(body: &'a Value, allowed: &[&str]) -> Result<&'a str, ApiError> {
    let rv = optional_str(body, "ReturnValues")?.unwrap_or("NONE");
    if !allowed.contains(&rv) {
        return Err(ApiError::validation(format!(
            "ReturnValues can only be {} on this operation",
            allowed.join(" or ")
        )));
    }
    Ok(rv)
}

fn response(attributes: Option<Item>, consumed: Option<Value>) -> Value {
    let mut out = Map::new();
    if let Some(item) = attributes.filter(|i| !i.is_empty()) {
        out.insert("Attributes".into(), encode_item(&item));
    }
    let mut out = Value::Object(out);
    capacity::attach(&mut out, consumed);
    out
}

/// The capacity a write consumed (recorded in the metrics; the response entry when asked for):
/// `new_size` is the new item's size (`new` itself is needed only on a table with indexes).
fn write_capacity(
    api: &Api,
    report: Report,
    table: &str,
    old: Option<&Item>,
    new: Option<&Item>,
    new_size: usize,
) -> Option<Value> {
    let bytes = old.map_or(0, item_size).max(new_size);
    let indexes = api
        .store()
        .with_table_meta(&api.table_ref(table), |meta| {
            if meta.indexes.is_empty() {
                Vec::new()
            } else {
                capacity::index_write_units(meta, old, new)
            }
        })
        .unwrap_or_default();
    capacity::consumed_write(api, report, table, capacity::write_units(bytes), &indexes)
}

/// Whether `table` has secondary indexes (whose writes a write's capacity counts).
fn has_indexes(api: &Api, table: &str) -> bool {
    api.store()
        .with_table_meta(&api.table_ref(table), |meta| !meta.indexes.is_empty())
        .unwrap_or(false)
}

/// What PutItem and DeleteItem read beside the item or key: ReturnValues,
/// ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure and the condition.
struct ConditionalWrite<'a> {
    table: &'a str,
    return_values: &'a str,
    report: Report,
    return_old_on_failure: bool,
    condition: Option<Condition>,
}

impl<'a> ConditionalWrite<'a> {
    fn from_request(api: &Api, body: &'a Value) -> Result<Self, ApiError> {
        let table = table_name(body)?;
        let return_values = return_values(body, &["NONE", "ALL_OLD"])?;
        let report = Report::from_request(body)?;
        let return_old_on_failure = return_old_on_failure(body)?;
        let mut exprs = RequestExprs::new(body)?;
        let condition = exprs.condition()?;
        exprs.check_key_paths(api, &api.table_ref(table))?;
        exprs.finish()?;
        Ok(ConditionalWrite {
            table,
            return_values,
            report,
            return_old_on_failure,
            condition,
        })
    }

    fn check(&self, current: Option<&Item>) -> Result<(), StoreError> {
        check_condition(self.condition.as_ref(), current)
    }

    /// The response: the old item if ReturnValues asked for it, and the capacity consumed.
    fn respond(&self, api: &Api, old: Option<Item>, new: Option<&Item>, new_size: usize) -> Value {
        let consumed = write_capacity(api, self.report, self.table, old.as_ref(), new, new_size);
        response(old.filter(|_| self.return_values == "ALL_OLD"), consumed)
    }
}

/// PutItem.
pub(crate) fn put_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let write = ConditionalWrite::from_request(api, body)?;
    let item = required_item(body, "Item")?;
    let new_size = item_size(&item);
    // A copy of the new item is kept only to size its index writes: when capacity is reported
    // (ReturnConsumedCapacity INDEXES breaks them out), or on a table with indexes (the
    // metrics count them either way).
    let new = (write.report != Report::None || has_indexes(api, write.table)).then(|| item.clone());
    let old = api
        .store()
        .put_item(&api.table_ref(write.table), item, |old| write.check(old))
        .map_err(|e| write_error(e, write.return_old_on_failure))?;
    Ok(write.respond(api, old, new.as_ref(), new_size))
}

/// What GetItem answers: the item (projected), if found, and the capacity to report.
struct GetItemAnswer {
    item: Option<Arc<SharedItem>>,
    consumed: Option<Value>,
}

/// GetItem's work: reads the request, the item, and sizes the read.
fn get_item_answer(api: &Api, body: &Value) -> Result<GetItemAnswer, ApiError> {
    let table = table_name(body)?;
    let key = required_item(body, "Key")?;
    let consistent = optional_bool(body, "ConsistentRead")?.unwrap_or(false);
    let report = Report::from_request(body)?;
    let mut exprs = RequestExprs::new(body)?;
    let projection = exprs.projection()?;
    exprs.check_key_paths(api, &api.table_ref(table))?;
    exprs.finish()?;
    let item = api.store().get_item_shared(&api.table_ref(table), &key)?;
    let size = item.as_ref().map_or(0, |item| item.size());
    let units = capacity::read_units(size, consistent);
    // A projected item is an item of its own (not the cache's, nor its rendering).
    let item = match projection {
        Some(p) => item.map(|item| Arc::new(SharedItem::new(p.apply(&item)))),
        None => item,
    };
    Ok(GetItemAnswer {
        item,
        consumed: capacity::consumed(api, report, table, units, Kind::Read),
    })
}

/// GetItem.
pub(crate) fn get_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let answer = get_item_answer(api, body)?;
    let mut out = match &answer.item {
        Some(item) => json!({"Item": encode_item(item)}),
        None => json!({}),
    };
    capacity::attach(&mut out, answer.consumed);
    Ok(out)
}

/// GetItem, answered as the response body's bytes (the HTTP server's path).
pub(crate) fn get_item_bytes(api: &Api, body: &Value) -> Result<Vec<u8>, ApiError> {
    answer_bytes(&get_item_answer(api, body)?)
}

/// What a raw handler (`super::RawHandler`) answers: the table the request named (its
/// metrics' label) and the answer's bytes or the error.
pub(crate) struct RawAnswer<'a> {
    pub(crate) table: &'a str,
    pub(crate) result: Result<Vec<u8>, ApiError>,
}

/// GetItem in its common shape, decoded straight from the request body's bytes
/// ([`tarn_wire::typed::get_item_request`]: no JSON tree) and answered as bytes; `None` for a
/// body in any other shape, which [`get_item_bytes`] then takes (and words its errors). The
/// shape has no projection and no expression members, so what [`get_item_answer`] reads beyond
/// the table, the key, ConsistentRead and ReturnConsumedCapacity is absent here.
pub(crate) fn get_item_raw<'a>(api: &Api, body: &'a [u8]) -> Option<RawAnswer<'a>> {
    let request = tarn_wire::typed::get_item_request(body)?;
    let report = Report::parse(request.return_consumed_capacity).ok()?;
    let table = request.table_name;
    let result = api
        .store()
        .get_item_shared(&api.table_ref(table), &request.key)
        .map_err(ApiError::from)
        .and_then(|item| {
            let size = item.as_ref().map_or(0, |item| item.size());
            let units = capacity::read_units(size, request.consistent_read);
            answer_bytes(&GetItemAnswer {
                item,
                consumed: capacity::consumed(api, report, table, units, Kind::Read),
            })
        });
    Some(RawAnswer { table, result })
}

/// GetItem's answer as bytes: `{"Item": ..., "ConsumedCapacity": ...}`, each member only
/// when present, the bytes [`get_item`]'s JSON tree serializes to, written without building
/// it. The item's JSON is its [`SharedItem::rendering`] (written by [`tarn_wire::json_out`]
/// once per cached copy: a GetItem the row cache serves copies it and encodes nothing).
fn answer_bytes(answer: &GetItemAnswer) -> Result<Vec<u8>, ApiError> {
    let item = answer.item.as_ref().map(|item| item.rendering(render_item));
    let mut out = Vec::with_capacity(item.map_or(0, <[u8]>::len) + 128);
    out.push(b'{');
    if let Some(item) = item {
        out.extend_from_slice(b"\"Item\":");
        out.extend_from_slice(item);
    }
    if let Some(consumed) = &answer.consumed {
        if item.is_some() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"ConsumedCapacity\":");
        serde_json::to_writer(&mut out, consumed).map_err(|e| {
            tracing::error!(error = %e, "could not serialize the answer");
            ApiError::internal("Internal server error")
        })?;
    }
    out.push(b'}');
    Ok(out)
}

/// An item's DynamoDB JSON (`{"name":{"S":"..."},...}`), as [`SharedItem::rendering`] keeps
/// it: the one rendering every reader of the shared item uses.
fn render_item(item: &SharedItem) -> Vec<u8> {
    // Room for the escaper's scratch as well: it reserves six bytes per byte of the string it
    // escapes (the worst case), so a buffer sized for the item alone would grow once.
    let mut out = Vec::with_capacity(item.size() * 6 + 64);
    tarn_wire::json_out::write_item(&mut out, item);
    out.shrink_to_fit();
    out
}

/// Applies an optional projection.
pub(crate) fn project(projection: Option<&Projection>, item: Item) -> Item {
    match projection {
        Some(p) => p.apply(&item),
        None => item,
    }
}

/// DeleteItem.
pub(crate) fn delete_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let write = ConditionalWrite::from_request(api, body)?;
    let key = required_item(body, "Key")?;
    let old = api
        .store()
        .delete_item(&api.table_ref(write.table), &key, |old| write.check(old))
        .map_err(|e| write_error(e, write.return_old_on_failure))?;
    Ok(write.respond(api, old, None, 0))
}

/// UpdateItem.
pub(crate) fn update_item(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table = table_name(body)?;
    let key = required_item(body, "Key")?;
    let rv = return_values(
        body,
        &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
    )?;
    let report = Report::from_request(body)?;
    let return_old = return_old_on_failure(body)?;
    let mut exprs = RequestExprs::new(body)?;
    let update = exprs.update()?;
    let condition = exprs.condition()?;
    exprs.check_key_paths(api, &api.table_ref(table))?;
    exprs.finish()?;
    let outcome = api
        .store()
        .write_item(&api.table_ref(table), &key, |meta, old| {
            if let Some(u) = &update {
                if let Some(k) = u
                    .top_level_attributes()
                    .into_iter()
                    .find(|a| meta.key_schema.is_key_attribute(a))
                {
                    return Err(StoreError::Validation(format!(
                        "One or more parameter values were invalid: Cannot update attribute {k}. This attribute is part of the key"
                    )));
                }
            }
            check_condition(condition.as_ref(), old)?;
            if old.is_none() && update.as_ref().is_some_and(|u| u.only_removes()) {
                // Removing attributes from an item that does not exist creates nothing.
                return Ok(Mutation::Keep);
            }
            let mut new = old.cloned().unwrap_or_else(|| key.clone());
            if let Some(u) = &update {
                u.apply(&mut new)
                    .map_err(|e| StoreError::Validation(e.to_string()))?;
            }
            Ok(Mutation::Put(new))
        })
        .map_err(|e| write_error(e, return_old))?;
    let consumed = write_capacity(
        api,
        report,
        table,
        outcome.old.as_ref(),
        outcome.new.as_ref(),
        outcome.new.as_ref().map_or(0, item_size),
    );
    let updated = || Projection {
        paths: update
            .as_ref()
            .map(|u| u.paths().cloned().collect())
            .unwrap_or_default(),
    };
    let attributes = match rv {
        "ALL_OLD" => outcome.old,
        "ALL_NEW" => outcome.new,
        "UPDATED_OLD" if update.is_some() => outcome.old.map(|o| updated().apply(&o)),
        "UPDATED_NEW" if update.is_some() => outcome.new.map(|n| updated().apply(&n)),
        _ => None,
    };
    Ok(response(attributes, consumed))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn get_item_bytes_are_the_json_answer() {
        let dir = tempfile::tempdir().unwrap();
        let api = Api::new(Arc::new(tarn_store::Store::open(dir.path()).unwrap()));
        api.call(
            "CreateTable",
            json!({"TableName": "things", "BillingMode": "PAY_PER_REQUEST",
                   "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                   "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]}),
        )
        .await
        .unwrap();
        let item = json!({"k": {"S": "a\"\n\u{1F600}"}, "n": {"N": "-1.50"}, "b": {"B": "aGk="},
                          "m": {"M": {"l": {"L": [{"NULL": true}, {"BOOL": false}]}}},
                          "ss": {"SS": ["y", "x"]}, "ns": {"NS": ["2", "10"]}, "bs": {"BS": ["AA=="]}});
        api.call("PutItem", json!({"TableName": "things", "Item": item}))
            .await
            .unwrap();
        for request in [
            json!({"TableName": "things", "Key": {"k": {"S": "a\"\n\u{1F600}"}}}),
            json!({"TableName": "things", "Key": {"k": {"S": "missing"}}}),
            json!({"TableName": "things", "Key": {"k": {"S": "a\"\n\u{1F600}"}},
                   "ReturnConsumedCapacity": "INDEXES", "ConsistentRead": true}),
            json!({"TableName": "things", "Key": {"k": {"S": "missing"}}, "ReturnConsumedCapacity": "TOTAL"}),
            json!({"TableName": "things", "Key": {"k": {"S": "a\"\n\u{1F600}"}}, "ProjectionExpression": "m.l[1], n"}),
        ] {
            let tree = serde_json::to_vec(&get_item(&api, &request).unwrap()).unwrap();
            let bytes = get_item_bytes(&api, &request).unwrap();
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                String::from_utf8(tree).unwrap()
            );
        }
        let bad = json!({"TableName": "things", "Key": {"k": {"N": "1"}}});
        assert_eq!(
            get_item_bytes(&api, &bad).unwrap_err().message,
            get_item(&api, &bad).unwrap_err().message
        );
    }

    #[tokio::test]
    async fn get_item_raw_answers_what_get_item_bytes_answers() {
        let dir = tempfile::tempdir().unwrap();
        let api = Api::new(Arc::new(tarn_store::Store::open(dir.path()).unwrap()));
        api.call(
            "CreateTable",
            json!({"TableName": "things", "BillingMode": "PAY_PER_REQUEST",
                   "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"},
                                            {"AttributeName": "s", "AttributeType": "N"}],
                   "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"},
                                 {"AttributeName": "s", "KeyType": "RANGE"}]}),
        )
        .await
        .unwrap();
        let item = json!({"k": {"S": "plain"}, "s": {"N": "1.50"}, "text": {"S": "a\"\n\u{1F600}"},
                          "m": {"M": {"l": {"L": [{"NULL": true}, {"BOOL": false}]}}}});
        api.call("PutItem", json!({"TableName": "things", "Item": item}))
            .await
            .unwrap();
        let key = json!({"k": {"S": "plain"}, "s": {"N": "001.5"}});
        for request in [
            json!({"TableName": "things", "Key": key}),
            json!({"TableName": "things", "Key": {"k": {"S": "missing"}, "s": {"N": "1"}}}),
            json!({"TableName": "things", "Key": key, "ReturnConsumedCapacity": "INDEXES",
                   "ConsistentRead": true}),
            json!({"TableName": "things", "Key": key, "ReturnConsumedCapacity": "TOTAL",
                   "ConsistentRead": false}),
            json!({"TableName": "things", "Key": key, "ReturnConsumedCapacity": "NONE"}),
            // Errors: the store's, worded as the general path words them.
            json!({"TableName": "things", "Key": {"k": {"S": "plain"}}}),
            json!({"TableName": "things", "Key": {"k": {"N": "1"}, "s": {"N": "1"}}}),
            json!({"TableName": "nothing", "Key": key}),
        ] {
            let body = serde_json::to_vec(&request).unwrap();
            let raw = get_item_raw(&api, &body).unwrap_or_else(|| panic!("{request}"));
            assert_eq!(raw.table, request["TableName"].as_str().unwrap());
            match (raw.result, get_item_bytes(&api, &request)) {
                (Ok(raw), Ok(general)) => {
                    let general = String::from_utf8(general).unwrap();
                    assert_eq!(String::from_utf8(raw).unwrap(), general);
                    // And both are the bytes of the JSON tree the other operations build.
                    let tree = serde_json::to_vec(&get_item(&api, &request).unwrap()).unwrap();
                    assert_eq!(general, String::from_utf8(tree).unwrap());
                }
                (Err(raw), Err(general)) => {
                    assert_eq!((raw.kind, raw.message), (general.kind, general.message))
                }
                (raw, general) => panic!("{request}: {raw:?} against {general:?}"),
            }
        }
        // Other shapes are the general path's.
        for request in [
            json!({"TableName": "things", "Key": key, "ProjectionExpression": "m"}),
            json!({"TableName": "things", "Key": key, "ReturnConsumedCapacity": "ALL"}),
            json!({"TableName": "things", "Key": {"k": {"S": "a\"b"}, "s": {"N": "1"}}}),
            json!({"TableName": "t!", "Key": key}),
        ] {
            let body = serde_json::to_vec(&request).unwrap();
            assert!(get_item_raw(&api, &body).is_none(), "{request}");
        }
    }
}
