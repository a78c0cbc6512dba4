//! PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.
//!
//! The `tarn-partiql` crate parses a statement and translates it, with its parameters and the
//! key schema of the table or index it names, into a Query, Scan, GetItem, PutItem, UpdateItem
//! or DeleteItem carrying ordinary expressions. This module writes that plan as the request of
//! the operation and runs it through the operation's own handler (and so the same checks,
//! expression evaluator, capacity accounting and transaction path), then shapes the answer as
//! PartiQL's operations answer.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tarn_partiql::plan::{self, Keys, Mode, Placeholders, Plan};
use tarn_partiql::{ast::Statement, PartiqlError, MAX_STATEMENT_CHARS};
use tarn_store::AttributeValue;

use super::{items, read, transact};
use crate::api::Api;
use tarn_wire::{
    decode_item, decode_value, encode_item, encode_value, kind, optional_array, optional_str,
    required_array, required_str, ApiError,
};

/// DynamoDB's message when an INSERT finds its key taken.
const DUPLICATE_ITEM: &str = "Duplicate primary key exists in table";
/// The exception an INSERT on an existing key answers.
const DUPLICATE_ITEM_EXCEPTION: &str = "DuplicateItemException";
/// Most statements in one BatchExecuteStatement.
const MAX_BATCH_STATEMENTS: usize = 25;
/// Most statements in one ExecuteTransaction.
const MAX_TRANSACTION_STATEMENTS: usize = 100;

fn validation(e: PartiqlError) -> ApiError {
    ApiError::validation(e.to_string())
}

/// One statement of a request, with its parameters and options, parsed.
struct Parsed<'a> {
    statement: Statement,
    params: Vec<AttributeValue>,
    /// The member's own object (ConsistentRead, ReturnValuesOnConditionCheckFailure...).
    body: &'a Value,
}

fn parse_member<'a>(body: &'a Value, member_prefix: &str) -> Result<Parsed<'a>, ApiError> {
    let text = required_str(body, "Statement")?;
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_STATEMENT_CHARS {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at '{member_prefix}statement' failed to satisfy constraint: Member must have length {}",
            if chars == 0 { "greater than or equal to 1".to_string() } else { format!("less than or equal to {MAX_STATEMENT_CHARS}") }
        )));
    }
    let params = match optional_array(body, "Parameters")? {
        None => Vec::new(),
        Some(list) if list.is_empty() => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '[]' at '{member_prefix}parameters' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )))
        }
        Some(list) => list.iter().map(decode_value).collect::<Result<_, _>>()?,
    };
    let statement = tarn_partiql::parse(text).map_err(validation)?;
    Ok(Parsed {
        statement,
        params,
        body,
    })
}

/// Plans a parsed statement against the table (or index) it names.
fn plan_member(api: &Api, parsed: &Parsed<'_>, mode: Mode) -> Result<Plan, ApiError> {
    let meta = api
        .store()
        .table_meta(&api.table_ref(parsed.statement.table()))?;
    let index = match &parsed.statement {
        Statement::Select(s) => s.from.index.as_deref(),
        _ => None,
    };
    let key_schema = match index {
        None => &meta.key_schema,
        Some(name) => meta
            .indexes
            .iter()
            .find(|i| i.name == name)
            .map(|i| &i.key_schema)
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "The table does not have the specified index: {name}"
                ))
            })?,
    };
    // The planner knows keys of one partition and one sort attribute. A multi-attribute index
    // key is planned as a Scan of the index with the whole WHERE clause as its filter (no
    // attribute is the planner's key), which returns the same items.
    let keys = if key_schema.is_multi_attribute() {
        Keys {
            hash: "",
            range: None,
        }
    } else {
        Keys {
            hash: &key_schema.hash.name,
            range: key_schema.range.as_ref().map(|r| r.name.as_str()),
        }
    };
    plan::plan(&parsed.statement, &parsed.params, keys, mode).map_err(validation)
}

