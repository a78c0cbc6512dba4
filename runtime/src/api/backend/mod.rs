//! The one seam between the runtime and the tables: [`TableBackend`], which the embedded store
//! ([`embedded::EmbeddedTables`]) and the remote engine of a cluster node
//! ([`remote::RemoteTables`]) both implement, so that nothing above it cares where the tables
//! live.
//!
//! ```text
//!   DynamoDB port   host `tables` import   console / health / metrics   stream triggers
//!        \                  |                         |                       /
//!         +------------ Api::call* ------------ Tables (Api + backend) ------+
//!                                   |
//!                            TableBackend (Backend)
//!                        /                         \
//!              EmbeddedTables                     RemoteTables
//!        (api::ops handlers over the          (DynamoDB JSON forwarded to the
//!         tarn_store::Store, its stream        engine; Streams read with
//!         log and its shards)                  aws-sdk-dynamodbstreams)
//! ```
//!
//! What the seam carries, and who calls it:
//!
//! - **Item and table operations** ([`TableBackend::call`]): an operation by name
//!   (`PutItem`, `Streams.GetRecords`...) on its DynamoDB JSON body, the wire format both sides
//!   speak already (the engine's side forwards it unchanged: see [`crate::engine`] for why).
//!   [`crate::api::Api::call`] and its variants are the only callers; the DynamoDB port, the
//!   host's `tables` import ([`crate::host`]), the console and the triggers' writes all go
//!   through the API.
//!   - [`TableBackend::call_deferring_sync`] and [`TableBackend::sync`]: a write whose journal
//!     sync the caller takes over (a stream trigger's batch syncs once). On the engine they are
//!     a plain call and nothing: an acknowledged write there is the engine's to keep.
//!   - [`TableBackend::call_inline`] and [`TableBackend::call_inline_bytes`]: the HTTP
//!     server's inline path (no blocking-pool hop; GetItem's answer written straight to bytes).
//!     The embedded side runs the handler on the caller's stack; the defaults (a call, then
//!     serializing) are the engine's.
//!   - [`TableBackend::on_arrival`]: a client's request as it reached the DynamoDB port,
//!     before it is decoded. The engine's side forwards it byte for byte (re-signed) and
//!     answers what the engine answered; the store's hands it back to be decoded and run.
//! - **What no single operation answers**, for the console, the health checks and the
//!   metrics (through [`Tables`]): [`TableBackend::health`] (the store's, or whether the engine
//!   answers, cached), [`TableBackend::sizes`], [`TableBackend::regions`],
//!   [`TableBackend::latest_stream_records`] (the console's stream page).
//! - **Stream reading** (the [`ShardReader`] shape: a table's stream ARN, its shards, an
//!   iterator, a read): the store's stream log through its Streams operations (several shards
//!   by partition-key hash), or the engine's Streams API through the SDK. The cluster's shard
//!   workers read through it ([`Tables`] is a [`ShardReader`]).
//!
//! The request's context (region, account, metrics, idempotency tokens, export jobs) is the
//! [`Api`], passed to each method rather than held: a request's region is its own (the API is
//! re-made per region, [`Api::in_region`]), and the backend held by the API never points back
//! at it (no reference cycle). The embedded side needs nothing but that context: the
//! operation handlers (`api::ops`) are its bodies, and reach the store through it.
//!
//! It lives under `api` because the two hold each other by nature: the API holds its backend,
//! and the backend runs the API's operation handlers with the API's context. Everything else
//! (the console, the health checks, the metrics, the triggers, the cluster) reaches tables
//! through here: [`Tables`] for what the API's calls do not cover.
//!
//! What stays on the store directly, outside the seam, is the store's own business: upkeep
//! (TTL sweeps, stream trimming), backups and PITR, exports and imports, the store's failure
//! watch, and the embedded stream trigger's local checkpoints. In engine mode those are the
//! engine's job (docs/cluster.md says which), and a node's local store holds none of its
//! tables.
//!
//! [`Backend`] is the closed set of the two sides, dispatched by `match` (no boxed future on
//! the hot path, as a `dyn` trait would need).

pub mod embedded;
pub mod remote;
pub mod remote_streams;
pub mod stream_log;
pub mod streams;

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;
use tarn_wire::ApiError;

use crate::api::Api;
use crate::engine::RemoteEngine;

pub use self::embedded::EmbeddedTables;
pub use self::remote::RemoteTables;
pub use self::stream_log::StreamLog;
pub use self::streams::{BoxFuture, ShardInfo, ShardRead, ShardReader};

