//! End-to-end: cluster mode. Three `tarn serve --engine URL` nodes on loopback, started with
//! the same `--app`, over one engine; run against each engine: an embedded tarn
//! (`tarn serve` as the engine) and DynamoDB Local (`scripts/dynamodb-local.sh`, Java 17).
//!
//! - one version: three nodes started with the same app make one version in the engine;
//! - routes: a todo written through one node is read through the others, and through each
//!   node's DynamoDB port (the proxy) and the engine itself;
//! - schedules: a schedule firing every second runs each tick on exactly one node for ten
//!   seconds (counted in the three nodes' function logs; the reports land in the engine);
//! - deployments: a `tarn deploy` to node A is served by B and C within 5 s; a `tarn rollback`
//!   on B likewise by A and C.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod cluster_common;
mod common;
mod functions_common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use cluster_common::{start_nodes, within, Engine, KEY};
use functions_common::{guest, Server};

/// The app; `version` names the route `hello` answers on (`/v1`, `/v2`), so which version a
/// node serves shows from outside.
fn manifest(version: &str) -> String {
    format!(
        r#"
[[function]]
name = "todo-api"
source = "{todo}"
tables = {{ todos = "read-write" }}

[[function]]
name = "hello"
source = "{hello}"

[[function]]
name = "nightly-report"
source = "{report}"
timeout_ms = 10000
tables = {{ order-totals = "read", order-reports = "read-write" }}

[[route]]
path = "/todos"
function = "todo-api"

[[route]]
path = "/todos/:id"
function = "todo-api"

[[route]]
method = "GET"
path = "/{version}"
function = "hello"

[[schedule]]
cron = "* * * * * *"
function = "nightly-report"

[[table]]
name = "todos"
hash_key = "id:S"

[[table]]
name = "order-totals"
hash_key = "customer:S"

[[table]]
name = "order-reports"
hash_key = "at:S"
"#,
        todo = guest("todo-api").display(),
        hello = guest("hello").display(),
        report = guest("nightly-report").display(),
    )
}

/// Whether `node` serves app version `version` (`v1`, `v2`): its route answers, the other's
/// does not.
async fn serves(node: &Server, version: &str) -> bool {
    let other = if version == "v1" { "v2" } else { "v1" };
    node.get(&format!("/{version}")).await.status == 200
        && node.get(&format!("/{other}")).await.status == 404
}

/// Every `report at <tick>` line in a node's function logs.
async fn report_ticks(node: &Server) -> Vec<String> {
    let r = node
        .admin(
            "GET",
            "/_tarn/logs?function=nightly-report&tail=10000",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            let text = v.to_string();
            let at = text.split("report at ").nth(1)?;
            Some(at.split(':').take(3).collect::<Vec<_>>().join(":"))
        })
        .collect()
}

