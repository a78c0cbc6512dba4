//! A small DynamoDB client for the CLI's data commands (backup, pitr, export, import): JSON 1.0
//! requests with `X-Amz-Target` over hyper to a running tarn (or any DynamoDB endpoint), signed
//! with SigV4 when credentials are in the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`), as a server with `--credentials-file` requires.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The endpoint could not be reached or answered nonsense.
    #[error("{0}")]
    Transport(String),
    /// DynamoDB's error answer: the exception name and its message.
    #[error("{kind}: {message}")]
    Service {
        /// The exception name (`ResourceNotFoundException`...).
        kind: String,
        /// Its message.
        message: String,
    },
}

/// Where the server is, and how to talk to it.
#[derive(Debug, Clone, clap::Args)]
pub struct Endpoint {
    /// The DynamoDB endpoint of the server.
    #[arg(long, default_value = "http://127.0.0.1:8000", env = "TARN_ENDPOINT")]
    pub endpoint: String,
}

impl Endpoint {
    /// Calls `operation` (`CreateBackup`...) with `body`; the answer's JSON.
    pub async fn call(&self, operation: &str, body: &Value) -> Result<Value, ClientError> {
        let transport = |what: &str| {
            let what = what.to_string();
            move |e: &dyn std::fmt::Display| ClientError::Transport(format!("{what}: {e}"))
        };
        let uri: http::Uri = self
            .endpoint
            .parse()
            .map_err(|e: http::uri::InvalidUri| transport("bad --endpoint")(&e))?;
        let host = uri
            .host()
            .ok_or_else(|| ClientError::Transport("--endpoint has no host".into()))?
            .to_string();
        let port = uri.port_u16().unwrap_or(80);
        let payload = body.to_string();
        let mut req = http::Request::builder()
            .method("POST")
            .uri("/")
            .header("host", format!("{host}:{port}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
            .body(Full::new(Bytes::from(payload.clone())))
            .map_err(|e| transport("building the request")(&e))?;
        sign_request(&mut req, &self.endpoint, payload.as_bytes())?;
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| transport(&format!("connecting to {}", self.endpoint))(&e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| transport("HTTP handshake")(&e))?;
        tokio::spawn(conn);
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| transport("sending the request")(&e))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| transport("reading the answer")(&e))?
            .to_bytes();
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|e| transport("the answer is not JSON")(&e))?;
        if status.is_success() {
            return Ok(v);
        }
        let (kind, message) = tarn_wire::read_error_body(&v);
        let kind = kind.unwrap_or_else(|| format!("HTTP {status}"));
        Err(ClientError::Service { kind, message })
    }
}

/// Signs `req` with SigV4 when AWS credentials are in the environment.
fn sign_request(
    req: &mut http::Request<Full<Bytes>>,
    endpoint: &str,
    body: &[u8],
) -> Result<(), ClientError> {
    let (Ok(akid), Ok(secret)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) else {
        return Ok(());
    };
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into());
    let credentials = aws_credential_types::Credentials::new(akid, secret, None, None, "env");
    let url = format!("{}/", endpoint.trim_end_matches('/'));
    crate::signing::sign_post(req, &url, body, credentials, &region).map_err(ClientError::Transport)
}
