//! One keep-alive HTTP/1.1 connection speaking DynamoDB's JSON 1.0 protocol.
//!
//! Every request carries `X-Amz-Target: DynamoDB_20120810.<Operation>`,
//! `Content-Type: application/x-amz-json-1.0`, an `X-Amz-Date` and a fixed, well-formed but
//! dummy SigV4 `Authorization` header ([`AUTHORIZATION`]): DynamoDB Local and dynalite refuse a
//! request without one but verify no signature, and tarn verifies signatures only when started
//! with credentials, which `bench/compare.sh` does not give it. Nothing is signed, so the
//! generator spends no time on SigV4 (real SDK clients do).

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// The dummy SigV4 header every request carries (access key `loadgen`, region `us-east-1`).
pub const AUTHORIZATION: &str =
    "AWS4-HMAC-SHA256 Credential=loadgen/20240101/us-east-1/dynamodb/aws4_request, \
     SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
     Signature=0000000000000000000000000000000000000000000000000000000000000000";
/// The `X-Amz-Date` matching [`AUTHORIZATION`]'s credential scope.
pub const AMZ_DATE: &str = "20240101T000000Z";
/// `X-Amz-Target` prefix of DynamoDB operations.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";

/// A DynamoDB endpoint: where to connect and the `Host` header to send.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The socket address.
    pub addr: SocketAddr,
    /// `host:port`, as the `Host` header.
    pub host: String,
}

impl Endpoint {
    /// Parses `http://host:port[/]` (or bare `host:port`) and resolves it.
    pub fn parse(url: &str) -> Result<Self> {
        let rest = url.strip_prefix("http://").unwrap_or(url);
        if url.starts_with("https://") {
            bail!("{url}: only plain http endpoints are supported");
        }
        let host = rest.trim_end_matches('/').to_string();
        if host.contains('/') {
            bail!("{url}: give the endpoint without a path");
        }
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&host)
            .with_context(|| format!("resolving {host}"))?
            .next()
            .with_context(|| format!("{host} resolves to no address"))?;
        Ok(Endpoint { addr, host })
    }
}

/// One open connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Connection {
    /// Opens a connection to `endpoint` (TCP_NODELAY, HTTP/1.1 keep-alive).
    pub async fn open(endpoint: &Endpoint) -> Result<Self> {
        let stream = tokio::net::TcpStream::connect(endpoint.addr)
            .await
            .with_context(|| format!("connecting to {}", endpoint.host))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Connection {
            sender,
            host: endpoint.host.clone(),
        })
    }

    /// Sends `operation` with `body`; answers the status and the whole response body.
    pub async fn call(&mut self, operation: &str, body: String) -> Result<(u16, Bytes)> {
        let req = hyper::Request::post("/")
            .header("host", &self.host)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("{TARGET_PREFIX}{operation}"))
            .header("x-amz-date", AMZ_DATE)
            .header("authorization", AUTHORIZATION)
            .body(Full::new(Bytes::from(body)))?;
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Sends `operation` and parses a 200 answer as JSON; any other status is an error carrying
    /// the body (DynamoDB's `__type` and message).
    pub async fn call_ok(&mut self, operation: &str, body: String) -> Result<serde_json::Value> {
        let (status, bytes) = self.call(operation, body).await?;
        if status != 200 {
            bail!(
                "{operation} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        serde_json::from_slice(&bytes).with_context(|| format!("{operation}: answer is not JSON"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_with_or_without_scheme() {
        let e = Endpoint::parse("http://127.0.0.1:8000/").unwrap();
        assert_eq!(e.addr.port(), 8000);
        assert_eq!(e.host, "127.0.0.1:8000");
        assert_eq!(Endpoint::parse("127.0.0.1:9").unwrap().addr.port(), 9);
        assert!(Endpoint::parse("https://127.0.0.1:1").is_err());
        assert!(Endpoint::parse("http://127.0.0.1:1/x").is_err());
    }
}
