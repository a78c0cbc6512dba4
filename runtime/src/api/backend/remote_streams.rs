//! The remote side's stream reading ([`ShardReader`] over the remote engine, cluster mode), with the AWS SDK: the table's
//! `LatestStreamArn` from DescribeTable (`aws-sdk-dynamodb`), then DescribeStream (every page),
//! GetShardIterator and GetRecords (`aws-sdk-dynamodbstreams`), both clients made from the one
//! SDK config of [`RemoteEngine`].
//!
//! Each record is turned into the event record the embedded trigger hands to functions (the
//! Streams API's record in its JSON shape: `eventID`, `eventName`, `eventVersion`,
//! `eventSource`, `awsRegion`, `dynamodb` with `Keys`, `NewImage`, `OldImage` in DynamoDB JSON,
//! `SequenceNumber`, `SizeBytes`, `StreamViewType`, `ApproximateCreationDateTime` in epoch
//! seconds, and `userIdentity` as Lambda spells it), so handlers cannot tell the engines apart.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodbstreams::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::streams::{BoxFuture, ShardInfo, ShardRead, ShardReader};
use crate::engine::{source_chain, RemoteEngine};

/// The engine's Streams API.
#[derive(Clone)]
pub struct EngineShards(pub Arc<RemoteEngine>);

/// An SDK error as text, with the engine's exception name when it answered one (a caller
/// looks for `ExpiredIteratorException`).
fn sdk_error<E, R>(what: &str, e: SdkError<E, R>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug + 'static,
{
    match e.as_service_error() {
        Some(s) => format!(
            "{what}: {}: {}",
            s.code().unwrap_or("Unknown"),
            s.message().unwrap_or_default()
        ),
        None => format!("{what}: {e}: {}", source_chain(&e)),
    }
}

impl ShardReader for EngineShards {
    fn stream_arn<'a>(&'a self, table: &'a str) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            let d = self
                .0
                .client()
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTable", e))?;
            let Some(t) = d.table() else {
                return Ok(None);
            };
            let enabled = t.stream_specification().is_none_or(|s| s.stream_enabled());
            Ok(t.latest_stream_arn()
                .filter(|_| enabled)
                .map(str::to_string))
        })
    }

    fn shards<'a>(&'a self, stream_arn: &'a str) -> BoxFuture<'a, Result<Vec<ShardInfo>, String>> {
        Box::pin(async move {
            let mut out: Vec<ShardInfo> = Vec::new();
            let mut start: Option<String> = None;
            loop {
                let d = self
                    .0
                    .streams()
                    .describe_stream()
                    .stream_arn(stream_arn)
                    .set_exclusive_start_shard_id(start.clone())
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeStream", e))?;
                let Some(desc) = d.stream_description() else {
                    return Ok(out);
                };
                for s in desc.shards() {
                    let Some(id) = s.shard_id() else { continue };
                    out.push(ShardInfo {
                        id: id.to_string(),
                        parents: s
                            .parent_shard_id()
                            .map(|p| vec![p.to_string()])
                            .unwrap_or_default(),
                        closed: s
                            .sequence_number_range()
                            .and_then(|r| r.ending_sequence_number())
                            .is_some(),
                    });
                }
                match desc.last_evaluated_shard_id() {
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
            let kind = match after {
                Some(_) => ShardIteratorType::AfterSequenceNumber,
                None if trim_horizon => ShardIteratorType::TrimHorizon,
                None => ShardIteratorType::Latest,
            };
            let r = self
                .0
                .streams()
                .get_shard_iterator()
                .stream_arn(stream_arn)
                .shard_id(shard)
                .shard_iterator_type(kind)
                .set_sequence_number(after.map(str::to_string))
                .send()
                .await
                .map_err(|e| sdk_error("GetShardIterator", e))?;
            r.shard_iterator()
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
            let r = self
                .0
                .streams()
                .get_records()
                .shard_iterator(iterator)
                .limit(limit.clamp(1, 1000) as i32)
                .send()
                .await
                .map_err(|e| sdk_error("GetRecords", e))?;
            Ok(ShardRead {
                records: r.records().iter().map(record_json).collect(),
                next: r.next_shard_iterator().map(str::to_string),
            })
        })
    }
}

/// A record as the Streams API's JSON writes it, with `userIdentity` as Lambda spells it.
fn record_json(r: &Record) -> Value {
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            out.insert(k.to_string(), json!(v));
        }
    };
    put("eventID", r.event_id());
    put("eventName", r.event_name().map(|n| n.as_str()));
    put("eventVersion", r.event_version());
    put("eventSource", r.event_source());
    put("awsRegion", r.aws_region());
    if let Some(d) = r.dynamodb() {
        let mut m = Map::new();
        if let Some(t) = d.approximate_creation_date_time() {
            m.insert("ApproximateCreationDateTime".into(), json!(t.secs()));
        }
        for (name, image) in [
            ("Keys", d.keys()),
            ("NewImage", d.new_image()),
            ("OldImage", d.old_image()),
        ] {
            if let Some(image) = image {
                m.insert(name.into(), item_json(image));
            }
        }
        if let Some(s) = d.sequence_number() {
            m.insert("SequenceNumber".into(), json!(s));
        }
        if let Some(n) = d.size_bytes() {
            m.insert("SizeBytes".into(), json!(n));
        }
        if let Some(v) = d.stream_view_type() {
            m.insert("StreamViewType".into(), json!(v.as_str()));
        }
        out.insert("dynamodb".into(), Value::Object(m));
    }
    if let Some(u) = r.user_identity() {
        out.insert(
            "userIdentity".into(),
            json!({"type": u.r#type(), "principalId": u.principal_id()}),
        );
    }
    Value::Object(out)
}

/// An item in DynamoDB JSON.
fn item_json(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), value_json(v)))
            .collect(),
    )
}

