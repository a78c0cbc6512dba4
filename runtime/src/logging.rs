//! Logging set-up for the `tarn` binary: `tracing` to stderr, filtered by `TARN_LOG` (or
//! `RUST_LOG`), by default [`DEFAULT_FILTER`]: `info` with the storage engine's chatter at `warn`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Environment variable that sets the log filter (`TARN_LOG=debug`, `TARN_LOG=tarn=trace`...).
pub const LOG_ENV: &str = "TARN_LOG";

/// The filter used when neither `TARN_LOG` nor `RUST_LOG` is set.
pub const DEFAULT_FILTER: &str = "info,fjall=warn,lsm_tree=warn";

/// Installs the global subscriber (colours only when stderr is a terminal). Safe to call more
/// than once (later calls do nothing).
pub fn init() {
    let filter = std::env::var(LOG_ENV)
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
