//! The DynamoDB endpoint: DynamoDB's JSON 1.0 protocol over HTTP, in front of [`Api::call`].
//!
//! A request is `POST /` (any path) with `X-Amz-Target: DynamoDB_20120810.<Operation>` and a JSON
//! body, usually typed `application/x-amz-json-1.0` (`application/json` and a missing type are
//! accepted too, so `curl` works). The DynamoDB Streams API shares the port:
//! `X-Amz-Target: DynamoDBStreams_20120810.<Operation>` reaches [`Api::call`] as
//! `"Streams.<Operation>"` (`"Streams.ListStreams"`, `"Streams.DescribeStream"`,
//! `"Streams.GetShardIterator"`, `"Streams.GetRecords"`); see [`STREAMS_OPERATION_PREFIX`].
//!
//! Answers are `application/x-amz-json-1.0` with `x-amzn-RequestId` (a uuid per request) and
//! `x-amz-crc32` (CRC32 of the body bytes, which botocore and the SDKs may verify). Errors are
//! the body [`ApiError::to_body`] renders, with the status [`ApiError::status`] gives:
//! unparsable JSON or a non-object body is a bare `SerializationException`, a missing or foreign
//! target an `UnknownOperationException` that names it, a body over 16 MB (DynamoDB's request limit) a
//! `ValidationException` with status 413 (Payload Too Large), as DynamoDB answers it. `GET /`
//! answers health checks as DynamoDB's endpoint does, `200 healthy: <the Host header>`, or
//! `503` with a line saying why while the store refuses writes (`degraded: tarn: ...` while the
//! disk is below the free-space reserve, `unhealthy: tarn: ...` once the store failed; see
//! [`tarn_store::Health`]); a `GET` of any other path is a 400 error.
//!
//! Each request runs in a `tracing` span `dynamodb` with its request id and operation; a panicking
//! handler answers `InternalServerError` instead of dropping the connection (see
//! [`Api::call_inline`]: GetItem and single-item writes, which await their sync without holding
//! a thread, run on the connection's task, most other operations on tokio's blocking pool).
//!
//! In cluster mode (an [`Api`] over the remote engine) the endpoint is a proxy: a request's
//! signature is checked as below, then the tables' seam takes it as it arrived
//! ([`crate::api::backend::TableBackend::on_arrival`]): its body goes unchanged to the remote
//! engine, re-signed with the engine's credentials, and the engine's status and body are the
//! answer.
//!
//! With a [`Verifier`] ([`DynamoDbService::with_verifier`]) every POST, DynamoDB and Streams
//! operations alike, must be signed with SigV4 by a configured key (see [`super::sigv4`]); the
//! headers are checked before the body is read, the signature over the body before it is parsed.
//! Without one, signatures are not checked (the CLI then binds loopback only). Either way the
//! request's region is its credential scope's (tables are regional, see
//! [`tarn_store::schema::region`]); a request without one is in the [`Api`]'s region. A body sent with
//! `Content-Encoding: gzip` or `deflate` is decoded after the signature check (which covers the
//! bytes as sent) and before it is parsed; the 16 MB limit applies to the decoded body too (see
//! [`super::encoding`]). A body is read
//! within [`BODY_READ_TIMEOUT`]; a client trickling it slower is answered with an error.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use serde_json::Value;
use tracing::Instrument;

use super::encoding::Coding;
use super::sigv4::{credential_region, Verifier};
use crate::api::backend::{Arrival, TableBackend};
use crate::api::{Api, ApiError};

/// Largest request body DynamoDB accepts (16 MB).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;
/// How long a client may take to send a whole request body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// `X-Amz-Target` prefix of DynamoDB operations.
pub const DYNAMODB_TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// `X-Amz-Target` prefix of DynamoDB Streams operations.
pub const STREAMS_TARGET_PREFIX: &str = "DynamoDBStreams_20120810.";
/// Prefix under which Streams operations reach [`Api::call`]: `"Streams.GetRecords"`...
pub const STREAMS_OPERATION_PREFIX: &str = "Streams.";
/// The content type of every answer.
pub const CONTENT_TYPE_JSON_1_0: &str = "application/x-amz-json-1.0";

