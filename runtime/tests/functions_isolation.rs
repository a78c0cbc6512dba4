//! End-to-end: misbehaving guests fail their own invocations only.
//!
//! One `tarn serve` runs the `misbehave` guest (routes /loop /oom /trap /forbidden /ok) and the
//! `raw-http` guest (a plain wasi:http component, not built with tarn-sdk). While a loop, an
//! allocation past the memory limit, a trap and a forbidden table access run, a steady stream of
//! /ok requests must all succeed; afterwards the counters show each failure.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use functions_common::{guest, Server};

fn manifest() -> String {
    format!(
        r#"
[[function]]
name = "misbehave"
source = "{misbehave}"
memory_mb = 32
timeout_ms = 400
tables = {{ items = "read-write" }}

[[function]]
name = "raw"
source = "{raw}"
memory_mb = 16
timeout_ms = 1000

[[route]]
path = "/raw/*"
function = "raw"

[[route]]
path = "/*"
function = "misbehave"
"#,
        misbehave = guest("misbehave").display(),
        raw = guest("raw-http").display(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_stay_inside_their_invocation() {
    let server = Arc::new(Server::start(&manifest()).await);

    // Background traffic: /ok in a loop until told to stop; every answer must be a 200.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ok_count = Arc::new(AtomicU64::new(0));
    let mut background = Vec::new();
    for _ in 0..2 {
        let (server, stop, ok_count) = (server.clone(), stop.clone(), ok_count.clone());
        background.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = server.get("/ok").await;
                assert_eq!(r.status, 200, "/ok failed during misbehaviour: {}", r.body);
                ok_count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let started = Instant::now();
    let (lp, oom, trap, forbidden, raw) = tokio::join!(
        server.get("/loop"),
        server.get("/oom"),
        server.get("/trap"),
        server.get("/forbidden"),
        server.get("/raw/hello"),
    );

    assert_eq!(lp.status, 504, "loop: {}", lp.body);
    assert_eq!(lp.json()["error"], "timeout");
    assert!(lp.headers.contains_key("x-tarn-request-id"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the loop was not stopped at its timeout"
    );

    assert_eq!(oom.status, 500, "oom: {}", oom.body);
    assert_eq!(oom.json()["error"], "out_of_memory");

    assert_eq!(trap.status, 500, "trap: {}", trap.body);
    assert_eq!(trap.json()["error"], "trap");

    // misbehave answers 200 with the error its `tables` call got.
    assert!(
        forbidden.body.contains("AccessDenied"),
        "forbidden: {} {}",
        forbidden.status,
        forbidden.body
    );
    assert_ne!(
        forbidden.status, 500,
        "the read was allowed: {}",
        forbidden.body
    );

    assert_eq!(raw.status, 200, "raw-http: {}", raw.body);

    // Misbehave again, concurrently, to be sure nothing leaked (pool slots, the epoch thread).
    let again = futures_join_all((0..6).map(|i| {
        let s = server.clone();
        async move {
            s.get(if i % 2 == 0 { "/loop" } else { "/trap" })
                .await
                .status
        }
    }))
    .await;
    assert!(again.iter().all(|s| *s == 504 || *s == 500), "{again:?}");

    stop.store(true, Ordering::Relaxed);
    for b in background {
        b.await.expect("background /ok traffic failed");
    }
    assert!(
        ok_count.load(Ordering::Relaxed) > 10,
        "too little background traffic"
    );

    let list = server.admin("GET", "/_tarn/functions", None).await.json();
    let m = list["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "misbehave")
        .unwrap()["metrics"]
        .clone();
    assert!(m["timeouts"].as_u64().unwrap() >= 4, "{m}");
    assert!(m["out_of_memory"].as_u64().unwrap() >= 1, "{m}");
    assert!(m["traps"].as_u64().unwrap() >= 4, "{m}");

    // The server still serves.
    assert_eq!(server.get("/ok").await.status, 200);
}

async fn futures_join_all<F: std::future::Future<Output = u16> + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// A request body past 16 MiB: refused with 413 when its Content-Length says so (before the
/// function runs), cut short with an error when it streams more than that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_are_capped_at_16_mib() {
    use http_body_util::{BodyExt, StreamBody};
    use hyper::body::{Bytes, Frame};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LIMIT: usize = 16 << 20;
    let server = Server::start(&manifest()).await;

    // Declared too large: answered 413 without reading the body.
    let mut conn = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /raw/declared HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        LIMIT + 1
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Chunked, no length: the function reads at most the limit, then an error ends its body.
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let chunks = (0..17)
        .map(|_| Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from(vec![b'x'; 1 << 20]))));
    let req = hyper::Request::builder()
        .method("POST")
        .uri("/raw/streamed")
        .header("host", server.addr.to_string())
        .body(StreamBody::new(futures_util::stream::iter(chunks)))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(60), sender.send_request(req))
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let received: usize = text
        .rsplit('(')
        .next()
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        (LIMIT - (1 << 20)..=LIMIT).contains(&received),
        "the function read {received} bytes of a 17 MiB body: {text}"
    );
}
