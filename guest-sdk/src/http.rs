//! HTTP for functions: [`Request`], [`Response`], [`HttpError`] and [`IntoResponse`], and the
//! glue that turns a `wasi:http/incoming-handler` call into a [`Request`] and a [`Response`]
//! back into the outgoing response (used by [`crate::http_handler!`]).

use serde::{de::DeserializeOwned, Serialize};
use std::fmt;

/// An HTTP method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// PATCH
    Patch,
    /// OPTIONS
    Options,
    /// CONNECT
    Connect,
    /// TRACE
    Trace,
    /// Any other method, as sent.
    Other(String),
}

impl Method {
    /// The method's name (`GET`).
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
            Method::Connect => "CONNECT",
            Method::Trace => "TRACE",
            Method::Other(s) => s,
        }
    }

    /// Parses a method name, case-insensitively for the standard ones.
    pub fn parse(s: &str) -> Method {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            "CONNECT" => Method::Connect,
            "TRACE" => Method::Trace,
            _ => Method::Other(s.to_string()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An incoming HTTP request, body read in full.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    pub(crate) params: Vec<(String, String)>,
}

impl Request {
    /// A request for `method` and `uri` (`/todos?limit=2`), no headers, empty body. Used by the
    /// runtime glue and handy in tests.
    pub fn new(method: Method, uri: &str) -> Self {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let path = if path.is_empty() { "/" } else { path };
        Self {
            method,
            path: path.into(),
            query: query.into(),
            headers: Vec::new(),
            body: Vec::new(),
            params: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, without the query string (`/todos/42`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query string, without `?` (may be empty).
    pub fn query_string(&self) -> &str {
        &self.query
    }

    /// A query parameter, percent-decoded (`+` is a space); the first if repeated.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .find_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k) == name).then(|| percent_decode(v))
            })
    }

    /// A header's value (names are case-insensitive); the first if repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All headers, names in lower case.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body's bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as UTF-8 text; 400 if it is not.
    pub fn text(&self) -> Result<&str, HttpError> {
        std::str::from_utf8(&self.body).map_err(|_| HttpError::bad_request("body is not UTF-8"))
    }

    /// The body parsed as JSON into `T`; 400 with serde's message if it does not fit.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| HttpError::bad_request(format!("invalid JSON body: {e}")))
    }

    /// A `:name` path parameter of the matched route (percent-decoded), or the `*` wildcard's
    /// match with `param("*")`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes `%XX` escapes and `+` (as a space); invalid escapes stay as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(bytes[i + 1]) << 4 | hex(bytes[i + 2]));
                i += 3;
                continue;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `status` with a `text/plain` body.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self::new(status)
            .with_header("content-type", "text/plain; charset=utf-8")
            .with_body(body.into())
    }

    /// `status` with `value` as a JSON body (500 if it cannot be serialized).
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self::new(status)
                .with_header("content-type", "application/json")
                .with_body(body),
            Err(e) => {
                HttpError::new(500, format!("cannot serialize the response: {e}")).into_response()
            }
        }
    }

    /// 204 No Content.
    pub fn no_content() -> Self {
        Self::new(204)
    }

    /// 404 with a JSON error body.
    pub fn not_found() -> Self {
        HttpError::not_found("not found").into_response()
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// An error that becomes an HTTP response: `status` and a JSON body `{"error": message}`.
///
/// A [`crate::Error`] converts into one with `?` (409 for a failed condition, 404, 400, 403...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct HttpError {
    /// The status code.
    pub status: u16,
    /// The message sent to the client.
    pub message: String,
}

impl HttpError {
    /// An error with `status` and `message`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, message)
    }
}

impl From<crate::Error> for HttpError {
    fn from(e: crate::Error) -> Self {
        let status = e.kind().http_status();
        if status >= 500 {
            crate::log::write(crate::log::Level::Error, &e.to_string());
        }
        Self::new(status, e.to_string())
    }
}

/// Anything a handler may return.
pub trait IntoResponse {
    /// Converts into the response to send.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

/// Any error that converts into an [`HttpError`] (an [`HttpError`] itself, a [`crate::Error`])
/// answers as that error: its status and a JSON body `{"error": message}`.
impl<E: Into<HttpError>> IntoResponse for E {
    fn into_response(self) -> Response {
        let e: HttpError = self.into();
        Response::json(e.status, &serde_json::json!({ "error": e.message }))
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        Response::text(200, self)
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        Response::text(200, self)
    }
}

impl<R: IntoResponse, E: IntoResponse> IntoResponse for Result<R, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        }
    }
}

