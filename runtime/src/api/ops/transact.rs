//! TransactWriteItems and TransactGetItems.
//!
//! A write transaction runs all of its actions under the locks of every item it touches: each
//! action's condition is checked against the current item, and only if all hold are the changes
//! committed, as one atomic batch. Otherwise nothing is written and the answer is
//! TransactionCanceledException with one reason per action. Conflicting transactions wait for
//! each other on the item locks, so none loses an update. A ClientRequestToken makes a
//! transaction idempotent for ten minutes.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{json, Value};
use tarn_store::value::item_size;
use tarn_store::{Item, Mutation, StoreError, TransactAction};

use super::capacity::{self, Kind, Report};
use super::expressions::{check_condition, return_old_on_failure, RequestExprs};
use super::items::project;
use crate::api::Api;
use tarn_wire::ApiError;
use tarn_wire::{
    decode_item, encode_item, optional_str, required_array, required_item, table_name,
};

const MAX_ACTIONS: usize = 100;
const TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// ClientRequestTokens seen in the last ten minutes, with a digest of their request.
#[derive(Default)]
pub(crate) struct IdempotencyTokens {
    seen: Mutex<HashMap<String, (u64, Instant)>>,
}

impl IdempotencyTokens {
    /// `Some(true)` if this token already ran this same request, `Some(false)` if it ran a
    /// different one, `None` if it is new (or expired).
    fn check(&self, token: &str, digest: u64) -> Option<bool> {
        let mut seen = self.seen.lock();
        seen.retain(|_, (_, at)| at.elapsed() < TOKEN_LIFETIME);
        seen.get(token).map(|(d, _)| *d == digest)
    }

    fn remember(&self, token: &str, digest: u64) {
        self.seen
            .lock()
            .insert(token.to_string(), (digest, Instant::now()));
    }
}

fn digest(body: &Value) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.get("TransactItems").map(Value::to_string).hash(&mut h);
    h.finish()
}

/// The TransactItems member: 1 to 100 actions.
fn transact_items(body: &Value) -> Result<&Vec<Value>, ApiError> {
    let items = required_array(body, "TransactItems")?;
    if items.is_empty() || items.len() > MAX_ACTIONS {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length {}",
            if items.is_empty() { "greater than or equal to 1" } else { "less than or equal to 100" }
        )));
    }
    Ok(items)
}

/// One parsed action: table, key, and what to do.
struct Planned {
    table: String,
    key: Item,
    condition: Option<tarn_store::expr::Condition>,
    return_old: bool,
    op: Op,
}

enum Op {
    Check,
    Put(Item),
    Delete,
    Update(Option<tarn_store::expr::UpdateExpr>),
}

fn parse_action(api: &Api, action: &Value) -> Result<Planned, ApiError> {
    let obj = action
        .as_object()
        .ok_or_else(|| ApiError::serialization("TransactItems must be a list of objects"))?;
    let present: Vec<&String> = obj
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k)
        .collect();
    if present.len() != 1 {
        return Err(ApiError::validation(
            "TransactItems can only contain one of Check, Put, Update or Delete",
        ));
    }
    let kind = present[0].as_str();
    let body = &obj[kind];
    let table = table_name(body)?.to_string();
    let meta = api.store().table_meta(&api.table_ref(&table))?;
    let return_old = return_old_on_failure(body)?;
    let mut exprs = RequestExprs::new(body)?;
    let (key, op) = match kind {
        "ConditionCheck" => (required_item(body, "Key")?, Op::Check),
        "Put" => {
            let item = required_item(body, "Item")?;
            let key = meta.key_schema.key_of_item(&item)?;
            tarn_store::index::check_item(&meta, &item)?;
            (key, Op::Put(item))
        }
        "Delete" => (required_item(body, "Key")?, Op::Delete),
        "Update" => {
            let update = exprs.update()?;
            if update.is_none() {
                return Err(ApiError::validation("1 validation error detected: Value null at 'transactItems.update.updateExpression' failed to satisfy constraint: Member must not be null"));
            }
            if let Some(k) = update.as_ref().and_then(|u| {
                u.top_level_attributes()
                    .into_iter()
                    .find(|a| meta.key_schema.is_key_attribute(a))
            }) {
                return Err(ApiError::validation(format!(
                    "One or more parameter values were invalid: Cannot update attribute {k}. This attribute is part of the key"
                )));
            }
            (required_item(body, "Key")?, Op::Update(update))
        }
        other => {
            return Err(ApiError::validation(format!(
                "Unknown transaction action {other}: expected ConditionCheck, Put, Update or Delete"
            )))
        }
    };
    let condition = exprs.condition()?;
    if matches!(op, Op::Check) && condition.is_none() {
        return Err(ApiError::validation(
            "The ConditionCheck action must contain a ConditionExpression",
        ));
    }
    exprs.check_key_paths(api, &api.table_ref(&table))?;
    exprs.finish()?;
    meta.key_schema.validate_key(&key)?;
    Ok(Planned {
        table,
        key,
        condition,
        return_old,
        op,
    })
}

