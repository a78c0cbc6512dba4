//! The host's two error types: [`HostError`] for building the host and loading functions,
//! [`InvocationError`] for one invocation that failed (with the HTTP status a trigger answers).

use std::path::PathBuf;

/// Errors building the host or loading functions.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// File system trouble.
    #[error("{0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    /// The engine could not be built.
    #[error("wasm engine: {0:#}")]
    Engine(wasmtime::Error),
    /// Not a valid component, or compilation failed.
    #[error("compiling component: {0:#}")]
    Compile(wasmtime::Error),
    /// The component imports something tarn does not provide, or exports no handler tarn knows.
    #[error("linking component: {0:#}")]
    Link(String),
}

/// Why one invocation failed. Each maps to an HTTP status for HTTP triggers.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvocationError {
    /// The invocation ran past its `timeout_ms` (HTTP 504).
    #[error("function timed out after {0} ms")]
    Timeout(u64),
    /// The guest grew a memory past its `memory_mb` (HTTP 500).
    #[error("function exceeded its memory limit of {0} MiB")]
    OutOfMemory(u64),
    /// The guest trapped (HTTP 500).
    #[error("function trapped: {0}")]
    Trap(String),
    /// Every instance slot is in use (HTTP 503).
    #[error("server busy: {0}")]
    Busy(String),
    /// The function runs its `max_concurrency` invocations already (HTTP 429).
    #[error("Rate Exceeded: the function is at its concurrency limit of {0}")]
    Throttled(u32),
    /// The guest ran but answered badly (no response, an error code) (HTTP 500).
    #[error("function failed: {0}")]
    Failed(String),
}

impl InvocationError {
    /// The HTTP status an HTTP trigger answers with.
    pub fn status(&self) -> u16 {
        match self {
            InvocationError::Timeout(_) => 504,
            InvocationError::Busy(_) => 503,
            InvocationError::Throttled(_) => 429,
            _ => 500,
        }
    }

    /// A short machine-readable kind: `timeout`, `out_of_memory`, `trap`, `busy`, `failed`, or
    /// `TooManyRequestsException` (Lambda's name) for a throttled invocation.
    pub fn kind(&self) -> &'static str {
        match self {
            InvocationError::Throttled(_) => "TooManyRequestsException",
            InvocationError::Timeout(_) => "timeout",
            InvocationError::OutOfMemory(_) => "out_of_memory",
            InvocationError::Trap(_) => "trap",
            InvocationError::Busy(_) => "busy",
            InvocationError::Failed(_) => "failed",
        }
    }
}
