//! The wasm host: one wasmtime [`Engine`] for the process, one pre-instantiated component
//! ([`InstancePre`](wasmtime::component::InstancePre)) per function version, and a fresh
//! [`Store`] per invocation.
//!
//! Every engine setting is chosen here, with the reason next to it. The rest of tarn sees
//! [`Host::load`] (wasm bytes + manifest settings -> a [`LoadedFunction`]) and the invocation
//! entry points ([`Host::invoke_http`] in [`http`], [`Host::invoke_stream`],
//! [`Host::invoke_schedule`]). A guest that traps, runs past its timeout or grows past its memory
//! limit fails that one invocation with an [`InvocationError`]; nothing else is affected.

pub mod cache;
pub mod http;
pub mod limits;
pub mod log;
pub mod tables;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::Instrument;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Store,
    UpdateDeadline,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use self::limits::{Deadline, FunctionLimits, MemoryLimiter, Timeout, EPOCH_TICK};
use self::log::{CapturedOutput, InvocationLog, LogBudget, LogSink, LogStream};
use self::tables::{Grants, TableOp};
use crate::api::Api;

/// Bindings generated from `guest-sdk/wit`, the one contract shared with guests.
pub mod bindings {
    /// The `stream-handler` world; also provides the `tables`, `log` and `types` imports every
    /// world shares.
    pub mod stream {
        wasmtime::component::bindgen!({
            path: "../guest-sdk/wit",
            world: "tarn:function/stream-handler",
            imports: { default: async },
            exports: { default: async },
        });
    }
    /// The `schedule-handler` world, reusing the shared imports above.
    pub mod schedule {
        wasmtime::component::bindgen!({
            path: "../guest-sdk/wit",
            world: "tarn:function/schedule-handler",
            imports: { default: async },
            exports: { default: async },
            with: {
                "tarn:function/types": super::stream::tarn::function::types,
                "tarn:function/tables": super::stream::tarn::function::tables,
                "tarn:function/log": super::stream::tarn::function::log,
            },
        });
    }
    pub use stream::tarn::function::{log, tables, types};
}

/// Errors loading functions.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// File system trouble.
    #[error("{0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    /// The engine could not be built.
    #[error("wasm engine: {0:#}")]
    Engine(wasmtime::Error),
    /// Not a valid component, or compilation failed.
    #[error("compiling component: {0:#}")]
    Compile(wasmtime::Error),
    /// The component imports something tarn does not provide, or exports no handler tarn knows.
    #[error("linking component: {0:#}")]
    Link(String),
}

/// Why one invocation failed. Each maps to an HTTP status for HTTP triggers.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvocationError {
    /// The invocation ran past its `timeout_ms` (HTTP 504).
    #[error("function timed out after {0} ms")]
    Timeout(u64),
    /// The guest grew a memory past its `memory_mb` (HTTP 500).
    #[error("function exceeded its memory limit of {0} MiB")]
    OutOfMemory(u64),
    /// The guest trapped (HTTP 500).
    #[error("function trapped: {0}")]
    Trap(String),
    /// Every instance slot is in use (HTTP 503).
    #[error("server busy: {0}")]
    Busy(String),
    /// The function runs its `max_concurrency` invocations already (HTTP 429).
    #[error("Rate Exceeded: the function is at its concurrency limit of {0}")]
    Throttled(u32),
    /// The guest ran but answered badly (no response, an error code) (HTTP 500).
    #[error("function failed: {0}")]
    Failed(String),
}

impl InvocationError {
    /// The HTTP status an HTTP trigger answers with.
    pub fn status(&self) -> u16 {
        match self {
            InvocationError::Timeout(_) => 504,
            InvocationError::Busy(_) => 503,
            InvocationError::Throttled(_) => 429,
            _ => 500,
        }
    }

    /// A short machine-readable kind: `timeout`, `out_of_memory`, `trap`, `busy`, `failed`, or
    /// `TooManyRequestsException` (Lambda's name) for a throttled invocation.
    pub fn kind(&self) -> &'static str {
        match self {
            InvocationError::Throttled(_) => "TooManyRequestsException",
            InvocationError::Timeout(_) => "timeout",
            InvocationError::OutOfMemory(_) => "out_of_memory",
            InvocationError::Trap(_) => "trap",
            InvocationError::Busy(_) => "busy",
            InvocationError::Failed(_) => "failed",
        }
    }
}

