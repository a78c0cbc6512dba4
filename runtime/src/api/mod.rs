//! The DynamoDB JSON 1.0 API: one entry point, [`Api::call`], that runs an operation named as in
//! `X-Amz-Target` on a JSON request body and answers the JSON response body or a DynamoDB error.
//!
//! The HTTP server and the wasm host's `tables` import both go through here, so a function sees
//! exactly the behaviour a boto3 client sees; and every request that reaches an operation is
//! counted here, in the API's [`crate::metrics::Metrics`].
//!
//! The wire format itself (DynamoDB JSON values and items, request members, [`ApiError`]) is the
//! `tarn-wire` crate; `ops` holds the handlers, and `crate::transfer` the export and import
//! files and jobs the handlers start.

pub(crate) mod ops;

use std::sync::Arc;

use serde_json::Value;

use crate::metrics::Operation;

/// The DynamoDB JSON codec (the `tarn-wire` crate) at the path it had before it became a crate,
/// for the callers outside the API that still name it so.
pub use tarn_wire as codec;
/// DynamoDB's errors (`tarn_wire::error`) at the path they had before the wire crate.
pub use tarn_wire::error;
pub use tarn_wire::ApiError;

/// A stream sequence number as the wire carries it (21 digits, zero-padded).
pub fn sequence_number(seq: u64) -> String {
    ops::streams::sequence_number(seq)
}

/// The region tarn reports in ARNs and endpoints.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The account id tarn reports in ARNs.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";
/// The directory under the data directory that S3 buckets of exports and imports map to,
/// unless `tarn serve --export-root` says otherwise.
pub const DEFAULT_EXPORT_DIR: &str = "exports";

/// The DynamoDB API over one store.
#[derive(Clone)]
pub struct Api {
    store: Arc<tarn_store::Store>,
    region: Arc<str>,
    account_id: Arc<str>,
    idempotency: Arc<ops::transact::IdempotencyTokens>,
    transfers: Arc<crate::transfer::jobs::Transfers>,
    metrics: crate::metrics::Metrics,
}

impl Api {
    /// The API over `store`, reporting the default region and account.
    pub fn new(store: Arc<tarn_store::Store>) -> Self {
        let export_root = store.path().join(DEFAULT_EXPORT_DIR);
        Api {
            transfers: Arc::new(crate::transfer::jobs::Transfers::new(export_root)),
            metrics: crate::metrics::Metrics::new(store.clone()),
            store,
            region: DEFAULT_REGION.into(),
            account_id: DEFAULT_ACCOUNT_ID.into(),
            idempotency: Arc::default(),
        }
    }

    /// The same API reporting another region in ARNs and endpoints.
    pub fn with_region(mut self, region: &str) -> Self {
        self.region = region.into();
        self
    }

    /// The same API with exports' and imports' S3 buckets as directories under `root` (by
    /// default `<data dir>/exports`).
    pub fn with_export_root(mut self, root: std::path::PathBuf) -> Self {
        self.transfers = Arc::new(crate::transfer::jobs::Transfers::new(root));
        self
    }

    /// Export and import jobs: where buckets are, which jobs are running.
    pub(crate) fn transfers(&self) -> &crate::transfer::jobs::Transfers {
        &self.transfers
    }

    /// The store behind the API.
    pub fn store(&self) -> &Arc<tarn_store::Store> {
        &self.store
    }

    /// What the server counts: requests, capacity, functions... and their last hour (see
    /// [`crate::metrics`]).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The region reported in ARNs.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account id reported in ARNs.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Transaction tokens seen recently (ClientRequestToken idempotency).
    pub(crate) fn idempotency(&self) -> &ops::transact::IdempotencyTokens {
        &self.idempotency
    }

    /// A stream record in AWS's JSON shape (what GetRecords returns and stream handlers get).
    pub fn stream_record_json(
        &self,
        stream: &tarn_store::stream::StreamMeta,
        record: &tarn_store::stream::StreamRecord,
    ) -> Value {
        ops::streams::record_json(self.region(), stream, record)
    }

