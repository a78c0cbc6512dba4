//! The admin API, under `/_tarn/` on the admin port (never on the function port), used by
//! `tarn deploy`, `rollback`, `invoke`, `logs` and `functions list`.
//!
//! Every endpoint but `GET /_tarn/health` requires `Authorization: Bearer <token>`; the token is
//! compared in constant time (over SHA-256 digests, so not even its length leaks), and checked
//! before a request body is read.
//!
//! | endpoint | body | answer |
//! |---|---|---|
//! | `POST /_tarn/deploy` | `{"manifest": toml, "files": {"f.wasm": base64}}` | `{"version": n}` |
//! | `POST /_tarn/rollback` | `{"version": n}` or `{}` (the previous one) | `{"version": n}` |
//! | `GET /_tarn/versions` | | `{"current": n, "versions": [meta...]}` |
//! | `GET /_tarn/functions` | | `{"version": n, "functions": [...], "routes": [...]}` |
//! | `POST /_tarn/invoke/<function>` | HTTP: `{"method","path","headers","body"}`; stream: `{"records": [...]}`; schedule: `{"time": rfc3339}` | `{"requestId", "status", "headers", "body"}` or `{"requestId", "error", "message"}` |
//! | `GET /_tarn/logs?tail=N&function=F&follow=1` | | NDJSON log lines; `follow` keeps streaming |

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::versions::Bundle;
use super::{DeployError, Runtime};
use crate::host::http::{full_body, ResponseBody};
use crate::host::{new_request_id, FunctionKind};

/// Largest request body the admin API reads (a deploy bundle).
const MAX_BODY: usize = 512 << 20;

fn respond(status: u16, body: Value) -> hyper::Response<ResponseBody> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full_body(body.to_string()))
        .expect("a valid response")
}

fn error(status: u16, message: impl std::fmt::Display) -> hyper::Response<ResponseBody> {
    respond(status, json!({"error": message.to_string()}))
}

fn deploy_error(e: DeployError) -> hyper::Response<ResponseBody> {
    let status = match e {
        DeployError::Io(..) => 500,
        DeployError::NoSuchVersion(_) => 404,
        _ => 400,
    };
    error(status, e)
}

/// Whether `presented` equals `expected`, in constant time.
pub fn token_matches(presented: &str, expected: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    bool::from(a.ct_eq(&b)) && !expected.is_empty()
}

fn authorized(rt: &Runtime, req: &hyper::Request<Incoming>) -> bool {
    let presented = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    token_matches(presented.trim(), rt.token())
}

async fn read_json(req: hyper::Request<Incoming>) -> Result<Value, hyper::Response<ResponseBody>> {
    let body = http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| error(400, format!("reading body: {e}")))?
        .to_bytes();
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&body).map_err(|e| error(400, format!("body is not JSON: {e}")))
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then_some(v)
    })
}

/// `GET /metrics` (on the admin port, beside the admin API): the Prometheus exposition, with
/// or without the token as `tarn serve --metrics` says.
pub async fn metrics(
    rt: &Runtime,
    req: &hyper::Request<Incoming>,
) -> hyper::Response<ResponseBody> {
    crate::metrics::endpoint::answer(
        rt.host().api().metrics(),
        crate::api::backend::Tables::of(rt.host().api()).sizes(),
        rt.metrics_access(),
        req.method(),
        authorized(rt, req),
    )
    .await
}

/// `GET /_tarn/health`: `{"ok": true, "version": n, "store": "healthy"}`, no token needed.
/// While the store refuses writes it answers 503 with `"ok": false` and `"store"` saying why:
/// `"disk_full"` (below the free-space reserve; reads work, writes resume when space returns)
/// or `"failed"` (tarn exits to be restarted). The reason itself is in the log and on the
/// DynamoDB port's `GET /`, not here: this probe may face the internet.
///
/// On a cluster node the tables are the engine's: `"store"` is `"engine_unreachable"` (503)
/// while the engine does not answer (checked at most every two seconds), and `"node"` names
/// the node.
pub async fn health(rt: &Runtime) -> hyper::Response<ResponseBody> {
    use crate::api::backend::{Health, Tables};
    let version = rt.current().version;
    let node = rt.cluster().map(|c| c.node_id().to_string());
    let (status, store) = match Tables::of(rt.host.api()).health().await {
        Health::Healthy => (200, "healthy"),
        Health::DiskFull(_) => (503, "disk_full"),
        Health::Failed(_) => (503, "failed"),
        Health::EngineUnreachable(_) => (503, "engine_unreachable"),
    };
    let mut body = json!({"ok": status == 200, "version": version, "store": store});
    if let Some(node) = node {
        body["node"] = json!(node);
    }
    respond(status, body)
}

