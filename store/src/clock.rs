//! The wall clock, in the units tarn stores: one place that reads `SystemTime::now()` for times
//! that are written down (item and stream timestamps, sequence numbers, job times, TTL sweeps).
//!
//! A clock set before 1970 reads as 0 rather than failing: every caller treats time as a lower
//! bound or a label, never as something to divide by.

use std::time::{SystemTime, UNIX_EPOCH};

fn since_epoch() -> std::time::Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Whole seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    since_epoch().as_secs()
}

/// Seconds since the Unix epoch, now, with the fraction (DynamoDB's `CreationDateTime` shape).
pub fn now_secs_f64() -> f64 {
    since_epoch().as_secs_f64()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> u64 {
    since_epoch().as_millis() as u64
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> u64 {
    since_epoch().as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_agree() {
        let micros = now_micros();
        let millis = now_millis();
        let secs = now_secs();
        assert!(millis >= micros / 1000);
        assert!(secs >= micros / 1_000_000);
        assert!(now_secs_f64() >= secs as f64);
        // After 2020-01-01: the clock is read, not defaulted.
        assert!(secs > 1_577_836_800);
    }
}
