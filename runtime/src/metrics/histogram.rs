//! Latency histograms made of atomics: one counter per bucket and a sum, so recording a value
//! is a bucket search over a small constant array and two relaxed atomic adds, with no lock and
//! no allocation. Every histogram of tarn's metrics (request latency, function duration and
//! instantiation time) uses the same buckets, [`BOUNDS_SECONDS`].
//!
//! A [`Snapshot`] is what a reader takes: the Prometheus endpoint encodes one as a histogram,
//! and the history subtracts the snapshot of ten seconds ago ([`Snapshot::since`]) to estimate
//! the percentiles of that step ([`Snapshot::quantile`]), as Prometheus' `histogram_quantile`
//! does over a rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds: 1, 2.5 and 5 per decade from 25 µs to 10 s (an
/// implicit last bucket takes everything slower).
pub const BOUNDS_SECONDS: [f64; 18] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// [`BOUNDS_SECONDS`] in nanoseconds, what [`Histogram::observe`] compares against.
const BOUNDS_NANOS: [u64; 18] = [
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// Buckets: one per bound, plus the overflow bucket.
pub const BUCKETS: usize = BOUNDS_SECONDS.len() + 1;

/// A histogram of durations, cumulative since it was made.
#[derive(Debug)]
pub struct Histogram {
    /// Observations per bucket (not cumulative): bucket `i` holds values in
    /// (`BOUNDS[i-1]`, `BOUNDS[i]`], the last one values above the last bound.
    buckets: [AtomicU64; BUCKETS],
    /// Sum of every observation, nanoseconds.
    sum_nanos: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Records one duration.
    #[inline]
    pub fn observe(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = BOUNDS_NANOS.partition_point(|&b| b < nanos);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The counts so far. Buckets are read one after another, so a value recorded meanwhile may
    /// be in one and not in the sum: figures for people, not an audit.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            buckets: std::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            sum_nanos: self.sum_nanos.load(Ordering::Relaxed),
        }
    }
}

/// The counts of a [`Histogram`] at one moment (or between two moments, see [`Snapshot::since`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Observations per bucket (not cumulative).
    pub buckets: [u64; BUCKETS],
    /// Sum of the observations, nanoseconds.
    pub sum_nanos: u64,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            buckets: [0; BUCKETS],
            sum_nanos: 0,
        }
    }
}

impl Snapshot {
    /// How many observations.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Sum of the observations, seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_nanos as f64 / 1e9
    }

    /// What was observed after `earlier` (a snapshot of the same histogram).
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            buckets: std::array::from_fn(|i| self.buckets[i].saturating_sub(earlier.buckets[i])),
            sum_nanos: self.sum_nanos.saturating_sub(earlier.sum_nanos),
        }
    }

    /// Adds `other`'s observations to these.
    pub fn add(&mut self, other: &Snapshot) {
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
        self.sum_nanos += other.sum_nanos;
    }

    /// The buckets as prometheus-client's encoder takes them: (upper bound, count in that
    /// bucket), the overflow bucket last with an infinite bound.
    pub fn prometheus_buckets(&self) -> [(f64, u64); BUCKETS] {
        std::array::from_fn(|i| {
            let bound = BOUNDS_SECONDS.get(i).copied().unwrap_or(f64::INFINITY);
            (bound, self.buckets[i])
        })
    }

    /// The `q` quantile (0..=1) in seconds, estimated as Prometheus' `histogram_quantile`
    /// does: find the bucket holding the rank, interpolate linearly inside it (the first
    /// bucket starts at 0; a rank in the overflow bucket answers the last bound). `None`
    /// without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * count as f64;
        let mut below = 0u64;
        for (i, &n) in self.buckets.iter().enumerate() {
            if n > 0 && (below + n) as f64 >= rank {
                let Some(&upper) = BOUNDS_SECONDS.get(i) else {
                    return Some(BOUNDS_SECONDS[BOUNDS_SECONDS.len() - 1]);
                };
                let lower = if i == 0 { 0.0 } else { BOUNDS_SECONDS[i - 1] };
                let within = ((rank - below as f64) / n as f64).clamp(0.0, 1.0);
                return Some(lower + (upper - lower) * within);
            }
            below += n;
        }
        Some(BOUNDS_SECONDS[BOUNDS_SECONDS.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_agree() {
        for (s, n) in BOUNDS_SECONDS.iter().zip(BOUNDS_NANOS.iter()) {
            assert_eq!((s * 1e9).round() as u64, *n);
        }
        assert!(BOUNDS_NANOS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn values_land_in_their_bucket_bound_included() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(25)); // on the first bound: first bucket
        h.observe(Duration::from_micros(26)); // second bucket
        h.observe(Duration::from_secs(60)); // overflow
        let s = h.snapshot();
        assert_eq!(s.buckets[0], 1);
        assert_eq!(s.buckets[1], 1);
        assert_eq!(s.buckets[BUCKETS - 1], 1);
        assert_eq!(s.count(), 3);
        assert_eq!(s.sum_nanos, 25_000 + 26_000 + 60_000_000_000);
        let encoded = s.prometheus_buckets();
        assert_eq!(encoded[0], (0.000_025, 1));
        assert_eq!(encoded[BUCKETS - 1], (f64::INFINITY, 1));
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        let h = Histogram::default();
        assert_eq!(h.snapshot().quantile(0.5), None);
        // 100 observations between 1 ms and 2.5 ms (the bucket (1 ms, 2.5 ms]).
        for _ in 0..100 {
            h.observe(Duration::from_micros(2000));
        }
        let s = h.snapshot();
        let p50 = s.quantile(0.5).unwrap();
        assert!((p50 - 0.00175).abs() < 1e-9, "{p50}");
        let p99 = s.quantile(0.99).unwrap();
        assert!(p99 > 0.0024 && p99 <= 0.0025, "{p99}");
        // One slow outlier moves p99 but not p50.
        for _ in 0..2 {
            h.observe(Duration::from_millis(400));
        }
        let s = h.snapshot();
        assert!(s.quantile(0.5).unwrap() < 0.0025);
        assert!(s.quantile(0.995).unwrap() > 0.25);
        // Beyond the last bound: the last bound.
        let slow = Histogram::default();
        slow.observe(Duration::from_secs(30));
        assert_eq!(slow.snapshot().quantile(0.5), Some(10.0));
    }

    #[test]
    fn since_subtracts_and_add_sums() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        let before = h.snapshot();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(3));
        let step = h.snapshot().since(&before);
        assert_eq!(step.count(), 2);
        assert_eq!(step.sum_nanos, 6_000_000);
        let mut total = before;
        total.add(&step);
        assert_eq!(total, h.snapshot());
    }
}
