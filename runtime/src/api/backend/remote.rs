//! The remote side of the seam: [`RemoteTables`], the tables of the remote engine a cluster node
//! runs over (`tarn serve --engine`).
//!
//! A client's request on the DynamoDB port goes to the engine byte for byte
//! ([`TableBackend::on_arrival`]); the operations the runtime makes itself (a function's
//! `tables` calls, the console's, the triggers') are forwarded as they are (DynamoDB JSON,
//! re-signed: [`RemoteEngine::call`]). Both are counted in the node's metrics; a write is durable once the
//! engine acknowledges it, so [`TableBackend::sync`] has nothing to wait for. Health is whether
//! the engine answers (cached), sizes are its `DescribeTable`s, its region is the only one.
//! Streams are read with the SDK ([`super::remote_streams`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};
use tarn_wire::ApiError;

use super::remote_streams::EngineShards;
use super::streams::{BoxFuture, ShardInfo, ShardRead, ShardReader};
use super::{Arrival, Health, TableBackend, TableSize};
use crate::api::Api;
use crate::engine::RemoteEngine;
use crate::metrics::Operation;

/// Most `GetRecords` pages read per shard for the console's newest records.
const MAX_PAGES_PER_SHARD: usize = 64;

/// How long the engine's table sizes are reused (each read is a `DescribeTable` per table;
/// scrapes and the metrics' samples ask for them).
pub const SIZES_MAX_AGE: Duration = Duration::from_secs(5);

/// The engine's table sizes last read, and when.
type SizesCache = Mutex<Option<(Instant, Vec<TableSize>)>>;

/// The remote engine's tables. Cheap to clone.
#[derive(Clone)]
pub struct RemoteTables {
    shards: EngineShards,
    sizes: Arc<SizesCache>,
}

impl RemoteTables {
    /// The tables of `engine`.
    pub fn new(engine: Arc<RemoteEngine>) -> Self {
        RemoteTables {
            shards: EngineShards(engine),
            sizes: Arc::default(),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<RemoteEngine> {
        &self.shards.0
    }
}

impl TableBackend for RemoteTables {
    /// A client's request goes to the engine byte for byte, re-signed with the engine's
    /// credentials ([`RemoteEngine::forward`]); the engine's status and body, errors included,
    /// are the answer. Counted in the node's metrics as the embedded side counts its requests
    /// (the table from the request's body, the outcome from the engine's status and error).
    async fn on_arrival(
        &self,
        api: &Api,
        target: Option<&str>,
        operation: Option<&str>,
        body: Bytes,
    ) -> Arrival {
        let (Some(target), Some(operation)) = (target, operation) else {
            return Arrival::Refused(ApiError::unknown_operation(
                target.unwrap_or("the request has no X-Amz-Target header"),
            ));
        };
        tracing::Span::current().record("op", operation);
        // The body is parsed only to name its table(s) in the metrics; it goes on unchanged.
        let request: Option<Value> = api
            .metrics()
            .records_requests()
            .then(|| serde_json::from_slice(&body).ok())
            .flatten();
        let started = Instant::now();
        let engine = self.engine();
        let (status, answer) = match engine.forward(target, body).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(error = %e, engine = engine.url(), "the engine did not answer");
                return Arrival::Refused(e.to_api_error());
            }
        };
        if let Some(request) = request {
            let result = engine_outcome(status, &answer);
            api.metrics().record_request(
                Operation::from_api_name(operation),
                &request,
                started.elapsed(),
                &result,
            );
        }
        Arrival::Answered(status, answer)
    }

    async fn call(&self, api: &Api, operation: &str, body: Value) -> Result<Value, ApiError> {
        let started = std::time::Instant::now();
        let result = self
            .engine()
            .call(operation, &body)
            .await
            .map_err(|e| e.to_api_error());
        api.metrics().record_request(
            Operation::from_api_name(operation),
            &body,
            started.elapsed(),
            &result,
        );
        result
    }

    /// A plain call: the engine's acknowledged write is the engine's to keep.
    async fn call_deferring_sync(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        self.call(api, operation, body).await
    }

    /// Nothing to wait for (see [`RemoteTables::call_deferring_sync`]).
    async fn sync(&self, _api: &Api) -> Result<(), ApiError> {
        Ok(())
    }

    async fn health(&self, _api: &Api) -> Health {
        match self.engine().reachable().await {
            Ok(()) => Health::Healthy,
            Err(why) => Health::EngineUnreachable(why),
        }
    }

