//! The `tarn:function/tables` import: DynamoDB item operations on the tables a function's manifest
//! grants.
//!
//! Every call names its tables in the request body (`TableName`, the keys of `RequestItems`, the
//! `TableName` of each of `TransactItems`). Each one is checked against the function's grants
//! before anything runs; a table not granted, or granted `read` for a write, answers
//! `AccessDeniedException` in the guest. Allowed calls go to [`Api::call`], the same entry point
//! the DynamoDB HTTP API uses, so a function sees exactly what a boto3 client sees.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;

use crate::api::{Api, ApiError};

/// What a function may do to one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Access {
    /// GetItem, Query, Scan, BatchGetItem, TransactGetItems (and ConditionCheck).
    #[serde(rename = "read")]
    Read,
    /// Everything `Read` allows, plus PutItem, UpdateItem, DeleteItem, BatchWriteItem and
    /// TransactWriteItems.
    #[serde(rename = "read-write")]
    ReadWrite,
}

/// The tables one function may reach, by table name.
pub type Grants = BTreeMap<String, Access>;

/// The DynamoDB operations the `tables` interface offers, one per WIT function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOp {
    /// `get`.
    GetItem,
    /// `put`.
    PutItem,
    /// `update`.
    UpdateItem,
    /// `delete`.
    DeleteItem,
    /// `query`.
    Query,
    /// `scan`.
    Scan,
    /// `batch-get`.
    BatchGetItem,
    /// `batch-write`.
    BatchWriteItem,
    /// `transact-write`.
    TransactWriteItems,
    /// `transact-get`.
    TransactGetItems,
}

impl TableOp {
    /// The DynamoDB operation name (`X-Amz-Target` suffix).
    pub fn name(self) -> &'static str {
        match self {
            TableOp::GetItem => "GetItem",
            TableOp::PutItem => "PutItem",
            TableOp::UpdateItem => "UpdateItem",
            TableOp::DeleteItem => "DeleteItem",
            TableOp::Query => "Query",
            TableOp::Scan => "Scan",
            TableOp::BatchGetItem => "BatchGetItem",
            TableOp::BatchWriteItem => "BatchWriteItem",
            TableOp::TransactWriteItems => "TransactWriteItems",
            TableOp::TransactGetItems => "TransactGetItems",
        }
    }
}

/// Every (table, access needed) pair a request touches.
///
/// A missing or malformed table name is left to the API, which answers ValidationException as
/// DynamoDB does; it names no table, so it reaches no data.
pub fn tables_touched(op: TableOp, request: &Value) -> Vec<(String, Access)> {
    let mut out = Vec::new();
    let table_name = |v: &Value| {
        v.get("TableName")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match op {
        TableOp::GetItem | TableOp::Query | TableOp::Scan => {
            out.extend(table_name(request).map(|t| (t, Access::Read)));
        }
        TableOp::PutItem | TableOp::UpdateItem | TableOp::DeleteItem => {
            out.extend(table_name(request).map(|t| (t, Access::ReadWrite)));
        }
        TableOp::BatchGetItem | TableOp::BatchWriteItem => {
            let access = if op == TableOp::BatchGetItem {
                Access::Read
            } else {
                Access::ReadWrite
            };
            if let Some(items) = request.get("RequestItems").and_then(Value::as_object) {
                out.extend(items.keys().map(|t| (t.clone(), access)));
            }
        }
        TableOp::TransactGetItems | TableOp::TransactWriteItems => {
            for item in request
                .get("TransactItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(obj) = item.as_object() else {
                    continue;
                };
                for (kind, action) in obj {
                    let access = match kind.as_str() {
                        "Get" | "ConditionCheck" => Access::Read,
                        _ => Access::ReadWrite,
                    };
                    out.extend(table_name(action).map(|t| (t, access)));
                }
            }
        }
    }
    out
}

/// Checks `request` against `grants`: the first table not granted (or granted read-only for a
/// write) is an `AccessDeniedException` worded as DynamoDB words it.
pub fn check(
    function: &str,
    grants: &Grants,
    op: TableOp,
    request: &Value,
) -> Result<(), ApiError> {
    for (table, needed) in tables_touched(op, request) {
        let allowed = grants.get(&table).is_some_and(|granted| *granted >= needed);
        if !allowed {
            return Err(ApiError::new(
                "AccessDeniedException",
                format!(
                    "function {function} is not authorized to perform: dynamodb:{} on resource: \
                     table/{table} (grant it in the function's `tables` in tarn.toml)",
                    op.name()
                ),
            ));
        }
    }
    Ok(())
}

/// Runs one `tables` call: parses the request, checks the grants, calls the API, renders the
/// response body.
pub async fn call(
    api: &Api,
    function: &str,
    grants: &Grants,
    op: TableOp,
    request: &str,
) -> Result<String, ApiError> {
    let body: Value = serde_json::from_str(request).map_err(|e| {
        ApiError::new(
            "SerializationException",
            format!("request is not valid JSON: {e}"),
        )
    })?;
    check(function, grants, op, &body)?;
    let span = tracing::debug_span!("tables", op = op.name());
    let response = api.call(op.name(), body).instrument(span).await?;
    Ok(response.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grants() -> Grants {
        [
            ("todos".to_string(), Access::ReadWrite),
            ("users".to_string(), Access::Read),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn single_table_ops() {
        let g = grants();
        assert!(check("f", &g, TableOp::GetItem, &json!({"TableName": "users"})).is_ok());
        assert!(check("f", &g, TableOp::PutItem, &json!({"TableName": "todos"})).is_ok());
        let e = check("f", &g, TableOp::PutItem, &json!({"TableName": "users"})).unwrap_err();
        assert_eq!(e.kind, "AccessDeniedException");
        let e = check("f", &g, TableOp::Scan, &json!({"TableName": "secrets"})).unwrap_err();
        assert_eq!(e.kind, "AccessDeniedException");
    }

    #[test]
    fn batch_and_transact_check_every_table() {
        let g = grants();
        let ok = json!({"RequestItems": {"todos": {}, "users": {}}});
        assert!(check("f", &g, TableOp::BatchGetItem, &ok).is_ok());
        assert!(check("f", &g, TableOp::BatchWriteItem, &ok).is_err());
        let tx = json!({"TransactItems": [
            {"Put": {"TableName": "todos"}},
            {"ConditionCheck": {"TableName": "users"}}
        ]});
        assert!(check("f", &g, TableOp::TransactWriteItems, &tx).is_ok());
        let tx = json!({"TransactItems": [
            {"Put": {"TableName": "todos"}},
            {"Delete": {"TableName": "users"}}
        ]});
        assert!(check("f", &g, TableOp::TransactWriteItems, &tx).is_err());
    }
}
