//! The embedded side of the seam: [`EmbeddedTables`], the tables of this process's
//! `tarn_store::Store` (the default).
//!
//! An operation runs its handler (`crate::api::ops`, one per DynamoDB operation, over the
//! store the request's context [`Api`] carries) on tokio's blocking pool, or inline on the
//! caller's stack for a single-item operation on the HTTP server's path
//! ([`crate::api::runs_inline`]); a write's answer waits for the journal sync that covers it,
//! holding no thread meanwhile. Health, sizes and regions are the store's; streams are read
//! from the store's stream log and its shards, through the same Streams operations a client
//! calls (DescribeStream, GetShardIterator, GetRecords).

use serde_json::{json, Value};
use tarn_wire::ApiError;

use super::streams::{BoxFuture, ShardInfo, ShardRead};
use super::{Health, TableBackend, TableSize};
use crate::api::ops;
use crate::api::{runs_inline, Api};
use crate::metrics::Operation;

/// The embedded store's tables. It holds nothing: the store is the request context's
/// ([`Api::store`]), which the operation handlers take.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbeddedTables;

impl TableBackend for EmbeddedTables {
    /// The handler runs on tokio's blocking pool; a panicking handler answers
    /// `InternalServerError`.
    ///
    /// Item writes do not hold the pool thread while the journal syncs: the handler runs with
    /// the store's syncs deferred ([`tarn_store::Store::defer_syncs`]), and the answer waits
    /// here, on the caller's task, until what the operation wrote (or read to decide, such as
    /// a condition that failed) is durable.
    async fn call(&self, api: &Api, operation: &str, body: Value) -> Result<Value, ApiError> {
        let handler = handler(operation, &body)?;
        let op = Operation::from_api_name(operation);
        let ctx = api.clone();
        let started = std::time::Instant::now();
        let ((answer, durable), body) = tokio::task::spawn_blocking(move || {
            let out = ctx
                .store()
                .defer_syncs(|| catching_panics(|| handler(&ctx, &body)));
            (out, body)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "operation handler panicked");
            ApiError::internal("Internal server error")
        })?;
        let result = when_durable(answer, durable).await;
        api.metrics()
            .record_request_in(api.region(), op, &body, started.elapsed(), &result);
        result
    }

    /// The operation runs under [`tarn_store::Store::deferring_syncs`] and answers once its
    /// change is committed, before it is durable. Not waiting for a sync, a single-item write
    /// ([`runs_inline`]) does not block: it runs right here (on a stream handler's fiber, whose
    /// host calls have at least 1 MiB of stack; the store's parsers bound their depth),
    /// sparing each of a batch's writes the blocking pool's two thread hand-offs.
    async fn call_deferring_sync(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        let handler = handler(operation, &body)?;
        if runs_inline(operation) {
            return api
                .store()
                .deferring_syncs(|| catching_panics(|| handler(api, &body)));
        }
        let ctx = api.clone();
        tokio::task::spawn_blocking(move || ctx.store().deferring_syncs(|| handler(&ctx, &body)))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "operation handler panicked");
                ApiError::internal("Internal server error")
            })?
    }

    /// One group-committed journal sync.
    async fn sync(&self, api: &Api) -> Result<(), ApiError> {
        let store = api.store().clone();
        match tokio::task::spawn_blocking(move || store.sync()).await {
            Ok(r) => r.map_err(ApiError::from),
            Err(e) => {
                tracing::error!(error = %e, "journal sync panicked");
                Err(ApiError::internal("Internal server error"))
            }
        }
    }

    /// A single-item operation ([`runs_inline`]) runs right here, sparing the request the two
    /// thread hand-offs of the blocking pool (a quarter less server CPU per GetItem, see
    /// BENCHMARKS.md); the others go to the pool as in [`TableBackend::call`]. A single-item
    /// write commits here and its answer awaits the journal sync that covers it, holding no
    /// thread meanwhile.
    async fn call_inline(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        if !runs_inline(operation) {
            return self.call(api, operation, body).await;
        }
        let handler = handler(operation, &body)?;
        let op = Operation::from_api_name(operation);
        let started = std::time::Instant::now();
        let (answer, durable) = api
            .store()
            .defer_syncs(|| catching_panics(|| handler(api, &body)));
        let result = when_durable(answer, durable).await;
        api.metrics()
            .record_request_in(api.region(), op, &body, started.elapsed(), &result);
        result
    }

    /// Operations with a bytes handler (GetItem) write their answer without building the
    /// JSON tree; the others serialize it.
    async fn call_inline_bytes(
        &self,
        api: &Api,
        operation: &str,
        body: Value,
    ) -> Result<Vec<u8>, ApiError> {
        if runs_inline(operation) {
            if let Some(bytes_handler) = ops::bytes_handler(operation) {
                handler(operation, &body)?;
                let started = std::time::Instant::now();
                let result = catching_panics(|| bytes_handler(api, &body));
                // A bytes answer is counted as its JSON one would be; only its error matters
                // (the operations answered as bytes return no `Count`).
                let counted = match &result {
                    Ok(_) => Ok(Value::Null),
                    Err(e) => Err(e.clone()),
                };
                let op = Operation::from_api_name(operation);
                api.metrics().record_request_in(
                    api.region(),
                    op,
                    &body,
                    started.elapsed(),
                    &counted,
                );
                return result;
            }
        }
        let out = self.call_inline(api, operation, body).await?;
        super::to_bytes(&out)
    }

    /// GetItem's common shape, decoded from the body's bytes without a JSON tree
    /// ([`ops::raw_handler`]) and counted under the table it names, as
    /// [`TableBackend::call_inline_bytes`] counts it.
    async fn call_inline_raw(
        &self,
        api: &Api,
        operation: &str,
        body: &[u8],
    ) -> Option<Result<Vec<u8>, ApiError>> {
        let raw = ops::raw_handler(operation)?;
        let started = std::time::Instant::now();
        let (table, result) = match catching_panics(|| Ok(raw(api, body))) {
            Ok(None) => return None,
            Ok(Some(answer)) => (answer.table, answer.result),
            Err(panicked) => ("", Err(panicked)),
        };
        let counted = match &result {
            Ok(_) => Ok(Value::Null),
            Err(e) => Err(e.clone()),
        };
        api.metrics().record_table_request_in(
            api.region(),
            Operation::from_api_name(operation),
            table,
            started.elapsed(),
            &counted,
        );
        Some(result)
    }

    async fn health(&self, api: &Api) -> Health {
        match api.store().health() {
            tarn_store::Health::Healthy => Health::Healthy,
            h @ tarn_store::Health::DiskFull { .. } => Health::DiskFull(h.to_string()),
            h @ tarn_store::Health::Failed { .. } => Health::Failed(h.to_string()),
        }
    }

    /// The store's figures, read off the async executor.
    async fn sizes(&self, api: &Api) -> Vec<TableSize> {
        let store = api.store().clone();
        tokio::task::spawn_blocking(move || crate::metrics::store_sizes(&store))
            .await
            .unwrap_or_default()
    }

    fn regions(&self, api: &Api, default: &str) -> Vec<String> {
        let mut regions = std::collections::BTreeSet::from([default.to_string()]);
        let (tables, _) = api.store().list_tables(None, usize::MAX);
        regions.extend(
            tables
                .iter()
                .map(|t| tarn_store::schema::split_table_ref(t).0.to_string()),
        );
        regions.into_iter().collect()
    }

    async fn latest_stream_records(
        &self,
        api: &Api,
        table: &str,
        limit: usize,
    ) -> Result<Value, ApiError> {
        let api = api.clone();
        let table = table.to_string();
        tokio::task::spawn_blocking(move || latest_store_records(&api, &table, limit))
            .await
            .map_err(|_| ApiError::internal("reading the stream failed"))?
    }

    fn stream_arn<'a>(
        &'a self,
        api: &'a Api,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            let d = self
                .call(api, "DescribeTable", json!({"TableName": table}))
                .await
                .map_err(|e| format!("DescribeTable: {}: {}", e.kind, e.message))?;
            let t = &d["Table"];
            let enabled = t["StreamSpecification"]["StreamEnabled"].as_bool() == Some(true);
            Ok(t["LatestStreamArn"]
                .as_str()
                .filter(|_| enabled)
                .map(str::to_string))
        })
    }

    fn shards<'a>(
        &'a self,
        api: &'a Api,
        stream_arn: &'a str,
    ) -> BoxFuture<'a, Result<Vec<ShardInfo>, String>> {
        Box::pin(async move {
            let mut out = Vec::new();
            let mut start: Option<String> = None;
            loop {
                let mut req = json!({"StreamArn": stream_arn});
                if let Some(s) = &start {
                    req["ExclusiveStartShardId"] = json!(s);
                }
                let d = self
                    .call(api, "Streams.DescribeStream", req)
                    .await
                    .map_err(|e| format!("DescribeStream: {}: {}", e.kind, e.message))?;
                let desc = &d["StreamDescription"];
                for s in desc["Shards"].as_array().into_iter().flatten() {
                    let Some(id) = s["ShardId"].as_str() else {
                        continue;
                    };
                    out.push(ShardInfo {
                        id: id.to_string(),
                        parents: s["ParentShardId"]
                            .as_str()
                            .map(|p| vec![p.to_string()])
                            .unwrap_or_default(),
                        closed: s["SequenceNumberRange"]["EndingSequenceNumber"].is_string(),
                    });
                }
                match desc["LastEvaluatedShardId"].as_str() {
                    Some(last) if start.as_deref() != Some(last) => start = Some(last.into()),
                    _ => return Ok(out),
                }
            }
        })
    }

    fn iterator<'a>(
        &'a self,
        api: &'a Api,
        stream_arn: &'a str,
        shard: &'a str,
        after: Option<&'a str>,
        trim_horizon: bool,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let mut req = json!({"StreamArn": stream_arn, "ShardId": shard});
            req["ShardIteratorType"] = json!(match after {
                Some(seq) => {
                    req["SequenceNumber"] = json!(seq);
                    "AFTER_SEQUENCE_NUMBER"
                }
                None if trim_horizon => "TRIM_HORIZON",
                None => "LATEST",
            });
            let r = self
                .call(api, "Streams.GetShardIterator", req)
                .await
                .map_err(|e| format!("GetShardIterator: {}: {}", e.kind, e.message))?;
            r["ShardIterator"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("GetShardIterator of {shard} answered no iterator"))
        })
    }

    fn read<'a>(
        &'a self,
        api: &'a Api,
        iterator: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<ShardRead, String>> {
        Box::pin(async move {
            let req = json!({"ShardIterator": iterator, "Limit": limit.clamp(1, 1000)});
            let mut r = self
                .call(api, "Streams.GetRecords", req)
                .await
                .map_err(|e| format!("GetRecords: {}: {}", e.kind, e.message))?;
            let records = match r["Records"].take() {
                Value::Array(records) => records,
                _ => Vec::new(),
            };
            Ok(ShardRead {
                records,
                next: r["NextShardIterator"].as_str().map(str::to_string),
            })
        })
    }
}

