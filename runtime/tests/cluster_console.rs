//! End-to-end: what a cluster node (`tarn serve --engine URL`) shows of the engine's tables,
//! against each engine: an embedded tarn (`tarn serve` as the engine) and DynamoDB Local
//! (`scripts/dynamodb-local.sh`, Java 17).
//!
//! - the console: the tables list shows a table created directly in the engine, with the
//!   engine's item count; Scan and PutItem through the console reach the engine; a stream's
//!   newest records are read through the engine's Streams API; the session names the node;
//! - request metrics: a GetItem proxied by the node's DynamoDB port is counted under its table
//!   on `/metrics`;
//! - `tarn logs` names the node it reads;
//! - health: `GET /` and `/_tarn/health` are healthy while the engine answers, and degraded
//!   (503, with the reason on `GET /`) once it is stopped.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod cluster_common;
mod common;
mod functions_common;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use cluster_common::{Engine, KEY};
use functions_common::Server;
use serde_json::{json, Value};

/// One node over `engine`, named `node`, with no app.
async fn start_node(engine: &Engine, node: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let args = cluster_common::engine_args(engine, dir.path(), node);
    let extra: Vec<&str> = args.iter().map(String::as_str).collect();
    let addr = format!("127.0.0.1:{}", functions_common::free_port())
        .parse()
        .unwrap();
    Server::start_within(dir, None, &extra, addr, Duration::from_secs(300)).await
}

/// A signed-in console session on `node`: (cookie header, CSRF token).
async fn sign_in(node: &Server) -> (String, String) {
    let out = node.cli(&["console"]);
    assert!(out.status.success(), "{out:?}");
    let link = String::from_utf8(out.stdout).unwrap();
    let path = link
        .trim()
        .trim_start_matches(&node.admin_url())
        .to_string();
    let r = functions_common::request(node.admin_addr, "GET", &path, None, &[])
        .await
        .unwrap();
    let cookie = r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let session = console(node, &cookie, "GET", "session", None).await;
    (cookie, session["csrf"].as_str().unwrap().to_string())
}

