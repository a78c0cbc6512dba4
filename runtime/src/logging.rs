//! Logging set-up for the `tarn` binary: `tracing` to stderr, filtered by `TARN_LOG` (or
//! `RUST_LOG`), `info` by default.

use tracing_subscriber::EnvFilter;

/// Environment variable that sets the log filter (`TARN_LOG=debug`, `TARN_LOG=tarn=trace`...).
pub const LOG_ENV: &str = "TARN_LOG";

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init() {
    let filter = std::env::var(LOG_ENV)
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
