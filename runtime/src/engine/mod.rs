//! The remote engine: a DynamoDB-compatible endpoint (AWS DynamoDB, DynamoDB Local, ScyllaDB
//! Alternator, another tarn) that holds the tables when tarn runs as a cluster node
//! (`tarn serve --engine URL`).
//!
//! [`RemoteEngine`] is everything a node needs to talk to it:
//!
//! - **credentials**: the standard AWS chain (environment, profile, SSO, container, instance
//!   metadata: `aws-config`), or an AWS shared-credentials file (`--engine-credentials-file`,
//!   `[default]` profile), read through the same SDK;
//! - **the typed clients** ([`RemoteEngine::client`], `aws-sdk-dynamodb`): what tarn writes on
//!   its own behalf (deployments, schedule claims, shard leases: see [`crate::cluster`]);
//!   [`RemoteEngine::streams`] (`aws-sdk-dynamodbstreams`): the stream mappings' reads, from
//!   the same SDK config;
//! - **the wire path** ([`RemoteEngine::forward`], [`RemoteEngine::call`]): one DynamoDB or
//!   DynamoDB Streams operation, its JSON body sent unchanged, signed (SigV4, `aws-sigv4`) with
//!   the engine's credentials. The DynamoDB port forwards clients' requests through it, and the
//!   functions' `tables` calls go through it too: both arrive as DynamoDB JSON already, so they
//!   are passed on as they are instead of being decoded into the SDK's types and encoded again
//!   (which would need a codec for every operation's shape, and would lose what the SDK does
//!   not model).
//!
//! The engine's answers, errors included, come back as the engine gave them.
//!
//! [`probe`] asks it the node's own cheap questions (does it answer, how big are its tables).

pub mod probe;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::meta::region::RegionProviderChain;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde_json::Value;
use tarn_wire::ApiError;

/// `X-Amz-Target` prefix of DynamoDB operations.
const DYNAMODB_TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// `X-Amz-Target` prefix of DynamoDB Streams operations.
const STREAMS_TARGET_PREFIX: &str = "DynamoDBStreams_20120810.";
/// How a Streams operation is named to [`RemoteEngine::call`] (as [`crate::api::Api::call`]
/// names it): `Streams.GetRecords`.
const STREAMS_OPERATION_PREFIX: &str = "Streams.";
/// The region of a URL engine when none is configured (tarn's own default region).
const DEFAULT_URL_REGION: &str = "us-east-1";
/// Credentials are fetched again this long before they expire.
const CREDENTIALS_REFRESH: Duration = Duration::from_secs(300);
/// How long one request to the engine may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the engine is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A DynamoDB-compatible endpoint at this URL (`http://host:port`); its Streams API is at
    /// the same URL.
    Url(String),
    /// AWS DynamoDB in the region (`https://dynamodb.<region>.amazonaws.com`, and
    /// `https://streams.dynamodb.<region>.amazonaws.com` for Streams).
    Aws,
}

impl Endpoint {
    /// Parses `--engine`: `aws`, or an `http://` / `https://` URL with a host.
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        if s.eq_ignore_ascii_case("aws") {
            return Ok(Endpoint::Aws);
        }
        let uri: http::Uri = s
            .parse()
            .map_err(|e| format!("{s:?} is not a URL ({e}); try http://127.0.0.1:8000 or aws"))?;
        match (uri.scheme_str(), uri.host()) {
            (Some("http" | "https"), Some(_)) => Ok(Endpoint::Url(s.trim_end_matches('/').into())),
            _ => Err(format!(
                "{s:?}: the engine is `aws` or an http:// or https:// URL with a host"
            )),
        }
    }
}

/// How to reach the engine (the `--engine*` options of `tarn serve`).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where it is.
    pub endpoint: Endpoint,
    /// Its region (signing scope); default: the AWS chain's region, else us-east-1 for a URL.
    pub region: Option<String>,
    /// An AWS shared-credentials file to take the engine's keys from (its `[default]`
    /// profile) instead of the standard chain.
    pub credentials_file: Option<PathBuf>,
}

