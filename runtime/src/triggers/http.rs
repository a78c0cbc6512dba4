//! The function HTTP trigger: the route table built from `[[route]]`s, and the HTTP server
//! (127.0.0.1:8080 by default) that dispatches requests to functions.
//!
//! Patterns: literal segments, `:name` (one segment) and a final `*` (the rest of the path, maybe
//! empty). When several routes match, the more specific wins, segment by segment (literal before
//! `:param` before `*`), then a route naming the method before one taking any method. A path that
//! matches only routes of other methods answers 405; no match answers 404.
//!
//! What the guest sees besides the request itself, as request headers:
//! `x-tarn-request-id`, `x-tarn-route` (the matched pattern), `x-tarn-param-<name>` for each
//! `:name`, and `x-tarn-wildcard` for what `*` matched. Responses carry `x-tarn-request-id`.
//!
//! Paths under `/_tarn/` are the admin API ([`crate::deploy::admin`]), never routed to functions.
//! Each request holds the app version it started on, so a reload or deploy never interrupts it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, Method};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::deploy::Runtime;
use crate::host::http::{error_response, full_body, ResponseBody};
use crate::host::{new_request_id, InvocationError, LoadedFunction};

/// One segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Wildcard,
}

/// A parsed route path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    text: String,
    segments: Vec<Segment>,
}

/// What a match captured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    /// `:name` values, in pattern order.
    pub params: Vec<(String, String)>,
    /// What `*` matched (no leading slash).
    pub wildcard: Option<String>,
}

impl RoutePattern {
    /// Parses `/a/:b/*`.
    pub fn parse(path: &str) -> Result<RoutePattern, String> {
        if !path.starts_with('/') {
            return Err("a route path starts with /".into());
        }
        if path == "/_tarn" || path.starts_with("/_tarn/") {
            return Err("paths under /_tarn/ are reserved for the admin API".into());
        }
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let seg = if *part == "*" {
                if i + 1 != parts.len() {
                    return Err("`*` may only be the last segment".into());
                }
                Segment::Wildcard
            } else if let Some(name) = part.strip_prefix(':') {
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(format!("bad parameter name `{part}`"));
                }
                Segment::Param(name.to_string())
            } else {
                Segment::Literal(part.to_string())
            };
            segments.push(seg);
        }
        Ok(RoutePattern {
            text: path.to_string(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Matches `path` (no query string).
    pub fn matches(&self, path: &str) -> Option<Captures> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut caps = Captures::default();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Wildcard => {
                    caps.wildcard = Some(parts[i.min(parts.len())..].join("/"));
                    return Some(caps);
                }
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = parts.get(i)?;
                    caps.params.push((name.clone(), percent_decode(value)));
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(caps)
    }

    fn rank(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param(_) => 1,
                Segment::Wildcard => 2,
            })
            .collect()
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One route: method (None = any), pattern, function name.
#[derive(Debug, Clone)]
pub struct Route {
    /// The method, or None for any.
    pub method: Option<Method>,
    /// The path pattern.
    pub pattern: RoutePattern,
    /// The function serving it.
    pub function: String,
}

/// The outcome of a lookup.
#[derive(Debug)]
pub enum RouteMatch<'a> {
    /// A route matched.
    Found(&'a Route, Captures),
    /// Routes match the path, none for this method.
    MethodNotAllowed,
    /// Nothing matches.
    NotFound,
}

/// All routes of an app, most specific first.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Builds the table from `(method, path, function)` triples.
    pub fn new<'a>(
        defs: impl IntoIterator<Item = (Option<&'a str>, &'a str, &'a str)>,
    ) -> Result<RouteTable, String> {
        let mut routes = Vec::new();
        for (method, path, function) in defs {
            let method = match method.map(str::trim) {
                None | Some("") | Some("*") | Some("ANY") | Some("any") => None,
                Some(m) => Some(
                    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                        .map_err(|_| format!("route {path}: bad method {m}"))?,
                ),
            };
            routes.push(Route {
                method,
                pattern: RoutePattern::parse(path)?,
                function: function.to_string(),
            });
        }
        routes.sort_by(|a, b| {
            a.pattern
                .rank()
                .cmp(&b.pattern.rank())
                .then(b.method.is_some().cmp(&a.method.is_some()))
        });
        Ok(RouteTable { routes })
    }

    /// The routes, in match order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Finds the route for `method` and `path`.
    pub fn lookup(&self, method: &Method, path: &str) -> RouteMatch<'_> {
        let mut path_matched = false;
        for r in &self.routes {
            if let Some(caps) = r.pattern.matches(path) {
                if r.method.as_ref().is_none_or(|m| m == method) {
                    return RouteMatch::Found(r, caps);
                }
                path_matched = true;
            }
        }
        if path_matched {
            RouteMatch::MethodNotAllowed
        } else {
            RouteMatch::NotFound
        }
    }
}

fn json_response(status: u16, body: serde_json::Value) -> hyper::Response<ResponseBody> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full_body(body.to_string()))
        .expect("a valid response")
}