fn put_placeholders(req: &mut Map<String, Value>, ph: &Placeholders) {
    if !ph.names.is_empty() {
        req.insert("ExpressionAttributeNames".into(), json!(ph.names));
    }
    if !ph.values.is_empty() {
        let values: Map<String, Value> = ph
            .values
            .iter()
            .map(|(k, v)| (k.clone(), encode_value(v)))
            .collect();
        req.insert("ExpressionAttributeValues".into(), Value::Object(values));
    }
}

fn put_opt(req: &mut Map<String, Value>, member: &str, value: Option<&String>) {
    if let Some(v) = value {
        req.insert(member.into(), Value::String(v.clone()));
    }
}

/// The operation's name and request for a plan; `options` are copied from the PartiQL request
/// (ConsistentRead, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure, Limit...).
fn request_of(plan: &Plan, options: &[(&str, Option<&Value>)]) -> (&'static str, Value) {
    let mut req = Map::new();
    let (op, table, ph) = match plan {
        // The first Query of several; `run_queries` sets each one's own key condition.
        Plan::Queries {
            table,
            index,
            key_conditions,
            filter,
            projection,
            forward,
            placeholders,
        } => {
            put_opt(&mut req, "IndexName", index.as_ref());
            put_opt(&mut req, "KeyConditionExpression", key_conditions.first());
            put_opt(&mut req, "FilterExpression", filter.as_ref());
            put_opt(&mut req, "ProjectionExpression", projection.as_ref());
            req.insert("ScanIndexForward".into(), json!(forward));
            ("Query", table, placeholders)
        }
        Plan::Query {
            table,
            index,
            key_condition,
            filter,
            projection,
            forward,
            placeholders,
        } => {
            put_opt(&mut req, "IndexName", index.as_ref());
            req.insert("KeyConditionExpression".into(), json!(key_condition));
            put_opt(&mut req, "FilterExpression", filter.as_ref());
            put_opt(&mut req, "ProjectionExpression", projection.as_ref());
            req.insert("ScanIndexForward".into(), json!(forward));
            ("Query", table, placeholders)
        }
        Plan::Scan {
            table,
            index,
            filter,
            projection,
            placeholders,
        } => {
            put_opt(&mut req, "IndexName", index.as_ref());
            put_opt(&mut req, "FilterExpression", filter.as_ref());
            put_opt(&mut req, "ProjectionExpression", projection.as_ref());
            ("Scan", table, placeholders)
        }
        Plan::Get {
            table,
            key,
            projection,
            placeholders,
        } => {
            req.insert("Key".into(), encode_item(key));
            put_opt(&mut req, "ProjectionExpression", projection.as_ref());
            ("GetItem", table, placeholders)
        }
        Plan::Insert {
            table,
            item,
            condition,
            placeholders,
        } => {
            req.insert("Item".into(), encode_item(item));
            req.insert("ConditionExpression".into(), json!(condition));
            ("PutItem", table, placeholders)
        }
        Plan::Update {
            table,
            key,
            update,
            condition,
            return_values,
            placeholders,
        } => {
            req.insert("Key".into(), encode_item(key));
            req.insert("UpdateExpression".into(), json!(update));
            req.insert("ConditionExpression".into(), json!(condition));
            if *return_values != "NONE" {
                req.insert("ReturnValues".into(), json!(return_values));
            }
            ("UpdateItem", table, placeholders)
        }
        Plan::Check {
            table,
            key,
            condition,
            placeholders,
        } => {
            req.insert("Key".into(), encode_item(key));
            req.insert("ConditionExpression".into(), json!(condition));
            ("ConditionCheck", table, placeholders)
        }
        Plan::Delete {
            table,
            key,
            condition,
            return_values,
            placeholders,
        } => {
            req.insert("Key".into(), encode_item(key));
            put_opt(&mut req, "ConditionExpression", condition.as_ref());
            if *return_values != "NONE" {
                req.insert("ReturnValues".into(), json!(return_values));
            }
            ("DeleteItem", table, placeholders)
        }
    };
    req.insert("TableName".into(), json!(table));
    put_placeholders(&mut req, ph);
    for (member, value) in options {
        if let Some(v) = value.filter(|v| !v.is_null()) {
            req.insert((*member).into(), v.clone());
        }
    }
    (op, Value::Object(req))
}