/// The handler of `operation`, once the body is known to be a JSON object.
fn handler(operation: &str, body: &Value) -> Result<ops::Handler, ApiError> {
    let handler = ops::handler(operation).ok_or_else(|| ApiError::unknown_operation(operation))?;
    if !body.is_object() {
        return Err(ApiError::serialization(
            "Start of structure or map found where not expected",
        ));
    }
    Ok(handler)
}

/// Runs a handler on the calling thread; a panic answers `InternalServerError`.
fn catching_panics<T>(f: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("");
        tracing::error!(error = message, "operation handler panicked");
        Err(ApiError::internal("Internal server error"))
    })
}

/// An operation's answer once what it wrote, or read to decide, is durable; the store's
/// error instead when the sync failed (the write may or may not have survived).
async fn when_durable(
    answer: Result<Value, ApiError>,
    durable: tarn_store::Durability,
) -> Result<Value, ApiError> {
    match durable.await {
        Ok(()) => answer,
        Err(e) => Err(e.into()),
    }
}

/// The newest `limit` records of `table`'s latest stream, from the store's log.
fn latest_store_records(api: &Api, table: &str, limit: usize) -> Result<Value, ApiError> {
    let store = api.store();
    let table_ref = api.table_ref(table);
    let meta = store.table_meta(&table_ref).map_err(|_| {
        ApiError::resource_not_found(format!(
            "Requested resource not found: Table: {table} not found"
        ))
    })?;
    let Some(stream) = meta.latest_stream().cloned() else {
        return Ok(json!({"enabled": false, "records": []}));
    };
    let internal = |e: tarn_store::StoreError| ApiError::internal(e.to_string());
    let state = store
        .stream_state(&table_ref, stream.id)
        .map_err(internal)?;
    let mut records = Vec::new();
    if let (Some(first), Some(last)) = (state.first_seq, state.last_seq) {
        // Sequence numbers are shared by every table's streams, so the newest `limit` records
        // of this one lie somewhere below `last`: look back in growing windows.
        let floor = first.saturating_sub(1).max(state.trimmed_through);
        let mut span = (limit as u64) * 4;
        loop {
            let after = last.saturating_sub(span).max(floor);
            let read = store
                .read_stream(&table_ref, stream.id, after, usize::MAX, 16 << 20)
                .map_err(internal)?;
            records = read.records;
            if records.len() >= limit || after == floor || span > (1 << 40) {
                break;
            }
            span *= 8;
        }
    }
    let skip = records.len().saturating_sub(limit);
    let shown: Vec<Value> = records[skip..]
        .iter()
        .map(|r| api.stream_record_json(&stream, r))
        .collect();
    Ok(json!({
        "enabled": stream.is_enabled(),
        "view_type": stream.view_type.as_str(),
        "stream_arn": api.stream_arn(table, &stream),
        "records": shown,
    }))
}