/// TransactWriteItems.
pub(crate) fn transact_write_items(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let report = Report::from_request(body)?;
    let items = transact_items(body)?;
    let token = optional_str(body, "ClientRequestToken")?;
    let request_digest = digest(body);
    if let Some(t) = token {
        match api.idempotency().check(t, request_digest) {
            Some(true) => return Ok(json!({})),
            Some(false) => return Err(ApiError::new(
                "IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.",
            )),
            None => {}
        }
    }
    let planned: Vec<Planned> = items
        .iter()
        .map(|a| parse_action(api, a))
        .collect::<Result<_, _>>()?;
    let mut tally = capacity::WriteTally::default();
    let tables: Vec<String> = planned.iter().map(|p| p.table.clone()).collect();
    let actions: Vec<TransactAction> = planned
        .into_iter()
        .map(|p| {
            let key = p.key.clone();
            TransactAction {
                table: api.table_ref(&p.table).into_owned(),
                key: p.key,
                decide: Box::new(move |_, old| {
                    check_condition(p.condition.as_ref(), old).map_err(|e| match e {
                        StoreError::ConditionalCheckFailed { .. } if !p.return_old => {
                            StoreError::ConditionalCheckFailed { item: None }
                        }
                        other => other,
                    })?;
                    Ok(match p.op {
                        Op::Check => Mutation::Keep,
                        Op::Put(item) => Mutation::Put(item),
                        Op::Delete => Mutation::Delete,
                        Op::Update(update)
                            if old.is_none()
                                && update.as_ref().is_some_and(|u| u.only_removes()) =>
                        {
                            // Removing attributes from an item that does not exist creates nothing.
                            Mutation::Keep
                        }
                        Op::Update(update) => {
                            let mut new = old.cloned().unwrap_or(key);
                            if let Some(u) = update {
                                u.apply(&mut new)
                                    .map_err(|e| StoreError::Validation(e.to_string()))?;
                            }
                            Mutation::Put(new)
                        }
                    })
                }),
            }
        })
        .collect();
    let outcomes = api.store().transact_items(actions)?;
    for (table, o) in tables.iter().zip(&outcomes) {
        let bytes = o
            .old
            .as_ref()
            .map_or(0, item_size)
            .max(o.new.as_ref().map_or(0, item_size));
        tally.add_table(table, 2.0 * capacity::write_units(bytes));
        tally.add_index_writes(api, table, o.old.as_ref(), o.new.as_ref(), 2.0);
    }
    if let Some(t) = token {
        api.idempotency().remember(t, request_digest);
    }
    let mut out = json!({});
    if let Some(c) = tally.consumed(api, report) {
        out["ConsumedCapacity"] = c;
    }
    Ok(out)
}

/// TransactGetItems: up to 100 items read as of one instant.
pub(crate) fn transact_get_items(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let report = Report::from_request(body)?;
    let items = transact_items(body)?;
    let mut keys = Vec::with_capacity(items.len());
    let mut projections = Vec::with_capacity(items.len());
    for action in items {
        let get = action
            .get("Get")
            .ok_or_else(|| ApiError::validation("TransactGetItems actions must be Get"))?;
        let table = table_name(get)?.to_string();
        let key = decode_item(get.get("Key").unwrap_or(&Value::Null))?;
        let mut exprs = RequestExprs::new(get)?;
        projections.push(exprs.projection()?);
        exprs.check_key_paths(api, &api.table_ref(&table))?;
        exprs.finish()?;
        if keys.iter().any(|(t, k)| *t == table && *k == key) {
            return Err(ApiError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        keys.push((table, key));
    }
    let refs: Vec<(String, Item)> = keys
        .iter()
        .map(|(t, k)| (api.table_ref(t).into_owned(), k.clone()))
        .collect();
    let found = api.store().get_items(&refs)?;
    let mut units: BTreeMap<String, f64> = BTreeMap::new();
    let responses: Vec<Value> = found
        .into_iter()
        .zip(projections.iter())
        .zip(keys.iter())
        .map(|((item, projection), (table, _))| {
            *units.entry(table.clone()).or_insert(0.0) +=
                2.0 * capacity::read_units(item.as_ref().map_or(0, item_size), true);
            match item {
                Some(i) => json!({"Item": encode_item(&project(projection.as_ref(), i))}),
                None => json!({}),
            }
        })
        .collect();
    let mut out = json!({"Responses": responses});
    let entries: Vec<Value> = units
        .into_iter()
        .filter_map(|(t, u)| capacity::consumed(api, report, &t, u, Kind::Read))
        .collect();
    if report != Report::None {
        out["ConsumedCapacity"] = Value::Array(entries);
    }
    Ok(out)
}
