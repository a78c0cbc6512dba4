//! HTTP servers: the DynamoDB JSON 1.0 endpoint (see [`dynamodb`]) and, through the same accept
//! loop, the function and admin ports ([`crate::deploy::ports`]).
//!
//! [`serve`] runs an accept loop over a bound listener with hyper's HTTP/1.1 and HTTP/2
//! (auto-detected), hands each request to a [`Handler`], and shuts down gracefully: when the
//! shutdown future completes it stops accepting and waits for in-flight connections to finish
//! their current requests (up to [`SHUTDOWN_GRACE`]).
//!
//! Every connection runs under [`ConnectionLimits`], so that no client can hold the server:
//! at most `max_connections` at once (the loop stops accepting until one closes; the kernel's
//! backlog holds the rest), request headers of at most `max_header_bytes` (HTTP/1 answers 431)
//! arriving within `header_read_timeout`, and a connection with nothing in flight and no bytes
//! moving for `idle_timeout` is closed (HTTP/1 keep-alive connections waiting for their next
//! request fall under the header timeout first). HTTP/2 connections carry at most
//! `max_streams` concurrent requests and are pinged to detect dead peers.

pub mod dynamodb;
pub mod encoding;
pub mod sigv4;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

pub use dynamodb::DynamoDbService;

/// How long shutdown waits for in-flight requests before dropping connections.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What one listener allows each client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (HTTP/1; also how long a
    /// keep-alive connection may wait for its next request).
    pub header_read_timeout: Duration,
    /// A connection with no request in flight and no bytes moving for this long is closed.
    pub idle_timeout: Duration,
    /// Largest request head (request line and headers) in bytes; at least 8192.
    pub max_header_bytes: usize,
    /// Most concurrent requests (streams) on one HTTP/2 connection.
    pub max_streams: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_header_bytes: 64 * 1024,
            max_streams: 128,
        }
    }
}

impl ConnectionLimits {
    /// A hyper connection builder (HTTP/1.1 and HTTP/2) applying these limits.
    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            // The request-head timeout is the connection's watchdog's (`Activity::watch`):
            // hyper's would arm a timer for every request.
            .header_read_timeout(None)
            // The read buffer bounds the request head: a longer one is answered 431.
            .max_buf_size(self.max_header_bytes.max(8192));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(self.max_header_bytes.min(u32::MAX as usize) as u32)
            .max_concurrent_streams(self.max_streams)
            .keep_alive_interval(Duration::from_secs(20))
            .keep_alive_timeout(Duration::from_secs(20));
        builder
    }
}

/// Something that answers HTTP requests (one per server kind: DynamoDB, function routes...).
pub trait Handler: Send + Sync + 'static {
    /// The response body type.
    type Body: Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + Unpin
        + 'static;

    /// Answers one request. Errors are answered as HTTP responses, never returned.
    fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Response<Self::Body>> + Send;
}

/// Serves `handler` on `listener` with the default [`ConnectionLimits`] until `shutdown`
/// completes, then stops accepting and waits (up to [`SHUTDOWN_GRACE`]) for in-flight requests
/// to finish.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(
        listener,
        handler,
        ConnectionLimits::default(),
        shutdown,
        SHUTDOWN_GRACE,
    )
    .await
}

/// [`serve`] with explicit limits and shutdown grace.
pub async fn serve_with<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    let builder = Arc::new(limits.builder());
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free connection slot first: at the limit, stop accepting until a connection ends.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
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
                let builder = builder.clone();
                let stop = stop_rx.clone();
                conns.spawn(async move {
                    serve_connection(stream, peer, handler, &builder, limits, stop).await;
                    drop(permit);
                });
                while conns.try_join_next().is_some() {}
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!(
        connections = conns.len(),
        "shutting down: finishing in-flight requests"
    );
    stop_tx.send_replace(true);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drain).await.is_err() {
        tracing::warn!("in-flight requests still running after {grace:?}; closing anyway");
        conns.abort_all();
    } else {
        tracing::debug!("all connections closed");
    }
    Ok(())
}

/// Serves one connection until the client closes it, it idles out, or `stop` flips (then its
/// in-flight requests finish first).
async fn serve_connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<H>,
    builder: &auto::Builder<TokioExecutor>,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(ActivityIo {
        inner: stream,
        activity: activity.clone(),
        opened: false,
    });
    let tracked = activity.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        let guard = InFlight::start(tracked.clone());
        async move {
            let resp = handler.handle(req, peer).await;
            Ok::<_, Infallible>(resp.map(|body| TrackedBody {
                inner: body,
                _guard: guard,
            }))
        }
    });
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let why = tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection closed with an error");
            }
            return;
        }
        r = stop.wait_for(|s| *s) => if r.is_ok() { "shutting down" } else { return },
        why = activity.watch(limits.idle_timeout, limits.header_read_timeout) => why,
    };
    tracing::debug!(%peer, why, "closing connection");
    if why == NO_HEAD_IN_TIME {
        // Nothing is in flight, and a graceful shutdown would wait for the head being read
        // (or for the bytes that tell HTTP/1 from HTTP/2): drop the connection, as hyper's
        // own header timeout does.
        return;
    }
    // Finish the requests in flight on this connection (HTTP/2: GOAWAY), then close it.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Why [`Activity::watch`] closes an HTTP/1 connection whose next request head did not arrive
