//! HTTP servers: the DynamoDB JSON 1.0 endpoint (see [`dynamodb`]).
//!
//! [`serve`] runs an accept loop over a bound listener with hyper's HTTP/1.1 and HTTP/2
//! (auto-detected), hands each request to a handler, and shuts down gracefully: when the
//! shutdown future completes it stops accepting and waits for in-flight connections to finish
//! their current requests (up to [`SHUTDOWN_GRACE`]).

pub mod dynamodb;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

pub use dynamodb::DynamoDbService;

/// How long shutdown waits for in-flight requests before dropping connections.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Something that answers HTTP requests (one per server kind: DynamoDB, function routes...).
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. Errors are answered as HTTP responses, never returned.
    fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> impl Future<Output = Response<Full<Bytes>>> + Send;
}

/// Serves `handler` on `listener` until `shutdown` completes, then stops accepting and waits
/// (up to [`SHUTDOWN_GRACE`]) for in-flight requests to finish.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and similar: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler.handle(req, peer).await) }
                });
                let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection closed with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!(connections = graceful.count(), "shutting down: finishing in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::debug!("all connections closed"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("in-flight requests still running after {SHUTDOWN_GRACE:?}; closing anyway");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::{json, Value};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;

    use super::*;
    use crate::api::Api;

    /// A minimal HTTP/1.1 answer: status, lower-cased headers, body.
    struct Answer {
        status: u16,
        headers: HashMap<String, String>,
        body: Vec<u8>,
    }

    impl Answer {
        fn json(&self) -> Value {
            serde_json::from_slice(&self.body).expect("JSON body")
        }
    }

    /// Sends one request over a fresh connection (`Connection: close`) and reads the answer.
    async fn send(addr: SocketAddr, method: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut req = format!("{method} / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Answer { status, headers, body: raw[split + 4..].to_vec() }
    }

    async fn post(addr: SocketAddr, target: Option<&str>, body: &str) -> Answer {
        let mut headers = vec![("Content-Type", "application/x-amz-json-1.0")];
        if let Some(t) = target {
            headers.push(("X-Amz-Target", t));
        }
        send(addr, "POST", &headers, body.as_bytes()).await
    }

    /// Starts the DynamoDB endpoint over a fresh store on an ephemeral port.
    async fn start_dynamodb() -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = tarn_store::Store::open(dir.path()).unwrap();
        let service = Arc::new(DynamoDbService::new(Api::new(Arc::new(store))));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(listener, service, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        (addr, tx, task, dir)
    }

    #[tokio::test]
    async fn dynamodb_protocol_edges() {
        let (addr, stop, task, _dir) = start_dynamodb().await;

        let health = send(addr, "GET", &[], b"").await;
        assert_eq!(health.status, 200);
        assert!(health.body.starts_with(b"healthy"));

        let bad = post(addr, Some("DynamoDB_20120810.ListTables"), "{not json").await;
        assert_eq!(bad.status, 400);
        assert_eq!(bad.json(), json!({"__type": "com.amazon.coral.service#SerializationException"}));
        assert_eq!(bad.headers["content-type"], "application/x-amz-json-1.0");
        assert_eq!(bad.headers["x-amz-crc32"], crc32fast::hash(&bad.body).to_string());
        assert_eq!(bad.headers["x-amzn-requestid"].len(), 36);

        let not_object = post(addr, Some("DynamoDB_20120810.ListTables"), "[1]").await;
        assert_eq!(not_object.json()["__type"], "com.amazon.coral.service#SerializationException");

        let no_target = post(addr, None, "{}").await;
        assert_eq!(no_target.status, 400);
        assert_eq!(no_target.json(), json!({"__type": "com.amazon.coral.service#UnknownOperationException"}));

        let foreign = post(addr, Some("Kinesis_20131202.ListStreams"), "{}").await;
        assert_eq!(foreign.json()["__type"], "com.amazon.coral.service#UnknownOperationException");

        let made_up = post(addr, Some("DynamoDB_20120810.MakeCoffee"), "{}").await;
        assert_eq!(made_up.status, 400);
        assert!(made_up.json()["__type"].as_str().unwrap().ends_with("#UnknownOperationException"));

        // Whatever ListTables answers (it is the API's business), it is framed as DynamoDB frames it.
        let list = post(addr, Some("DynamoDB_20120810.ListTables"), "").await;
        assert!(list.status == 200 || list.status == 400, "{}", list.status);
        assert_eq!(list.headers["x-amz-crc32"], crc32fast::hash(&list.body).to_string());
        let _ = list.json();

        let ids: std::collections::HashSet<_> =
            [&bad, &no_target, &list].iter().map(|a| a.headers["x-amzn-requestid"].clone()).collect();
        assert_eq!(ids.len(), 3, "request ids are unique");

        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let (addr, stop, task, _dir) = start_dynamodb().await;
        // Declared too large: refused before the body is read.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n\
             Content-Length: {}\r\n\r\n",
            dynamodb::MAX_REQUEST_BYTES + 1
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 400"), "{text}");
        assert!(text.contains("ValidationException"), "{text}");
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    /// Answers after a delay, to observe graceful shutdown.
    struct Slow;

    impl Handler for Slow {
        async fn handle(&self, _req: Request<Incoming>, _peer: SocketAddr) -> Response<Full<Bytes>> {
            tokio::time::sleep(Duration::from_millis(300)).await;
            Response::new(Full::new(Bytes::from_static(b"done")))
        }
    }

    #[tokio::test]
    async fn shutdown_finishes_in_flight_requests() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, Arc::new(Slow), async {
            let _ = rx.await;
        }));
        let in_flight = tokio::spawn(send(addr, "POST", &[], b"{}"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        tx.send(()).unwrap();
        let answer = in_flight.await.unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, b"done");
        tokio::time::timeout(Duration::from_secs(5), server).await.expect("server stopped").unwrap().unwrap();
        // No longer accepting.
        assert!(TcpStream::connect(addr).await.is_err());
    }
}
