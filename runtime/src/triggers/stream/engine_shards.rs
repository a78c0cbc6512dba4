//! [`ShardReader`] over the remote engine (cluster mode): DescribeTable for the stream's ARN,
//! DescribeStream (every page) for its shards, GetShardIterator and GetRecords, each sent
//! through the engine's signed path ([`RemoteEngine::call`]). The records come back in the
//! engine's own JSON, so the handler gets exactly what the engine's Streams API answers
//! (DynamoDB JSON images, `SequenceNumber`, `eventName`, `eventID`...).

use std::sync::Arc;

use serde_json::{json, Value};

use super::shard::{BoxFuture, ShardInfo, ShardRead, ShardReader};
use crate::engine::RemoteEngine;

/// The engine's Streams API.
pub struct EngineShards(pub Arc<RemoteEngine>);

impl EngineShards {
    async fn call(&self, op: &str, body: Value) -> Result<Value, String> {
        self.0
            .call(op, &body)
            .await
            .map_err(|e| format!("{op}: {}: {}", e.kind(), e.message()))
    }
}

impl ShardReader for EngineShards {
    fn stream_arn<'a>(&'a self, table: &'a str) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            let d = self
                .call("DescribeTable", json!({"TableName": table}))
                .await?;
            let t = &d["Table"];
            let enabled = t["StreamSpecification"]["StreamEnabled"]
                .as_bool()
                .unwrap_or(true);
            Ok(t["LatestStreamArn"]
                .as_str()
                .filter(|_| enabled)
                .map(str::to_string))
        })
    }

    fn shards<'a>(&'a self, stream_arn: &'a str) -> BoxFuture<'a, Result<Vec<ShardInfo>, String>> {
        Box::pin(async move {
            let mut out: Vec<ShardInfo> = Vec::new();
            let mut start: Option<String> = None;
            loop {
                let mut body = json!({"StreamArn": stream_arn});
                if let Some(s) = &start {
                    body["ExclusiveStartShardId"] = json!(s);
                }
                let d = self.call("Streams.DescribeStream", body).await?;
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
        stream_arn: &'a str,
        shard: &'a str,
        after: Option<&'a str>,
        trim_horizon: bool,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let mut body = json!({"StreamArn": stream_arn, "ShardId": shard});
            match after {
                Some(seq) => {
                    body["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
                    body["SequenceNumber"] = json!(seq);
                }
                None if trim_horizon => body["ShardIteratorType"] = json!("TRIM_HORIZON"),
                None => body["ShardIteratorType"] = json!("LATEST"),
            }
            let d = self.call("Streams.GetShardIterator", body).await?;
            d["ShardIterator"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("GetShardIterator of {shard} answered no iterator"))
        })
    }

    fn read<'a>(
        &'a self,
        iterator: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<ShardRead, String>> {
        Box::pin(async move {
            let d = self
                .call(
                    "Streams.GetRecords",
                    json!({"ShardIterator": iterator, "Limit": limit.clamp(1, 1000)}),
                )
                .await?;
            let records = match d.get("Records") {
                Some(Value::Array(r)) => r.clone(),
                _ => Vec::new(),
            };
            Ok(ShardRead {
                records,
                next: d["NextShardIterator"].as_str().map(str::to_string),
            })
        })
    }
}
