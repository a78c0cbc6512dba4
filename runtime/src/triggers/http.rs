//! The HTTP trigger: runs the function a request's route names. [`handle`] looks a request of
//! the function port up in an app's [`RouteTable`], answers 404/405/413 itself, and otherwise
//! hands the request to the function through [`invoke`]; the admin API's `invoke` endpoint
//! uses [`invoke`] directly. Which port serves what (and the admin API) is deploy's business
//! (`crate::deploy::ports`); this module only needs the route table, the functions and the
//! host.
//!
//! What the guest sees besides the request itself, as request headers:
//! `x-tarn-request-id`, `x-tarn-route` (the matched pattern), `x-tarn-param-<name>` for each
//! `:name`, and `x-tarn-wildcard` for what `*` matched (headers of these names sent by the
//! client are removed first). Responses carry `x-tarn-request-id`.
//!
//! A request body is limited to [`MAX_FUNCTION_BODY`] bytes (413 when its `Content-Length` says
//! more; cut short with an error when it streams more).

use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use super::routes::{RouteMatch, RouteTable};
use super::Functions;
use crate::host::http::{error_response, full_body, ResponseBody};
use crate::host::{new_request_id, Host, LoadedFunction};

/// Largest request body a function is handed (16 MiB).
pub const MAX_FUNCTION_BODY: u64 = 16 << 20;

fn json_response(status: u16, body: serde_json::Value) -> hyper::Response<ResponseBody> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full_body(body.to_string()))
        .expect("a valid response")
}

/// The 404 answer for a path no route matches (also given for reserved paths).
pub fn no_route(path: &str) -> hyper::Response<ResponseBody> {
    json_response(404, serde_json::json!({"error": "no route", "path": path}))
}

/// Routes one request to its function among `functions`, by `routes`, and answers it.
pub async fn handle(
    host: &Host,
    routes: &RouteTable,
    functions: &Functions,
    mut req: hyper::Request<Incoming>,
) -> hyper::Response<ResponseBody> {
    let (function, caps, pattern) = match routes.lookup(req.method(), req.uri().path()) {
        RouteMatch::Found(route, caps) => {
            let Some(f) = functions.get(&route.function) else {
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
    let req = req.map(capped);
    invoke(host, &function, &request_id, req).await
}

/// What a function reads of a request body: `body`, failing with
/// `HttpRequestBodySize` once more than [`MAX_FUNCTION_BODY`] bytes came (hyper's own errors
/// pass through as they are).
fn capped(
    body: Incoming,
) -> impl hyper::body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error> + Send + 'static
{
    Limited::new(body, MAX_FUNCTION_BODY as usize).map_err(|e| match e.downcast::<hyper::Error>() {
        Ok(e) => wasmtime_wasi_http::Error::Hyper(*e),
        Err(e) if e.is::<LengthLimitError>() => {
            wasmtime_wasi_http::Error::HttpRequestBodySize(Some(MAX_FUNCTION_BODY))
        }
        Err(e) => wasmtime_wasi_http::Error::InternalError(Some(e.to_string())),
    })
}

/// Invokes HTTP function `f` and turns a failure into its JSON error response.
pub async fn invoke<B>(
    host: &Host,
    f: &Arc<LoadedFunction>,
    request_id: &str,
    req: hyper::Request<B>,
) -> hyper::Response<ResponseBody>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    match host.invoke_http(f, request_id, req).await {
        Ok(mut resp) => {
            if let Ok(v) = HeaderValue::from_str(request_id) {
                resp.headers_mut().insert("x-tarn-request-id", v);
            }
            resp
        }
        Err(e) => error_response(&e, request_id),
    }
}
