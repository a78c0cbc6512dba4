//! Function figures: invocations by outcome, throttles, duration and instantiation time per
//! function name (across its versions), fed by the wasm host through
//! [`tarn_host::metrics::InvocationObserver`], and the collector that writes them to `/metrics`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use tarn_host::metrics::InvocationObserver;
use tarn_host::InvocationError;

use super::histogram::{self, Histogram};
use super::names;

/// The `outcome` label of an invocation that ran: success, or how it failed.
pub const OUTCOMES: [&str; 6] = ["ok", "trap", "timeout", "out_of_memory", "failed", "busy"];

/// Index into [`OUTCOMES`] of how an invocation ended; `None` for a throttled one (refused, not
/// run: counted apart).
fn outcome_index(outcome: Result<(), &InvocationError>) -> Option<usize> {
    Some(match outcome {
        Ok(()) => 0,
        Err(InvocationError::Trap(_)) => 1,
        Err(InvocationError::Timeout(_)) => 2,
        Err(InvocationError::OutOfMemory(_)) => 3,
        Err(InvocationError::Failed(_)) => 4,
        Err(InvocationError::Busy(_)) => 5,
        Err(InvocationError::Throttled(_)) => return None,
    })
}

/// Everything recorded about one function.
#[derive(Debug, Default)]
struct FunctionFigures {
    outcomes: [AtomicU64; OUTCOMES.len()],
    throttles: AtomicU64,
    duration: Histogram,
    instantiation: Histogram,
}

/// One function's counters at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionSnapshot {
    /// Invocations that ran, per [`OUTCOMES`].
    pub outcomes: [u64; OUTCOMES.len()],
    /// Invocations refused at the concurrency limit.
    pub throttles: u64,
    /// Invocation durations.
    pub duration: histogram::Snapshot,
    /// Instantiation times.
    pub instantiation: histogram::Snapshot,
}

impl FunctionSnapshot {
    /// Invocations that ran.
    pub fn invocations(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Invocations that ran and failed.
    pub fn errors(&self) -> u64 {
        self.invocations() - self.outcomes[0]
    }
}

/// The figures of every function that was invoked, by name.
#[derive(Debug, Default)]
pub struct Functions {
    functions: RwLock<HashMap<Box<str>, Arc<FunctionFigures>>>,
}

impl Functions {
    fn with<R>(&self, function: &str, f: impl FnOnce(&FunctionFigures) -> R) -> R {
        if let Some(figures) = self.functions.read().get(function) {
            return f(figures);
        }
        let figures = self
            .functions
            .write()
            .entry(function.into())
            .or_default()
            .clone();
        f(&figures)
    }

    /// Every function's counters now, by name.
    pub fn snapshot(&self) -> Vec<(String, FunctionSnapshot)> {
        let mut out: Vec<(String, FunctionSnapshot)> = self
            .functions
            .read()
            .iter()
            .map(|(name, f)| {
                (
                    name.to_string(),
                    FunctionSnapshot {
                        outcomes: std::array::from_fn(|i| f.outcomes[i].load(Ordering::Relaxed)),
                        throttles: f.throttles.load(Ordering::Relaxed),
                        duration: f.duration.snapshot(),
                        instantiation: f.instantiation.snapshot(),
                    },
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl InvocationObserver for Functions {
    fn instantiated(&self, function: &str, took: Duration) {
        self.with(function, |f| f.instantiation.observe(took));
    }

    fn finished(&self, function: &str, took: Duration, outcome: Result<(), &InvocationError>) {
        self.with(function, |f| match outcome_index(outcome) {
            Some(i) => {
                f.outcomes[i].fetch_add(1, Ordering::Relaxed);
                f.duration.observe(took);
            }
            None => {
                f.throttles.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    fn throttled(&self, function: &str) {
        self.with(function, |f| f.throttles.fetch_add(1, Ordering::Relaxed));
    }
}

/// The function figures as `/metrics` writes them.
#[derive(Debug)]
pub(crate) struct FunctionsCollector(pub(crate) Vec<(String, FunctionSnapshot)>);

impl prometheus_client::collector::Collector for FunctionsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let family = &names::FUNCTION_INVOCATIONS;
        let mut metric = encoder.encode_descriptor(family.name, family.help, None, family.kind)?;
        for (name, f) in &self.0 {
            for (outcome, n) in OUTCOMES.iter().zip(f.outcomes) {
                let labels = [("function", name.as_str()), ("outcome", *outcome)];
                ConstCounter::new(n).encode(metric.encode_family(&labels)?)?;
            }
        }
        let family = &names::FUNCTION_THROTTLES;
        let mut metric = encoder.encode_descriptor(family.name, family.help, None, family.kind)?;
        for (name, f) in &self.0 {
            let labels = [("function", name.as_str())];
            ConstCounter::new(f.throttles).encode(metric.encode_family(&labels)?)?;
        }
        type Pick = fn(&FunctionSnapshot) -> &histogram::Snapshot;
        let histograms: [(&names::Family, Pick); 2] = [
            (&names::FUNCTION_DURATION, |f| &f.duration),
            (&names::FUNCTION_INSTANTIATION, |f| &f.instantiation),
        ];
        for (family, pick) in histograms {
            let mut metric =
                encoder.encode_descriptor(family.name, family.help, None, family.kind)?;
            for (name, f) in &self.0 {
                let h = pick(f);
                let labels = [("function", name.as_str())];
                metric
                    .encode_family(&labels)?
                    .encode_histogram::<NoLabelSet>(
                        h.sum_seconds(),
                        h.count(),
                        &h.prometheus_buckets(),
                        None,
                    )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_are_counted_by_outcome() {
        let f = Functions::default();
        f.instantiated("hello", Duration::from_micros(80));
        f.finished("hello", Duration::from_millis(2), Ok(()));
        f.finished("hello", Duration::from_millis(3), Ok(()));
        f.finished(
            "hello",
            Duration::from_millis(50),
            Err(&InvocationError::Timeout(50)),
        );
        f.finished(
            "hello",
            Duration::from_millis(1),
            Err(&InvocationError::Trap("unreachable".into())),
        );
        f.throttled("hello");
        f.finished("other", Duration::from_millis(1), Ok(()));
        let snap = f.snapshot();
        assert_eq!(snap.len(), 2);
        let (name, hello) = &snap[0];
        assert_eq!(name, "hello");
        assert_eq!(hello.invocations(), 4);
        assert_eq!(hello.errors(), 2);
        assert_eq!(hello.outcomes, [2, 1, 1, 0, 0, 0]);
        assert_eq!(hello.throttles, 1);
        assert_eq!(hello.duration.count(), 4);
        assert_eq!(hello.instantiation.count(), 1);
    }
}