/// Handles one `/_tarn/...` request.
pub async fn handle(
    rt: Arc<Runtime>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<ResponseBody> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().clone();
    if path == "/_tarn/health" {
        return health(&rt).await;
    }
    if !authorized(&rt, &req) {
        return error(
            401,
            "missing or wrong admin token (Authorization: Bearer <token>)",
        );
    }
    match (method.as_str(), path.as_str()) {
        ("POST", "/_tarn/deploy") => {
            let body = match read_json(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            let bundle = match Bundle::from_wire(&body) {
                Ok(b) => b,
                Err(e) => return deploy_error(e),
            };
            match rt.deploy(bundle, "deploy", false).await {
                Ok(v) => respond(200, json!({"version": v})),
                Err(e) => deploy_error(e),
            }
        }
        ("POST", "/_tarn/rollback") => {
            let body = match read_json(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            match rt
                .activate(body.get("version").and_then(Value::as_u64))
                .await
            {
                Ok(v) => respond(200, json!({"version": v})),
                Err(e) => deploy_error(e),
            }
        }
        ("GET", "/_tarn/versions") => match rt.version_list().await {
            Ok((current, list)) => respond(
                200,
                json!({"current": current, "active": rt.current().version, "versions": list}),
            ),
            Err(e) => deploy_error(e),
        },
        ("GET", "/_tarn/functions") => respond(200, functions(&rt)),
        ("GET", "/_tarn/status") => respond(200, rt.trigger_status().to_json()),
        ("GET", "/_tarn/logs") => logs(&rt, &query),
        ("POST", p) if p.starts_with("/_tarn/invoke/") => {
            let name = p.trim_start_matches("/_tarn/invoke/").to_string();
            let body = match read_json(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            invoke(&rt, &name, body).await
        }
        _ => error(404, format!("no admin endpoint {method} {path}")),
    }
}

/// `GET /_tarn/functions`: the active version, its functions (kind, limits, grants, counters)
/// and its routes.
pub fn functions(rt: &Runtime) -> Value {
    let app = rt.current();
    let functions: Vec<Value> = app
        .functions
        .values()
        .map(|f| {
            json!({
                "name": f.spec.name,
                "kind": f.kind,
                "version": f.spec.version,
                "hash": f.hash,
                "from_cache": f.from_cache,
                "memory_mb": f.spec.limits.memory_bytes >> 20,
                "timeout_ms": f.spec.limits.timeout.as_millis() as u64,
                "max_concurrency": f.spec.limits.max_concurrency,
                "tables": f.spec.grants,
                "network": f.spec.network,
                "metrics": f.metrics.snapshot(),
            })
        })
        .collect();
    let routes: Vec<Value> = app
        .routes
        .routes()
        .iter()
        .map(|r| json!({"method": r.method.as_ref().map(|m| m.to_string()), "path": r.pattern.as_str(), "function": r.function}))
        .collect();
    json!({"version": app.version, "functions": functions, "routes": routes})
}

async fn invoke(rt: &Runtime, name: &str, body: Value) -> hyper::Response<ResponseBody> {
    let app = rt.current();
    let Some(f) = app.functions.get(name).cloned() else {
        return error(
            404,
            format!("no function {name} in version {}", app.version),
        );
    };
    let request_id = new_request_id();
    let host = rt.host();
    match f.kind {
        FunctionKind::Http => {
            let method = body.get("method").and_then(Value::as_str).unwrap_or("GET");
            let path = body.get("path").and_then(Value::as_str).unwrap_or("/");
            let payload = match body.get("body") {
                None | Some(Value::Null) => Bytes::new(),
                Some(Value::String(s)) => Bytes::from(s.clone()),
                Some(other) => Bytes::from(other.to_string()),
            };
            let mut builder = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header("host", "localhost")
                .header("x-tarn-request-id", &request_id);
            for (k, v) in body
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                builder = builder.header(k.as_str(), v.as_str().unwrap_or_default());
            }
            let req = match builder.body(full_body(payload)) {
                Ok(r) => r,
                Err(e) => return error(400, format!("bad request: {e}")),
            };
            let resp = crate::triggers::http::invoke(host, &f, &request_id, req).await;
            let (parts, body) = resp.into_parts();
            let bytes = match body.collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return error(500, format!("reading the function's response: {e}")),
            };
            let headers: serde_json::Map<String, Value> = parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                    )
                })
                .collect();
            respond(
                200,
                json!({
                    "requestId": request_id,
                    "status": parts.status.as_u16(),
                    "headers": headers,
                    "body": String::from_utf8_lossy(&bytes),
                }),
            )
        }
        FunctionKind::Stream => {
            let records = body
                .get("records")
                .cloned()
                .unwrap_or(json!([]))
                .to_string();
            match host.invoke_stream(&f, &request_id, &records).await {
                Ok(failed) => respond(
                    200,
                    json!({"requestId": request_id, "batchItemFailures": failed}),
                ),
                Err(e) => respond(
                    200,
                    json!({"requestId": request_id, "error": e.kind(), "message": e.to_string()}),
                ),
            }
        }
        FunctionKind::Schedule => {
            let time = body
                .get("time")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                });
            match host.invoke_schedule(&f, &request_id, &time).await {
                Ok(()) => respond(200, json!({"requestId": request_id, "ok": true})),
                Err(e) => respond(
                    200,
                    json!({"requestId": request_id, "error": e.kind(), "message": e.to_string()}),
                ),
            }
        }
    }
}