/// Runs `handler` for one `wasi:http` request. Called by [`crate::http_handler!`].
#[doc(hidden)]
pub fn __serve<R: IntoResponse>(
    request: crate::bindings::http::exports::wasi::http::incoming_handler::IncomingRequest,
    out: crate::bindings::http::exports::wasi::http::incoming_handler::ResponseOutparam,
    handler: impl FnOnce(Request) -> R,
) {
    use crate::bindings::http::wasi::http::types::Method as M;
    use crate::bindings::http::wasi::http::types::{
        Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam,
    };
    use crate::bindings::http::wasi::io::streams::StreamError;

    let method = match request.method() {
        M::Get => Method::Get,
        M::Head => Method::Head,
        M::Post => Method::Post,
        M::Put => Method::Put,
        M::Delete => Method::Delete,
        M::Patch => Method::Patch,
        M::Options => Method::Options,
        M::Connect => Method::Connect,
        M::Trace => Method::Trace,
        M::Other(s) => Method::Other(s),
    };
    let uri = request.path_with_query().unwrap_or_else(|| "/".into());
    let mut req = Request::new(method, &uri);
    for (name, value) in request.headers().entries() {
        req.headers.push((
            name.to_ascii_lowercase(),
            String::from_utf8_lossy(&value).into_owned(),
        ));
    }
    if let Ok(body) = request.consume() {
        if let Ok(stream) = body.stream() {
            loop {
                match stream.blocking_read(64 * 1024) {
                    Ok(chunk) => req.body.extend_from_slice(&chunk),
                    Err(StreamError::Closed) => break,
                    Err(StreamError::LastOperationFailed(_)) => {
                        let resp =
                            HttpError::bad_request("cannot read the request body").into_response();
                        return send(out, resp);
                    }
                }
            }
            drop(stream);
        }
        drop(IncomingBody::finish(body));
    }

    let resp = handler(req).into_response();
    send(out, resp);

    fn send(out: ResponseOutparam, resp: Response) {
        let mut headers: Vec<(String, Vec<u8>)> = resp
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec()))
            .collect();
        if !resp.body.is_empty() && !headers.iter().any(|(k, _)| k == "content-length") {
            headers.push((
                "content-length".into(),
                resp.body.len().to_string().into_bytes(),
            ));
        }
        let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
        let outgoing = OutgoingResponse::new(fields);
        let _ = outgoing.set_status_code(resp.status);
        let body = outgoing.body().expect("the outgoing body is taken once");
        ResponseOutparam::set(out, Ok(outgoing));
        let stream = body.write().expect("the body stream is taken once");
        for chunk in resp.body.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
        drop(stream);
        let _ = OutgoingBody::finish(body, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let r = Request::new(Method::Get, "/todos?limit=2&next=a%2Fb&q=hello+world&flag");
        assert_eq!(r.path(), "/todos");
        assert_eq!(r.query("limit").as_deref(), Some("2"));
        assert_eq!(r.query("next").as_deref(), Some("a/b"));
        assert_eq!(r.query("q").as_deref(), Some("hello world"));
        assert_eq!(r.query("flag").as_deref(), Some(""));
        assert_eq!(r.query("missing"), None);
    }

    #[test]
    fn percent_decoding_edge_cases() {
        assert_eq!(percent_decode("%41%zz%"), "A%zz%");
        assert_eq!(percent_decode("%e2%82%ac"), "€");
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn json_bodies_and_errors() {
        #[derive(Debug, serde::Deserialize)]
        struct In {
            title: String,
        }
        let r = Request::new(Method::Post, "/")
            .with_body(r#"{"title":"x"}"#)
            .with_header("Content-Type", "application/json");
        assert_eq!(r.json::<In>().unwrap().title, "x");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let bad = Request::new(Method::Post, "/").with_body("{");
        assert_eq!(bad.json::<In>().unwrap_err().status, 400);
    }

    #[test]
    fn responses() {
        let r = Response::json(201, &serde_json::json!({"id": "a"}));
        assert_eq!(r.status(), 201);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.body(), br#"{"id":"a"}"#);
        let e: Result<Response, HttpError> = Err(HttpError::conflict("version mismatch"));
        let r = e.into_response();
        assert_eq!(
            (r.status(), r.body()),
            (409, &br#"{"error":"version mismatch"}"#[..])
        );
        let r = crate::Error::table("ResourceNotFoundException", "no table").into_response();
        assert_eq!(r.status(), 404);
    }
}