/// A console API call: its JSON answer (asserting 200).
async fn console(
    node: &Server,
    cookie: &str,
    method: &str,
    path: &str,
    body: Option<(Value, &str)>,
) -> Value {
    let mut headers = vec![("cookie", cookie)];
    let payload = body.as_ref().map(|(b, _)| b.to_string());
    if let Some((_, csrf)) = &body {
        headers.push(("x-tarn-csrf", csrf));
        headers.push(("content-type", "application/json"));
    }
    let r = functions_common::request(
        node.admin_addr,
        method,
        &format!("/console/api/{path}"),
        payload,
        &headers,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{method} {path}: {}\n{}", r.body, node.log());
    r.json()
}

fn key_schema(name: &str) -> (AttributeDefinition, KeySchemaElement) {
    (
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap(),
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(KeyType::Hash)
            .build()
            .unwrap(),
    )
}

/// `GET /` on the node's DynamoDB port: status and body.
async fn dynamodb_health(node: &Server) -> (u16, String) {
    let r = functions_common::request(node.dynamodb, "GET", "/", None, &[])
        .await
        .unwrap();
    (r.status, r.body)
}

async fn node_over(mut engine: Engine) {
    // A table made directly in the engine, not through tarn, with a stream.
    let direct = engine.client();
    let (attr, key) = key_schema("k");
    direct
        .create_table()
        .table_name("made-in-engine")
        .attribute_definitions(attr)
        .key_schema(key)
        .billing_mode(BillingMode::PayPerRequest)
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
    for k in ["a", "b"] {
        direct
            .put_item()
            .table_name("made-in-engine")
            .item("k", AttributeValue::S(k.into()))
            .send()
            .await
            .unwrap();
    }
    let node = start_node(&engine, "node-x").await;

    // The console lists and describes the engine's table, with the engine's item count.
    let (cookie, csrf) = sign_in(&node).await;
    let session = console(&node, &cookie, "GET", "session", None).await;
    assert_eq!(session["node"], "node-x", "{session}");
    assert_eq!(session["engine"], engine.url(), "{session}");
    // Its region is the engine's, the only one.
    assert_eq!(session["region"], "us-east-1", "{session}");
    let regions = console(&node, &cookie, "GET", "regions", None).await;
    assert_eq!(
        regions,
        json!({"regions": ["us-east-1"], "default": "us-east-1"})
    );
    let elsewhere = functions_common::request(
        node.admin_addr,
        "GET",
        "/console/api/tables?region=eu-west-1",
        None,
        &[("cookie", cookie.as_str())],
    )
    .await
    .unwrap();
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    assert!(
        elsewhere.body.contains("the engine's, in us-east-1"),
        "{}",
        elsewhere.body
    );
    let tables = console(&node, &cookie, "GET", "tables", None).await;
    let row = tables["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "made-in-engine")
        .unwrap_or_else(|| panic!("the engine's table is not listed: {tables}"))
        .clone();
    assert_eq!(row["items"], 2, "{row}");
    assert_eq!(row["stream"], "NEW_IMAGE", "{row}");
    // Scan and PutItem through the console are the engine's.
    let scan = console(
        &node,
        &cookie,
        "POST",
        "dynamodb/Scan",
        Some((json!({"TableName": "made-in-engine"}), &csrf)),
    )
    .await;
    assert_eq!(scan["Count"], 2, "{scan}");
    console(
        &node,
        &cookie,
        "POST",
        "dynamodb/PutItem",
        Some((
            json!({"TableName": "made-in-engine", "Item": {"k": {"S": "from-console"}}}),
            &csrf,
        )),
    )
    .await;
    let got = direct
        .get_item()
        .table_name("made-in-engine")
        .key("k", AttributeValue::S("from-console".into()))
        .send()
        .await
        .unwrap();
    assert!(
        got.item().is_some(),
        "the console's write is not in the engine"
    );
    // The stream page reads the engine's Streams API: the three writes, newest last.
    let stream = console(
        &node,
        &cookie,
        "GET",
        "tables/made-in-engine/stream?limit=10",
        None,
    )
    .await;
    let keys: Vec<&str> = stream["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["dynamodb"]["Keys"]["k"]["S"].as_str())
        .collect();
    assert_eq!(keys, ["a", "b", "from-console"], "{stream}");
    assert_eq!(stream["enabled"], true);

    // A GetItem proxied by the node's DynamoDB port counts on /metrics under its table.
    let proxy = common::client_with_keys(&format!("http://{}", node.dynamodb), KEY, KEY);
    for _ in 0..3 {
        proxy
            .get_item()
            .table_name("made-in-engine")
            .key("k", AttributeValue::S("a".into()))
            .send()
            .await
            .unwrap();
    }
    let missing = proxy
        .get_item()
        .table_name("no-such-table")
        .key("k", AttributeValue::S("a".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::err_code(&missing), "ResourceNotFoundException");
    let metrics = node.admin("GET", "/metrics", None).await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    let line = r#"tarn_dynamodb_requests_total{operation="GetItem",table="made-in-engine"} 3"#;
    assert!(
        metrics.body.contains(line),
        "{line} missing:\n{}",
        metrics.body
    );
    // The console's write went through the API: counted too.
    assert!(
        metrics.body.contains(
            r#"tarn_dynamodb_requests_total{operation="PutItem",table="made-in-engine"} 1"#
        ),
        "{}",
        metrics.body
    );
    // Item counts are the engine's (read again at most every five seconds).
    let engine_count = |body: &str| {
        body.lines().any(|l| {
            l.starts_with("tarn_dynamodb_item_count{")
                && l.contains(r#"table="made-in-engine""#)
                && l.ends_with(" 3")
        })
    };
    let mut last = metrics.body;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !engine_count(&last) {
        assert!(
            Instant::now() < deadline,
            "the engine's item count is not on /metrics:\n{last}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        last = node.admin("GET", "/metrics", None).await.body;
    }

    // `tarn logs` says which node it reads.
    let logs = node.cli(&["logs", "--tail", "1"]);
    assert!(logs.status.success(), "{logs:?}");
    let said = String::from_utf8_lossy(&logs.stderr);
    assert!(said.contains("node node-x"), "{said}");

    // Health: healthy while the engine answers...
    let (status, body) = dynamodb_health(&node).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("healthy"), "{body}");
    let h = node.admin("GET", "/_tarn/health", None).await;
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(h.json()["node"], "node-x");
    // ...degraded, saying why, once it is stopped (the last answer is kept for two seconds).
    engine.stop();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = dynamodb_health(&node).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("degraded: tarn: the engine at"), "{body}");
    let h = node.admin("GET", "/_tarn/health", None).await;
    assert_eq!(h.status, 503, "{}", h.body);
    assert_eq!(h.json()["store"], "engine_unreachable", "{}", h.body);
    assert_eq!(h.json()["ok"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_over_an_embedded_tarn() {
    node_over(Engine::tarn()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_over_dynamodb_local() {
    node_over(Engine::dynamodb_local().await).await;
}
