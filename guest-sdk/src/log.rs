//! Logging over the host's `log` import: [`write()`] and the [`info!`]-style macros.
//!
//! Lines are captured per invocation with its request id. Outside a tarn host (native tests)
//! they go to stderr.

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected, handled.
    Warn,
    /// A failure.
    Error,
}

/// Writes one log line at `level`.
pub fn write(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use crate::bindings::http::tarn::function::log::{write, Level as L};
        let level = match level {
            Level::Trace => L::Trace,
            Level::Debug => L::Debug,
            Level::Info => L::Info,
            Level::Warn => L::Warn,
            Level::Error => L::Error,
        };
        write(level, message);
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Logs at debug level, with `format!` arguments.
#[doc(inline)]
pub use crate::__tarn_debug as debug;
/// Logs at error level, with `format!` arguments.
#[doc(inline)]
pub use crate::__tarn_error as error;
/// Logs at info level, with `format!` arguments: `tarn_sdk::log::info!("created {id}")`.
#[doc(inline)]
pub use crate::__tarn_info as info;
/// Logs at trace level, with `format!` arguments.
#[doc(inline)]
pub use crate::__tarn_trace as trace;
/// Logs at warn level, with `format!` arguments.
#[doc(inline)]
pub use crate::__tarn_warn as warn;

#[doc(hidden)]
#[macro_export]
macro_rules! __tarn_trace { ($($t:tt)*) => { $crate::log::write($crate::log::Level::Trace, &::std::format!($($t)*)) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __tarn_debug { ($($t:tt)*) => { $crate::log::write($crate::log::Level::Debug, &::std::format!($($t)*)) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __tarn_info { ($($t:tt)*) => { $crate::log::write($crate::log::Level::Info, &::std::format!($($t)*)) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __tarn_warn { ($($t:tt)*) => { $crate::log::write($crate::log::Level::Warn, &::std::format!($($t)*)) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __tarn_error { ($($t:tt)*) => { $crate::log::write($crate::log::Level::Error, &::std::format!($($t)*)) }; }

#[cfg(test)]
mod tests {
    #[test]
    fn macros_format() {
        let id = 7;
        super::info!("created {id}");
        super::error!("{} failed", "x");
    }
}
