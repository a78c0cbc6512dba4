//! End-to-end: instance reuse (`reuse = N` in a `[[function]]`).
//!
//! The `misbehave` guest's `/count` adds one to a global and answers it: 1 on a fresh instance,
//! more on a reused one. With `reuse = 4` and one request at a time, the counter grows 1..4 and
//! starts over; a trap (or a timeout, or running out of memory) drops the instance at once, so
//! the next request counts from 1 again and succeeds. Without `reuse` every answer is 1.
//!
//! A guest that returns without setting its response (the `raw-http` guest's `/keep-response`
//! keeps the outparam alive in a global, as StarlingMonkey's one-shot fetch event did; its
//! `/drop-response` drops it) gets a 500 at once, with its request id, and its instance is
//! dropped even with reuse on. (Python and JS reuse: functions_reuse_langs.rs.)
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use std::time::Duration;

use functions_common::{guest, request, Server};

fn manifest(reuse: Option<u32>) -> String {
    format!(
        r#"
[[function]]
name = "misbehave"
source = "{misbehave}"
memory_mb = 32
timeout_ms = 400
{reuse}

[[route]]
path = "/*"
function = "misbehave"
"#,
        misbehave = guest("misbehave").display(),
        reuse = reuse.map(|n| format!("reuse = {n}")).unwrap_or_default(),
    )
}

async fn count(server: &Server) -> u64 {
    let r = server.get("/count").await;
    assert_eq!(r.status, 200, "/count failed: {}", r.body);
    r.body.trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_instance_keeps_globals_until_its_quota_or_a_failure() {
    let server = Server::start(&manifest(Some(4))).await;

    // One instance serves four requests one at a time, its global growing; the fifth request
    // gets a fresh instance.
    let counts: Vec<u64> = futures_in_order(&server, 6).await;
    assert_eq!(counts, [1, 2, 3, 4, 1, 2], "counts across requests");

    // A trap drops the instance at once: the next request succeeds, on a fresh instance.
    let r = server.get("/trap").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(count(&server).await, 1, "the counter resets after a trap");
    assert_eq!(count(&server).await, 2);

    // So does a timeout, and running out of memory.
    let r = server.get("/loop").await;
    assert_eq!(r.status, 504, "{}", r.body);
    assert_eq!(
        count(&server).await,
        1,
        "the counter resets after a timeout"
    );
    let r = server.get("/oom").await;
    assert!(r.status >= 500, "{}", r.body);
    assert_eq!(
        count(&server).await,
        1,
        "the counter resets after running out of memory"
    );

    // Limits hold per request on a reused instance: a timeout after a few clean requests on
    // the same instance is still 400 ms from its own start.
    assert_eq!(count(&server).await, 2);
    let started = std::time::Instant::now();
    let r = server.get("/loop").await;
    assert_eq!(r.status, 504, "{}", r.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(count(&server).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_reuse_every_request_gets_a_fresh_instance() {
    let server = Server::start(&manifest(None)).await;
    assert_eq!(futures_in_order(&server, 3).await, [1, 1, 1]);
}

/// `n` `/count` requests, one after the other.
async fn futures_in_order(server: &Server, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(count(server).await);
    }
    out
}

/// A manifest serving the `raw-http` guest on every path, with `reuse` (None: off).
fn raw_manifest(reuse: Option<u32>) -> String {
    format!(
        r#"
[[function]]
name = "raw"
source = "{raw}"
timeout_ms = 5000
{reuse}

[[route]]
path = "/*"
function = "raw"
"#,
        raw = guest("raw-http").display(),
        reuse = reuse.map(|n| format!("reuse = {n}")).unwrap_or_default(),
    )
}

/// GET `path`, failing the test (instead of hanging it) when no answer comes within 10 s.
async fn get_soon(server: &Server, path: &str) -> functions_common::Reply {
    tokio::time::timeout(
        Duration::from_secs(10),
        request(server.addr, "GET", path, None, &[]),
    )
    .await
    .unwrap_or_else(|_| panic!("GET {path} got no answer within 10 s"))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_returns_without_a_response_gets_500_at_once_and_loses_its_instance() {
    for reuse in [Some(10), None] {
        let server = Server::start(&raw_manifest(reuse)).await;
        let fresh = if reuse.is_some() { [1, 2] } else { [1, 1] };
        for path in ["/keep-response", "/drop-response"] {
            let counts = [
                get_soon(&server, "/count").await,
                get_soon(&server, "/count").await,
            ];
            let counts = counts.map(|r| r.body.trim().parse::<u64>().unwrap());
            assert_eq!(counts, fresh, "reuse {reuse:?}: counts before {path}");

            let started = std::time::Instant::now();
            let r = get_soon(&server, path).await;
            assert_eq!(r.status, 500, "reuse {reuse:?}, {path}: {}", r.body);
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{path} took {:?} (the timeout is 5 s)",
                started.elapsed()
            );
            let body = r.json();
            assert_eq!(body["error"], "failed", "{body}");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("without setting a response"),
                "{body}"
            );
            let id = body["requestId"].as_str().unwrap().to_string();
            assert_eq!(r.headers["x-tarn-request-id"], id.as_str());
            assert!(
                server.log().contains(&id),
                "the failure is logged with its request id"
            );

            // The instance was dropped: the counter starts over.
            let r = get_soon(&server, "/count").await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(
                r.body.trim(),
                "1",
                "reuse {reuse:?}: the instance after {path}"
            );
            if reuse.is_some() {
                // Start the next round on a fresh instance too.
                for _ in 0..9 {
                    get_soon(&server, "/").await;
                }
            }
        }
    }
}