/// Runs an operation's request through its handler.
fn run(api: &Api, op: &str, req: &Value) -> Result<Value, ApiError> {
    match op {
        "Query" => read::query(api, req),
        "Scan" => read::scan(api, req),
        "GetItem" => items::get_item(api, req),
        "PutItem" => items::put_item(api, req),
        "UpdateItem" => items::update_item(api, req),
        "DeleteItem" => items::delete_item(api, req),
        other => Err(ApiError::internal(format!("no handler for {other}"))),
    }
}

/// An INSERT's failed condition is DynamoDB's DuplicateItemException.
fn insert_error(e: ApiError) -> ApiError {
    if e.kind == kind::CONDITIONAL_CHECK_FAILED {
        ApiError::new(DUPLICATE_ITEM_EXCEPTION, DUPLICATE_ITEM)
    } else {
        e
    }
}

/// A digest of what a NextToken belongs to: the statement and its parameters.
fn request_digest(body: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.get("Statement").map(Value::to_string).hash(&mut h);
    body.get("Parameters").map(Value::to_string).hash(&mut h);
    h.finish()
}

/// The NextToken of a page: the digest of its request, then its LastEvaluatedKey as DynamoDB
/// JSON.
fn next_token(digest: u64, last_key: &Value) -> String {
    format!("{digest:016x}{last_key}")
}

/// The ExclusiveStartKey a NextToken carries, if it belongs to this request.
fn start_key(digest: u64, token: &str) -> Result<Value, ApiError> {
    let invalid = || ApiError::validation("Invalid NextToken");
    let (head, key) = (token.get(..16).ok_or_else(invalid)?, &token[16..]);
    let value: Value = serde_json::from_str(key).map_err(|_| invalid())?;
    decode_item(&value).map_err(|_| invalid())?;
    if u64::from_str_radix(head, 16).map_err(|_| invalid())? != digest {
        return Err(ApiError::validation("NextToken does not match request"));
    }
    Ok(value)
}