/// One table's or index's size: (table, index or `""`, items, bytes).
pub type TableSize = (String, String, u64, u64);

/// How the tables are, as the health checks report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Reads and writes work.
    Healthy,
    /// The store's disk is below its free-space reserve: reads work, writes are refused.
    DiskFull(String),
    /// The store failed.
    Failed(String),
    /// The engine did not answer (why).
    EngineUnreachable(String),
}

/// What becomes of a request that arrived on the DynamoDB port ([`TableBackend::on_arrival`]).
#[derive(Debug)]
pub enum Arrival {
    /// Decode these bytes (the request's body) and run the operation here.
    Decode(Bytes),
    /// The answer, status and body, as the engine gave it.
    Answered(StatusCode, Bytes),
    /// Refused before it reached the engine (an unknown operation, an engine that did not
    /// answer): answer this error.
    Refused(ApiError),
}

/// Where the tables live: what the embedded store and the remote engine both do. Every method
/// takes the request's context, `api` (see the module doc).
pub trait TableBackend: Send + Sync {
    /// Runs DynamoDB `operation` on `body` (a JSON object): DynamoDB's answer or error,
    /// durable once it answers. Counted in `api`'s metrics.
    fn call(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> impl Future<Output = Result<Value, ApiError>> + Send;

    /// [`TableBackend::call`] for a write whose durability the caller waits for later, with
    /// [`TableBackend::sync`].
    fn call_deferring_sync(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> impl Future<Output = Result<Value, ApiError>> + Send;

    /// Waits until every write committed so far is durable.
    fn sync(&self, api: &Api) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// [`TableBackend::call`] for callers on a tokio worker thread's own stack (the HTTP
    /// server): the embedded side runs single-item operations right there.
    fn call_inline(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> impl Future<Output = Result<Value, ApiError>> + Send {
        self.call(api, operation, body)
    }

    /// [`TableBackend::call_inline`], answering the response body's bytes.
    fn call_inline_bytes(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> impl Future<Output = Result<Vec<u8>, ApiError>> + Send {
        async move {
            let out = self.call_inline(api, operation, body).await?;
            to_bytes(&out)
        }
    }

    /// [`TableBackend::call_inline_bytes`] on the body's bytes, for an operation whose
    /// request's common shape decodes without a JSON tree (GetItem on the embedded side):
    /// `None` for any other operation or shape, to be decoded and run the general way.
    fn call_inline_raw(
        &self,
        api: &Api,
        operation: &str,
        body: &[u8],
    ) -> impl Future<Output = Option<Result<Vec<u8>, ApiError>>> + Send {
        let _ = (api, operation, body);
        std::future::ready(None)
    }

    /// A request as it arrived on the DynamoDB port, before the server decodes it: its
    /// `X-Amz-Target`, the operation that names ([`None`] for an unknown one) and its body's
    /// bytes. The engine's side forwards it byte for byte, re-signed, and answers the engine's
    /// status and body ([`Arrival::Answered`]), so that nothing the SDK does not model is lost;
    /// the embedded side hands the bytes back ([`Arrival::Decode`]) for the server to decode
    /// and run through [`Api::call_inline_bytes`].
    fn on_arrival(
        &self,
        api: &Api,
        target: Option<&str>,
        operation: Option<&str>,
        body: Bytes,
    ) -> impl Future<Output = Arrival> + Send {
        let _ = (api, target, operation);
        std::future::ready(Arrival::Decode(body))
    }

    /// The tables' health now.
    fn health(&self, api: &Api) -> impl Future<Output = Health> + Send;

    /// Every table and index with its size.
    fn sizes(&self, api: &Api) -> impl Future<Output = Vec<TableSize>> + Send;

    /// The regions that have tables, and `default`, in name order.
    fn regions(&self, api: &Api, default: &str) -> Vec<String>;

    /// The stream of `table`: `{"enabled", "view_type", "stream_arn", "records"}` with its
    /// newest `limit` records, newest last, in the shape GetRecords answers (`{"enabled":
    /// false, "records": []}` without a stream).
    fn latest_stream_records(
        &self,
        api: &Api,
        table: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Value, ApiError>> + Send;

    /// The ARN of `table`'s current stream, if it has one enabled.
    fn stream_arn<'a>(
        &'a self,
        api: &'a Api,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, String>>;

    /// Every shard of the stream.
    fn shards<'a>(
        &'a self,
        api: &'a Api,
        stream_arn: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ShardInfo>, String>>;

    /// An iterator into a shard: after sequence number `after`, else at the shard's oldest
    /// record (`trim_horizon`) or after its newest.
    fn iterator<'a>(
        &'a self,
        api: &'a Api,
        stream_arn: &'a str,
        shard: &'a str,
        after: Option<&'a str>,
        trim_horizon: bool,
    ) -> BoxFuture<'a, Result<String, String>>;

    /// Up to `limit` records from `iterator`.
    fn read<'a>(
        &'a self,
        api: &'a Api,
        iterator: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<ShardRead, String>>;
}

/// An answer's JSON as the bytes the HTTP server sends.
fn to_bytes(out: &Value) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(out).map_err(|e| {
        tracing::error!(error = %e, "could not serialize the answer");
        ApiError::internal("Internal server error")
    })
}

/// The backend an [`Api`] holds: the embedded store's or the remote engine's tables. Cheap to
/// clone.
#[derive(Clone)]
pub enum Backend {
    /// The embedded store (the default).
    Embedded(EmbeddedTables),
    /// The remote engine (`tarn serve --engine`).
    Remote(RemoteTables),
}

impl Backend {
    /// The remote engine, in engine mode.
    pub fn engine(&self) -> Option<&Arc<RemoteEngine>> {
        match self {
            Backend::Embedded(_) => None,
            Backend::Remote(r) => Some(r.engine()),
        }
    }
}

/// Runs the same method on whichever side `self` is.
macro_rules! dispatch {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            Backend::Embedded($b) => $e,
            Backend::Remote($b) => $e,
        }
    };
}

impl TableBackend for Backend {
    async fn call(&self, api: &Api, operation: &str, body: Value) -> Result<Value, ApiError> {
        dispatch!(self, b => b.call(api, operation, body).await)
    }