async fn cluster_scenarios(engine: Engine) {
    let app_dir = tempfile::tempdir().unwrap();
    std::fs::write(app_dir.path().join("tarn.toml"), manifest("v1")).unwrap();
    let nodes = start_nodes(&engine, app_dir.path(), 3, &[]).await;
    let logs = || {
        nodes
            .iter()
            .map(|n| n.log())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };

    // One version for three nodes started with the same app, active on every node.
    let v = nodes[0].admin("GET", "/_tarn/versions", None).await.json();
    assert_eq!(
        v["versions"].as_array().unwrap().len(),
        1,
        "{v}\n{}",
        logs()
    );
    assert_eq!(v["current"], 1, "{v}");
    for n in &nodes {
        assert!(
            within(Duration::from_secs(5), || async { serves(n, "v1").await })
                .await
                .is_some(),
            "a node does not serve version 1\n{}",
            logs()
        );
    }

    // Routes: a todo written through node A is seen through B and C.
    let r = functions_common::request(
        nodes[0].addr,
        "POST",
        "/todos",
        Some(r#"{"title": "shared"}"#.into()),
        &[("content-type", "application/json")],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 201, "{}\n{}", r.body, logs());
    let id = r.json()["id"].as_str().unwrap().to_string();
    for n in &nodes[1..] {
        let got = n.get(&format!("/todos/{id}")).await;
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.json()["title"], "shared");
    }
    // ...and through each node's DynamoDB port (the proxy), and in the engine itself.
    for n in &nodes {
        let client = common::client_with_keys(&format!("http://{}", n.dynamodb), KEY, KEY);
        let item = client
            .get_item()
            .table_name("todos")
            .key("id", AttributeValue::S(id.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            item.item().unwrap()["title"],
            AttributeValue::S("shared".into())
        );
    }
    let engine_item = engine
        .client()
        .get_item()
        .table_name("todos")
        .key("id", AttributeValue::S(id.clone()))
        .send()
        .await
        .unwrap();
    assert!(engine_item.item().is_some());
    // A todo written through node C's DynamoDB port is served by node A's route.
    let c = common::client_with_keys(&format!("http://{}", nodes[2].dynamodb), KEY, KEY);
    c.put_item()
        .table_name("todos")
        .item("id", AttributeValue::S("from-c".into()))
        .item("title", AttributeValue::S("via proxy".into()))
        .item("done", AttributeValue::Bool(false))
        .item("version", AttributeValue::N("1".into()))
        .item("created_at", AttributeValue::N("1".into()))
        .item("updated_at", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let got = nodes[0].get("/todos/from-c").await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.json()["title"], "via proxy");
    // The engine's errors come back as they are.
    let missing = c
        .get_item()
        .table_name("no-such-table")
        .key("id", AttributeValue::S("x".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::err_code(&missing), "ResourceNotFoundException");

    // Schedules: every second, each tick on exactly one node.
    let start = chrono::Utc::now() + chrono::Duration::seconds(1);
    tokio::time::sleep(Duration::from_secs(12)).await;
    let end = start + chrono::Duration::seconds(10);
    let mut runs: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_node = Vec::new();
    for n in &nodes {
        let ticks = report_ticks(n).await;
        per_node.push(ticks.len());
        for t in ticks {
            *runs.entry(t).or_default() += 1;
        }
    }
    let window: Vec<(String, usize)> = (0..10)
        .map(|i| {
            let tick = (start + chrono::Duration::seconds(i))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let count = runs.get(&tick).copied().unwrap_or(0);
            (tick, count)
        })
        .collect();
    assert!(
        window.iter().all(|(_, c)| *c == 1),
        "each tick must run exactly once across the nodes: {window:?} (all runs: {runs:?}, per node: {per_node:?})\n{}",
        logs()
    );
    assert!(runs.values().all(|c| *c == 1), "a tick ran twice: {runs:?}");
    assert!(end > start);
    // The reports are in the engine.
    let reports = engine
        .client()
        .get_item()
        .table_name("order-reports")
        .key("at", AttributeValue::S(window[5].0.clone()))
        .send()
        .await
        .unwrap();
    assert!(reports.item().is_some(), "no report for {}", window[5].0);

    // Deployments: `tarn deploy` to node A, served by B and C within 5 s.
    std::fs::write(app_dir.path().join("tarn.toml"), manifest("v2")).unwrap();
    let app = app_dir.path().join("tarn.toml");
    let out = nodes[0].cli(&["deploy", "--app", app.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "deploy failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(serves(&nodes[0], "v2").await);
    for n in &nodes[1..] {
        let took = within(Duration::from_secs(5), || async { serves(n, "v2").await }).await;
        assert!(
            took.is_some(),
            "a node did not serve the deploy within 5 s\n{}",
            logs()
        );
    }
    let v = nodes[2].admin("GET", "/_tarn/versions", None).await.json();
    assert_eq!(v["versions"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["current"], 2, "{v}");

    // `tarn rollback` on node B: A and C serve version 1 again within 5 s.
    let out = nodes[1].cli(&["rollback"]);
    assert!(
        out.status.success(),
        "rollback failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(serves(&nodes[1], "v1").await);
    for n in [&nodes[0], &nodes[2]] {
        let took = within(Duration::from_secs(5), || async { serves(n, "v1").await }).await;
        assert!(
            took.is_some(),
            "a node did not follow the rollback within 5 s\n{}",
            logs()
        );
    }
    let v = nodes[0].admin("GET", "/_tarn/versions", None).await.json();
    assert_eq!(v["current"], 1, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_over_an_embedded_tarn() {
    cluster_scenarios(Engine::tarn()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_over_dynamodb_local() {
    cluster_scenarios(Engine::dynamodb_local().await).await;
}

/// The proxy checks tarn's own signature first, then signs with the engine's keys: a client
/// signing with a node key reaches an engine that knows only its own key, and a client signing
/// with the engine's key is refused by the node, which does not know it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_checks_then_resigns() {
    let engine = common::TarnServer::start_with(
        &[],
        &[
            ("TARN_ACCESS_KEY_ID", "ENGINEKEY"),
            ("TARN_SECRET_ACCESS_KEY", "engine-secret"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let node_keys = dir.path().join("node-keys");
    std::fs::write(&node_keys, "NODEKEY:node-secret\n").unwrap();
    let engine_keys = dir.path().join("engine-credentials");
    std::fs::write(
        &engine_keys,
        "[default]\naws_access_key_id = ENGINEKEY\naws_secret_access_key = engine-secret\n",
    )
    .unwrap();
    let url = engine.endpoint();
    let extra = [
        "--engine",
        url.as_str(),
        "--engine-region",
        "us-east-1",
        "--engine-credentials-file",
        engine_keys.to_str().unwrap(),
        "--credentials-file",
        node_keys.to_str().unwrap(),
    ];
    let node = Server::start_in(tempfile::tempdir().unwrap(), None, &extra).await;
    let proxy = format!("http://{}", node.dynamodb);

    let client = common::client_with_keys(&proxy, "NODEKEY", "node-secret");
    client
        .create_table()
        .table_name("signed")
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("k")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("k")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", node.log()));
    // The table is in the engine, seen with the engine's own key.
    let direct = common::client_with_keys(&url, "ENGINEKEY", "engine-secret");
    let tables = direct.list_tables().send().await.unwrap();
    assert!(tables.table_names().contains(&"signed".to_string()));

    // The engine's key means nothing to the node, nor a wrong secret.
    for (key, secret) in [("ENGINEKEY", "engine-secret"), ("NODEKEY", "wrong")] {
        let refused = common::client_with_keys(&proxy, key, secret)
            .list_tables()
            .send()
            .await
            .unwrap_err();
        let code = common::err_code(&refused);
        assert!(
            code == "UnrecognizedClientException" || code == "InvalidSignatureException",
            "{key}: {code}"
        );
    }
}
