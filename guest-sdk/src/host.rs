//! The raw table calls: one DynamoDB operation, its JSON request in, its JSON response out.
//!
//! In a component these go to the `tarn:function/tables` import. Compiled for any other target
//! (unit tests on the build machine) they go to the handler installed with
//! [`crate::testing::set_tables_handler`].

use crate::error::{Error, Result};
use serde_json::Value;

/// The DynamoDB item operations the host offers (the `tables` interface of the WIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// GetItem.
    GetItem,
    /// PutItem.
    PutItem,
    /// UpdateItem.
    UpdateItem,
    /// DeleteItem.
    DeleteItem,
    /// Query.
    Query,
    /// Scan.
    Scan,
    /// BatchGetItem.
    BatchGetItem,
    /// BatchWriteItem.
    BatchWriteItem,
    /// TransactWriteItems.
    TransactWriteItems,
    /// TransactGetItems.
    TransactGetItems,
}

impl Operation {
    /// DynamoDB's name for the operation (`GetItem`).
    pub fn name(self) -> &'static str {
        match self {
            Self::GetItem => "GetItem",
            Self::PutItem => "PutItem",
            Self::UpdateItem => "UpdateItem",
            Self::DeleteItem => "DeleteItem",
            Self::Query => "Query",
            Self::Scan => "Scan",
            Self::BatchGetItem => "BatchGetItem",
            Self::BatchWriteItem => "BatchWriteItem",
            Self::TransactWriteItems => "TransactWriteItems",
            Self::TransactGetItems => "TransactGetItems",
        }
    }
}

/// Sends one operation to the host: `request` is the DynamoDB JSON request body, the answer
/// the JSON response body. The escape hatch for anything the typed API does not cover.
pub fn call(op: Operation, request: &Value) -> Result<Value> {
    let text = call_text(op, &request.to_string())?;
    serde_json::from_str(&text).map_err(|e| Error::Response(format!("{}: {e}", op.name())))
}

/// Like [`call`], with the request and response as JSON text.
pub fn call_text(op: Operation, request: &str) -> Result<String> {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::bindings::http::tarn::function::tables as t;
        let result = match op {
            Operation::GetItem => t::get(request),
            Operation::PutItem => t::put(request),
            Operation::UpdateItem => t::update(request),
            Operation::DeleteItem => t::delete(request),
            Operation::Query => t::query(request),
            Operation::Scan => t::scan(request),
            Operation::BatchGetItem => t::batch_get(request),
            Operation::BatchWriteItem => t::batch_write(request),
            Operation::TransactWriteItems => t::transact_write(request),
            Operation::TransactGetItems => t::transact_get(request),
        };
        result.map_err(|e| Error::table(&e.kind, e.message))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::dispatch(op, request)
    }
}