/// within the limit.
const NO_HEAD_IN_TIME: &str = "no request head in time";

/// Whether a connection moved bytes lately, how many of its requests are in flight and how
/// many have started: what its watchdog ([`Activity::watch`]) looks at.
///
/// The I/O path only raises a flag (no clock read per read or write: a GetItem moves bytes
/// four times), and a request bumps a counter; the watchdog looks every quarter of the
/// shorter timeout (at most every second) and counts the quiet looks, so a timeout fires
/// between one timeout and one look after it.
struct Activity {
    moved: AtomicBool,
    in_flight: AtomicUsize,
    started: AtomicUsize,
    /// The client opened with HTTP/2's preface (its requests' heads have no read timeout:
    /// HTTP/2 frames them and pings dead peers).
    http2: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            moved: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            http2: AtomicBool::new(false),
        }
    }

    fn touch(&self) {
        // A plain load first: the flag's cache line is written once per watchdog look, not
        // once per read or write.
        if !self.moved.load(Ordering::Relaxed) {
            self.moved.store(true, Ordering::Relaxed);
        }
    }

    /// Completes, saying why, once the connection should close: nothing in flight and no
    /// byte moved for `idle_timeout` ("idle"), or, on HTTP/1, no request started for
    /// `header_read_timeout` since the connection opened or its last request ended (a client
    /// that sends no request head, or sends one too slowly, or a keep-alive connection left
    /// unused: "no request head in time").
    ///
    /// The request-head timeout is kept here, once per connection, rather than by hyper's
    /// `header_read_timeout`, which arms a timer for every request.
    async fn watch(&self, idle_timeout: Duration, header_read_timeout: Duration) -> &'static str {
        let check = (idle_timeout.min(header_read_timeout) / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut quiet = Duration::ZERO;
        let mut waiting = Duration::ZERO;
        let mut seen = 0;
        loop {
            tokio::time::sleep(check).await;
            let busy = self.in_flight.load(Ordering::Relaxed) > 0;
            let started = self.started.load(Ordering::Relaxed);
            if busy || started != seen {
                waiting = Duration::ZERO;
                seen = started;
            } else {
                waiting += check;
            }
            if self.moved.swap(false, Ordering::Relaxed) || busy {
                quiet = Duration::ZERO;
            } else {
                quiet += check;
            }
            if quiet >= idle_timeout {
                return "idle";
            }
            if waiting >= header_read_timeout && !self.http2.load(Ordering::Relaxed) {
                return NO_HEAD_IN_TIME;
            }
        }
    }
}

