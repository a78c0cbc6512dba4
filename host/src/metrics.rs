//! The counters of one function version ([`FunctionMetrics`]), updated by every invocation, and
//! their serializable snapshot ([`MetricsSnapshot`]) that `tarn functions status` and the admin
//! API show.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::error::InvocationError;

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

    /// Records one instantiation that started at `started`.
    pub(crate) fn instantiated(&self, started: Instant) {
        self.instantiate_ns
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// Records one finished invocation that started at `started`.
    pub(crate) fn record(&self, started: Instant, result: Result<(), &InvocationError>) {
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
