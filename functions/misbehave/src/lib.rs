//! `misbehave`: a function that fails on purpose, for the host's isolation tests.
//!
//! - `/ok`: 200 `ok`.
//! - `/loop`: never returns (the host's timeout must stop it).
//! - `/oom`: allocates and touches memory until allocation fails (the memory limit must stop it).
//! - `/trap`: panics, which traps (panic = abort).
//! - `/forbidden?table=NAME` (default `not-granted`): reads a table the manifest does not grant;
//!   answers 200 `{"kind": "AccessDenied", "message": ...}` with the error it got, or 500 if
//!   the read was allowed.
//! - `/count`: adds one to a global counter and answers its value: 1 on a fresh instance, more
//!   on one reused across requests (the host's `reuse` tests).
//! - `/spam`: writes about 10 MB to stdout, stderr and the log import, then answers 200 (the
//!   host must cap what it keeps without failing the writes).

use serde_json::json;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use tarn_sdk::http::{Request, Response};
use tarn_sdk::{Router, Table};

/// The HTTP handler.
pub fn handle(req: Request) -> Response {
    Router::new()
        .any("/ok", |_| Response::text(200, "ok\n"))
        .any("/loop", |_| spin())
        .any("/oom", |_| exhaust_memory())
        .any("/trap", |_| -> Response {
            panic!("misbehave: trapping on purpose")
        })
        .any("/forbidden", forbidden)
        .any("/spam", |_| spam())
        .any("/count", |_| count())
        .handle(req)
}

/// Requests this instance has counted.
static COUNT: AtomicU64 = AtomicU64::new(0);

fn count() -> Response {
    let n = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    Response::text(200, format!("{n}"))
}

fn spin() -> Response {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

fn exhaust_memory() -> Response {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // 16 MiB at a time, every page touched so it is really committed.
        let mut block = vec![0u8; 16 << 20];
        for i in (0..block.len()).step_by(4096) {
            block[i] = 1;
        }
        hoard.push(black_box(block));
        tarn_sdk::log::debug!("misbehave: holding {} MiB", hoard.len() * 16);
    }
}

fn spam() -> Response {
    let line = "x".repeat(1000);
    for i in 0..3500 {
        println!("spam {i} {line}");
        eprintln!("spam {i} {line}");
        tarn_sdk::log::info!("spam {i} {line}");
    }
    Response::text(200, "spammed\n")
}

fn forbidden(req: Request) -> Response {
    let table = req.query("table").unwrap_or_else(|| "not-granted".into());
    match Table::open(table).get::<serde_json::Value, _>(&json!({ "id": "x" })) {
        Ok(_) => Response::json(
            500,
            &json!({ "kind": null, "message": "the read was allowed" }),
        ),
        Err(e) => Response::json(
            200,
            &json!({ "kind": e.kind().as_str(), "message": e.to_string() }),
        ),
    }
}

tarn_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_sdk::http::Method;
    use tarn_sdk::testing::set_tables_handler;
    use tarn_sdk::Error;

    #[test]
    fn ok_and_forbidden() {
        assert_eq!(handle(Request::new(Method::Get, "/ok")).status(), 200);
        set_tables_handler(|_, _| Err(Error::table("AccessDeniedException", "not granted")));
        let r = handle(Request::new(Method::Get, "/forbidden"));
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["kind"], "AccessDenied");
    }
}