/// ExecuteStatement.
pub(crate) fn execute_statement(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let parsed = parse_member(body, "")?;
    let plan = plan_member(api, &parsed, Mode::Statement)?;
    if let Plan::Queries { key_conditions, .. } = &plan {
        return run_queries(api, body, &parsed, &plan, key_conditions);
    }
    let is_read = matches!(plan, Plan::Query { .. } | Plan::Scan { .. });
    if let Some(l) = body.get("Limit").and_then(Value::as_i64).filter(|l| *l < 1) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    let start = match optional_str(body, "NextToken")? {
        Some(t) if is_read => Some(start_key(request_digest(body), t)?),
        _ => None,
    };
    let mut options = vec![("ReturnConsumedCapacity", body.get("ReturnConsumedCapacity"))];
    if is_read {
        options.push(("ConsistentRead", body.get("ConsistentRead")));
        options.push(("Limit", body.get("Limit")));
        options.push(("ExclusiveStartKey", start.as_ref()));
    } else {
        options.push((
            "ReturnValuesOnConditionCheckFailure",
            body.get("ReturnValuesOnConditionCheckFailure"),
        ));
    }
    let (op, req) = request_of(&plan, &options);
    let result = run(api, op, &req);
    let out = match plan {
        Plan::Insert { .. } => result.map_err(insert_error)?,
        _ => result?,
    };
    let mut answer = Map::new();
    let items: Vec<Value> = if is_read {
        let items = out
            .get("Items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        items
            .into_iter()
            .map(|i| rows(&parsed.statement, i))
            .collect::<Result<_, _>>()?
    } else {
        out.get("Attributes").cloned().into_iter().collect()
    };
    answer.insert("Items".into(), Value::Array(items));
    if let Some(last) = out.get("LastEvaluatedKey") {
        answer.insert(
            "NextToken".into(),
            json!(next_token(request_digest(body), last)),
        );
        answer.insert("LastEvaluatedKey".into(), last.clone());
    }
    if let Some(c) = out.get("ConsumedCapacity") {
        answer.insert("ConsumedCapacity".into(), c.clone());
    }
    Ok(Value::Object(answer))
}

/// The `:name` placeholders an expression uses.
fn value_placeholders(expr: &str, out: &mut std::collections::BTreeSet<String>) {
    let mut chars = expr.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != ':' {
            continue;
        }
        let mut end = i + 1;
        while let Some((j, c)) = chars.peek().copied() {
            if c.is_ascii_alphanumeric() || c == '_' {
                end = j + c.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        out.insert(expr[i..end].to_string());
    }
}

/// Adds the capacity `more` consumed to `total` (both ConsumedCapacity objects): every number
/// summed, member by member.
fn add_capacity(total: &mut Value, more: &Value) {
    match (total, more) {
        (Value::Object(t), Value::Object(m)) => {
            for (k, v) in m {
                match t.get_mut(k) {
                    Some(tv) => add_capacity(tv, v),
                    None => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t @ Value::Number(_), Value::Number(m)) => {
            let sum = t.as_f64().unwrap_or(0.0) + m.as_f64().unwrap_or(0.0);
            *t = json!(sum);
        }
        _ => {}
    }
}

/// The NextToken of a page of several Queries: the digest of its request, the Query to go on
/// with, and where in it (its LastEvaluatedKey; empty to start it from the beginning).
fn queries_token(digest: u64, query: usize, last_key: Option<&Value>) -> String {
    let key = last_key.map(Value::to_string).unwrap_or_default();
    format!("{digest:016x}q{query}:{key}")
}

/// The Query to go on with and its ExclusiveStartKey, from a NextToken of this request.
fn queries_start(digest: u64, token: &str) -> Result<(usize, Option<Value>), ApiError> {
    let invalid = || ApiError::validation("Invalid NextToken");
    let head = token.get(..16).ok_or_else(invalid)?;
    if u64::from_str_radix(head, 16).map_err(|_| invalid())? != digest {
        return Err(ApiError::validation("NextToken does not match request"));
    }
    let rest = token[16..].strip_prefix('q').ok_or_else(invalid)?;
    let (query, key) = rest.split_once(':').ok_or_else(invalid)?;
    let query = query.parse().map_err(|_| invalid())?;
    if key.is_empty() {
        return Ok((query, None));
    }
    let value: Value = serde_json::from_str(key).map_err(|_| invalid())?;
    decode_item(&value).map_err(|_| invalid())?;
    Ok((query, Some(value)))
}

/// ExecuteStatement of a `SELECT` on several partitions ([`Plan::Queries`]): one Query per
/// partition key value, one after the other, as DynamoDB runs it. `Limit` counts the items of
/// them all; a page that stops early hands out a NextToken naming the Query to go on with. The
/// capacity consumed is the sum of the Queries'.
fn run_queries(
    api: &Api,
    body: &Value,
    parsed: &Parsed<'_>,
    plan: &Plan,
    key_conditions: &[String],
) -> Result<Value, ApiError> {
    let limit = body.get("Limit").and_then(Value::as_i64);
    if let Some(l) = limit.filter(|l| *l < 1) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    let digest = request_digest(body);
    let (first, mut start) = match optional_str(body, "NextToken")? {
        Some(t) => queries_start(digest, t)?,
        None => (0, None),
    };
    let options = [
        ("ReturnConsumedCapacity", body.get("ReturnConsumedCapacity")),
        ("ConsistentRead", body.get("ConsistentRead")),
    ];
    let (_, template) = request_of(plan, &options);
    let mut items = Vec::new();
    let mut consumed: Option<Value> = None;
    let mut next: Option<(usize, Option<Value>)> = None;
    for (i, key_condition) in key_conditions.iter().enumerate().skip(first) {
        let mut req = template.clone();
        req["KeyConditionExpression"] = json!(key_condition);
        // Only the values this Query uses (DynamoDB refuses unused ones).
        let mut used = std::collections::BTreeSet::new();
        for member in ["KeyConditionExpression", "FilterExpression"] {
            if let Some(e) = req.get(member).and_then(Value::as_str) {
                value_placeholders(e, &mut used);
            }
        }
        if let Some(Value::Object(values)) = req.get_mut("ExpressionAttributeValues") {
            values.retain(|k, _| used.contains(k));
            if values.is_empty() {
                req.as_object_mut()
                    .map(|r| r.remove("ExpressionAttributeValues"));
            }
        }
        if let Some(l) = limit {
            req["Limit"] = json!(l - items.len() as i64);
        }
        if let Some(key) = start.take() {
            req["ExclusiveStartKey"] = key;
        }
        let out = read::query(api, &req)?;
        if let Some(c) = out.get("ConsumedCapacity") {
            match &mut consumed {
                Some(total) => add_capacity(total, c),
                None => consumed = Some(c.clone()),
            }
        }
        for item in out
            .get("Items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            items.push(rows(&parsed.statement, item.clone())?);
        }
        if let Some(last) = out.get("LastEvaluatedKey") {
            next = Some((i, Some(last.clone())));
            break;
        }
        if limit.is_some_and(|l| items.len() as i64 >= l) && i + 1 < key_conditions.len() {
            next = Some((i + 1, None));
            break;
        }
    }
    let mut answer = Map::new();
    answer.insert("Items".into(), Value::Array(items));
    if let Some((query, last)) = next {
        answer.insert(
            "NextToken".into(),
            json!(queries_token(digest, query, last.as_ref())),
        );
        if let Some(last) = last {
            answer.insert("LastEvaluatedKey".into(), last);
        }
    }
    if let Some(c) = consumed {
        answer.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(answer))
}

/// A projected item as the row a SELECT returns (nested paths named by their leaf).
fn rows(statement: &Statement, item: Value) -> Result<Value, ApiError> {
    let columns = match statement {
        Statement::Select(s) => s.projection.as_deref(),
        _ => None,
    };
    match columns {
        Some(columns) if tarn_partiql::row::needs_shaping(columns) => Ok(encode_item(
            &tarn_partiql::row::shape(columns, &decode_item(&item)?),
        )),
        _ => Ok(item),
    }
}

/// The BatchStatementError code of an error.
fn batch_error_code(e: &ApiError) -> &'static str {
    match e.kind {
        kind::CONDITIONAL_CHECK_FAILED => "ConditionalCheckFailed",
        DUPLICATE_ITEM_EXCEPTION => "DuplicateItem",
        kind::VALIDATION | kind::SERIALIZATION => "ValidationError",
        kind::RESOURCE_NOT_FOUND => "ResourceNotFound",
        kind::TRANSACTION_CONFLICT => "TransactionConflict",
        kind::ITEM_COLLECTION_SIZE_LIMIT_EXCEEDED => "ItemCollectionSizeLimitExceeded",
        kind::ACCESS_DENIED => "AccessDenied",
        _ => "InternalServerError",
    }
}

fn batch_error(e: &ApiError) -> Value {
    let mut error = json!({"Code": batch_error_code(e), "Message": e.message});
    if let Some(item) = e.extra.as_ref().and_then(|x| x.get("Item")) {
        error["Item"] = item.clone();
    }
    json!({ "Error": error })
}

/// One member of a BatchExecuteStatement: its response entry, and the capacity it consumed
/// when the request asked for it.
fn batch_member(api: &Api, parsed: &Parsed<'_>, report: Option<&Value>) -> (Value, Option<f64>) {
    let table = parsed.statement.table().to_string();
    let exists = matches!(parsed.statement, Statement::Exists(_));
    let planned = if exists {
        Err(ApiError::validation(
            "EXISTS can only be used in ExecuteTransaction write requests.",
        ))
    } else {
        plan_member(api, parsed, Mode::Batch)
    };
    let result = planned.and_then(|plan| {
        let options = [
            ("ReturnConsumedCapacity", report),
            ("ConsistentRead", parsed.body.get("ConsistentRead")),
            (
                "ReturnValuesOnConditionCheckFailure",
                parsed.body.get("ReturnValuesOnConditionCheckFailure"),
            ),
        ];
        let options = if matches!(plan, Plan::Get { .. }) {
            &options[..2]
        } else {
            &[options[0], options[2]][..]
        };
        let (op, req) = request_of(&plan, options);
        let out = run(api, op, &req);
        match plan {
            Plan::Insert { .. } => out.map_err(insert_error),
            _ => out,
        }
    });
    let mut units = None;
    let mut entry = match result {
        Ok(out) => {
            units = out
                .get("ConsumedCapacity")
                .and_then(|c| c.get("CapacityUnits"))
                .and_then(Value::as_f64);
            match out.get("Item") {
                Some(item) => match rows(&parsed.statement, item.clone()) {
                    Ok(row) => json!({ "Item": row }),
                    Err(e) => batch_error(&e),
                },
                None => json!({}),
            }
        }
        Err(e) => batch_error(&e),
    };
    entry["TableName"] = json!(table);
    (entry, units)
}

/// BatchExecuteStatement: up to 25 statements, all reads or all writes, each succeeding or
/// failing on its own.
pub(crate) fn batch_execute_statement(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let statements = required_array(body, "Statements")?;
    if statements.is_empty() || statements.len() > MAX_BATCH_STATEMENTS {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length {}",
            if statements.is_empty() { "greater than or equal to 1".to_string() } else { format!("less than or equal to {MAX_BATCH_STATEMENTS}") }
        )));
    }
    optional_str(body, "ReturnConsumedCapacity")?;
    let parsed: Vec<Result<Parsed<'_>, ApiError>> = statements
        .iter()
        .enumerate()
        .map(|(i, s)| parse_member(s, &format!("statements.{}.member.", i + 1)))
        .collect();
    let reads = parsed
        .iter()
        .flatten()
        .filter(|p| p.statement.is_read())
        .count();
    let ok = parsed.iter().flatten().count();
    if reads != 0 && reads != ok {
        return Err(ApiError::validation(
            "Batch statements must be either all reads or all writes",
        ));
    }
    let report = body.get("ReturnConsumedCapacity");
    let mut responses = Vec::with_capacity(parsed.len());
    let mut consumed: BTreeMap<String, f64> = BTreeMap::new();
    for p in &parsed {
        responses.push(match p {
            Ok(p) => {
                let (entry, units) = batch_member(api, p, report);
                if let Some(units) = units {
                    *consumed.entry(p.statement.table().to_string()).or_default() += units;
                }
                entry
            }
            Err(e) => batch_error(e),
        });
    }
    let mut out = json!({ "Responses": responses });
    if !consumed.is_empty() {
        out["ConsumedCapacity"] = consumed
            .into_iter()
            .map(|(table, units)| json!({"TableName": table, "CapacityUnits": units}))
            .collect();
    }
    Ok(out)
}

