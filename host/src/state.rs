//! The data of one invocation's [`Store`](wasmtime::Store): each import's context (WASI, wasi-http,
//! [`TablesCtx`], [`InvocationLog`]), the resource table they share, and the limits the store is
//! held to. The WASI views and the outgoing-HTTP policy are here too, since they only read and
//! write this state. The store itself is made, per invocation, in [`crate::invoke`].

use std::future::Future;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::limits::{Deadline, MemoryLimiter};
use crate::log::InvocationLog;
use crate::tables::TablesCtx;

/// The data of one invocation's `Store`.
pub struct InvocationState {
    /// WASI p2: environment, stdout/stderr capture, network grants.
    pub(crate) wasi: WasiCtx,
    /// wasi:http.
    pub(crate) http: WasiHttpCtx,
    /// Resources shared by WASI and wasi:http.
    pub(crate) table: ResourceTable,
    /// The outgoing-request policy.
    pub(crate) hooks: OutboundHttp,
    /// The memory limit.
    pub(crate) limiter: MemoryLimiter,
    /// The time limit, checked on each epoch tick.
    pub(crate) deadline: Deadline,
    /// The `tables` import.
    pub(crate) tables: TablesCtx,
    /// The `log` import and captured output.
    pub(crate) log: InvocationLog,
}

impl WasiView for InvocationState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InvocationState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// `wasi:http/outgoing-handler` policy: denied unless the function is granted `network`.
pub(crate) struct OutboundHttp {
    /// Whether the function may make outgoing requests.
    pub(crate) allowed: bool,
}

type OutgoingResult = wasmtime_wasi_http::Result<(
    ::http::Response<wasmtime_wasi_http::WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

impl wasmtime_wasi_http::WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: ::http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = OutgoingResult> + Send> {
        if !self.allowed {
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}
