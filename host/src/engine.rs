//! The engine and its configuration: a narrow wrapper over [`wasmtime::Config`] that sets every
//! knob tarn relies on, each with its reason, and the [`Linker`] that decides which imports a
//! guest may use.
//!
//! One engine serves the whole process; [`HostConfig`] holds the few numbers an operator may
//! change. Everything else is fixed here on purpose: a setting that changes codegen also changes
//! the compiled-code cache key ([`crate::cache`]), so it is not something to vary at run time.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

use crate::error::HostError;
use crate::limits::EPOCH_TICK;
use crate::state::InvocationState;
use crate::{log, tables};

/// Settings of the host as a whole.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where compiled components are cached.
    pub cache_dir: PathBuf,
    /// How many invocations may run at once (instance slots in the pooling allocator).
    pub max_concurrent: u32,
    /// The largest `memory_mb` any function may ask for, in bytes.
    pub max_memory_bytes: usize,
    /// Told of every invocation (outcome, duration, instantiation time) and every throttled
    /// one, besides each function's own counters.
    pub observer: Option<std::sync::Arc<dyn crate::metrics::InvocationObserver>>,
}

impl HostConfig {
    /// Defaults, caching under `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        HostConfig {
            cache_dir: cache_dir.into(),
            max_concurrent: 256,
            max_memory_bytes: 4 << 30,
            observer: None,
        }
    }
}

/// Builds the process's engine.
pub(crate) fn new_engine(config: &HostConfig) -> Result<Engine, HostError> {
    let mut cfg = Config::new();
    // Timeouts: compiled code checks the engine's epoch counter at function entries and loop
    // back-edges (a load and compare), far cheaper than fuel metering. A thread advances the
    // epoch every EPOCH_TICK ([`EpochTicker`]); each store's callback yields or interrupts (see
    // limits.rs).
    cfg.epoch_interruption(true);
    // Host imports (tables, wasi-http bodies) are async; wasm runs on fibers so it can be
    // suspended at any import or epoch tick without blocking a tokio worker. (Async support
    // is always on in wasmtime 48; fiber stacks come from the pool below.)
    //
    // Pooling allocator: instance slots, linear memories, tables and fiber stacks are
    // reserved once at start-up and recycled, so instantiating per request is a few
    // microseconds of bookkeeping instead of mmap/munmap calls. Memories use copy-on-write
    // images of the component's data segments (memory_init_cow, on by default) and are reset
    // on return to the pool (below).
    // Running invocations plus the idle instances functions with `reuse` keep (reuse.rs).
    let slots = config.max_concurrent.max(1) + idle_instances(config);
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
    // Resetting a memory for its next instance. With the PAGEMAP_SCAN ioctl (Linux 6.7+)
    // wasmtime finds the pages the last instance dirtied and restores only those (memset, or a
    // copy from the data image), up to `keep_resident` bytes; the rest go back to the kernel.
    // A hello in Rust dirties a few pages, a Python or JS interpreter a few MiB: restoring
    // them in place is cheaper than the page faults the next instance would take on them.
    // Without the ioctl, the first `keep_resident` bytes are memset whatever was touched,
    // so the window stays small (with 1 MiB, that memset was the top symbol of a profile of
    // tarn serving hello).
    pool.pagemap_scan(Enabled::Auto);
    let keep_resident = if pagemap_scan_available() {
        KEEP_RESIDENT_WITH_PAGEMAP
    } else {
        KEEP_RESIDENT_WITHOUT_PAGEMAP
    };
    pool.linear_memory_keep_resident(keep_resident);
    pool.table_keep_resident(64 << 10);
    cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // Optimize generated code for speed; compile once, cached on disk (cache.rs).
    cfg.cranelift_opt_level(OptLevel::Speed);
    // Guest stack: 1 MiB of wasm stack inside a 2 MiB fiber stack leaves room for host calls.
    cfg.max_wasm_stack(1 << 20);
    cfg.async_stack_size(2 << 20);
    Engine::new(&cfg).map_err(HostError::Engine)
}

/// Bytes of a recycled memory restored in place (not handed back to the kernel) when wasmtime
/// can tell which pages were dirtied: only dirty pages are touched, so this bounds the resident
/// memory an idle pool slot keeps, not the work per instance.
const KEEP_RESIDENT_WITH_PAGEMAP: usize = 16 << 20;

/// The same without the ioctl, where all of it is memset on every reset.
const KEEP_RESIDENT_WITHOUT_PAGEMAP: usize = 64 << 10;

/// Whether the kernel has the `PAGEMAP_SCAN` ioctl (Linux 6.7 and later, on
/// `/proc/self/pagemap`), which wasmtime's `pagemap_scan(Enabled::Auto)` uses when present.
/// wasmtime does not say whether it found it, so the kernel's release is read here to size
/// `keep_resident` to match.
fn pagemap_scan_available() -> bool {
    if !cfg!(target_os = "linux") || !std::path::Path::new("/proc/self/pagemap").exists() {
        return false;
    }
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .is_ok_and(|release| kernel_at_least(&release, (6, 7)))
}

/// Whether a kernel release string ("6.18.44-fc", "5.15.0-91-generic") is at least
/// `(major, minor)`.
fn kernel_at_least(release: &str, wanted: (u32, u32)) -> bool {
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= wanted
}

/// How many reused instances may sit idle host-wide: half as many as may run. Each holds a
/// pooling-allocator slot (an instance, its memories, tables and fiber stack).
pub(crate) fn idle_instances(config: &HostConfig) -> u32 {
    (config.max_concurrent / 2).max(1)
}

/// The linker every function is linked with: what a guest may import.
pub(crate) fn new_linker(engine: &Engine) -> Result<Linker<InvocationState>, HostError> {
    let mut linker = Linker::new(engine);
    // All of WASI p2. What a guest may actually do is decided per store by its WasiCtx: no
    // preopened directories (no files), no socket addresses allowed unless granted (state.rs).
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(HostError::Engine)?;
    // wasi:http's types and outgoing handler; outgoing requests are denied unless granted.
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(HostError::Engine)?;
    // tarn's own imports, each added by the module that implements it, on its part of the store.
    tables::add_to_linker(&mut linker, |s: &mut InvocationState| &mut s.tables)
        .map_err(HostError::Engine)?;
    log::add_to_linker(&mut linker, |s: &mut InvocationState| &mut s.log)
        .map_err(HostError::Engine)?;
    Ok(linker)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Starts the ticker thread for `engine`.
    pub(crate) fn start(engine: Engine) -> Self {
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

#[cfg(test)]
mod tests {
    use super::kernel_at_least;

    #[test]
    fn kernel_releases_compare_by_major_and_minor() {
        assert!(kernel_at_least("6.18.44-fc-v1272\n", (6, 7)));
        assert!(kernel_at_least("6.7.0", (6, 7)));
        assert!(kernel_at_least("7.0", (6, 7)));
        assert!(!kernel_at_least("6.6.30-generic", (6, 7)));
        assert!(!kernel_at_least("5.15.0-91-generic", (6, 7)));
        assert!(!kernel_at_least("", (6, 7)));
    }
}
