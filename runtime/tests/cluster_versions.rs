//! End-to-end: a version claim left behind by a dead node is taken over. Node A starts with an
//! app over an engine (an embedded tarn, and DynamoDB Local), claims the making of its version
//! and dies on the spot (the failpoint `tarn::cluster::versions::after_claim` exits as a
//! `kill -9` would, before anything else is written). Node B, started with the same app, finds
//! the claim, waits out the takeover timeout (`--version-claim-timeout 2`), takes the claim
//! over with a conditional write and makes the version: one version, made by B, served by B.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod cluster_common;
mod common;
mod functions_common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use cluster_common::Engine;
use functions_common::{guest, Server};

const MANIFEST_ROUTE: &str = "/hello";

fn manifest() -> String {
    format!(
        r#"
[[function]]
name = "hello"
source = "{hello}"

[[route]]
method = "GET"
path = "{MANIFEST_ROUTE}"
function = "hello"
"#,
        hello = guest("hello").display(),
    )
}

/// A node's `--engine*` arguments, with a 2 s version-claim timeout.
fn engine_args(engine: &Engine, dir: &std::path::Path, node: &str) -> Vec<String> {
    let mut args = cluster_common::engine_args(engine, dir, node);
    args.extend(["--version-claim-timeout".to_string(), "2".to_string()]);
    args
}

/// The claim items in the versions table.
async fn claims(engine: &Engine) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    engine
        .client()
        .query()
        .table_name("tarn-versions")
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("claims".into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
}

async fn takeover(engine: Engine) {
    let app_dir = tempfile::tempdir().unwrap();
    let app = app_dir.path().join("tarn.toml");
    std::fs::write(&app, manifest()).unwrap();

    // Node A claims the version and dies right after, as after a kill -9.
    let a_dir = tempfile::tempdir().unwrap();
    let a_log = a_dir.path().join("server.log");
    let port = |_| functions_common::free_port().to_string();
    let mut a = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .current_dir(a_dir.path())
        .arg("serve")
        .args(["--functions-listen", &format!("127.0.0.1:{}", port(0))])
        .args(["--admin-listen", &format!("127.0.0.1:{}", port(1))])
        .args(["--listen", &format!("127.0.0.1:{}", port(2))])
        .args([
            "--data-dir",
            "data",
            "--admin-token",
            functions_common::TOKEN,
        ])
        .args(engine_args(&engine, a_dir.path(), "node-a"))
        .args(["--app", app.to_str().unwrap()])
        .env("FAILPOINTS", "tarn::cluster::versions::after_claim=return")
        .env("RUST_LOG", "info,cranelift=warn,wasmtime=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&a_log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(s) = a.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "node A did not die after claiming"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let a_said = std::fs::read_to_string(&a_log).unwrap_or_default();
    assert_eq!(status.code(), Some(137), "{a_said}");
    // It left its claim, and no version.
    let left = claims(&engine).await;
    assert_eq!(left.len(), 1, "{left:?}\n{a_said}");
    assert_eq!(left[0]["node"], AttributeValue::S("node-a".into()));
    assert!(!left[0].contains_key("version"), "{left:?}");

    // Node B, with the same app, takes the claim over after the timeout and makes the version.
    let b_dir = tempfile::tempdir().unwrap();
    let b_args = engine_args(&engine, b_dir.path(), "node-b");
    let mut extra: Vec<&str> = b_args.iter().map(String::as_str).collect();
    extra.extend(["--app", app.to_str().unwrap()]);
    let addr = format!("127.0.0.1:{}", functions_common::free_port())
        .parse()
        .unwrap();
    let started = Instant::now();
    let b = Server::start_within(b_dir, None, &extra, addr, Duration::from_secs(300)).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "B did not wait for the claim's timeout ({took:?})\n{}",
        b.log()
    );
    let v = b.admin("GET", "/_tarn/versions", None).await.json();
    let versions = v["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1, "{v}\n{}", b.log());
    assert_eq!(v["current"], 1, "{v}");
    assert_eq!(b.get(MANIFEST_ROUTE).await.status, 200, "{}", b.log());
    assert!(b.log().contains("took over the claim"), "{}", b.log());
    let now = claims(&engine).await;
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(now[0]["node"], AttributeValue::S("node-b".into()));
    assert_eq!(now[0]["version"], AttributeValue::N("1".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_version_claim_is_taken_over_on_an_embedded_tarn() {
    takeover(Engine::tarn()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_version_claim_is_taken_over_on_dynamodb_local() {
    takeover(Engine::dynamodb_local().await).await;
}
