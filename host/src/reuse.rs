//! Instance reuse, opt-in per function (`reuse = N` in a `[[function]]`).
//!
//! Without it every invocation gets a fresh store and instance. With it, an instance that
//! answered a request cleanly waits in its function's [`WarmPool`] and serves the next one, up to
//! N requests in all, one at a time; then it is dropped. A trap, a timeout or running out of
//! memory drops it at once (the instance's state can no longer be trusted), so a failing request
//! never poisons the next one: that one gets a fresh instance. So does an HTTP guest returning
//! without setting its response (crate::http answers 500 at once).
//!
//! Limits hold per request: each request on a reused store gets a new deadline, a new log
//! allowance and its own captured output; the memory limit caps the instance's linear memory at
//! every request, as it does a fresh one's.
//!
//! The trade-off: globals survive between the requests one instance serves (Python module
//! state, JS globals, Rust statics). That is what makes reuse fast (a Python or JS runtime's
//! start-up is paid once per N requests) and why a function that keeps per-request state in
//! globals must not opt in. `TARN_REQUEST_ID` in the environment is the first request's; the
//! log lines carry each request's own id.
//!
//! Idle instances hold pooling-allocator slots, so their number is bounded host-wide
//! ([`IdleSlots`]); when none is free a finished instance is dropped as without reuse.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::Store;

use crate::bindings;
use crate::log::Capture;
use crate::state::InvocationState;

/// An instantiated component, typed by the handler it exports.
pub(crate) enum Instance {
    /// wasi-http's `proxy` world.
    Http(wasmtime_wasi_http::p2::bindings::Proxy),
    /// `stream-handler`.
    Stream(bindings::stream::StreamHandler),
    /// `schedule-handler`.
    Schedule(bindings::schedule::ScheduleHandler),
}

/// An instance between two requests: its store, how many requests it has served, and where
/// its output is captured.
pub(crate) struct Reused {
    /// The instance's store.
    pub(crate) store: Store<InvocationState>,
    /// The instance.
    pub(crate) instance: Instance,
    /// Requests served so far.
    pub(crate) served: u32,
    /// Its stdout and stderr (shared with the store's WASI context).
    pub(crate) capture: Capture,
}

/// An idle instance and the idle slot it holds.
struct Warm {
    reused: Reused,
    _slot: OwnedSemaphorePermit,
}

/// The host-wide budget of idle instances (each holds a slot of the pooling allocator).
pub(crate) type IdleSlots = Arc<Semaphore>;

/// One function's idle instances.
pub(crate) struct WarmPool {
    /// Requests an instance may serve (`reuse`); below 2 the pool stays empty.
    limit: u32,
    idle: Mutex<Vec<Warm>>,
    slots: IdleSlots,
}

impl WarmPool {
    /// A pool for a function with `reuse = limit`, drawing idle slots from `slots`.
    pub(crate) fn new(limit: u32, slots: IdleSlots) -> Self {
        WarmPool {
            limit,
            idle: Mutex::new(Vec::new()),
            slots,
        }
    }

    /// Whether the function opted in.
    pub(crate) fn enabled(&self) -> bool {
        self.limit > 1
    }

    /// An idle instance, if there is one (the most recently used: its memory is warmest).
    pub(crate) fn take(&self) -> Option<Reused> {
        self.idle.lock().pop().map(|w| w.reused)
    }

    /// Keeps an instance that served its requests cleanly for the next one, unless it has
    /// served its quota or no idle slot is free (then it is dropped here).
    pub(crate) fn put(&self, reused: Reused) {
        if reused.served >= self.limit {
            return;
        }
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            return;
        };
        self.idle.lock().push(Warm {
            reused,
            _slot: slot,
        });
    }
}
