//! # tarn-host: the wasm host
//!
//! tarn runs functions as WebAssembly components under wasmtime: one [`Engine`](wasmtime::Engine)
//! for the process, one pre-instantiated component per function version, and a fresh
//! [`Store`](wasmtime::Store) per invocation. A guest that traps, runs past its timeout or grows
//! past its memory limit fails that one invocation with an [`InvocationError`]; nothing else is
//! affected.
//!
//! One module per job:
//!
//! - [`engine`]: the engine and every setting it is built with, the linker (which imports a
//!   guest may use), the epoch ticker behind timeouts;
//! - [`function`]: a loaded function: the component's handler kind, its `InstancePre`, its
//!   manifest settings and limits, its counters ([`metrics`]);
//! - [`invoke`]: invocation: admission under `max_concurrency`, a fresh store ([`state`]), the one
//!   instantiate-and-call path every trigger goes through, limits, metrics and captured output;
//!   [`http`] adds what an HTTP request needs (its body and the streamed response);
//! - the imports, one interface's host side in one place: [`tables`] (`tarn:function/tables`,
//!   with the grants check) and [`log`] (`tarn:function/log`, and the log ring guests' output
//!   goes to); [`bindings`] holds what bindgen generates from `guest-sdk/wit`;
//! - [`reuse`]: instances kept between requests for functions that opt in (`reuse = N`);
//! - [`limits`] (memory, time), [`cache`] (compiled code on disk) and [`error`].
//!
//! The host knows nothing of the DynamoDB API behind the `tables` import: it calls a
//! [`TableAccess`] the embedding server implements (tarn's runtime, with its API handlers). That
//! seam is why the host is a crate of its own: it builds and is tested without the server, the
//! server sees only [`Host`], [`LoadedFunction`] and the invoke methods, and wasmtime's generated
//! bindings are expanded once here instead of on every change to the server.

mod answer;
pub mod bindings;
pub mod cache;
pub mod engine;
pub mod error;
pub mod function;
pub mod http;
pub mod invoke;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod reuse;
pub mod state;
pub mod tables;

use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime::Engine;

pub use engine::HostConfig;
pub use error::{HostError, InvocationError};
pub use function::{FunctionKind, FunctionSpec, LoadedFunction};
pub use log::LogSink;
pub use metrics::{FunctionMetrics, InvocationObserver, MetricsSnapshot};
pub use state::InvocationState;
pub use tables::{Access, Grants, TableAccess, TableError, TableOp};

/// The process's wasm host. Cheap to clone.
///
/// `A` is what the `tables` import calls: the server's DynamoDB API.
pub struct Host<A> {
    inner: Arc<HostInner<A>>,
}

impl<A> Clone for Host<A> {
    fn clone(&self) -> Self {
        Host {
            inner: self.inner.clone(),
        }
    }
}

struct HostInner<A> {
    engine: Engine,
    linker: Linker<InvocationState>,
    cache: cache::CompileCache,
    api: Arc<A>,
    logs: LogSink,
    max_memory_bytes: usize,
    observer: Option<Arc<dyn metrics::InvocationObserver>>,
    /// The budget of idle reused instances, host-wide ([`reuse`]).
    idle_slots: reuse::IdleSlots,
    _ticker: engine::EpochTicker,
}

impl<A: TableAccess> Host<A> {
    /// Builds the engine and linker. `api` answers the guests' `tables` calls; `logs` receives
    /// their output.
    pub fn new(config: HostConfig, api: A, logs: LogSink) -> Result<Self, HostError> {
        let engine = engine::new_engine(&config)?;
        let linker = engine::new_linker(&engine)?;
        let cache = cache::CompileCache::new(&config.cache_dir)?;
        let ticker = engine::EpochTicker::start(engine.clone());
        let idle_slots = engine::idle_instances(&config) as usize;
        Ok(Host {
            inner: Arc::new(HostInner {
                engine,
                linker,
                cache,
                api: Arc::new(api),
                logs,
                max_memory_bytes: config.max_memory_bytes,
                observer: config.observer,
                idle_slots: Arc::new(tokio::sync::Semaphore::new(idle_slots)),
                _ticker: ticker,
            }),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The log sink every invocation writes to.
    pub fn logs(&self) -> &LogSink {
        &self.inner.logs
    }

    /// The API the `tables` import calls (what the host was built with).
    pub fn api(&self) -> &A {
        &self.inner.api
    }
}

/// A new request id: 32 hex digits, as Lambda's are uuids.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
