//! The two ports of the function side and what each serves: the function port
//! ([`DEFAULT_LISTEN`], 127.0.0.1:8080 by default) hands requests to the HTTP trigger
//! ([`crate::triggers::http`]) with the active version's routes and functions; the admin port
//! ([`DEFAULT_ADMIN_LISTEN`], 127.0.0.1:8081) serves the admin API ([`super::admin`]) and
//! `GET /metrics` ([`crate::metrics::endpoint`]).
//!
//! Paths under `/_tarn/` are reserved: never routed to functions. On the function port they
//! answer 404, but for `GET /_tarn/health` (a liveness probe that reveals nothing but the active
//! version number and whether the store takes writes); the admin API is served on the admin port only, so exposing the function
//! port never exposes deploy, rollback, invoke or logs. Each request holds the app version it
//! started on, so a reload or deploy never interrupts it.
//!
//! The admin port may also serve pages of a layer above deploy (the console, under
//! `/console/`): [`AdminPages`] is how that layer plugs in without deploy knowing it.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::Runtime;
use crate::host::http::ResponseBody;
use crate::server::ConnectionLimits;
use crate::triggers::http::no_route;

/// The address the function server listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The address the admin API listens on by default.
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:8081";

/// Which of the function side's two ports a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// Function routes (and `GET /_tarn/health`).
    Functions,
    /// The admin API under `/_tarn/`.
    Admin,
}

/// A response still being computed, as [`AdminPages::handle`] returns it.
pub type PageFuture = Pin<Box<dyn Future<Output = hyper::Response<ResponseBody>> + Send>>;

/// Pages the admin port serves beside the admin API, supplied by a layer above deploy (the
/// console). Paths under `/_tarn/` always belong to the admin API.
pub trait AdminPages: Send + Sync + std::fmt::Debug + 'static {
    /// Whether a request for `path` is these pages' to answer.
    fn serves(&self, path: &str) -> bool;

    /// Answers one request whose path [`AdminPages::serves`] claimed.
    fn handle(&self, rt: Arc<Runtime>, req: hyper::Request<Incoming>) -> PageFuture;

    /// Called once, when the admin port listens on `addr`.
    fn listening(&self, _rt: &Runtime, _addr: SocketAddr) {}
}

/// Answers one request of `port`; `pages` are the admin port's extra pages, if any.
pub async fn handle_port(
    rt: Arc<Runtime>,
    port: Port,
    pages: Option<&Arc<dyn AdminPages>>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<ResponseBody> {
    let path = req.uri().path();
    let reserved = path == "/_tarn" || path.starts_with("/_tarn/");
    match port {
        Port::Admin if path == crate::metrics::endpoint::PATH => {
            super::admin::metrics(&rt, &req).await
        }
        Port::Admin if reserved => super::admin::handle(rt, req).await,
        Port::Admin => match pages.filter(|p| p.serves(path)) {
            Some(p) => p.handle(rt, req).await,
            None => no_route(path),
        },
        Port::Functions if path == "/_tarn/health" => super::admin::health(&rt).await,
        Port::Functions if reserved => no_route(path),
        Port::Functions => {
            // The version this request started on serves it to the end.
            let app = rt.current();
            crate::triggers::http::handle(rt.host(), &app.routes, &app.functions, req).await
        }
    }
}

/// One port of the function side, as a [`crate::server::Handler`].
struct PortHandler {
    rt: Arc<Runtime>,
    port: Port,
    pages: Option<Arc<dyn AdminPages>>,
}

impl crate::server::Handler for PortHandler {
    type Body = ResponseBody;

    async fn handle(
        &self,
        req: hyper::Request<Incoming>,
        _peer: SocketAddr,
    ) -> hyper::Response<ResponseBody> {
        handle_port(self.rt.clone(), self.port, self.pages.as_ref(), req).await
    }
}

/// Serves `port` of `rt` (with `pages` on the admin port) on `listener` under `limits` until
/// `shutdown` flips to true, then stops accepting, lets every open connection finish its
/// in-flight requests (up to `grace`), and returns.
pub async fn serve(
    listener: TcpListener,
    rt: Arc<Runtime>,
    port: Port,
    pages: Option<Arc<dyn AdminPages>>,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let pages = pages.filter(|_| port == Port::Admin);
    let handler = Arc::new(PortHandler { rt, port, pages });
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
    };
    if let Err(e) = crate::server::serve_with(listener, handler, limits, stop, grace).await {
        tracing::error!(?port, error = %e, "server failed");
    }
}
