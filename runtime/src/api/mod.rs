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

pub mod backend;
pub(crate) mod ops;

use std::sync::Arc;

use serde_json::Value;

use crate::api::backend::{Backend, EmbeddedTables, RemoteTables, TableBackend};

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
    /// Where the tables are: the store (`EmbeddedTables`) or, in cluster mode, the remote
    /// engine every operation goes to instead.
    backend: Backend,
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
            backend: Backend::Embedded(EmbeddedTables),
        }
    }

    /// The same API running every operation on `engine` (cluster mode): [`Api::call`] and
    /// its variants forward the request and answer what the engine answers.
    pub fn with_engine(mut self, engine: Arc<crate::engine::RemoteEngine>) -> Self {
        self.backend = Backend::Remote(RemoteTables::new(engine));
        self
    }

    /// Where the tables are: the seam ([`crate::api::backend`]) every operation goes through.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The same API in another region: the region of requests that name none (unsigned
    /// ones, functions' table calls, the console), reported in their ARNs and endpoints.
    pub fn with_region(mut self, region: &str) -> Self {
        self.region = region.into();
        self
    }

    /// The same API for a request made in `region` (its SigV4 credential scope's): it sees
    /// that region's tables only, and reports that region in ARNs. Cheap: a few reference
    /// counts.
    pub fn in_region(&self, region: &str) -> Self {
        let mut api = self.clone();
        api.region = region.into();
        api
    }

    /// The store's reference of table `name` in this API's region (see
    /// [`tarn_store::schema::region`]). A name holding a `/` (no valid table name does) gets a
    /// reference no table has, so it can never reach another region's table.
    pub fn table_ref<'a>(&self, name: &'a str) -> std::borrow::Cow<'a, str> {
        if name.contains('/') {
            std::borrow::Cow::Owned(format!("{}/{name}", self.region))
        } else if *self.region == *tarn_store::schema::HOME_REGION {
            std::borrow::Cow::Borrowed(name)
        } else {
            std::borrow::Cow::Owned(tarn_store::schema::table_ref(&self.region, name))
        }
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

    /// This process's store: the tables' in embedded mode (the operation handlers', through
    /// [`crate::api::backend::EmbeddedTables`]); in cluster mode a local store that holds no table,
    /// kept for the store's own upkeep.
    pub fn store(&self) -> &Arc<tarn_store::Store> {
        &self.store
    }

    /// What the server counts: requests, capacity, functions... and their last hour (see
    /// [`crate::metrics`]).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The region of this API's requests: the one whose tables they see, reported in ARNs.
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

    /// Runs `operation` (`"PutItem"`, `"Query"`...) on a DynamoDB JSON request body, wherever
    /// the tables are ([`TableBackend::call`]); durable once it answers. The body must be a
    /// JSON object. On the store, the blocking work runs on tokio's blocking pool, and a
    /// panicking handler answers `InternalServerError`.
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, ApiError> {
        self.backend.call(self, operation, body).await
    }

    /// [`Api::call`] for a write whose journal sync the caller takes over: on the store the
    /// operation runs under [`tarn_store::Store::deferring_syncs`] and answers once its change
    /// is committed, before it is durable. The caller must wait for [`Api::sync`] before it
    /// reports the write as done (a stream trigger does, once per batch, beside its
    /// checkpoint).
    pub async fn call_deferring_sync(
        &self,
        operation: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        self.backend
            .call_deferring_sync(self, operation, body)
            .await
    }

    /// Waits until every write committed so far is durable (one group-committed journal
    /// sync): what writes made with [`Api::call_deferring_sync`] owe.
    pub async fn sync(&self) -> Result<(), ApiError> {
        self.backend.sync(self).await
    }

    /// [`Api::call`] for callers on a tokio worker thread's own stack (the DynamoDB HTTP
    /// server; not a wasm fiber, whose stack is small): on the store a single-item operation
    /// ([`runs_inline`]) runs right here, sparing the request the blocking pool's two thread
    /// hand-offs ([`TableBackend::call_inline`]).
    pub async fn call_inline(&self, operation: &str, body: Value) -> Result<Value, ApiError> {
        self.backend.call_inline(self, operation, body).await
    }

    /// [`Api::call_inline_bytes`] on the request body's bytes, for an operation whose common
    /// request shape decodes without a JSON tree (GetItem): `None` for any other operation or
    /// shape (decode the body and call [`Api::call_inline_bytes`] then).
    pub async fn call_inline_raw(
        &self,
        operation: &str,
        body: &[u8],
    ) -> Option<Result<Vec<u8>, ApiError>> {
        self.backend.call_inline_raw(self, operation, body).await
    }

    /// [`Api::call_inline`], answering the response body's bytes (what the HTTP server sends).
    /// Operations with a bytes handler (GetItem) write them without building the JSON tree;
    /// the others serialize their answer.
    pub async fn call_inline_bytes(
        &self,
        operation: &str,
        body: Value,
    ) -> Result<Vec<u8>, ApiError> {
        self.backend.call_inline_bytes(self, operation, body).await
    }
}

/// Whether `operation` runs on the calling task rather than on the blocking pool: a single-item
/// operation, a few microseconds of CPU (GetItem; PutItem, UpdateItem and DeleteItem, whose
/// answers then await their journal sync without holding the thread). Everything else (Query,
/// Scan and batches, up to a 1 MB page or 25 items; table changes; streams) goes to the
/// blocking pool, so a worker thread is never held for long.
pub fn runs_inline(operation: &str) -> bool {
    matches!(
        operation,
        "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem"
    )
}

#[cfg(test)]
mod tests {
    use super::runs_inline;

    #[test]
    fn a_region_sees_its_own_table_references() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(tarn_store::Store::open(dir.path()).unwrap());
        let home = super::Api::new(store);
        assert_eq!(home.region(), "us-east-1");
        assert_eq!(home.table_ref("orders"), "orders");
        let eu = home.in_region("eu-west-1");
        assert_eq!(eu.region(), "eu-west-1");
        assert_eq!(eu.table_ref("orders"), "eu-west-1/orders");
        // A name holding `/` never reaches another region's table, nor a home-region one.
        assert_eq!(
            home.table_ref("eu-west-1/orders"),
            "us-east-1/eu-west-1/orders"
        );
        assert_eq!(eu.table_ref("x/orders"), "eu-west-1/x/orders");
        // The server's region is that of requests naming none.
        assert_eq!(
            home.with_region("ap-south-1").table_ref("t"),
            "ap-south-1/t"
        );
    }

    #[test]
    fn only_single_item_operations_run_inline() {
        for op in ["GetItem", "PutItem", "UpdateItem", "DeleteItem"] {
            assert!(runs_inline(op), "{op}");
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
            assert!(!runs_inline(other), "{other}");
        }
    }
}