    async fn call_deferring_sync(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        dispatch!(self, b => b.call_deferring_sync(api, operation, body).await)
    }

    async fn sync(&self, api: &Api) -> Result<(), ApiError> {
        dispatch!(self, b => b.sync(api).await)
    }

    async fn on_arrival(
        &self,
        api: &Api,
        target: Option<&str>,
        operation: Option<&str>,
        body: Bytes,
    ) -> Arrival {
        dispatch!(self, b => b.on_arrival(api, target, operation, body).await)
    }

    async fn call_inline(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        dispatch!(self, b => b.call_inline(api, operation, body).await)
    }

    async fn call_inline_bytes(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> Result<Vec<u8>, ApiError> {
        dispatch!(self, b => b.call_inline_bytes(api, operation, body).await)
    }

    async fn call_inline_raw(
        &self,
        api: &Api,
        operation: &str,
        body: &[u8],
    ) -> Option<Result<Vec<u8>, ApiError>> {
        dispatch!(self, b => b.call_inline_raw(api, operation, body).await)
    }

    async fn health(&self, api: &Api) -> Health {
        dispatch!(self, b => b.health(api).await)
    }

    async fn sizes(&self, api: &Api) -> Vec<TableSize> {
        dispatch!(self, b => b.sizes(api).await)
    }

    fn regions(&self, api: &Api, default: &str) -> Vec<String> {
        dispatch!(self, b => b.regions(api, default))
    }

    async fn latest_stream_records(
        &self,
        api: &Api,
        table: &str,
        limit: usize,
    ) -> Result<Value, ApiError> {
        dispatch!(self, b => b.latest_stream_records(api, table, limit).await)
    }

    fn stream_arn<'a>(
        &'a self,
        api: &'a Api,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, String>> {
        dispatch!(self, b => b.stream_arn(api, table))
    }

    fn shards<'a>(
        &'a self,
        api: &'a Api,
        stream_arn: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ShardInfo>, String>> {
        dispatch!(self, b => b.shards(api, stream_arn))
    }

    fn iterator<'a>(
        &'a self,
        api: &'a Api,
        stream_arn: &'a str,
        shard: &'a str,
        after: Option<&'a str>,
        trim_horizon: bool,
    ) -> BoxFuture<'a, Result<String, String>> {
        dispatch!(self, b => b.iterator(api, stream_arn, shard, after, trim_horizon))
    }

    fn read<'a>(
        &'a self,
        api: &'a Api,
        iterator: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<ShardRead, String>> {
        dispatch!(self, b => b.read(api, iterator, limit))
    }
}

/// The tables an [`Api`] reaches, bound to that API's context: what the console, the health
/// checks, the metrics and the shard workers hold. Cheap to clone.
#[derive(Clone)]
pub struct Tables {
    api: Api,
}

impl Tables {
    /// The tables `api` reaches: the engine's in engine mode, the store's otherwise.
    pub fn of(api: &Api) -> Tables {
        Tables { api: api.clone() }
    }