/// One request in flight, from its arrival until its response body is dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.started.fetch_add(1, Ordering::Relaxed);
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.touch();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its request counted in flight until it is dropped (sent, or
/// abandoned by a client that went away), so a long response that moves no bytes for a while
/// (`tarn logs -f`) is not taken for an idle connection.
///
/// The one hand-written `Body` adapter in tarn, kept on purpose: its job is to own a guard for
/// exactly the body's lifetime, which none of http-body-util's combinators expresses. It
/// forwards every call, `size_hint` included (hyper sets `Content-Length` from an exact hint;
/// `BodyExt::map_frame` would drop it and turn every answer chunked); a capturing
/// `inspect_frame` closure would work but hide what it is for.
struct TrackedBody<B> {
    inner: B,
    _guard: InFlight,
}

impl<B: Body + Unpin> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A stream that records when bytes move through it.
struct ActivityIo<T> {
    inner: T,
    activity: Arc<Activity>,
    /// Whether the first bytes were read (and looked at for HTTP/2's preface).
    opened: bool,
}

impl<T: AsyncRead + Unpin> AsyncRead for ActivityIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            if !self.opened {
                self.opened = true;
                if buf.filled()[before..].starts_with(b"PRI ") {
                    self.activity.http2.store(true, Ordering::Relaxed);
                }
            }
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ActivityIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use http_body_util::Full;

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
        let mut req = format!(
            "{method} / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("end of headers");
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Answer {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }

    async fn post(addr: SocketAddr, target: Option<&str>, body: &str) -> Answer {
        let mut headers = vec![("Content-Type", "application/x-amz-json-1.0")];
        if let Some(t) = target {
            headers.push(("X-Amz-Target", t));
        }
        send(addr, "POST", &headers, body.as_bytes()).await
    }

    /// Starts the DynamoDB endpoint over a fresh store on an ephemeral port.
    async fn start_dynamodb() -> (
        SocketAddr,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
        tempfile::TempDir,
    ) {
        start_dynamodb_with(ConnectionLimits::default(), dynamodb::BODY_READ_TIMEOUT).await
    }

    /// Starts the DynamoDB endpoint with explicit limits.
    async fn start_dynamodb_with(
        limits: ConnectionLimits,
        body_timeout: Duration,
    ) -> (
        SocketAddr,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
        tempfile::TempDir,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = tarn_store::Store::open(dir.path()).unwrap();
        let service = Arc::new(
            DynamoDbService::new(Api::new(Arc::new(store))).with_body_timeout(body_timeout),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve_with(
                listener,
                service,
                limits,
                async {
                    let _ = rx.await;
                },
                SHUTDOWN_GRACE,
            )
            .await
            .unwrap();
        });
        (addr, tx, task, dir)
    }

    /// Reads until the peer closes (or `within` passes: None then).
    async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
        let mut raw = Vec::new();
        let done = tokio::time::timeout(within, stream.read_to_end(&mut raw)).await;
        done.ok().map(|_| raw)
    }

    #[tokio::test]
    async fn connections_beyond_the_limit_wait_for_a_free_slot() {
        let limits = ConnectionLimits {
            max_connections: 2,
            ..Default::default()
        };
        let (addr, stop, task, _dir) = start_dynamodb_with(limits, Duration::from_secs(5)).await;
        // Two idle connections take both slots.
        let mut a = TcpStream::connect(addr).await.unwrap();
        let _b = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // A third is not served while they are open...
        let third = tokio::spawn(send(addr, "GET", &[], b""));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!third.is_finished(), "served beyond the connection limit");
        // ...and is as soon as one closes.
        a.shutdown().await.unwrap();
        drop(a);
        let answer = tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .expect("served once a slot freed")
            .unwrap();
        assert_eq!(answer.status, 200);
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn idle_and_slow_clients_are_cut_off() {
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(300),
            ..Default::default()
        };
        let (addr, stop, task, _dir) =
            start_dynamodb_with(limits, Duration::from_millis(300)).await;

        // Connected, silent: closed.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        assert!(read_until_closed(&mut idle, Duration::from_secs(5))
            .await
            .is_some());

        // Headers trickled byte by byte, never finished: closed.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        let started = std::time::Instant::now();
        for b in b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar" {
            if slow.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            if started.elapsed() > Duration::from_secs(3) {
                panic!("a trickling client kept its connection");
            }
        }
        let _ = read_until_closed(&mut slow, Duration::from_secs(5)).await;
        assert!(started.elapsed() < Duration::from_secs(4));

        // Headers complete, body never finished: an error answer, not a hung request.
        let mut stalled = TcpStream::connect(addr).await.unwrap();
        stalled
            .write_all(
                b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n\
                  Content-Length: 100\r\n\r\n{\"Li",
            )
            .await
            .unwrap();
        let raw = read_until_closed(&mut stalled, Duration::from_secs(5))
            .await
            .expect("answered");
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 400"), "{text}");
        assert!(text.contains("not received within"), "{text}");

        // A keep-alive connection is closed once idle after its answer.
        let mut kept = TcpStream::connect(addr).await.unwrap();
        kept.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let raw = read_until_closed(&mut kept, Duration::from_secs(5))
            .await
            .expect("closed after idling");
        assert!(String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 200"));

        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn the_request_head_timeout_holds_without_the_idle_timeout() {
        // The idle timeout far away: only the request-head timeout can close these.
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_secs(60),
            ..Default::default()
        };
        let (addr, stop, task, _dir) =
            start_dynamodb_with(limits, Duration::from_millis(300)).await;

        // A head trickled a byte every 50 ms moves bytes all along, but never ends: closed.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        let started = std::time::Instant::now();
        for b in b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTa" {
            if slow.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = read_until_closed(&mut slow, Duration::from_secs(5)).await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "closed after {took:?}");

        // A keep-alive connection whose requests keep coming stays open past the timeout.
        let mut busy = TcpStream::connect(addr).await.unwrap();
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_millis(1200) {
            busy.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("still open");
            // The whole answer (it ends with the health line), before the next request.
            let mut answer = Vec::new();
            while !answer.ends_with(b"healthy: x") {
                let mut buf = [0u8; 1024];
                let n = tokio::time::timeout(Duration::from_secs(5), busy.read(&mut buf))
                    .await
                    .expect("answered")
                    .unwrap();
                assert!(n > 0, "closed while in use");
                answer.extend_from_slice(&buf[..n]);
            }
            assert!(answer.starts_with(b"HTTP/1.1 200"));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Then left unused, it is closed.
        let started = std::time::Instant::now();
        assert!(read_until_closed(&mut busy, Duration::from_secs(5))
            .await
            .is_some());
        assert!(started.elapsed() < Duration::from_secs(2));

        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn oversized_headers_are_refused() {
        let (addr, stop, task, _dir) = start_dynamodb().await;
        let big = "x".repeat(ConnectionLimits::default().max_header_bytes + 1024);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let req =
            format!("POST / HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nContent-Length: 2\r\n\r\n{{}}");
        let _ = stream.write_all(req.as_bytes()).await;
        let raw = read_until_closed(&mut stream, Duration::from_secs(5))
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 431"), "{text}");
        // Many headers: refused too.
        let mut many = String::from("POST / HTTP/1.1\r\nHost: x\r\n");
        for i in 0..200 {
            many.push_str(&format!("X-H{i}: v\r\n"));
        }
        many.push_str("Content-Length: 2\r\n\r\n{}");
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let _ = stream.write_all(many.as_bytes()).await;
        let raw = read_until_closed(&mut stream, Duration::from_secs(5))
            .await
            .unwrap_or_default();
        assert!(String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 431"));
        // The server still answers.
        assert_eq!(send(addr, "GET", &[], b"").await.status, 200);
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn dynamodb_protocol_edges() {
        let (addr, stop, task, _dir) = start_dynamodb().await;

        let health = send(addr, "GET", &[], b"").await;
        assert_eq!(health.status, 200);
        assert!(health.body.starts_with(b"healthy"));

        let bad = post(addr, Some("DynamoDB_20120810.ListTables"), "{not json").await;
        assert_eq!(bad.status, 400);
        assert_eq!(
            bad.json(),
            json!({"__type": "com.amazon.coral.service#SerializationException"})
        );
        assert_eq!(bad.headers["content-type"], "application/x-amz-json-1.0");
        assert_eq!(
            bad.headers["x-amz-crc32"],
            crc32fast::hash(&bad.body).to_string()
        );
        assert_eq!(bad.headers["x-amzn-requestid"].len(), 36);

        let not_object = post(addr, Some("DynamoDB_20120810.ListTables"), "[1]").await;
        assert_eq!(
            not_object.json()["__type"],
            "com.amazon.coral.service#SerializationException"
        );

        let no_target = post(addr, None, "{}").await;
        assert_eq!(no_target.status, 400);
        assert_eq!(
            no_target.json(),
            json!({"__type": "com.amazon.coral.service#UnknownOperationException",
                   "message": "Unknown operation: the request has no X-Amz-Target header"})
        );

        let foreign = post(addr, Some("Kinesis_20131202.ListStreams"), "{}").await;
        assert_eq!(
            foreign.json()["__type"],
            "com.amazon.coral.service#UnknownOperationException"
        );

        let made_up = post(addr, Some("DynamoDB_20120810.MakeCoffee"), "{}").await;
        assert_eq!(made_up.status, 400);
        assert!(made_up.json()["__type"]
            .as_str()
            .unwrap()
            .ends_with("#UnknownOperationException"));
        assert_eq!(made_up.json()["message"], "Unknown operation: MakeCoffee");

        // Whatever ListTables answers (it is the API's business), it is framed as DynamoDB frames it.
        let list = post(addr, Some("DynamoDB_20120810.ListTables"), "").await;
        assert!(list.status == 200 || list.status == 400, "{}", list.status);
        assert_eq!(
            list.headers["x-amz-crc32"],
            crc32fast::hash(&list.body).to_string()
        );
        let _ = list.json();

        let ids: std::collections::HashSet<_> = [&bad, &no_target, &list]
            .iter()
            .map(|a| a.headers["x-amzn-requestid"].clone())
            .collect();
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
        // DynamoDB's status for a body over its limit: 413 Payload Too Large.
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
        assert!(text.contains("ValidationException"), "{text}");
        stop.send(()).unwrap();
        task.await.unwrap();
    }

    /// Answers after a delay, to observe graceful shutdown.
    struct Slow;

    impl Handler for Slow {
        type Body = Full<Bytes>;

        async fn handle(
            &self,
            _req: Request<Incoming>,
            _peer: SocketAddr,
        ) -> Response<Full<Bytes>> {
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
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("server stopped")
            .unwrap()
            .unwrap();
        // No longer accepting.
        assert!(TcpStream::connect(addr).await.is_err());
    }
}
