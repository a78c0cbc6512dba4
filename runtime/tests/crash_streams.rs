//! Streams survive a crash exactly: writers update their own items concurrently on a table with
//! a stream; after N acknowledged writes the server is killed with SIGKILL, restarted, and the
//! stream is read from TRIM_HORIZON through the DynamoDB Streams API. For every item the stream
//! must hold its writes in order, each once, from the first up to at least the last one
//! acknowledged (a write in flight at the kill may be there too, never a gap), and end with the
//! value the item holds.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use common::{raw_post, unique_name, wait_active, TarnServer};
use serde_json::{json, Value};

const WRITERS: usize = 8;
const ACKED_BEFORE_KILL: usize = 600;

fn streams_call(server: &TarnServer, op: &str, body: Value) -> Value {
    let (status, bytes) = raw_post(
        server.addr,
        &format!("DynamoDBStreams_20120810.{op}"),
        body.to_string().as_bytes(),
    )
    .expect("streams request");
    let v: Value = serde_json::from_slice(&bytes).expect("JSON answer");
    assert_eq!(status, 200, "{op}: {v}");
    v
}

/// Every record of the table's latest stream, read shard by shard from TRIM_HORIZON in pages
/// of 100, in sequence-number order.
fn read_stream(server: &TarnServer, stream_arn: &str) -> Vec<Value> {
    let d = streams_call(server, "DescribeStream", json!({"StreamArn": stream_arn}));
    let mut out = Vec::new();
    for shard in d["StreamDescription"]["Shards"].as_array().unwrap() {
        let mut it = streams_call(
            server,
            "GetShardIterator",
            json!({"StreamArn": stream_arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
        )["ShardIterator"]
            .clone();
        loop {
            let page = streams_call(
                server,
                "GetRecords",
                json!({"ShardIterator": it, "Limit": 100}),
            );
            let records = page["Records"].as_array().unwrap();
            if records.is_empty() {
                break;
            }
            out.extend(records.iter().cloned());
            it = page["NextShardIterator"].clone();
        }
    }
    // Sequence numbers are zero-padded: they sort as strings.
    out.sort_by(|a, b| {
        a["dynamodb"]["SequenceNumber"]
            .as_str()
            .cmp(&b["dynamodb"]["SequenceNumber"].as_str())
    });
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_stream_holds_every_acknowledged_write_after_sigkill() {
    let tmp = tempfile::Builder::new()
        .prefix("tarn-crash-streams-")
        .tempdir()
        .unwrap();
    let data_dir = tmp.path().join("data");
    let mut server = TarnServer::start_on(&data_dir, "tarn-1.log");
    let table = unique_name("crash-streams");
    let c = server.client();
    c.create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let described = wait_active(&c, &table).await;
    let stream_arn = described
        .latest_stream_arn()
        .expect("stream ARN")
        .to_string();

    // Each writer puts its own item again and again with n = 0, 1, 2...
    let acked: Arc<Mutex<HashMap<usize, i64>>> = Arc::default();
    let attempted: Arc<Mutex<HashMap<usize, i64>>> = Arc::default();
    let total = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let c = server.client();
        let (table, acked, attempted, total, stop) = (
            table.clone(),
            acked.clone(),
            attempted.clone(),
            total.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for n in 0i64.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                attempted.lock().unwrap().insert(w, n);
                let r = c
                    .put_item()
                    .table_name(&table)
                    .item("pk", AttributeValue::S(format!("w{w}")))
                    .item("n", AttributeValue::N(n.to_string()))
                    .send()
                    .await;
                if r.is_err() {
                    break; // the server is gone
                }
                acked.lock().unwrap().insert(w, n);
                total.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Kill the server while the writers are still writing.
    common::kill_after_acks(
        &mut server,
        ACKED_BEFORE_KILL,
        || total.load(Ordering::Relaxed),
        &stop,
        tasks,
    )
    .await;
    let acked = acked.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();

    let server2 = TarnServer::start_on(&data_dir, "tarn-2.log");
    // raw_post blocks; a few short calls on a worker thread are fine in a test.
    let records = read_stream(&server2, &stream_arn);
    assert!(!records.is_empty());

    let mut per_key: HashMap<String, Vec<i64>> = HashMap::new();
    let mut last_seq = String::new();
    for r in &records {
        assert_eq!(r["eventSource"], "aws:dynamodb");
        let seq = r["dynamodb"]["SequenceNumber"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            seq > last_seq,
            "sequence numbers increase: {seq} after {last_seq}"
        );
        last_seq = seq;
        let pk = r["dynamodb"]["Keys"]["pk"]["S"]
            .as_str()
            .unwrap()
            .to_string();
        let n: i64 = r["dynamodb"]["NewImage"]["n"]["N"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        per_key.entry(pk).or_default().push(n);
    }
    let c = server2.client();
    for w in 0..WRITERS {
        let pk = format!("w{w}");
        let seen = per_key.remove(&pk).unwrap_or_default();
        let expected: Vec<i64> = (0..seen.len() as i64).collect();
        assert_eq!(seen, expected, "{pk}: the stream skips or repeats a write");
        let last = seen.last().copied().unwrap_or(-1);
        let acked_n = acked.get(&w).copied().unwrap_or(-1);
        let attempted_n = attempted.get(&w).copied().unwrap_or(-1);
        assert!(
            last >= acked_n,
            "{pk}: acknowledged write {acked_n} missing from the stream (last {last})"
        );
        assert!(last <= attempted_n, "{pk}: a write never attempted");
        let item = c
            .get_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(pk.clone()))
            .send()
            .await
            .unwrap()
            .item;
        let stored = item.map(|i| i["n"].as_n().unwrap().parse::<i64>().unwrap());
        assert_eq!(
            stored.unwrap_or(-1),
            last,
            "{pk}: the table and its stream disagree"
        );
    }
    assert!(per_key.is_empty(), "records for unknown keys: {per_key:?}");
}