/// One attribute value in DynamoDB JSON (binary in base64).
fn value_json(v: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match v {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": b64(b)}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(n) => json!({"NULL": n}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => json!({"BS": v.iter().map(b64).collect::<Vec<_>>()}),
        AttributeValue::L(l) => json!({"L": l.iter().map(value_json).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": item_json(m)}),
        _ => json!({"NULL": true}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::primitives::{Blob, DateTime};
    use aws_sdk_dynamodbstreams::types::{Identity, OperationType, StreamRecord, StreamViewType};

    #[test]
    fn an_sdk_record_renders_as_the_streams_api_writes_it() {
        let keys = HashMap::from([("id".to_string(), AttributeValue::S("a".into()))]);
        let image = HashMap::from([
            ("id".to_string(), AttributeValue::S("a".into())),
            ("n".to_string(), AttributeValue::N("1.5".into())),
            (
                "b".to_string(),
                AttributeValue::B(Blob::new(b"hi".to_vec())),
            ),
            (
                "l".to_string(),
                AttributeValue::L(vec![AttributeValue::Bool(true), AttributeValue::Null(true)]),
            ),
            (
                "m".to_string(),
                AttributeValue::M(HashMap::from([(
                    "ss".to_string(),
                    AttributeValue::Ss(vec!["x".into()]),
                )])),
            ),
        ]);
        let r = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Modify)
            .event_version("1.1")
            .event_source("aws:dynamodb")
            .aws_region("us-east-1")
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(DateTime::from_secs(1_700_000_000))
                    .set_keys(Some(keys))
                    .set_new_image(Some(image))
                    .sequence_number("000000000000000000042")
                    .size_bytes(40)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build(),
            )
            .user_identity(
                Identity::builder()
                    .r#type("Service")
                    .principal_id("dynamodb.amazonaws.com")
                    .build(),
            )
            .build();
        let v = record_json(&r);
        assert_eq!(v["eventID"], "e1");
        assert_eq!(v["eventName"], "MODIFY");
        assert_eq!(v["awsRegion"], "us-east-1");
        let d = &v["dynamodb"];
        assert_eq!(d["ApproximateCreationDateTime"], 1_700_000_000);
        assert_eq!(d["Keys"], json!({"id": {"S": "a"}}));
        assert_eq!(d["NewImage"]["n"], json!({"N": "1.5"}));
        assert_eq!(d["NewImage"]["b"], json!({"B": "aGk="}));
        assert_eq!(
            d["NewImage"]["l"],
            json!({"L": [{"BOOL": true}, {"NULL": true}]})
        );
        assert_eq!(d["NewImage"]["m"], json!({"M": {"ss": {"SS": ["x"]}}}));
        assert!(d.get("OldImage").is_none());
        assert_eq!(d["SequenceNumber"], "000000000000000000042");
        assert_eq!(d["StreamViewType"], "NEW_AND_OLD_IMAGES");
        assert_eq!(
            v["userIdentity"],
            json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
        );
        // The embedded engine's records decode the same way (the one codec).
        tarn_wire::decode_item(&d["NewImage"]).unwrap();
    }
}
