//! End-to-end: per-function limits beyond memory and time. A function at its `max_concurrency`
//! answers 429 `TooManyRequestsException` to further requests (others are unaffected), and a
//! guest writing megabytes of logs keeps running while the host keeps only its allowance.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use std::sync::Arc;
use std::time::Duration;

use functions_common::{guest, Reply, Server};

/// `capped` serves POSTs, `free` everything else (the same guest, routed by method).
async fn post(server: &Server, path: &str) -> Reply {
    functions_common::request(server.addr, "POST", path, None, &[])
        .await
        .unwrap()
}

fn manifest() -> String {
    format!(
        r#"
[[function]]
name = "capped"
source = "{misbehave}"
timeout_ms = 1500
max_concurrency = 2

[[function]]
name = "free"
source = "{misbehave}"
# Room for the log flood on a loaded machine: the test is about what is kept, not speed.
timeout_ms = 20000

[[route]]
method = "POST"
path = "/*"
function = "capped"

[[route]]
path = "/*"
function = "free"
"#,
        misbehave = guest("misbehave").display(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_limits_throttle_and_logs_are_capped() {
    let server = Arc::new(Server::start(&manifest()).await);

    // Two loops take both of `capped`'s slots until their timeout.
    let loops: Vec<_> = (0..2)
        .map(|_| {
            let s = server.clone();
            tokio::spawn(async move { post(&s, "/loop").await.status })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let throttled = post(&server, "/ok").await;
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert_eq!(throttled.json()["error"], "TooManyRequestsException");
    assert_eq!(throttled.headers["retry-after"], "1");
    // Another function is not affected.
    assert_eq!(server.get("/ok").await.status, 200);
    for l in loops {
        assert_eq!(l.await.unwrap(), 504);
    }
    // Slots are given back.
    assert_eq!(post(&server, "/ok").await.status, 200);

    let list = server.admin("GET", "/_tarn/functions", None).await.json();
    let capped = list["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "capped")
        .unwrap()
        .clone();
    assert!(
        capped["metrics"]["throttles"].as_u64().unwrap() >= 1,
        "{capped}"
    );
    assert_eq!(capped["max_concurrency"], 2);

    // A flood of logs: the invocation succeeds, the host keeps about 1 MiB of it.
    let spam = server.get("/spam").await;
    assert_eq!(spam.status, 200, "{}", spam.body);
    let request_id = spam.headers["x-tarn-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let logs = server
        .admin("GET", "/_tarn/logs?tail=100000&function=free", None)
        .await;
    let lines: Vec<serde_json::Value> = logs
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &serde_json::Value| l["request_id"] == request_id.as_str())
        .collect();
    let guest_bytes: usize = lines
        .iter()
        .filter(|l| l["stream"] != "host")
        .map(|l| l["message"].as_str().unwrap().len())
        .sum();
    assert!(guest_bytes > 0, "some of the output is kept");
    assert!(
        guest_bytes <= 1 << 20,
        "{guest_bytes} bytes of guest logs kept for one invocation"
    );
    assert!(
        lines.iter().any(|l| l["stream"] == "host"
            && l["message"]
                .as_str()
                .unwrap()
                .contains("further lines are dropped")),
        "no note that lines were dropped"
    );
    // The server still serves.
    assert_eq!(server.get("/ok").await.status, 200);
}
