//! The wasm host (crate `tarn-host`), bound to this server's DynamoDB API.
//!
//! The host itself (engine, loaded functions, invocations, the `tarn:function` imports) lives in
//! its own crate and knows nothing of the API: its `tables` import calls a
//! [`TableAccess`](tarn_host::TableAccess). This module supplies that with [`Api`] (so a
//! function's table calls run the same handlers as a boto3 client's) and re-exports the host's
//! items under the paths the triggers and deploy code use (`crate::host::Host`,
//! `crate::host::log::LogSink`...).

pub use tarn_host::{
    bindings, cache, engine, error, function, http, invoke, limits, log, metrics, new_request_id,
    state, tables, FunctionKind, FunctionMetrics, FunctionSpec, HostConfig, HostError,
    InvocationError, LoadedFunction, MetricsSnapshot,
};

use serde_json::Value;
use tarn_host::tables::{TableAccess, TableError, TableFuture, TableOp};

use crate::api::Api;

/// The process's wasm host, its `tables` import answered by the DynamoDB API.
pub type Host = tarn_host::Host<Api>;

impl TableAccess for Api {
    fn call(&self, op: TableOp, request: Value) -> TableFuture<'_> {
        Box::pin(async move {
            Api::call(self, op.name(), request)
                .await
                .map_err(|e| TableError::new(e.kind, e.message))
        })
    }
}