/// The request header naming the operation (a constant: a name given as a `&str` is parsed
/// and hashed for every lookup).
static X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");
/// The answer's request id header.
static X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
/// The answer's body checksum header.
static X_AMZ_CRC32: HeaderName = HeaderName::from_static("x-amz-crc32");

/// The operation name an `X-Amz-Target` header value names, as [`Api::call`] takes it:
/// `DynamoDB_20120810.PutItem` -> `PutItem`, `DynamoDBStreams_20120810.GetRecords` ->
/// `Streams.GetRecords`. `None` for anything else.
pub fn operation_for_target(target: &str) -> Option<Cow<'_, str>> {
    let valid = |op: &str| !op.is_empty() && op.bytes().all(|c| c.is_ascii_alphanumeric());
    if let Some(op) = target.strip_prefix(DYNAMODB_TARGET_PREFIX) {
        valid(op).then_some(Cow::Borrowed(op))
    } else if let Some(op) = target.strip_prefix(STREAMS_TARGET_PREFIX) {
        valid(op).then(|| Cow::Owned(format!("{STREAMS_OPERATION_PREFIX}{op}")))
    } else {
        None
    }
}

/// The answer to a health check (`GET /` with Host header `host`) for tables in `health`:
/// `healthy: <host>` as DynamoDB answers it; 503 with a line saying why otherwise (`degraded:
/// tarn: ...` while the disk is below the reserve or, on a cluster node, while the engine does
/// not answer; `unhealthy: tarn: ...` once the store failed).
pub fn health_answer(health: &crate::api::backend::Health, host: &str) -> (StatusCode, Bytes) {
    use crate::api::backend::Health;
    match health {
        Health::Healthy => (StatusCode::OK, Bytes::from(format!("healthy: {host}"))),
        Health::DiskFull(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Bytes::from(format!("degraded: tarn: {why}")),
        ),
        Health::EngineUnreachable(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Bytes::from(format!("degraded: tarn: {why}")),
        ),
        Health::Failed(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Bytes::from(format!("unhealthy: tarn: {why}")),
        ),
    }
}

/// The DynamoDB endpoint over one [`Api`].
#[derive(Clone)]
pub struct DynamoDbService {
    api: Api,
    verifier: Option<Arc<Verifier>>,
    body_timeout: Duration,
}

impl DynamoDbService {
    /// The endpoint in front of `api`, checking no signatures.
    pub fn new(api: Api) -> Self {
        DynamoDbService {
            api,
            verifier: None,
            body_timeout: BODY_READ_TIMEOUT,
        }
    }

