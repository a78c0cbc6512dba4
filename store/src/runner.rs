//! The background runner: the threads a store starts for long work (online index builds,
//! backup files, point-in-time base snapshots, restores), and their shutdown.
//!
//! The store that opened the database owns the runner. When it is dropped, the runner asks the
//! work to stop ([`Runner::stopping`] turns true; each job checks it between steps) and joins
//! every thread, so no job outlives its store. A job that was cut short resumes, or is cleaned
//! up, when the store opens again (each job's module says how). The work itself lives with its
//! concern; this module knows nothing of the database.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;

struct State {
    stop: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Runs background work on named threads; the owning handle stops and joins them on drop.
pub(crate) struct Runner {
    state: Arc<State>,
    owner: bool,
}

impl Runner {
    /// The owner's runner, for a newly opened store.
    pub(crate) fn new() -> Runner {
        Runner {
            state: Arc::new(State {
                stop: AtomicBool::new(false),
                threads: Mutex::new(Vec::new()),
            }),
            owner: true,
        }
    }

    /// A non-owning handle, for a job that checks [`Runner::stopping`] or starts more work.
    /// Dropping it stops nothing.
    pub(crate) fn handle(&self) -> Runner {
        Runner {
            state: self.state.clone(),
            owner: false,
        }
    }

    /// The owning store is closing: background work should stop at its next step.
    pub(crate) fn stopping(&self) -> bool {
        self.state.stop.load(Ordering::Relaxed)
    }

    /// Asks the work to stop without joining it, as if the store were closing (tests that cut
    /// a job short).
    #[cfg(test)]
    pub(crate) fn stop(&self) {
        self.state.stop.store(true, Ordering::Relaxed);
    }

    /// Runs `work` on a named thread that the owning store joins when it is dropped.
    pub(crate) fn spawn(&self, name: &str, work: impl FnOnce() + Send + 'static) {
        match std::thread::Builder::new().name(name.into()).spawn(work) {
            Ok(t) => {
                let mut threads = self.state.threads.lock();
                threads.retain(|t| !t.is_finished());
                threads.push(t);
            }
            Err(e) => {
                tracing::error!(error = %e, thread = name, "cannot start a background thread")
            }
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        self.state.stop.store(true, Ordering::Relaxed);
        let threads = std::mem::take(&mut *self.state.threads.lock());
        for t in threads {
            if t.join().is_err() {
                tracing::error!("a background thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn dropping_the_owner_stops_and_joins_the_work() {
        let runner = Runner::new();
        let steps = Arc::new(AtomicUsize::new(0));
        let (handle, counted) = (runner.handle(), steps.clone());
        runner.spawn("test-job", move || {
            while !handle.stopping() {
                counted.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        });
        // A handle's drop stops nothing.
        drop(runner.handle());
        assert!(!runner.stopping());
        drop(runner);
        let after = steps.load(Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(
            steps.load(Ordering::Relaxed),
            after,
            "the job ended with its store"
        );
    }
}
