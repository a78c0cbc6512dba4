//! End-to-end: instance reuse (`reuse = N` in a `[[function]]`).
//!
//! The `misbehave` guest's `/count` adds one to a global and answers it: 1 on a fresh instance,
//! more on a reused one. With `reuse = 4` and one request at a time, the counter grows 1..4 and
//! starts over; a trap (or a timeout, or running out of memory) drops the instance at once, so
//! the next request counts from 1 again and succeeds. Without `reuse` every answer is 1.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use functions_common::{guest, Server};

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
