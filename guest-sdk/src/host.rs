//! The raw table calls: one DynamoDB operation, its JSON request in, its JSON response out.
//!
//! In a component these go to the `tarn:function/tables` import ([`crate::operation`]). Compiled
//! for any other target (unit tests on the build machine) they go to the handler installed with
//! [`crate::testing::set_tables_handler`].

use crate::error::{Error, Result};
use serde_json::Value;

pub use crate::operation::Operation;

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
        crate::operation::call_import(op, request).map_err(|e| Error::table(&e.kind, e.message))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::dispatch(op, request)
    }
}
