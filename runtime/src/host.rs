//! The wasm host (crate `tarn-host`), bound to this server's DynamoDB API.
//!
//! The host itself (engine, loaded functions, invocations, the `tarn:function` imports) lives in
//! its own crate and knows nothing of the API: its `tables` import calls a
//! [`TableAccess`](tarn_host::TableAccess). This module supplies that with [`Api`] (so a
//! function's table calls run the same handlers as a boto3 client's) and re-exports the host's
//! items under the paths the triggers and deploy code use (`crate::host::Host`,
//! `crate::host::log::LogSink`...).
//!
//! The API reaches the tables through the seam ([`crate::api::backend`]): in cluster mode
//! (`tarn serve --engine`) the calls go to the remote engine, after the same grants check, and
//! its DynamoDB exceptions reach the guest under their names; there, a deferred sync is the
//! engine's (an acknowledged write is durable), so the scope below costs nothing.
//!
//! An invocation run inside [`sharing_syncs`] (a stream trigger's batch) writes without waiting
//! for each write's journal sync: its caller waits for one sync after the invocation, covering
//! every write the handler made and the trigger's checkpoint together. A read the handler makes
//! after one of its writes first waits for that sync, so the handler always reads what it wrote,
//! as it would have otherwise.

pub use tarn_host::{
    bindings, cache, engine, error, function, http, invoke, limits, log, metrics, new_request_id,
    state, tables, FunctionKind, FunctionMetrics, FunctionSpec, HostConfig, HostError,
    InvocationError, LoadedFunction, MetricsSnapshot,
};

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tarn_host::tables::{TableAccess, TableError, TableFuture, TableOp};

use crate::api::{Api, ApiError};

/// The process's wasm host, its `tables` import answered by the DynamoDB API.
pub type Host = tarn_host::Host<Api>;

tokio::task_local! {
    /// Present while the task runs an invocation under [`sharing_syncs`].
    static SHARED_SYNC: SharedSync;
}

/// The writes of one [`sharing_syncs`] scope: whether some still wait for their sync.
#[derive(Default)]
struct SharedSync {
    owed: AtomicBool,
}

/// Runs `invocation` with the journal syncs of its `tables` writes deferred: each write answers
/// the guest once committed, and the caller waits for one sync ([`Api::sync`]) afterwards,
/// before it counts the invocation's work as done. Reads after a write wait for the sync first.
/// Only the task running `invocation` is affected (a tokio task-local: the guest's host calls
/// are polled on that task).
pub async fn sharing_syncs<F: Future>(invocation: F) -> F::Output {
    SHARED_SYNC.scope(SharedSync::default(), invocation).await
}

/// Whether `op` writes (and so may defer its sync).
fn writes(op: TableOp) -> bool {
    match op {
        TableOp::PutItem
        | TableOp::UpdateItem
        | TableOp::DeleteItem
        | TableOp::BatchWriteItem
        | TableOp::TransactWriteItems => true,
        TableOp::GetItem
        | TableOp::Query
        | TableOp::Scan
        | TableOp::BatchGetItem
        | TableOp::TransactGetItems => false,
    }
}

impl TableAccess for Api {
    fn call(&self, op: TableOp, request: Value) -> TableFuture<'_> {
        // Wherever the tables are (the API's backend: the store, or the remote engine in
        // cluster mode). The grants were checked before (`TablesCtx::call`).
        // Some(true): a write of this scope still waits for its sync.
        let scope = SHARED_SYNC
            .try_with(|s| {
                if writes(op) {
                    s.owed.store(true, Ordering::Relaxed);
                    false
                } else {
                    s.owed.swap(false, Ordering::Relaxed)
                }
            })
            .ok();
        Box::pin(async move {
            let answer = match scope {
                None => Api::call(self, op.name(), request).await,
                Some(_) if writes(op) => self.call_deferring_sync(op.name(), request).await,
                Some(sync_first) => {
                    if sync_first {
                        self.sync().await.map_err(to_table_error)?;
                    }
                    Api::call(self, op.name(), request).await
                }
            };
            answer.map_err(to_table_error)
        })
    }
}

fn to_table_error(e: ApiError) -> TableError {
    TableError::new(e.kind, e.message)
}
