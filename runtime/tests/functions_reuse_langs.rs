//! End-to-end: instance reuse for Python and JavaScript functions (`reuse = N`), as
//! functions_reuse.rs tests it for Rust.
//!
//! The `hello-python` and `hello-js` guests' `/count` adds one to a module global and answers it:
//! 1 on a fresh instance, more on a reused one. With `reuse = 5` and one request at a time the
//! counter grows 1..5 and starts over. An exception in a handler is the SDK's to answer (500) and
//! leaves the instance serving: the next request succeeds and counts on. A failure that kills the
//! instance (`/loop` runs into the timeout) drops it: the next request counts from 1 again.
//! Without `reuse` every answer is 1.
//!
//! A JS component's HTTP goes through the SDK's own `wasi:http/incoming-handler` export: the
//! engine's fetch event answers only one request per instance.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use std::time::Duration;

use functions_common::{guest, request, Reply, Server};

fn manifest(guest_name: &str, reuse: Option<u32>) -> String {
    format!(
        r#"
[[function]]
name = "f"
source = "{source}"
timeout_ms = 1500
{reuse}

[[route]]
path = "/*"
function = "f"
"#,
        source = guest(guest_name).display(),
        reuse = reuse.map(|n| format!("reuse = {n}")).unwrap_or_default(),
    )
}

/// GET `path`, failing the test (instead of hanging it) when no answer comes within 20 s.
async fn get(server: &Server, path: &str) -> Reply {
    tokio::time::timeout(
        Duration::from_secs(20),
        request(server.addr, "GET", path, None, &[]),
    )
    .await
    .unwrap_or_else(|_| panic!("GET {path} got no answer within 20 s"))
    .unwrap()
}

async fn count(server: &Server) -> u64 {
    let r = get(server, "/count").await;
    assert_eq!(r.status, 200, "/count failed: {}\n{}", r.body, server.log());
    r.body.trim().parse().unwrap()
}

async fn counts(server: &Server, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(count(server).await);
    }
    out
}

async fn reuse_keeps_globals_until_quota_or_a_killing_failure(guest_name: &str) {
    let server = Server::start(&manifest(guest_name, Some(5))).await;

    // One instance serves five requests one at a time, its global growing; the sixth gets a
    // fresh instance.
    assert_eq!(
        counts(&server, 7).await,
        [1, 2, 3, 4, 5, 1, 2],
        "{guest_name}"
    );

    // An exception in the handler is answered by the SDK (500): the instance lives on, and the
    // next request succeeds on it.
    let r = get(&server, "/boom").await;
    assert_eq!(r.status, 500, "{guest_name} /boom: {}", r.body);
    assert_eq!(count(&server).await, 3, "{guest_name}: after /boom");

    // A timeout kills the instance: the next request succeeds, on a fresh one.
    let r = get(&server, "/loop").await;
    assert_eq!(r.status, 504, "{guest_name} /loop: {}", r.body);
    assert_eq!(
        counts(&server, 3).await,
        [1, 2, 3],
        "{guest_name}: the counter resets after a timeout"
    );
    // Other routes keep working on the reused instance.
    let r = get(&server, "/anything").await;
    assert_eq!(r.status, 200, "{guest_name}: {}", r.body);
    assert!(r.body.starts_with("hello from tarn"), "{}", r.body);
    assert_eq!(count(&server).await, 4, "{guest_name}: the fifth request");
    assert_eq!(
        count(&server).await,
        1,
        "{guest_name}: the quota of 5 was used"
    );
}

async fn without_reuse_every_request_is_fresh(guest_name: &str) {
    let server = Server::start(&manifest(guest_name, None)).await;
    assert_eq!(counts(&server, 3).await, [1, 1, 1], "{guest_name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_reuse_keeps_globals_until_quota_or_a_killing_failure() {
    reuse_keeps_globals_until_quota_or_a_killing_failure("hello-js").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_reuse_keeps_globals_until_quota_or_a_killing_failure() {
    reuse_keeps_globals_until_quota_or_a_killing_failure("hello-python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_without_reuse_every_request_is_fresh() {
    without_reuse_every_request_is_fresh("hello-js").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_without_reuse_every_request_is_fresh() {
    without_reuse_every_request_is_fresh("hello-python").await;
}