    /// Each table's `DescribeTable`, at most every [`SIZES_MAX_AGE`]; while the engine does not
    /// answer, the last sizes read (so that the metrics do not forget its tables' figures as
    /// if the tables were gone).
    async fn sizes(&self, _api: &Api) -> Vec<TableSize> {
        if let Some((at, sizes)) = &*self.sizes.lock() {
            if at.elapsed() < SIZES_MAX_AGE {
                return sizes.clone();
            }
        }
        match self.engine().table_sizes().await {
            Ok(sizes) => {
                *self.sizes.lock() = Some((Instant::now(), sizes.clone()));
                sizes
            }
            Err(e) => {
                tracing::debug!(error = %e, "could not read the engine's table sizes");
                self.sizes
                    .lock()
                    .as_ref()
                    .map(|(_, sizes)| sizes.clone())
                    .unwrap_or_default()
            }
        }
    }

    fn regions(&self, _api: &Api, _default: &str) -> Vec<String> {
        vec![self.engine().region().to_string()]
    }

    /// [`TableBackend::latest_stream_records`] through the engine's Streams API: every shard of the
    /// table's latest stream read from its trim horizon (at most `MAX_PAGES_PER_SHARD` pages
    /// each), the newest `limit` records kept.
    async fn latest_stream_records(
        &self,
        api: &Api,
        table: &str,
        limit: usize,
    ) -> Result<Value, ApiError> {
        let described = self
            .call(api, "DescribeTable", json!({"TableName": table}))
            .await?;
        let t = &described["Table"];
        let Some(arn) = t["LatestStreamArn"].as_str().map(str::to_owned) else {
            return Ok(json!({"enabled": false, "records": []}));
        };
        let enabled = t["StreamSpecification"]["StreamEnabled"].as_bool() == Some(true);
        let mut shards = Vec::new();
        let mut stream = json!({});
        let mut start: Option<String> = None;
        loop {
            let mut req = json!({"StreamArn": arn});
            if let Some(s) = &start {
                req["ExclusiveStartShardId"] = json!(s);
            }
            let d = self.call(api, "Streams.DescribeStream", req).await?;
            stream = d["StreamDescription"].clone();
            shards.extend(
                stream["Shards"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["ShardId"].as_str().map(str::to_owned)),
            );
            match stream["LastEvaluatedShardId"].as_str() {
                Some(s) => start = Some(s.to_string()),
                None => break,
            }
        }
        let mut records: Vec<Value> = Vec::new();
        for shard in shards {
            let it = self
                .call(
                    api,
                    "Streams.GetShardIterator",
                    json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
                )
                .await?;
            let mut iterator = it["ShardIterator"].as_str().map(str::to_owned);
            for _ in 0..MAX_PAGES_PER_SHARD {
                let Some(i) = iterator.take() else { break };
                let page = self
                    .call(api, "Streams.GetRecords", json!({"ShardIterator": i}))
                    .await?;
                let got = page["Records"].as_array().cloned().unwrap_or_default();
                let empty = got.is_empty();
                records.extend(got);
                // An open shard answers an empty page once it is read to its end.
                if empty {
                    break;
                }
                iterator = page["NextShardIterator"].as_str().map(str::to_owned);
            }
        }
        // Sequence numbers are decimal strings: longer is later.
        let seq = |r: &Value| {
            let s = r["dynamodb"]["SequenceNumber"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (s.len(), s)
        };
        records.sort_by_key(seq);
        let skip = records.len().saturating_sub(limit);
        Ok(json!({
            "enabled": enabled,
            "view_type": stream["StreamViewType"]
                .as_str()
                .or(t["StreamSpecification"]["StreamViewType"].as_str()),
            "stream_arn": arn,
            "records": records.split_off(skip),
        }))
    }

    fn stream_arn<'a>(
        &'a self,
        _api: &'a Api,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, String>> {
        self.shards.stream_arn(table)
    }

    fn shards<'a>(
        &'a self,
        _api: &'a Api,
        stream_arn: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ShardInfo>, String>> {
        self.shards.shards(stream_arn)
    }

    fn iterator<'a>(
        &'a self,
        _api: &'a Api,
        stream_arn: &'a str,
        shard: &'a str,
        after: Option<&'a str>,
        trim_horizon: bool,
    ) -> BoxFuture<'a, Result<String, String>> {
        self.shards.iterator(stream_arn, shard, after, trim_horizon)
    }

    fn read<'a>(
        &'a self,
        _api: &'a Api,
        iterator: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<ShardRead, String>> {
        self.shards.read(iterator, limit)
    }
}

/// An engine's answer as the metrics count it: its JSON on success (`Count` matters), its
/// error as tarn names errors otherwise.
fn engine_outcome(status: StatusCode, body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(v);
    }
    let (kind, message) = tarn_wire::read_error_body(&v);
    let kind = kind.unwrap_or_else(|| {
        if status.is_server_error() {
            "InternalServerError".into()
        } else {
            "ValidationException".into()
        }
    });
    Err(crate::engine::EngineError::Service { kind, message }.to_api_error())
}
