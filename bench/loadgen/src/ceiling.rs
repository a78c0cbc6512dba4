//! The ceiling: a plain hyper server answering every request with a fixed body, driven by the
//! same generator, to show what HTTP alone costs on this machine.

use std::convert::Infallible;
use std::net::SocketAddr;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// The body every answer carries: an empty DynamoDB JSON object.
pub const BODY: &[u8] = b"{}";

/// Serves until the process is killed. Reads each request body in full (as a real server must)
/// and answers `200 application/x-amz-json-1.0` with [`BODY`].
pub async fn serve(addr: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    eprintln!(
        "loadgen ceiling: listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true).ok();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(
                |req: hyper::Request<hyper::body::Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .header("content-type", "application/x-amz-json-1.0")
                            .body(Full::new(Bytes::from_static(BODY)))
                            .expect("valid response"),
                    )
                },
            );
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
