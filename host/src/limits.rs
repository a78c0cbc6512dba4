//! Per-invocation resource limits: linear memory (from the manifest's `memory_mb`) and wall-clock
//! time (from `timeout_ms`); per-function concurrency (`max_concurrency`) is enforced by
//! [`crate::Host`] with a semaphore per loaded function.
//!
//! Memory is enforced by a [`wasmtime::ResourceLimiter`] installed in every invocation's `Store`:
//! a `memory.grow` past the limit fails (returns -1 to the guest, as the spec allows), and the
//! limiter remembers that it refused, so that a trap which follows (Rust guests abort on
//! allocation failure) is reported as out-of-memory rather than as a plain trap.
//!
//! Time is enforced twice: the engine's epoch ticks every [`EPOCH_TICK`], and on each tick the
//! store's epoch callback either yields to the async executor (so a busy guest never starves other
//! requests on the same thread) or, past the deadline, interrupts the guest with [`Timeout`]. An
//! outer `tokio::time::timeout` covers time spent outside wasm (a guest blocked in a host call).

use std::time::{Duration, Instant};

/// How often the engine's epoch advances. Also the granularity of timeouts and of cooperative
/// yields of running guests.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The limits one function version runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionLimits {
    /// Largest size of any one linear memory, in bytes.
    pub memory_bytes: usize,
    /// Wall-clock budget of one invocation.
    pub timeout: Duration,
    /// Most invocations of the function at once (None: only the server-wide cap).
    pub max_concurrency: Option<u32>,
}

impl Default for FunctionLimits {
    fn default() -> Self {
        FunctionLimits {
            memory_bytes: 128 << 20,
            timeout: Duration::from_secs(10),
            max_concurrency: None,
        }
    }
}

/// The error an invocation is interrupted with when it runs past its deadline.
#[derive(Debug, thiserror::Error)]
#[error("function timed out after {0:?}")]
pub struct Timeout(pub Duration);

/// The `ResourceLimiter` of one invocation.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: usize,
    exceeded: bool,
    peak: usize,
}

impl MemoryLimiter {
    /// A limiter allowing each linear memory up to `limit` bytes.
    pub fn new(limit: usize) -> Self {
        MemoryLimiter {
            limit,
            exceeded: false,
            peak: 0,
        }
    }

    /// Whether a memory growth was refused during this invocation.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// Forgets a refusal: a reused instance's next request starts clean. (An instance whose
    /// request ran out of memory is never reused; this only matters for a guest that survived
    /// a refused `memory.grow`.)
    pub fn reset(&mut self) {
        self.exceeded = false;
    }

    /// The largest memory size granted, in bytes.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            // Refuse: `memory.grow` answers -1 and the guest decides (Rust guests abort). The
            // flag turns the trap that usually follows into an out-of-memory error.
            self.exceeded = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables are bounded by the pooling allocator's `table_elements`.
        Ok(desired <= 100_000)
    }
}

/// The deadline of one invocation, checked on each epoch tick.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// When the invocation started.
    pub start: Instant,
    /// The budget.
    pub timeout: Duration,
}

impl Deadline {
    /// A deadline `timeout` from now.
    pub fn starting_now(timeout: Duration) -> Self {
        Deadline {
            start: Instant::now(),
            timeout,
        }
    }

    /// Whether the budget is spent.
    pub fn expired(&self) -> bool {
        self.start.elapsed() >= self.timeout
    }
}