/// Settings of the host as a whole.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where compiled components are cached.
    pub cache_dir: PathBuf,
    /// How many invocations may run at once (instance slots in the pooling allocator).
    pub max_concurrent: u32,
    /// The largest `memory_mb` any function may ask for, in bytes.
    pub max_memory_bytes: usize,
}

impl HostConfig {
    /// Defaults, caching under `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        HostConfig {
            cache_dir: cache_dir.into(),
            max_concurrent: 256,
            max_memory_bytes: 4 << 30,
        }
    }
}

/// What kind of handler a component exports, found by inspecting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    /// `wasi:http/incoming-handler`.
    Http,
    /// `tarn:function/stream`.
    Stream,
    /// `tarn:function/schedule`.
    Schedule,
}

/// Everything needed to load one function version.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function's name in the manifest.
    pub name: String,
    /// The app version it belongs to.
    pub version: u64,
    /// The component's bytes.
    pub wasm: Arc<[u8]>,
    /// Memory and time limits.
    pub limits: FunctionLimits,
    /// The tables it may reach.
    pub grants: Grants,
    /// Environment variables the guest sees.
    pub env: BTreeMap<String, String>,
    /// Whether the guest may open sockets and make outgoing HTTP requests.
    pub network: bool,
}

enum Pre {
    Http(wasmtime_wasi_http::p2::bindings::ProxyPre<InvocationState>),
    Stream(bindings::stream::StreamHandlerPre<InvocationState>),
    Schedule(bindings::schedule::ScheduleHandlerPre<InvocationState>),
}

/// One function version, compiled and linked, ready to instantiate.
pub struct LoadedFunction {
    /// The manifest settings it was loaded with (the bytes included).
    pub spec: FunctionSpec,
    /// Its kind.
    pub kind: FunctionKind,
    /// SHA-256 of the component bytes.
    pub hash: String,
    /// Whether the compiled code came from the on-disk cache.
    pub from_cache: bool,
    /// Its counters.
    pub metrics: Arc<FunctionMetrics>,
    /// Invocation slots when the function has a `max_concurrency`.
    concurrency: Option<Arc<tokio::sync::Semaphore>>,
    grants: Arc<Grants>,
    pre: Pre,
}

impl std::fmt::Debug for LoadedFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedFunction")
            .field("name", &self.spec.name)
            .field("version", &self.spec.version)
            .field("kind", &self.kind)
            .field("hash", &self.hash)
            .finish()
    }
}

/// Counters of one function version.
#[derive(Debug, Default)]
pub struct FunctionMetrics {
    /// Invocations started.
    pub invocations: AtomicU64,
    /// Invocations that failed, of any kind.
    pub errors: AtomicU64,
    /// ... of which traps.
    pub traps: AtomicU64,
    /// ... of which timeouts.
    pub timeouts: AtomicU64,
    /// ... of which memory limit exceeded.
    pub out_of_memory: AtomicU64,
    /// Invocations refused at the concurrency limit (not counted as started or failed).
    pub throttles: AtomicU64,
    /// Total nanoseconds spent instantiating.
    pub instantiate_ns: AtomicU64,
    /// Total nanoseconds of whole invocations.
    pub duration_ns: AtomicU64,
}

/// A serializable snapshot of [`FunctionMetrics`].
#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
pub struct MetricsSnapshot {
    /// Invocations started.
    pub invocations: u64,
    /// Invocations that failed.
    pub errors: u64,
    /// Traps.
    pub traps: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Memory limit exceeded.
    pub out_of_memory: u64,
    /// Refused at the concurrency limit.
    #[serde(default)]
    pub throttles: u64,
    /// Mean instantiation time, microseconds.
    pub mean_instantiate_us: f64,
    /// Mean invocation time, microseconds.
    pub mean_duration_us: f64,
}

