//! The function HTTP trigger: the route table built from `[[route]]`s, and the two servers of
//! the function side: the function port (127.0.0.1:8080 by default) that dispatches requests to
//! functions, and the admin port (127.0.0.1:8081) that serves the admin API alone.
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
//! Paths under `/_tarn/` are reserved: never routed to functions. On the function port they
//! answer 404, but for `GET /_tarn/health` (a liveness probe that reveals nothing but the active
//! version number); the admin API ([`crate::deploy::admin`]) is served on the admin port only,
//! so exposing the function port never exposes deploy, rollback, invoke or logs.
//!
//! A request body on the function port is limited to [`MAX_FUNCTION_BODY`] bytes (413 when its
//! `Content-Length` says more; cut short with an error when it streams more).
//! Each request holds the app version it started on, so a reload or deploy never interrupts it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::deploy::Runtime;
use crate::host::http::{error_response, full_body, ResponseBody};
use crate::host::{new_request_id, InvocationError, LoadedFunction};
use crate::server::ConnectionLimits;

/// Largest request body a function is handed (16 MiB).
pub const MAX_FUNCTION_BODY: u64 = 16 << 20;

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

/// Which of the function side's two ports a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// Function routes (and `GET /_tarn/health`).
    Functions,
    /// The admin API under `/_tarn/`.
    Admin,
}

fn no_route(path: &str) -> hyper::Response<ResponseBody> {
    json_response(404, serde_json::json!({"error": "no route", "path": path}))
}

/// Answers one request of `port`.
pub async fn handle_port(
    rt: Arc<Runtime>,
    port: Port,
    req: hyper::Request<Incoming>,
) -> hyper::Response<ResponseBody> {
    let path = req.uri().path();
    let reserved = path == "/_tarn" || path.starts_with("/_tarn/");
    match port {
        Port::Admin if reserved => crate::deploy::admin::handle(rt, req).await,
        Port::Admin => no_route(path),
        Port::Functions if path == "/_tarn/health" => crate::deploy::admin::health(&rt),
        Port::Functions if reserved => no_route(path),
        Port::Functions => handle(rt, req).await,
    }
}

/// Routes one request of the function port to its function.
pub async fn handle(
    rt: Arc<Runtime>,
    mut req: hyper::Request<Incoming>,
) -> hyper::Response<ResponseBody> {
    let app = rt.current();
    let (function, caps, pattern) = match app.routes.lookup(req.method(), req.uri().path()) {
        RouteMatch::Found(route, caps) => {
            let Some(f) = app.functions.get(&route.function) else {
                return json_response(500, serde_json::json!({"error": "no such function"}));
            };
            (f.clone(), caps, route.pattern.as_str().to_string())
        }
        RouteMatch::MethodNotAllowed => {
            return json_response(405, serde_json::json!({"error": "method not allowed"}))
        }
        RouteMatch::NotFound => return no_route(req.uri().path()),
    };
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_FUNCTION_BODY) {
        return json_response(
            413,
            serde_json::json!({"error": "payload_too_large", "message": format!("request bodies are limited to {MAX_FUNCTION_BODY} bytes")}),
        );
    }
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
    let req = req.map(|body| CappedBody {
        inner: body,
        left: MAX_FUNCTION_BODY,
    });
    invoke(&rt, &function, &request_id, req).await
}

/// A request body cut off with an error past a byte limit.
struct CappedBody {
    inner: Incoming,
    left: u64,
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    if n > self.left {
                        return Poll::Ready(Some(Err(
                            wasmtime_wasi_http::Error::HttpRequestBodySize(Some(MAX_FUNCTION_BODY)),
                        )));
                    }
                    self.left -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
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

/// One port of the function side, as a [`crate::server::Handler`].
struct PortHandler {
    rt: Arc<Runtime>,
    port: Port,
}

impl crate::server::Handler for PortHandler {
    type Body = ResponseBody;

    async fn handle(
        &self,
        req: hyper::Request<Incoming>,
        _peer: SocketAddr,
    ) -> hyper::Response<ResponseBody> {
        handle_port(self.rt.clone(), self.port, req).await
    }
}

/// Serves `port` of `rt` on `listener` under `limits` until `shutdown` flips to true, then stops
/// accepting, lets every open connection finish its in-flight requests (up to `grace`), and
/// returns.
pub async fn serve(
    listener: TcpListener,
    rt: Arc<Runtime>,
    port: Port,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let handler = Arc::new(PortHandler { rt, port });
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    if let Err(e) = crate::server::serve_with(listener, handler, limits, stop, grace).await {
        tracing::error!(?port, error = %e, "server failed");
    }
}

/// The address the function server listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The address the admin API listens on by default.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8081";

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
