//! How the console answers: every response it sends goes through [`response`], which sets the
//! headers that keep the pages safe in a browser (a strict Content-Security-Policy allowing only
//! the console's own scripts, no framing, no sniffing, no referrer sent to other origins, no caching of answers that
//! carry data), and the small request readers the console's endpoints share.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::Value;

use crate::host::http::{full_body, ResponseBody};

/// The Content-Security-Policy of every console response: scripts, styles, images and
/// connections from the console's own origin only; no plugins, no framing, no `<base>`;
/// forms post only to the console.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// A response with the console's security headers. `cache` is the Cache-Control value.
pub fn response(status: u16, content_type: &str, cache: &str) -> hyper::http::response::Builder {
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", cache)
        .header("content-security-policy", CSP)
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "same-origin")
        .header("cross-origin-opener-policy", "same-origin")
        .header("cross-origin-resource-policy", "same-origin")
}

/// Finishes `builder` with `body`.
pub fn finish(
    builder: hyper::http::response::Builder,
    body: impl Into<Bytes>,
) -> hyper::Response<ResponseBody> {
    builder
        .body(full_body(body.into()))
        .unwrap_or_else(|_| hyper::Response::new(full_body(Bytes::new())))
}

/// A JSON answer, never cached.
pub fn json(status: u16, value: &Value) -> hyper::Response<ResponseBody> {
    let body = value.to_string();
    finish(response(status, "application/json", "no-store"), body)
}

/// A JSON error: `{"__type": kind, "message": message}`, DynamoDB's shape.
pub fn error(
    status: u16,
    kind: &str,
    message: impl std::fmt::Display,
) -> hyper::Response<ResponseBody> {
    json(
        status,
        &serde_json::json!({"__type": kind, "message": message.to_string()}),
    )
}

/// `response` marked `Connection: close`: for a request refused before its body was read, so
/// the client does not send its next request on a connection the server drops.
pub fn closing(mut response: hyper::Response<ResponseBody>) -> hyper::Response<ResponseBody> {
    response.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    response
}

/// An HTML page, never cached.
pub fn html(status: u16, page: impl Into<Bytes>) -> hyper::Response<ResponseBody> {
    finish(
        response(status, "text/html; charset=utf-8", "no-store"),
        page,
    )
}

/// A `303 See Other` to `location` (a path of the console).
pub fn see_other(location: &str) -> hyper::Response<ResponseBody> {
    finish(
        response(303, "text/plain; charset=utf-8", "no-store").header("location", location),
        Bytes::new(),
    )
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Larger than allowed, or the connection failed while reading.
    #[error("the request body could not be read (at most {0} bytes)")]
    Unreadable(usize),
    /// Not the JSON object expected.
    #[error("the request body is not a JSON object: {0}")]
    NotJson(String),
}

/// Reads up to `limit` bytes of body.
pub async fn read_body(req: hyper::Request<Incoming>, limit: usize) -> Result<Bytes, BodyError> {
    http_body_util::Limited::new(req.into_body(), limit)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|_| BodyError::Unreadable(limit))
}

/// Reads a JSON object body (an empty body is `{}`).
pub async fn read_json(req: hyper::Request<Incoming>, limit: usize) -> Result<Value, BodyError> {
    let bytes = read_body(req, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(BodyError::NotJson("expected an object".into())),
        Err(e) => Err(BodyError::NotJson(e.to_string())),
    }
}

/// The value of query parameter `name` (percent-decoded), if present.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_carries_the_security_headers() {
        let r = json(200, &serde_json::json!({"a": 1}));
        let h = r.headers();
        assert_eq!(h["content-security-policy"], CSP);
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["cache-control"], "no-store");
        assert!(!CSP.contains("unsafe"), "no inline scripts or styles");
        let r = see_other("/console/");
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/console/");
    }

    #[test]
    fn query_parameters_are_decoded() {
        assert_eq!(
            query_param("a=1&token=x%2By+z", "token").as_deref(),
            Some("x+y z")
        );
        assert_eq!(query_param("a=1", "token"), None);
        assert_eq!(query_param("", "a"), None);
    }
}