/// A response body fed from a channel (for `logs -f`): each message is one data frame, and the
/// body ends when every sender is gone.
fn channel_body(mut rx: tokio::sync::mpsc::Receiver<Bytes>) -> ResponseBody {
    let frames = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
            .map(|line| line.map(|b| Ok::<_, wasmtime_wasi_http::Error>(Frame::data(b))))
    });
    StreamBody::new(frames).boxed_unsync()
}

/// `GET /_tarn/logs?tail=N&function=F&follow=1`: the last `tail` lines (100 by default) of
/// `function` (or every function) as NDJSON, then with `follow` each new line as it comes,
/// until the client goes away or the server stops. The console's log tail answers with it too.
pub fn logs(rt: &Runtime, query: &str) -> hyper::Response<ResponseBody> {
    let tail = query_param(query, "tail")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let function = query_param(query, "function")
        .filter(|f| !f.is_empty())
        .map(str::to_owned);
    let follow = query_param(query, "follow").is_some_and(|v| v == "1" || v == "true");
    let sink = rt.host().logs().clone();
    let mut stopping = rt.stopping();
    // Subscribe before reading the tail so no line falls between the two.
    let mut live = sink.subscribe();
    let lines = sink.tail(tail, function.as_deref());
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let render = |l: &crate::host::log::LogLine| {
        let mut s = serde_json::to_string(l).expect("a log line serializes");
        s.push('\n');
        Bytes::from(s)
    };
    let initial: Vec<Bytes> = lines.iter().map(render).collect();
    tokio::spawn(async move {
        for b in initial {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        if !follow {
            return;
        }
        loop {
            let next = tokio::select! {
                n = live.recv() => n,
                _ = tx.closed() => return,
                _ = stopping.wait_for(|s| *s) => return,
            };
            let line = match next {
                Ok(l) => l,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            };
            if function.as_ref().is_some_and(|f| *f != line.function) {
                continue;
            }
            if tx.send(render(&line)).await.is_err() {
                return;
            }
        }
    });
    hyper::Response::builder()
        .status(200)
        .header("content-type", "application/x-ndjson")
        .body(channel_body(rx))
        .expect("a valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly_and_never_empty() {
        assert!(token_matches("s3cret-token", "s3cret-token"));
        assert!(!token_matches("s3cret-tokem", "s3cret-token"));
        assert!(!token_matches("s3cret", "s3cret-token"));
        assert!(!token_matches("s3cret-token-and-more", "s3cret-token"));
        assert!(!token_matches("", "s3cret-token"));
        // An empty configured token never authorizes, not even an empty one.
        assert!(!token_matches("", ""));
    }
}