    /// The same endpoint giving clients `timeout` (instead of [`BODY_READ_TIMEOUT`]) to send a
    /// request body.
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The same endpoint requiring every request to be signed (SigV4) with a key `verifier`
    /// knows.
    pub fn with_verifier(mut self, verifier: Arc<Verifier>) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Answers one HTTP request (any body type, so tests can drive it without a socket).
    pub async fn respond<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut id_buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let request_id: &str = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut id_buf);
        // At debug level: with the default filter (`info`) the span is disabled at its
        // callsite, so a request pays one cached interest check for it, not a span in the
        // subscriber's registry. Errors name the request id themselves (see `answer`).
        let span = tracing::debug_span!(
            "dynamodb",
            id = %request_id,
            op = tracing::field::Empty,
            key = tracing::field::Empty
        );
        if (req.method() == Method::GET || req.method() == Method::HEAD) && req.uri().path() == "/"
        {
            let host = req
                .headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
                .or_else(|| req.uri().authority().map(|a| a.to_string()))
                .unwrap_or_default();
            let health = crate::api::backend::Tables::of(&self.api).health().await;
            let (status, body) = health_answer(&health, &host);
            let mut resp = response(status, body, request_id);
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            return resp;
        }
        // The clock is read for the debug line only when it is on.
        let started = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
        let (status, body) = self.answer(req, request_id).instrument(span.clone()).await;
        let _entered = span.enter();
        tracing::debug!(
            status = status.as_u16(),
            elapsed_ms = started.map_or(0, |s| s.elapsed().as_millis() as u64),
            "answered"
        );
        response(status, body, request_id)
    }

    /// Runs the request (`request_id` is its `x-amzn-RequestId`, named by the errors it logs);
    /// answers the status and the body bytes.
    async fn answer<B>(&self, req: Request<B>, request_id: &str) -> (StatusCode, Bytes)
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if req.method() != Method::POST {
            tracing::debug!(method = %req.method(), "not a POST");
            return error_answer(&ApiError::unknown_operation(&format!(
                "{} {} (DynamoDB operations are POST requests)",
                req.method(),
                req.uri().path()
            )));
        }
        let declared_len = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared_len.is_some_and(|n| n > MAX_REQUEST_BYTES as u64) {
            return (StatusCode::PAYLOAD_TOO_LARGE, error_answer(&too_large()).1);
        }
        // Everything about the signature but the signature itself, before reading the body.
        let checked = match &self.verifier {
            Some(v) => match v.check_headers(req.headers(), SystemTime::now()) {
                Ok(c) => {
                    tracing::Span::current().record("key", c.access_key_id());
                    Some(c)
                }
                Err(e) => {
                    tracing::debug!(kind = e.kind, reason = %e.message, "authentication refused");
                    return error_answer(&e);
                }
            },
            None => None,
        };

        let (parts, body) = req.into_parts();
        let mut collect = std::pin::pin!(Limited::new(body, MAX_REQUEST_BYTES).collect());
        // A small body usually arrived with its head: then it is read without arming the
        // timeout (a clock read and a handle to the timer for every request).
        let read = match futures_util::FutureExt::now_or_never(collect.as_mut()) {
            Some(read) => Ok(read),
            None => tokio::time::timeout(self.body_timeout, collect).await,
        };
        let bytes = match read {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return (StatusCode::PAYLOAD_TOO_LARGE, error_answer(&too_large()).1);
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "could not read the request body");
                return error_answer(&ApiError::serialization(""));
            }
            Err(_) => {
                tracing::debug!("the request body did not arrive in time");
                return error_answer(&ApiError::validation(format!(
                    "The request body was not received within {} ms",
                    self.body_timeout.as_millis()
                )));
            }
        };
        if let (Some(verifier), Some(checked)) = (&self.verifier, &checked) {
            if let Err(e) =
                verifier.check_signature(checked, &parts.method, &parts.uri, &parts.headers, &bytes)
            {
                tracing::debug!(kind = e.kind, reason = %e.message, "authentication refused");
                return error_answer(&e);
            }
        }
        let bytes = match Coding::of(&parts.headers)
            .and_then(|coding| coding.decode(&bytes, MAX_REQUEST_BYTES))
        {
            Ok(Some(decoded)) => Bytes::from(decoded),
            Ok(None) => bytes,
            Err(e) => {
                tracing::debug!(error = %e, "could not decode the request body");
                return error_answer(&e.into_api_error(too_large));
            }
        };
        let target = parts
            .headers
            .get(&X_AMZ_TARGET)
            .and_then(|v| v.to_str().ok());
        // The tables' seam decides: on a cluster node the request goes to the engine as it is.
        let operation = target.and_then(operation_for_target);
        let bytes = match self
            .api
            .backend()
            .on_arrival(&self.api, target, operation.as_deref(), bytes)
            .await
        {
            Arrival::Decode(bytes) => bytes,
            Arrival::Answered(status, answer) => return (status, answer),
            Arrival::Refused(e) => return error_answer(&e),
        };

        // The request's region is its credential scope's (checked or, without a verifier, read
        // from the Authorization header); unsigned requests are in the API's own region.
        let region = match &checked {
            Some(c) => Some(c.region()),
            None => parts
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(credential_region),
        }
        .filter(|r| *r != self.api.region() && tarn_store::schema::region::is_valid_region(r));
        let regional;
        let api = match region {
            Some(r) => {
                regional = self.api.in_region(r);
                &regional
            }
            None => &self.api,
        };

        // GetItem in its common shape is decoded straight from the bytes, without a JSON tree;
        // any other body (bad ones included) goes the general way below.
        if let Some(operation) = operation.as_deref() {
            if let Some(result) = api.call_inline_raw(operation, &bytes).await {
                tracing::Span::current().record("op", operation);
                return outcome(result, request_id, operation);
            }
        }
        let body: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => return error_answer(&ApiError::serialization("")),
                Err(e) => {
                    tracing::debug!(error = %e, "request body is not JSON");
                    return error_answer(&ApiError::serialization(""));
                }
            }
        };
        let Some(operation) = operation else {
            tracing::debug!(
                x_amz_target = target.unwrap_or(""),
                "missing or unknown X-Amz-Target"
            );
            return error_answer(&ApiError::unknown_operation(match target {
                Some(t) => t,
                None => "the request has no X-Amz-Target header",
            }));
        };
        tracing::Span::current().record("op", &*operation);

        // `call_inline_bytes` answers a panicking handler with InternalServerError itself.
        let result = api.call_inline_bytes(&operation, body).await;
        outcome(result, request_id, &operation)
    }
}