/// Why the engine could not be set up or answered nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration is incomplete (no region for `aws`...).
    #[error("engine configuration: {0}")]
    Config(String),
    /// No credentials could be found or loaded.
    #[error("engine credentials: {0}")]
    Credentials(String),
    /// The engine could not be reached, or its answer could not be read.
    #[error("engine unreachable: {0}")]
    Transport(String),
    /// The engine answered with an error: DynamoDB's exception name and message.
    #[error("{kind}: {message}")]
    Service {
        /// The exception name, without its `com.amazonaws...#` prefix.
        kind: String,
        /// Its message.
        message: String,
    },
}

impl EngineError {
    /// The exception name a caller sees (`ResourceNotFoundException`...; a transport failure
    /// is `ServiceUnavailable`, a credentials one `UnrecognizedClientException`).
    pub fn kind(&self) -> &str {
        match self {
            EngineError::Service { kind, .. } => kind,
            EngineError::Transport(_) => "ServiceUnavailable",
            EngineError::Credentials(_) => "UnrecognizedClientException",
            EngineError::Config(_) => "InternalServerError",
        }
    }

    /// The message a caller sees.
    pub fn message(&self) -> String {
        match self {
            EngineError::Service { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The error as tarn's own API reports errors. `ApiError` names its exception with a
    /// `&'static str`: an engine exception DynamoDB documents keeps its name, any other becomes
    /// `InternalServerError` with the engine's name in the message.
    pub fn to_api_error(&self) -> ApiError {
        let kind = self.kind();
        match KNOWN_EXCEPTIONS.iter().find(|k| **k == kind) {
            Some(k) => ApiError::new(k, self.message()),
            None => ApiError::internal(format!("engine: {kind}: {}", self.message())),
        }
    }
}

/// DynamoDB's and DynamoDB Streams' exception names.
const KNOWN_EXCEPTIONS: &[&str] = &[
    "AccessDeniedException",
    "BackupInUseException",
    "BackupNotFoundException",
    "ConditionalCheckFailedException",
    "ContinuousBackupsUnavailableException",
    "DuplicateItemException",
    "ExpiredIteratorException",
    "ExportConflictException",
    "ExportNotFoundException",
    "IdempotentParameterMismatchException",
    "ImportConflictException",
    "ImportNotFoundException",
    "IncompleteSignature",
    "IndexNotFoundException",
    "InternalServerError",
    "InvalidExportTimeException",
    "InvalidRestoreTimeException",
    "InvalidSignatureException",
    "ItemCollectionSizeLimitExceededException",
    "LimitExceededException",
    "MissingAuthenticationToken",
    "PointInTimeRecoveryUnavailableException",
    "ProvisionedThroughputExceededException",
    "ReplicatedWriteConflictException",
    "RequestLimitExceeded",
    "ResourceInUseException",
    "ResourceNotFoundException",
    "SerializationException",
    "ServiceUnavailable",
    "TableAlreadyExistsException",
    "TableInUseException",
    "TableNotFoundException",
    "ThrottlingException",
    "TransactionCanceledException",
    "TransactionConflictException",
    "TransactionInProgressException",
    "TrimmedDataAccessException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "ValidationException",
];

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A connection to the engine. Cheap to share (`Arc`); every method may be called at once.
pub struct RemoteEngine {
    dynamodb_url: String,
    streams_url: String,
    region: String,
    credentials: SharedCredentialsProvider,
    cached: parking_lot::Mutex<Option<aws_credential_types::Credentials>>,
    http: HttpClient,
    client: aws_sdk_dynamodb::Client,
    /// The last reachability check and when it was made ([`RemoteEngine::reachable`]).
    reachability: parking_lot::Mutex<Option<(std::time::Instant, Result<(), String>)>>,
    streams: aws_sdk_dynamodbstreams::Client,
}

impl std::fmt::Debug for RemoteEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteEngine")
            .field("url", &self.dynamodb_url)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl RemoteEngine {
    /// Sets up the engine's client: region and credentials (checked once here, so that a node
    /// without them stops at start with a reason), the HTTP client and the SDK client.
    pub async fn connect(config: &EngineConfig) -> Result<Arc<RemoteEngine>, EngineError> {
        let region_chain = RegionProviderChain::first_try(config.region.clone().map(Region::new))
            .or_default_provider();
        let region = match (region_chain.region().await, &config.endpoint) {
            (Some(r), _) => r,
            (None, Endpoint::Url(_)) => Region::new(DEFAULT_URL_REGION),
            (None, Endpoint::Aws) => {
                return Err(EngineError::Config(
                    "no region for the `aws` engine: give --engine-region, or set AWS_REGION"
                        .into(),
                ))
            }
        };
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region.clone());
        if let Some(file) = &config.credentials_file {
            if !file.is_file() {
                return Err(EngineError::Credentials(format!(
                    "{} is not a file",
                    file.display()
                )));
            }
            let files = EnvConfigFiles::builder()
                .with_file(EnvConfigFileKind::Credentials, file)
                .build();
            let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_files(files)
                .profile_name("default")
                .build();
            loader = loader.credentials_provider(provider);
        }
        let (dynamodb_url, streams_url) = match &config.endpoint {
            Endpoint::Url(url) => {
                loader = loader.endpoint_url(url);
                (url.clone(), url.clone())
            }
            Endpoint::Aws => (
                format!("https://dynamodb.{region}.amazonaws.com"),
                format!("https://streams.dynamodb.{region}.amazonaws.com"),
            ),
        };
        let sdk = loader.load().await;
        let credentials = sdk.credentials_provider().ok_or_else(|| {
            EngineError::Credentials("the AWS SDK found no credentials provider".into())
        })?;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        // Same config; for `aws` the Streams client resolves its own endpoint
        // (streams.dynamodb.<region>.amazonaws.com).
        let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| EngineError::Config(format!("TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let http = Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(tls);
        let engine = RemoteEngine {
            dynamodb_url,
            streams_url,
            region: region.to_string(),
            credentials,
            cached: parking_lot::Mutex::new(None),
            http,
            client,
            reachability: parking_lot::Mutex::new(None),
            streams,
        };
        engine.identity().await?;
        Ok(Arc::new(engine))
    }

    /// The typed client (`aws-sdk-dynamodb`) for tarn's own records in the engine.
    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// The typed DynamoDB Streams client (`aws-sdk-dynamodbstreams`): how stream mappings
    /// read the engine's streams.
    pub fn streams(&self) -> &aws_sdk_dynamodbstreams::Client {
        &self.streams
    }

    /// The engine's DynamoDB URL.
    pub fn url(&self) -> &str {
        &self.dynamodb_url
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The engine's credentials, fetched from the provider when missing or about to expire.
    async fn identity(&self) -> Result<aws_credential_types::Credentials, EngineError> {
        if let Some(c) = self.cached.lock().as_ref() {
            let fresh = c
                .expiry()
                .is_none_or(|at| at > SystemTime::now() + CREDENTIALS_REFRESH);
            if fresh {
                return Ok(c.clone());
            }
        }
        let c = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| EngineError::Credentials(format!("{e}: {}", source_chain(&e))))?;
        *self.cached.lock() = Some(c.clone());
        Ok(c)
    }

    /// Sends one operation: `target` is the `X-Amz-Target` value
    /// (`DynamoDB_20120810.PutItem`, `DynamoDBStreams_20120810.GetRecords`), `body` the JSON
    /// body, sent as it is. Answers the engine's status and body, whatever they are.
    pub async fn forward(
        &self,
        target: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), EngineError> {
        let url = if target.starts_with(STREAMS_TARGET_PREFIX) {
            &self.streams_url
        } else {
            &self.dynamodb_url
        };
        let url = format!("{url}/");
        let uri: http::Uri = url
            .parse()
            .map_err(|e| EngineError::Config(format!("{url}: {e}")))?;
        let host = match (uri.host(), uri.port_u16()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => return Err(EngineError::Config(format!("{url} has no host"))),
        };
        let mut req = http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("host", host)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .body(Full::new(body.clone()))
            .map_err(|e| EngineError::Config(format!("building the request: {e}")))?;
        self.sign(&mut req, &url, &body).await?;
        let send = async {
            let resp =
                self.http.request(req).await.map_err(|e| {
                    EngineError::Transport(format!("{url}: {e}: {}", source_chain(&e)))
                })?;
            let status = resp.status();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| EngineError::Transport(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok((status, bytes))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, send)
            .await
            .map_err(|_| {
                EngineError::Transport(format!(
                    "{url} did not answer within {} s",
                    REQUEST_TIMEOUT.as_secs()
                ))
            })?
    }

    /// Runs `operation` (as [`crate::api::Api::call`] names it: `PutItem`,
    /// `Streams.GetRecords`) on the engine with `body`; the answer's JSON, or the engine's
    /// error.
    pub async fn call(&self, operation: &str, body: &Value) -> Result<Value, EngineError> {
        let target = match operation.strip_prefix(STREAMS_OPERATION_PREFIX) {
            Some(op) => format!("{STREAMS_TARGET_PREFIX}{op}"),
            None => format!("{DYNAMODB_TARGET_PREFIX}{operation}"),
        };
        let payload = Bytes::from(body.to_string());
        let (status, bytes) = self.forward(&target, payload).await?;
        let v: Value = if bytes.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                EngineError::Transport(format!(
                    "the engine's answer (HTTP {status}) is not JSON: {e}"
                ))
            })?
        };
        if status.is_success() {
            return Ok(v);
        }
        let (kind, message) = tarn_wire::read_error_body(&v);
        let kind = kind.unwrap_or_else(|| format!("HTTP{}", status.as_u16()));
        Err(EngineError::Service { kind, message })
    }

    /// Signs `req` (SigV4, service `dynamodb`, which DynamoDB Streams signs with too).
    async fn sign(
        &self,
        req: &mut http::Request<Full<Bytes>>,
        url: &str,
        body: &[u8],
    ) -> Result<(), EngineError> {
        let credentials = self.identity().await?;
        crate::signing::sign_post(req, url, body, credentials, &self.region)
            .map_err(EngineError::Credentials)
    }
}

/// An error's sources, joined, for messages (the SDK's and hyper's top-level messages alone
/// say little: "dispatch failure", "client error (Connect)").
pub fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(Endpoint::parse("aws"), Ok(Endpoint::Aws));
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8000/"),
            Ok(Endpoint::Url("http://127.0.0.1:8000".into()))
        );
        assert!(Endpoint::parse("127.0.0.1:8000").is_err());
        assert!(Endpoint::parse("ftp://x").is_err());
    }

    #[test]
    fn engine_errors_keep_dynamodb_names() {
        let e = EngineError::Service {
            kind: "ConditionalCheckFailedException".into(),
            message: "no".into(),
        };
        assert_eq!(e.to_api_error().kind, "ConditionalCheckFailedException");
        let e = EngineError::Service {
            kind: "WeirdException".into(),
            message: "odd".into(),
        };
        let api = e.to_api_error();
        assert_eq!(api.kind, "InternalServerError");
        assert!(api.message.contains("WeirdException"), "{}", api.message);
        assert_eq!(
            EngineError::Transport("down".into()).to_api_error().kind,
            "ServiceUnavailable"
        );
    }
}