impl FunctionMetrics {
    /// A snapshot of the counters.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let n = self.invocations.load(Ordering::Relaxed);
        let per = |ns: &AtomicU64| {
            if n == 0 {
                0.0
            } else {
                ns.load(Ordering::Relaxed) as f64 / n as f64 / 1000.0
            }
        };
        MetricsSnapshot {
            invocations: n,
            errors: self.errors.load(Ordering::Relaxed),
            traps: self.traps.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            out_of_memory: self.out_of_memory.load(Ordering::Relaxed),
            throttles: self.throttles.load(Ordering::Relaxed),
            mean_instantiate_us: per(&self.instantiate_ns),
            mean_duration_us: per(&self.duration_ns),
        }
    }

    fn record(&self, started: Instant, result: Result<(), &InvocationError>) {
        self.duration_ns
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if let Err(e) = result {
            self.errors.fetch_add(1, Ordering::Relaxed);
            let counter = match e {
                InvocationError::Timeout(_) => &self.timeouts,
                InvocationError::OutOfMemory(_) => &self.out_of_memory,
                InvocationError::Trap(_) => &self.traps,
                _ => return,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The data of one invocation's `Store`.
pub struct InvocationState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: OutboundHttp,
    limiter: MemoryLimiter,
    deadline: Deadline,
    api: Api,
    grants: Arc<Grants>,
    log: InvocationLog,
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
struct OutboundHttp {
    allowed: bool,
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

impl bindings::types::Host for InvocationState {}

macro_rules! table_calls {
    ($($method:ident => $op:ident),* $(,)?) => {
        impl bindings::tables::Host for InvocationState {
            $(
                async fn $method(
                    &mut self,
                    request: String,
                ) -> Result<String, bindings::types::Error> {
                    tables::call(&self.api, &self.log.function, &self.grants, TableOp::$op, &request)
                        .await
                        .map_err(|e| bindings::types::Error {
                            kind: e.kind.to_string(),
                            message: e.message,
                        })
                }
            )*
        }
    };
}

table_calls! {
    get => GetItem,
    put => PutItem,
    update => UpdateItem,
    delete => DeleteItem,
    query => Query,
    scan => Scan,
    batch_get => BatchGetItem,
    batch_write => BatchWriteItem,
    transact_write => TransactWriteItems,
    transact_get => TransactGetItems,
}

impl bindings::log::Host for InvocationState {
    async fn write(&mut self, level: bindings::log::Level, message: String) {
        use bindings::log::Level;
        let level = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.log.line(LogStream::Log, level, message);
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("tarn-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        EpochTicker { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Most bytes of stdout (and of stderr) kept per invocation.
const CAPTURE_LIMIT: usize = 1 << 20;

/// The process's wasm host. Cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    linker: Linker<InvocationState>,
    cache: cache::CompileCache,
    api: Api,
    logs: LogSink,
    max_memory_bytes: usize,
    _ticker: EpochTicker,
}

/// Where a store's captured output goes when the invocation ends.
struct Capture {
    stdout: CapturedOutput,
    stderr: CapturedOutput,
    log: InvocationLog,
}

impl Capture {
    fn flush(&self) {
        for (stream, out) in [
            (LogStream::Stdout, &self.stdout),
            (LogStream::Stderr, &self.stderr),
        ] {
            self.log.captured(stream, &out.contents());
            if out.dropped() > 0 {
                self.log.host_line(
                    "warn",
                    format!(
                        "{} bytes of {stream:?} past the {CAPTURE_LIMIT}-byte capture limit were dropped",
                        out.dropped()
                    ),
                );
            }
        }
    }
}

impl Host {
    /// Builds the engine and linker.
    pub fn new(config: HostConfig, api: Api, logs: LogSink) -> Result<Self, HostError> {
        let mut cfg = Config::new();
        // Timeouts: compiled code checks the engine's epoch counter at function entries and loop
        // back-edges (a load and compare), far cheaper than fuel metering. A thread advances the
        // epoch every EPOCH_TICK; each store's callback yields or interrupts (see limits.rs).
        cfg.epoch_interruption(true);
        // Host imports (tables, wasi-http bodies) are async; wasm runs on fibers so it can be
        // suspended at any import or epoch tick without blocking a tokio worker. (Async support
        // is always on in wasmtime 48; fiber stacks come from the pool below.)
        //
        // Pooling allocator: instance slots, linear memories, tables and fiber stacks are
        // reserved once at start-up and recycled, so instantiating per request is a few
        // microseconds of bookkeeping instead of mmap/munmap calls. Memories use copy-on-write
        // images of the component's data segments (memory_init_cow, on by default) and are reset
        // with madvise on return to the pool.
        let slots = config.max_concurrent.max(1);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(slots);
        // A Rust wasm32-wasip2 component holds its main module plus a few small shim modules
        // (wit-component's indirect-call shims and fixups): several core instances and tables,
        // usually one memory.
        pool.total_core_instances(slots * 8);
        pool.total_tables(slots * 8);
        pool.total_memories(slots * 2);
        pool.total_stacks(slots);
        pool.max_memories_per_module(1);
        // Generous per-instance metadata limits: bigger guests (a guest in C# or Python carries
        // many functions) must still fit.
        pool.max_component_instance_size(4 << 20);
        pool.max_core_instance_size(4 << 20);
        // The pool's per-memory ceiling is the largest `memory_mb` allowed; each invocation's own
        // limit is set by its ResourceLimiter.
        pool.max_memory_size(config.max_memory_bytes);
        // Keep the first 1 MiB of each recycled memory resident (zeroed with memset instead of
        // returned to the kernel): small guests then take no page faults on reuse.
        pool.linear_memory_keep_resident(1 << 20);
        pool.table_keep_resident(64 << 10);
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        // Optimize generated code for speed; compile once, cached on disk (cache.rs).
        cfg.cranelift_opt_level(OptLevel::Speed);
        // Guest stack: 1 MiB of wasm stack inside a 2 MiB fiber stack leaves room for host calls.
        cfg.max_wasm_stack(1 << 20);
        cfg.async_stack_size(2 << 20);
        let engine = Engine::new(&cfg).map_err(HostError::Engine)?;

        let mut linker = Linker::new(&engine);
        // All of WASI p2. What a guest may actually do is decided per store by its WasiCtx: no
        // preopened directories (no files), no socket addresses allowed unless granted.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(HostError::Engine)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(HostError::Engine)?;
        bindings::tables::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(HostError::Engine)?;
        bindings::log::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(HostError::Engine)?;
        bindings::types::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(HostError::Engine)?;

        let cache = cache::CompileCache::new(&config.cache_dir)?;
        let ticker = EpochTicker::start(engine.clone());
        Ok(Host {
            inner: Arc::new(HostInner {
                engine,
                linker,
                cache,
                api,
                logs,
                max_memory_bytes: config.max_memory_bytes,
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

    /// The API the `tables` import calls.
    pub fn api(&self) -> &Api {
        &self.inner.api
    }

    /// Compiles (or loads from the cache) and links one function version. CPU-heavy on a cache
    /// miss: call from a blocking thread.
    pub fn load(&self, spec: FunctionSpec) -> Result<LoadedFunction, HostError> {
        if spec.limits.memory_bytes > self.inner.max_memory_bytes {
            return Err(HostError::Link(format!(
                "function {} asks for {} MiB of memory; this server allows at most {} MiB",
                spec.name,
                spec.limits.memory_bytes >> 20,
                self.inner.max_memory_bytes >> 20
            )));
        }
        let hash = cache::content_hash(&spec.wasm);
        let (component, from_cache) = self.inner.cache.load(&self.inner.engine, &spec.wasm)?;
        let pre = self.instance_pre(&component, &spec.name)?;
        let (kind, pre) =
            if let Ok(p) = wasmtime_wasi_http::p2::bindings::ProxyPre::new(pre.clone()) {
                (FunctionKind::Http, Pre::Http(p))
            } else if let Ok(p) = bindings::stream::StreamHandlerPre::new(pre.clone()) {
                (FunctionKind::Stream, Pre::Stream(p))
            } else if let Ok(p) = bindings::schedule::ScheduleHandlerPre::new(pre) {
                (FunctionKind::Schedule, Pre::Schedule(p))
            } else {
                return Err(HostError::Link(format!(
                "function {} exports no handler tarn knows: expected wasi:http/incoming-handler, \
                 tarn:function/stream or tarn:function/schedule",
                spec.name
            )));
            };
        tracing::info!(function = %spec.name, version = spec.version, ?kind, %hash, from_cache, "loaded function");
        let grants = Arc::new(spec.grants.clone());
        let concurrency = spec
            .limits
            .max_concurrency
            .map(|n| Arc::new(tokio::sync::Semaphore::new(n as usize)));
        Ok(LoadedFunction {
            spec,
            kind,
            hash,
            from_cache,
            metrics: Default::default(),
            concurrency,
            grants,
            pre,
        })
    }

    fn instance_pre(
        &self,
        component: &Component,
        name: &str,
    ) -> Result<wasmtime::component::InstancePre<InvocationState>, HostError> {
        self.inner
            .linker
            .instantiate_pre(component)
            .map_err(|e| HostError::Link(format!("function {name}: {e:#}")))
    }

    /// Admits one invocation of `f` under its `max_concurrency`: the permit to hold while it
    /// runs (None without a limit), or [`InvocationError::Throttled`] at the limit.
    fn admit(
        f: &LoadedFunction,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, InvocationError> {
        let Some(slots) = &f.concurrency else {
            return Ok(None);
        };
        match slots.clone().try_acquire_owned() {
            Ok(permit) => Ok(Some(permit)),
            Err(_) => {
                f.metrics.throttles.fetch_add(1, Ordering::Relaxed);
                let limit = f.spec.limits.max_concurrency.unwrap_or(0);
                tracing::debug!(function = %f.spec.name, limit, "invocation throttled");
                Err(InvocationError::Throttled(limit))
            }
        }
    }

    /// A fresh store for one invocation of `f`, with its limits, grants and captured output.
    fn new_store(&self, f: &LoadedFunction, request_id: &str) -> (Store<InvocationState>, Capture) {
        let spec = &f.spec;
        let stdout = CapturedOutput::new(CAPTURE_LIMIT);
        let stderr = CapturedOutput::new(CAPTURE_LIMIT);
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone()).stderr(stderr.clone());
        wasi.env("TARN_FUNCTION", &spec.name);
        wasi.env("TARN_VERSION", spec.version.to_string());
        wasi.env("TARN_REQUEST_ID", request_id);
        for (k, v) in &spec.env {
            wasi.env(k, v);
        }
        // No preopened directories: the guest sees no file system. Sockets only if granted.
        wasi.allow_tcp(spec.network)
            .allow_udp(spec.network)
            .allow_ip_name_lookup(spec.network);
        if spec.network {
            wasi.inherit_network();
        }
        let log = InvocationLog {
            sink: self.inner.logs.clone(),
            function: spec.name.as_str().into(),
            version: spec.version,
            request_id: request_id.into(),
            budget: Arc::new(LogBudget::new(log::MAX_LOG_BYTES_PER_INVOCATION)),
        };
        let state = InvocationState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHttp {
                allowed: spec.network,
            },
            limiter: MemoryLimiter::new(spec.limits.memory_bytes),
            deadline: Deadline::starting_now(spec.limits.timeout),
            api: self.inner.api.clone(),
            grants: f.grants.clone(),
            log: log.clone(),
        };
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        // On every epoch tick: past the deadline, interrupt; otherwise yield to the executor and
        // check again next tick.
        store.epoch_deadline_callback(|ctx| {
            let d = ctx.data().deadline;
            if d.expired() {
                Err(wasmtime::Error::new(Timeout(d.timeout)))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);
        (
            store,
            Capture {
                stdout,
                stderr,
                log,
            },
        )
    }

    /// Turns a wasmtime error from an invocation into an [`InvocationError`].
    fn classify(
        f: &LoadedFunction,
        err: &wasmtime::Error,
        memory_exceeded: bool,
    ) -> InvocationError {
        if err.downcast_ref::<Timeout>().is_some() {
            InvocationError::Timeout(f.spec.limits.timeout.as_millis() as u64)
        } else if memory_exceeded {
            InvocationError::OutOfMemory((f.spec.limits.memory_bytes >> 20) as u64)
        } else if err
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            InvocationError::Busy(format!("{err}"))
        } else if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
            let detail = format!("{err:#}");
            InvocationError::Trap(if detail.is_empty() {
                trap.to_string()
            } else {
                detail
            })
        } else {
            InvocationError::Trap(format!("{err:#}"))
        }
    }

    /// Runs `body` (instantiate + call) on a fresh store under the function's limits, recording
    /// metrics and flushing captured output. `body` owns the store while it runs and hands it
    /// back with its result (a timed-out body is dropped, store and all).
    async fn run<R, Fut>(
        &self,
        f: &Arc<LoadedFunction>,
        request_id: &str,
        store: Store<InvocationState>,
        capture: Capture,
        body: impl FnOnce(Store<InvocationState>) -> Fut,
    ) -> Result<R, InvocationError>
    where
        Fut: Future<
            Output = (
                Store<InvocationState>,
                wasmtime::Result<Result<R, InvocationError>>,
            ),
        >,
    {
        let started = Instant::now();
        f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        // The epoch callback interrupts wasm at the deadline; this outer timeout (one second of
        // grace) covers a guest blocked in a host call.
        let outer = f.spec.limits.timeout + Duration::from_secs(1);
        let result = match tokio::time::timeout(outer, body(store)).await {
            Ok((_, Ok(r))) => r,
            Ok((store, Err(e))) => Err(Self::classify(f, &e, store.data().limiter.exceeded())),
            Err(_) => Err(InvocationError::Timeout(
                f.spec.limits.timeout.as_millis() as u64
            )),
        };
        capture.flush();
        f.metrics.record(started, result.as_ref().map(|_| ()));
        if let Err(e) = &result {
            capture.log.host_line("error", e.to_string());
            tracing::warn!(function = %f.spec.name, %request_id, kind = e.kind(), "invocation failed: {e}");
        }
        result
    }

    /// Runs a stream handler on one batch (`records`: a JSON array of stream records). Returns
    /// the sequence numbers of the records it failed.
    pub async fn invoke_stream(
        &self,
        f: &Arc<LoadedFunction>,
        request_id: &str,
        records: &str,
    ) -> Result<Vec<String>, InvocationError> {
        let Pre::Stream(pre) = &f.pre else {
            return Err(InvocationError::Failed(format!(
                "{} is not a stream handler",
                f.spec.name
            )));
        };
        let _permit = Self::admit(f)?;
        let span = tracing::info_span!("invoke", function = %f.spec.name, request_id);
        let (store, capture) = self.new_store(f, request_id);
        let metrics = f.metrics.clone();
        self.run(f, request_id, store, capture, move |mut store| async move {
            let r = async {
                let t = Instant::now();
                let instance = pre.instantiate_async(&mut store).await?;
                metrics
                    .instantiate_ns
                    .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                let r = instance
                    .tarn_function_stream()
                    .call_handle(&mut store, records)
                    .await?;
                wasmtime::Result::Ok(r.map_err(InvocationError::Failed))
            }
            .await;
            (store, r)
        })
        .instrument(span)
        .await
    }

    /// Runs a schedule handler for the tick at `scheduled_time` (RFC 3339).
    pub async fn invoke_schedule(
        &self,
        f: &Arc<LoadedFunction>,
        request_id: &str,
        scheduled_time: &str,
    ) -> Result<(), InvocationError> {
        let Pre::Schedule(pre) = &f.pre else {
            return Err(InvocationError::Failed(format!(
                "{} is not a schedule handler",
                f.spec.name
            )));
        };
        let _permit = Self::admit(f)?;
        let span = tracing::info_span!("invoke", function = %f.spec.name, request_id);
        let (store, capture) = self.new_store(f, request_id);
        let metrics = f.metrics.clone();
        self.run(f, request_id, store, capture, move |mut store| async move {
            let r = async {
                let t = Instant::now();
                let instance = pre.instantiate_async(&mut store).await?;
                metrics
                    .instantiate_ns
                    .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                let r = instance
                    .tarn_function_schedule()
                    .call_handle(&mut store, scheduled_time)
                    .await?;
                wasmtime::Result::Ok(r.map_err(InvocationError::Failed))
            }
            .await;
            (store, r)
        })
        .instrument(span)
        .await
    }
}

/// A new request id: 32 hex digits, as Lambda's are uuids.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
