//! The counters of one function version ([`FunctionMetrics`]), updated by every invocation, and
//! their serializable snapshot ([`MetricsSnapshot`]) that `tarn functions status` and the admin
//! API show; and the [`InvocationObserver`] an embedding server may give the host
//! (`HostConfig::observer`) to hear of every invocation itself (tarn's runtime keeps its
//! Prometheus metrics and the console's history with it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::InvocationError;

/// Hears of every invocation of every function a host loads, by function name (across
/// versions). Called on the invocation's own task: keep it to a few atomic operations.
pub trait InvocationObserver: std::fmt::Debug + Send + Sync {
    /// `function` was instantiated for one invocation, in `took`.
    fn instantiated(&self, function: &str, took: Duration);
    /// An invocation of `function` ended after `took` (instantiation included) with
    /// `outcome`.
    fn finished(&self, function: &str, took: Duration, outcome: Result<(), &InvocationError>);
    /// An invocation of `function` was refused at its `max_concurrency` (it did not run).
    fn throttled(&self, function: &str);
}

/// The observer of a function's invocations, with the name it reports them under.
#[derive(Debug)]
struct Observed {
    function: Box<str>,
    observer: Arc<dyn InvocationObserver>,
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
    /// Who else hears of each invocation.
    observed: Option<Observed>,
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
    /// Counters of a version of `function`, reporting each invocation to `observer` too.
    pub(crate) fn observed(
        function: &str,
        observer: Option<Arc<dyn InvocationObserver>>,
    ) -> FunctionMetrics {
        FunctionMetrics {
            observed: observer.map(|observer| Observed {
                function: function.into(),
                observer,
            }),
            ..Default::default()
        }
    }

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
        let took = started.elapsed();
        self.instantiate_ns
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        if let Some(o) = &self.observed {
            o.observer.instantiated(&o.function, took);
        }
    }

    /// Records one invocation refused at the concurrency limit.
    pub(crate) fn throttled(&self) {
        self.throttles.fetch_add(1, Ordering::Relaxed);
        if let Some(o) = &self.observed {
            o.observer.throttled(&o.function);
        }
    }

    /// Records one finished invocation that started at `started`.
    pub(crate) fn record(&self, started: Instant, result: Result<(), &InvocationError>) {
        let took = started.elapsed();
        self.duration_ns
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        if let Some(o) = &self.observed {
            o.observer.finished(&o.function, took, result);
        }
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

#[cfg(test)]
mod tests {
    use parking_lot::Mutex;

    use super::*;

    #[derive(Debug, Default)]
    struct Heard(Mutex<Vec<String>>);

    impl InvocationObserver for Heard {
        fn instantiated(&self, function: &str, _took: Duration) {
            self.0.lock().push(format!("instantiated {function}"));
        }
        fn finished(&self, function: &str, _took: Duration, outcome: Result<(), &InvocationError>) {
            let how = outcome.map_or_else(|e| e.kind(), |()| "ok");
            self.0.lock().push(format!("finished {function} {how}"));
        }
        fn throttled(&self, function: &str) {
            self.0.lock().push(format!("throttled {function}"));
        }
    }

    #[test]
    fn the_observer_hears_what_the_counters_count() {
        let heard = Arc::new(Heard::default());
        let m = FunctionMetrics::observed("f", Some(heard.clone()));
        let t = Instant::now();
        m.instantiated(t);
        m.record(t, Ok(()));
        m.record(t, Err(&InvocationError::Timeout(5)));
        m.throttled();
        assert_eq!(
            *heard.0.lock(),
            [
                "instantiated f",
                "finished f ok",
                "finished f timeout",
                "throttled f"
            ]
        );
        let s = m.snapshot();
        assert_eq!(
            (s.invocations, s.errors, s.timeouts, s.throttles),
            (0, 1, 1, 1)
        );
        // Without an observer, only the counters.
        let plain = FunctionMetrics::observed("g", None);
        plain.throttled();
        assert_eq!(plain.snapshot().throttles, 1);
    }
}