/// ExecuteTransaction: up to 100 statements, all reads (like TransactGetItems) or all writes
/// (like TransactWriteItems: all or nothing).
pub(crate) fn execute_transaction(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let statements = required_array(body, "TransactStatements")?;
    if statements.is_empty() || statements.len() > MAX_TRANSACTION_STATEMENTS {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: Member must have length {}",
            if statements.is_empty() { "greater than or equal to 1".to_string() } else { format!("less than or equal to {MAX_TRANSACTION_STATEMENTS}") }
        )));
    }
    let parsed: Vec<Parsed<'_>> = statements
        .iter()
        .enumerate()
        .map(|(i, s)| parse_member(s, &format!("transactStatements.{}.member.", i + 1)))
        .collect::<Result<_, _>>()?;
    let reads = parsed.iter().filter(|p| p.statement.is_read()).count();
    if reads != 0 && reads != parsed.len() {
        return Err(ApiError::validation(
            "Transaction statements must be either all reads or all writes",
        ));
    }
    let plans: Vec<Plan> = parsed
        .iter()
        .map(|p| plan_member(api, p, Mode::Transaction))
        .collect::<Result<_, _>>()?;
    let mut actions = Vec::with_capacity(plans.len());
    for (plan, p) in plans.iter().zip(parsed.iter()) {
        let returning = match plan {
            Plan::Update { return_values, .. } | Plan::Delete { return_values, .. } => {
                *return_values != "NONE"
            }
            _ => false,
        };
        if returning {
            return Err(ApiError::validation(
                "RETURNING is not supported in a transaction",
            ));
        }
        let option = [(
            "ReturnValuesOnConditionCheckFailure",
            p.body.get("ReturnValuesOnConditionCheckFailure"),
        )];
        let (op, req) = request_of(plan, if reads == 0 { &option[..] } else { &[] });
        let action = match op {
            "GetItem" => "Get",
            "PutItem" => "Put",
            "UpdateItem" => "Update",
            "DeleteItem" => "Delete",
            "ConditionCheck" => "ConditionCheck",
            other => {
                return Err(ApiError::internal(format!(
                    "no transaction action for {other}"
                )))
            }
        };
        actions.push(json!({ action: req }));
    }
    let mut req = json!({ "TransactItems": actions });
    for member in ["ReturnConsumedCapacity", "ClientRequestToken"] {
        if let Some(v) = body.get(member).filter(|v| !v.is_null()) {
            req[member] = v.clone();
        }
    }
    if reads != 0 {
        let mut out = transact::transact_get_items(api, &req)?;
        if let Some(Value::Array(responses)) = out.get_mut("Responses") {
            for (r, p) in responses.iter_mut().zip(parsed.iter()) {
                if let Some(item) = r.get_mut("Item") {
                    *item = rows(&p.statement, item.take())?;
                }
            }
        }
        return Ok(out);
    }
    transact::transact_write_items(api, &req).map_err(|e| {
        if e.kind != kind::TRANSACTION_CANCELED {
            return e;
        }
        let Some(Value::Array(reasons)) =
            e.extra.as_ref().and_then(|x| x.get("CancellationReasons"))
        else {
            return e;
        };
        let reasons = reasons
            .iter()
            .zip(&plans)
            .map(|(r, plan)| {
                let failed =
                    r.get("Code").and_then(Value::as_str) == Some("ConditionalCheckFailed");
                if failed && matches!(plan, Plan::Insert { .. }) {
                    json!({"Code": "DuplicateItem", "Message": DUPLICATE_ITEM})
                } else {
                    r.clone()
                }
            })
            .collect();
        ApiError::transaction_canceled(reasons)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tokens_round_trip_and_garbage_is_refused() {
        let key = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
        let a = request_digest(&json!({"Statement": "SELECT * FROM t"}));
        let b = request_digest(&json!({"Statement": "SELECT * FROM u"}));
        assert_ne!(a, b);
        assert_eq!(start_key(a, &next_token(a, &key)).unwrap(), key);
        assert_eq!(
            start_key(b, &next_token(a, &key)).unwrap_err().message,
            "NextToken does not match request"
        );
        for garbage in ["not a token", "", "ü", "0123456789abcdef{"] {
            assert_eq!(
                start_key(a, garbage).unwrap_err().message,
                "Invalid NextToken"
            );
        }
    }

    #[test]
    fn batch_errors_carry_dynamodbs_codes() {
        assert_eq!(
            batch_error(&ApiError::new(DUPLICATE_ITEM_EXCEPTION, DUPLICATE_ITEM)),
            json!({"Error": {"Code": "DuplicateItem", "Message": DUPLICATE_ITEM}})
        );
        assert_eq!(
            batch_error_code(&ApiError::conditional_check_failed()),
            "ConditionalCheckFailed"
        );
        assert_eq!(
            batch_error_code(&ApiError::validation("x")),
            "ValidationError"
        );
    }
}
