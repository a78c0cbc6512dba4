//! The seam between the runtime and the tables: [`Tables`], over the embedded store or over the
//! remote engine, so that what reads tables on the side of a request (the console's pages, the
//! health checks, the metrics' item counts) does not care where they live.
//!
//! Both sides speak DynamoDB JSON: an operation is run by name with its JSON body
//! ([`Tables::call`]), which [`Api::call`] runs on the store or forwards to the engine. What no
//! single operation answers has a method of its own, done on each side the way that side can:
//!
//! - [`Tables::health`]: the store's health, or whether the engine answers (a cheap call,
//!   cached for [`crate::engine::probe::HEALTH_TTL`], so that a load balancer's probes do not become engine traffic);
//! - [`Tables::sizes`]: every table's item count and size: the store's figures, or the engine's
//!   `DescribeTable`;
//! - [`Tables::regions`]: the regions that have tables (the engine's tables are in its region);
//! - [`Tables::latest_stream_records`]: a stream's newest records, read from the store's log, or
//!   through the engine's Streams API (every shard from its trim horizon).

use std::sync::Arc;

use serde_json::{json, Value};
use tarn_wire::ApiError;

use crate::api::Api;
use crate::engine::RemoteEngine;

/// Most `GetRecords` pages read per shard for the console's newest records.
const MAX_PAGES_PER_SHARD: usize = 64;

/// Where the tables live, and how to reach them. Cheap to clone.
#[derive(Clone)]
pub enum Tables {
    /// The embedded store behind the API.
    Embedded(Api),
    /// The remote engine (`tarn serve --engine`); the API forwards every operation to it.
    Remote {
        /// The API, in engine mode.
        api: Api,
        /// The engine.
        engine: Arc<RemoteEngine>,
    },
}

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

impl Tables {
    /// The tables `api` reaches: the engine's in engine mode, the store's otherwise.
    pub fn of(api: &Api) -> Tables {
        match api.engine() {
            Some(engine) => Tables::Remote {
                engine: engine.clone(),
                api: api.clone(),
            },
            None => Tables::Embedded(api.clone()),
        }
    }

    /// The API (the metrics, the region...).
    pub fn api(&self) -> &Api {
        match self {
            Tables::Embedded(api) | Tables::Remote { api, .. } => api,
        }
    }

    /// The engine, in engine mode.
    pub fn engine(&self) -> Option<&Arc<RemoteEngine>> {
        match self {
            Tables::Embedded(_) => None,
            Tables::Remote { engine, .. } => Some(engine),
        }
    }

    /// Runs DynamoDB `operation` on `body`: DynamoDB's answer or error, wherever the tables are.
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, ApiError> {
        self.api().call(operation, body).await
    }

    /// The tables' health now (the engine's: cached for [`crate::engine::probe::HEALTH_TTL`]).
    pub async fn health(&self) -> Health {
        match self {
            Tables::Embedded(api) => match api.store().health() {
                tarn_store::Health::Healthy => Health::Healthy,
                h @ tarn_store::Health::DiskFull { .. } => Health::DiskFull(h.to_string()),
                h @ tarn_store::Health::Failed { .. } => Health::Failed(h.to_string()),
            },
            Tables::Remote { engine, .. } => match engine.reachable().await {
                Ok(()) => Health::Healthy,
                Err(why) => Health::EngineUnreachable(why),
            },
        }
    }

    /// Every table name in this API's region, in name order.
    pub async fn table_names(&self) -> Result<Vec<String>, ApiError> {
        crate::engine::probe::all_table_names(|req| self.call("ListTables", req)).await
    }

    /// Every table and index with its size: (table, index or `""`, items, bytes). The
    /// store's figures, read off the async executor; or each table's `DescribeTable` in the
    /// engine (whose counts are the engine's: AWS refreshes them about every six hours).
    pub async fn sizes(&self) -> Vec<(String, String, u64, u64)> {
        match self {
            Tables::Embedded(api) => {
                let store = api.store().clone();
                tokio::task::spawn_blocking(move || crate::metrics::store_sizes(&store))
                    .await
                    .unwrap_or_default()
            }
            Tables::Remote { engine, .. } => engine.table_sizes().await.unwrap_or_default(),
        }
    }

    /// The regions that have tables, and `default` (listed even without tables), in name
    /// order; on the engine, only its region (the one the node signs for), whose tables are
    /// all the node sees.
    pub fn regions(&self, default: &str) -> Vec<String> {
        match self {
            Tables::Embedded(api) => {
                let mut regions = std::collections::BTreeSet::from([default.to_string()]);
                let (tables, _) = api.store().list_tables(None, usize::MAX);
                regions.extend(
                    tables
                        .iter()
                        .map(|t| tarn_store::schema::split_table_ref(t).0.to_string()),
                );
                regions.into_iter().collect()
            }
            Tables::Remote { engine, .. } => vec![engine.region().to_string()],
        }
    }

    /// The stream of `table`: `{"enabled", "view_type", "stream_arn", "records"}` with its
    /// newest `limit` records, newest last, in the shape GetRecords answers (`{"enabled":
    /// false, "records": []}` without a stream).
    pub async fn latest_stream_records(
        &self,
        table: &str,
        limit: usize,
    ) -> Result<Value, ApiError> {
        match self {
            Tables::Embedded(api) => {
                let api = api.clone();
                let table = table.to_string();
                tokio::task::spawn_blocking(move || latest_store_records(&api, &table, limit))
                    .await
                    .map_err(|_| ApiError::internal("reading the stream failed"))?
            }
            Tables::Remote { .. } => self.latest_engine_records(table, limit).await,
        }
    }

    /// [`Tables::latest_stream_records`] through the engine's Streams API: every shard of the
    /// table's latest stream read from its trim horizon (at most [`MAX_PAGES_PER_SHARD`] pages
    /// each), the newest `limit` records kept.
    async fn latest_engine_records(&self, table: &str, limit: usize) -> Result<Value, ApiError> {
        let described = self
            .call("DescribeTable", json!({"TableName": table}))
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
            let d = self.call("Streams.DescribeStream", req).await?;
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
                    "Streams.GetShardIterator",
                    json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
                )
                .await?;
            let mut iterator = it["ShardIterator"].as_str().map(str::to_owned);
            for _ in 0..MAX_PAGES_PER_SHARD {
                let Some(i) = iterator.take() else { break };
                let page = self
                    .call("Streams.GetRecords", json!({"ShardIterator": i}))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_embedded_side_answers_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let api = Api::new(Arc::new(tarn_store::Store::open(dir.path()).unwrap()));
        let tables = Tables::of(&api);
        assert!(tables.engine().is_none());
        assert_eq!(tables.health().await, Health::Healthy);
        tables
            .call(
                "CreateTable",
                json!({
                    "TableName": "music",
                    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                }),
            )
            .await
            .unwrap();
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
    }
}