    /// The API (the metrics, the region...).
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        self.api.backend()
    }

    /// The engine, in engine mode.
    pub fn engine(&self) -> Option<&Arc<RemoteEngine>> {
        self.backend().engine()
    }

    /// Runs DynamoDB `operation` on `body`: DynamoDB's answer or error, wherever the tables are.
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, ApiError> {
        self.api.call(operation, body).await
    }

    /// The tables' health now (the engine's: cached for [`crate::engine::probe::HEALTH_TTL`]).
    pub async fn health(&self) -> Health {
        self.backend().health(&self.api).await
    }

    /// Every table name in this API's region, in name order.
    pub async fn table_names(&self) -> Result<Vec<String>, ApiError> {
        crate::engine::probe::all_table_names(|req| self.call("ListTables", req)).await
    }

    /// Every table and index with its size: (table, index or `""`, items, bytes). The
    /// store's figures, read off the async executor; or each table's `DescribeTable` in the
    /// engine (whose counts are the engine's: AWS refreshes them about every six hours).
    pub async fn sizes(&self) -> Vec<TableSize> {
        self.backend().sizes(&self.api).await
    }

    /// The regions that have tables, and `default` (listed even without tables), in name
    /// order; on the engine, only its region (the one the node signs for), whose tables are
    /// all the node sees.
    pub fn regions(&self, default: &str) -> Vec<String> {
        self.backend().regions(&self.api, default)
    }

    /// See [`TableBackend::latest_stream_records`].
    pub async fn latest_stream_records(
        &self,
        table: &str,
        limit: usize,
    ) -> Result<Value, ApiError> {
        self.backend()
            .latest_stream_records(&self.api, table, limit)
            .await
    }
}

impl ShardReader for Tables {
    fn stream_arn<'a>(&'a self, table: &'a str) -> BoxFuture<'a, Result<Option<String>, String>> {
        self.backend().stream_arn(&self.api, table)
    }

    fn shards<'a>(&'a self, stream_arn: &'a str) -> BoxFuture<'a, Result<Vec<ShardInfo>, String>> {
        self.backend().shards(&self.api, stream_arn)
    }