    /// The ARN of `stream`, a stream of `table`.
    pub fn stream_arn(&self, table: &str, stream: &tarn_store::stream::StreamMeta) -> String {
        ops::streams::stream_arn(self, table, stream)
    }

    /// Whether tarn implements `operation`.
    pub fn supports(&self, operation: &str) -> bool {
        ops::handler(operation).is_some()
    }

    /// Runs `operation` (`"PutItem"`, `"Query"`...) on a DynamoDB JSON request body. The body
    /// must be a JSON object; the store's blocking work runs on tokio's blocking pool. A
    /// panicking handler answers `InternalServerError`.
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, ApiError> {
        let handler = self.handler(operation, &body)?;
        let op = Operation::from_api_name(operation);
        let api = self.clone();
        tokio::task::spawn_blocking(move || api.run(op, handler, &body))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "operation handler panicked");
                ApiError::internal("Internal server error")
            })?
    }

    /// [`Api::call`] for callers on a tokio worker thread's own stack (the DynamoDB HTTP
    /// server; not a wasm fiber, whose stack is small): a single-item operation that does not
    /// wait for a journal sync ([`runs_inline`]) runs right here, sparing the request the two
    /// thread hand-offs of the blocking pool (a quarter less server CPU per GetItem, see
    /// BENCHMARKS.md); the others go to the pool as in [`Api::call`].
    pub async fn call_inline(&self, operation: &str, body: Value) -> Result<Value, ApiError> {
        if !runs_inline(operation, self.store.syncs_writes()) {
            return self.call(operation, body).await;
        }
        let handler = self.handler(operation, &body)?;
        self.run(Operation::from_api_name(operation), handler, &body)
    }

    /// Runs `handler` on `body`, a panic answering `InternalServerError`, and counts it in the
    /// metrics as one request of `op` (a few atomic adds; see [`crate::metrics`]).
    fn run(&self, op: Operation, handler: ops::Handler, body: &Value) -> Result<Value, ApiError> {
        self.metrics.time_request(op, body, || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(self, body)))
                .unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<&str>()
                        .copied()
                        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                        .unwrap_or("");
                    tracing::error!(error = message, "operation handler panicked");
                    Err(ApiError::internal("Internal server error"))
                })
        })
    }

    /// The handler of `operation`, once the body is known to be a JSON object.
    fn handler(&self, operation: &str, body: &Value) -> Result<ops::Handler, ApiError> {
        let handler = ops::handler(operation).ok_or_else(ApiError::unknown_operation)?;
        if !body.is_object() {
            return Err(ApiError::serialization(
                "Start of structure or map found where not expected",
            ));
        }
        Ok(handler)
    }
}

/// Whether `operation` runs on the calling task rather than on the blocking pool: a single-item
/// operation that does not wait for a journal sync (GetItem always; PutItem, UpdateItem and
/// DeleteItem when the store does not sync), a few microseconds of CPU. Everything else (Query,
/// Scan and batches, up to a 1 MB page or 25 items; writes that wait for a sync; table changes;
/// streams) goes to the blocking pool, so a worker thread is never held for long.
pub fn runs_inline(operation: &str, store_syncs: bool) -> bool {
    match operation {
        "GetItem" => true,
        "PutItem" | "UpdateItem" | "DeleteItem" => !store_syncs,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::runs_inline;

    #[test]
    fn only_single_item_operations_that_never_wait_for_a_sync_run_inline() {
        assert!(runs_inline("GetItem", true));
        for write in ["PutItem", "UpdateItem", "DeleteItem"] {
            assert!(!runs_inline(write, true), "{write} with syncs");
            assert!(runs_inline(write, false), "{write} without syncs");
        }
        for other in [
            "Query",
            "Scan",
            "BatchGetItem",
            "BatchWriteItem",
            "TransactWriteItems",
            "CreateTable",
            "Streams.GetRecords",
        ] {
            assert!(!runs_inline(other, false), "{other}");
        }
    }
}
