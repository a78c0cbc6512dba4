//! The `tarn:function/tables` import: DynamoDB item operations on the tables a function's manifest
//! grants. Everything of this interface's host side is here: the operations ([`TableOp`], one per
//! WIT function), the grants check, the per-store context the generated `Host` trait is
//! implemented on ([`TablesCtx`]), and the narrow interface to whatever answers the calls
//! ([`TableAccess`]).
//!
//! Every call names its tables in the request body (`TableName`, the keys of `RequestItems`, the
//! `TableName` of each of `TransactItems`). Each one is checked against the function's grants
//! before anything runs; a table not granted, or granted `read` for a write, answers
//! `AccessDeniedException` in the guest. Allowed calls go to the [`TableAccess`] the host was
//! built with: tarn's runtime answers with the same handlers its DynamoDB HTTP API uses, so a
//! function sees exactly what a boto3 client sees.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings;

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

/// Defines [`TableOp`] and the `tables` import's `Host` implementation from one list: each WIT
/// function of the interface and the DynamoDB operation it runs. The generated `Host` trait has
/// exactly one method per WIT function, so a function added to or removed from the WIT fails to
/// compile here until the list matches it: the list cannot drift from the contract. (The guest
/// SDK holds the other end of the same interface, checked the same way.)
macro_rules! table_operations {
    ($($method:ident => $op:ident),* $(,)?) => {
        /// The DynamoDB operations the `tables` interface offers, one per WIT function; the
        /// variant's name is the DynamoDB operation's.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum TableOp {
            $(
                #[doc = concat!("`", stringify!($method), "` in the WIT.")]
                $op,
            )*
        }

        impl TableOp {
            /// The DynamoDB operation name (`X-Amz-Target` suffix).
            pub fn name(self) -> &'static str {
                match self {
                    $(TableOp::$op => stringify!($op),)*
                }
            }
        }

        impl bindings::tables::Host for TablesCtx {
            $(
                async fn $method(
                    &mut self,
                    request: String,
                ) -> Result<String, bindings::types::Error> {
                    self.call(TableOp::$op, &request).await.map_err(Into::into)
                }
            )*
        }
    };
}

table_operations! {
    get => GetItem,
    put => PutItem,
    update => UpdateItem,
    delete => DeleteItem,
    query => Query,
    scan => Scan,
    batch_get => BatchGetItem,
    batch_write => BatchWriteItem,
    transact_write => TransactWriteItems,
    transact_get => TransactGetItems,
}

/// A failed table call, as the guest sees it: DynamoDB's exception name without prefix
/// (`ConditionalCheckFailedException`, `AccessDeniedException`...) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TableError {
    /// DynamoDB's exception name.
    pub kind: String,
    /// What went wrong.
    pub message: String,
}

impl TableError {
    /// An error of `kind` with `message`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        TableError {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl From<TableError> for bindings::types::Error {
    fn from(e: TableError) -> Self {
        bindings::types::Error {
            kind: e.kind,
            message: e.message,
        }
    }
}

/// The future a [`TableAccess`] call returns.
pub type TableFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, TableError>> + Send + 'a>>;

/// What answers the `tables` import: runs one item operation on its JSON request body and
/// returns the JSON response body, exactly as the DynamoDB API would. The grants are checked
/// before it is called. tarn's runtime implements it with its DynamoDB API handlers.
pub trait TableAccess: Send + Sync + 'static {
    /// Runs `op` with `request` (the operation's DynamoDB JSON request body).
    fn call(&self, op: TableOp, request: Value) -> TableFuture<'_>;
}

/// The `tables` import's part of one invocation's store: what answers, who calls, and what it
/// may reach. The generated `Host` trait is implemented on it (by `table_operations!` above).
pub struct TablesCtx {
    /// What answers the calls.
    pub api: Arc<dyn TableAccess>,
    /// The calling function's name (for error messages).
    pub function: Arc<str>,
    /// The tables it may reach.
    pub grants: Arc<Grants>,
}

impl TablesCtx {
    /// Runs one `tables` call: parses the request, checks the grants, calls the API, renders the
    /// response body.
    pub async fn call(&self, op: TableOp, request: &str) -> Result<String, TableError> {
        let body: Value = serde_json::from_str(request).map_err(|e| {
            TableError::new(
                "SerializationException",
                format!("request is not valid JSON: {e}"),
            )
        })?;
        check(&self.function, &self.grants, op, &body)?;
        let span = tracing::debug_span!("tables", op = op.name());
        let response = self.api.call(op, body).instrument(span).await?;
        Ok(response.to_string())
    }
}

/// `types` declares only the error record the tables' calls return: nothing to implement.
impl bindings::types::Host for TablesCtx {}

/// Adds the `tables` import (and the `types` it uses) to `linker`; `get` finds the
/// [`TablesCtx`] in a store's data.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut TablesCtx,
) -> wasmtime::Result<()> {
    bindings::types::add_to_linker::<T, HasSelf<TablesCtx>>(linker, get)?;
    bindings::tables::add_to_linker::<T, HasSelf<TablesCtx>>(linker, get)
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
) -> Result<(), TableError> {
    for (table, needed) in tables_touched(op, request) {
        let allowed = grants.get(&table).is_some_and(|granted| *granted >= needed);
        if !allowed {
            return Err(TableError::new(
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