/// Routes one request of the function server.
pub async fn handle(
    rt: Arc<Runtime>,
    mut req: hyper::Request<Incoming>,
) -> Result<hyper::Response<ResponseBody>, Infallible> {
    if req.uri().path().starts_with("/_tarn/") {
        return Ok(crate::deploy::admin::handle(rt, req).await);
    }
    let app = rt.current();
    let (function, caps, pattern) = match app.routes.lookup(req.method(), req.uri().path()) {
        RouteMatch::Found(route, caps) => {
            let Some(f) = app.functions.get(&route.function) else {
                return Ok(json_response(
                    500,
                    serde_json::json!({"error": "no such function"}),
                ));
            };
            (f.clone(), caps, route.pattern.as_str().to_string())
        }
        RouteMatch::MethodNotAllowed => {
            return Ok(json_response(
                405,
                serde_json::json!({"error": "method not allowed"}),
            ))
        }
        RouteMatch::NotFound => {
            return Ok(json_response(
                404,
                serde_json::json!({"error": "no route", "path": req.uri().path()}),
            ))
        }
    };
    let request_id = new_request_id();
    let headers = req.headers_mut();
    for name in ["x-tarn-request-id", "x-tarn-route", "x-tarn-wildcard"] {
        headers.remove(name);
    }
    let stale: Vec<HeaderName> = headers
        .keys()
        .filter(|k| k.as_str().starts_with("x-tarn-param-"))
        .cloned()
        .collect();
    for k in stale {
        headers.remove(k);
    }
    let set = |headers: &mut http::HeaderMap, name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    };
    set(headers, "x-tarn-request-id", &request_id);
    set(headers, "x-tarn-route", &pattern);
    for (k, v) in &caps.params {
        set(
            headers,
            &format!("x-tarn-param-{}", k.to_ascii_lowercase()),
            v,
        );
    }
    if let Some(w) = &caps.wildcard {
        set(headers, "x-tarn-wildcard", w);
    }
    Ok(invoke(&rt, &function, &request_id, req).await)
}

/// Invokes HTTP function `f` and turns a failure into its JSON error response.
pub async fn invoke<B>(
    rt: &Runtime,
    f: &Arc<LoadedFunction>,
    request_id: &str,
    req: hyper::Request<B>,
) -> hyper::Response<ResponseBody>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    match rt.host().invoke_http(f, request_id, req).await {
        Ok(mut resp) => {
            if let Ok(v) = HeaderValue::from_str(request_id) {
                resp.headers_mut().insert("x-tarn-request-id", v);
            }
            resp
        }
        Err(e) => error_response(&e, request_id),
    }
}

/// Serves `rt` on `listener` until `shutdown` flips to true, then stops accepting, lets every
/// open connection finish its in-flight requests, and returns.
pub async fn serve(listener: TcpListener, rt: Arc<Runtime>, mut shutdown: watch::Receiver<bool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let rt = rt.clone();
        let mut stop = shutdown.clone();
        conns.spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(rt.clone(), req));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let stopping = tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection ended");
                    }
                    false
                }
                r = stop.wait_for(|s| *s) => r.is_ok(),
            };
            if stopping {
                // Finish the requests in flight on this connection, then close it.
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        });
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}

/// The address the function server listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Why an invocation error maps to a given status (re-exported for callers).
pub fn status_of(e: &InvocationError) -> u16 {
    e.status()
}

/// Parses a listen address.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|e| format!("bad listen address {s}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable::new([
            (Some("GET"), "/todos", "list"),
            (Some("POST"), "/todos", "create"),
            (Some("GET"), "/todos/:id", "get"),
            (None, "/todos/special", "special"),
            (None, "/static/*", "files"),
            (None, "/*", "fallback"),
        ])
        .unwrap()
    }

    fn found(t: &RouteTable, m: Method, p: &str) -> (String, Captures) {
        match t.lookup(&m, p) {
            RouteMatch::Found(r, c) => (r.function.clone(), c),
            other => panic!("{p}: {other:?}"),
        }
    }

    #[test]
    fn specific_routes_win() {
        let t = table();
        assert_eq!(found(&t, Method::GET, "/todos").0, "list");
        assert_eq!(found(&t, Method::POST, "/todos").0, "create");
        assert_eq!(found(&t, Method::GET, "/todos/special").0, "special");
        let (f, c) = found(&t, Method::GET, "/todos/a%20b");
        assert_eq!(f, "get");
        assert_eq!(c.params, vec![("id".to_string(), "a b".to_string())]);
        let (f, c) = found(&t, Method::GET, "/static/css/site.css");
        assert_eq!(f, "files");
        assert_eq!(c.wildcard.as_deref(), Some("css/site.css"));
        assert_eq!(found(&t, Method::DELETE, "/todos").0, "fallback");
    }

    #[test]
    fn method_not_allowed_and_not_found() {
        let t = RouteTable::new([(Some("GET"), "/a/:x", "f")]).unwrap();
        assert!(matches!(
            t.lookup(&Method::POST, "/a/1"),
            RouteMatch::MethodNotAllowed
        ));
        assert!(matches!(t.lookup(&Method::GET, "/b"), RouteMatch::NotFound));
        assert!(matches!(
            t.lookup(&Method::GET, "/a/1/2"),
            RouteMatch::NotFound
        ));
        assert!(RoutePattern::parse("/a/*/b").is_err());
        assert!(RoutePattern::parse("/_tarn/x").is_err());
    }
}