/// The status and body answering an operation's `result`; a server error is logged with the
/// request's id and operation.
fn outcome(
    result: Result<Vec<u8>, ApiError>,
    request_id: &str,
    operation: &str,
) -> (StatusCode, Bytes) {
    match result {
        Ok(bytes) => (StatusCode::OK, Bytes::from(bytes)),
        Err(e) => {
            if e.is_server_error() {
                tracing::error!(
                    id = request_id,
                    op = operation,
                    kind = e.kind,
                    reason = %e.message,
                    "operation failed"
                );
            } else {
                tracing::debug!(kind = e.kind, reason = %e.message, "operation refused");
            }
            error_answer(&e)
        }
    }
}

impl super::Handler for DynamoDbService {
    type Body = Full<Bytes>;

    async fn handle(&self, req: Request<Incoming>, _peer: SocketAddr) -> Response<Full<Bytes>> {
        self.respond(req).await
    }
}

fn too_large() -> ApiError {
    ApiError::validation(format!(
        "Request size exceeded the maximum allowed size of {MAX_REQUEST_BYTES} bytes"
    ))
}

fn error_answer(e: &ApiError) -> (StatusCode, Bytes) {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::to_vec(&e.to_body()).expect("a JSON value serializes");
    (status, Bytes::from(body))
}

/// Builds the answer with DynamoDB's headers.
fn response(status: StatusCode, body: Bytes, request_id: &str) -> Response<Full<Bytes>> {
    let crc = crc32fast::hash(&body);
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(CONTENT_TYPE_JSON_1_0),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(X_AMZN_REQUESTID.clone(), id);
    }
    headers.insert(X_AMZ_CRC32.clone(), HeaderValue::from(crc));
    resp
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn targets_map_to_operations() {
        assert_eq!(
            operation_for_target("DynamoDB_20120810.PutItem").as_deref(),
            Some("PutItem")
        );
        assert_eq!(
            operation_for_target("DynamoDBStreams_20120810.GetRecords").as_deref(),
            Some("Streams.GetRecords")
        );
        assert_eq!(operation_for_target("DynamoDB_20120810."), None);
        assert_eq!(operation_for_target("DynamoDB_20111205.PutItem"), None);
        assert_eq!(operation_for_target("DynamoDB_20120810.Put.Item"), None);
        assert_eq!(operation_for_target("Kinesis_20131202.PutRecord"), None);
    }

    #[test]
    fn error_answers_carry_dynamodb_bodies() {
        let (status, body) = error_answer(&ApiError::resource_not_found(
            "Requested resource not found",
        ));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v["__type"],
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
        );
        let (status, _) = error_answer(&ApiError::internal("x"));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn responses_have_crc_and_request_id() {
        let body = Bytes::from(serde_json::to_vec(&json!({"TableNames": []})).unwrap());
        let resp = response(StatusCode::OK, body.clone(), "abc");
        assert_eq!(resp.headers()["x-amzn-requestid"], "abc");
        assert_eq!(
            resp.headers()["x-amz-crc32"],
            crc32fast::hash(&body).to_string().as_str()
        );
        assert_eq!(resp.headers()[CONTENT_TYPE], CONTENT_TYPE_JSON_1_0);
    }
}