    fn iterator<'a>(
        &'a self,
        stream_arn: &'a str,
        shard: &'a str,
        after: Option<&'a str>,
        trim_horizon: bool,
    ) -> BoxFuture<'a, Result<String, String>> {
        self.backend()
            .iterator(&self.api, stream_arn, shard, after, trim_horizon)
    }

    fn read<'a>(
        &'a self,
        iterator: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<ShardRead, String>> {
        self.backend().read(&self.api, iterator, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn music(tables: &Tables, stream: bool) {
        let mut req = json!({
            "TableName": "music",
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        });
        if stream {
            req["StreamSpecification"] =
                json!({"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"});
        }
        tables.call("CreateTable", req).await.unwrap();
    }

    #[tokio::test]
    async fn the_embedded_side_answers_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let api = Api::new(Arc::new(tarn_store::Store::open(dir.path()).unwrap()));
        let tables = Tables::of(&api);
        assert!(tables.engine().is_none());
        assert!(matches!(tables.backend(), Backend::Embedded(_)));
        assert_eq!(tables.health().await, Health::Healthy);
        music(&tables, false).await;
        tables
            .call(
                "PutItem",
                json!({"TableName": "music", "Item": {"k": {"S": "a"}}}),
            )
            .await
            .unwrap();
        assert_eq!(
            tables.table_names().await.unwrap(),
            vec!["music".to_string()]
        );
        let sizes = tables.sizes().await;
        assert_eq!(sizes.len(), 1);
        assert_eq!((sizes[0].0.as_str(), sizes[0].2), ("music", 1));
        assert_eq!(tables.regions("us-east-1"), vec!["us-east-1".to_string()]);
        let s = tables.latest_stream_records("music", 10).await.unwrap();
        assert_eq!(s["enabled"], false);
        assert_eq!(
            ShardReader::stream_arn(&tables, "music").await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn the_inline_paths_answer_what_call_answers() {
        let dir = tempfile::tempdir().unwrap();
        let api = Api::new(Arc::new(tarn_store::Store::open(dir.path()).unwrap()));
        let tables = Tables::of(&api);
        music(&tables, false).await;
        let put = json!({"TableName": "music", "Item": {"k": {"S": "a"}, "n": {"N": "1"}}});
        api.call_inline("PutItem", put).await.unwrap();
        let get = json!({"TableName": "music", "Key": {"k": {"S": "a"}}});
        let called = api.call("GetItem", get.clone()).await.unwrap();
        let bytes = api.call_inline_bytes("GetItem", get.clone()).await.unwrap();
        let inline: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(inline, called);
        assert_eq!(called["Item"]["n"]["N"], "1");
        // GetItem's common shape, from the body's bytes: the same answer, counted alike.
        let get_items = |api: &Api| {
            let op = crate::metrics::Operation::from_api_name("GetItem");
            api.metrics()
                .requests_snapshot()
                .into_iter()
                .filter(|(table, _)| table == "music")
                .flat_map(|(_, t)| t.operations)
                .filter(|(o, _)| *o == op)
                .map(|(_, f)| f.requests)
                .sum::<u64>()
        };
        let before = get_items(&api);
        let body = serde_json::to_vec(&get).unwrap();
        let raw = api
            .call_inline_raw("GetItem", &body)
            .await
            .expect("the common shape");
        assert_eq!(raw.unwrap(), bytes);
        assert_eq!(get_items(&api), before + 1);
        assert!(api.call_inline_raw("GetItem", b"[1]").await.is_none());
        assert!(api.call_inline_raw("Query", &body).await.is_none());
        // A body that is not an object is refused on every path, as DynamoDB does.
        let e = api
            .call_inline_bytes("GetItem", json!([1]))
            .await
            .unwrap_err();
        assert_eq!(e.kind, "SerializationException");
        let e = api.call("Nope", json!({})).await.unwrap_err();
        assert_eq!(e.kind, "UnknownOperationException");
    }

    #[tokio::test]
    async fn the_embedded_stream_reads_every_shard_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let options = tarn_store::StoreOptions {
            stream_shards: 4,
            ..Default::default()
        };
        let store = tarn_store::Store::open_with(dir.path(), options).unwrap();
        let api = Api::new(Arc::new(store));
        let tables = Tables::of(&api);
        music(&tables, true).await;
        let reader: Arc<dyn ShardReader> = Arc::new(tables.clone());
        let arn = reader.stream_arn("music").await.unwrap().expect("a stream");
        let shards = reader.shards(&arn).await.unwrap();
        assert_eq!(shards.len(), 4, "{shards:?}");
        assert!(shards.iter().all(|s| s.parents.is_empty() && !s.closed));
        // Writes after LATEST iterators: each key's versions, in order, in one shard.
        let mut latest = Vec::new();
        for s in &shards {
            latest.push(reader.iterator(&arn, &s.id, None, false).await.unwrap());
        }
        for n in 0..3 {
            for key in ["a", "b", "c", "d", "e", "f"] {
                api.call(
                    "PutItem",
                    json!({"TableName": "music", "Item": {"k": {"S": key}, "n": {"N": n.to_string()}}}),
                )
                .await
                .unwrap();
            }
        }
        let mut seen: Vec<(String, String, String)> = Vec::new();
        let mut from_start = 0;
        for (s, it) in shards.iter().zip(latest) {
            let read = reader.read(&it, 1000).await.unwrap();
            assert!(read.next.is_some(), "an open shard has a next iterator");
            for r in &read.records {
                seen.push((
                    s.id.clone(),
                    r["dynamodb"]["Keys"]["k"]["S"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    r["dynamodb"]["NewImage"]["n"]["N"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                ));
            }
            let th = reader.iterator(&arn, &s.id, None, true).await.unwrap();
            from_start += reader.read(&th, 1000).await.unwrap().records.len();
            // After a record's sequence number: the records that follow it.
            if let Some(first) = read.records.first() {
                let seq = first["dynamodb"]["SequenceNumber"].as_str().unwrap();
                let after = reader
                    .iterator(&arn, &s.id, Some(seq), false)
                    .await
                    .unwrap();
                let rest = reader.read(&after, 1000).await.unwrap().records;
                assert_eq!(rest.len(), read.records.len() - 1);
            }
        }
        assert_eq!(seen.len(), 18);
        assert_eq!(from_start, 18);
        for key in ["a", "b", "c", "d", "e", "f"] {
            let of_key: Vec<_> = seen.iter().filter(|(_, k, _)| k == key).collect();
            assert_eq!(of_key.len(), 3);
            assert!(
                of_key.iter().all(|(s, _, _)| *s == of_key[0].0),
                "one shard per key"
            );
            let ns: Vec<&str> = of_key.iter().map(|(_, _, n)| n.as_str()).collect();
            assert_eq!(ns, ["0", "1", "2"], "per-key order");
        }
        let used: std::collections::BTreeSet<_> = seen.iter().map(|(s, _, _)| s).collect();
        assert!(used.len() > 1, "six keys spread over several shards");
    }
}
