//! The free-space reserve: writes stop while the disk holding the store has less than
//! [`crate::StoreOptions::min_free_space`] free, before the storage engine runs out of space
//! (fjall poisons itself on a failed journal write, and then only a reopen cures it).
//!
//! Writes do not pay a syscall each: a watcher thread looks at the file system (`statvfs`)
//! every [`CHECK_INTERVAL`], and sooner once the writes since its last look add up to a
//! sixteenth of the reserve, so even a fast writer cannot eat the reserve between two looks.
//! A write only reads the verdict (an atomic flag, [`super::health`]). When space returns the
//! next look lifts the refusal: writes resume without a restart.
//!
//! The reserve keeps room for what the engine writes on its own after writes stop (flushing
//! memtables to tables, compactions, the files a restart writes), so it cannot go below
//! [`MIN_FREE_SPACE_FLOOR`]. The watcher also notices a storage engine that poisoned itself
//! in the background (a flush or compaction that failed) and reports the store failed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::health::HealthState;

/// The reserve when none is given: 256 MiB.
pub const DEFAULT_MIN_FREE_SPACE: u64 = 256 << 20;
/// The smallest reserve: a smaller one is raised to this.
pub const MIN_FREE_SPACE_FLOOR: u64 = 16 << 20;
/// How often the watcher looks at the free space when writes are slow.
pub(crate) const CHECK_INTERVAL: Duration = Duration::from_millis(100);

struct Shared {
    path: PathBuf,
    health: Arc<HealthState>,
    fjall: fjall::Database,
    /// Bytes written since the last look.
    written: AtomicU64,
    /// Written bytes that call for a look before the interval is over.
    early_look: u64,
    /// `true` once the store closes.
    stop: Mutex<bool>,
    wake: Condvar,
}

/// The watcher thread and what writes report to it.
pub(crate) struct SpaceWatch {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SpaceWatch {
    /// Looks at the free space of `path` once, then starts the watcher.
    pub(crate) fn start(
        path: PathBuf,
        reserve: u64,
        health: Arc<HealthState>,
        fjall: fjall::Database,
    ) -> std::io::Result<SpaceWatch> {
        let shared = Arc::new(Shared {
            path,
            health,
            fjall,
            written: AtomicU64::new(0),
            early_look: (reserve / 16).max(1),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        look(&shared);
        let thread = std::thread::Builder::new()
            .name("tarn-space".into())
            .spawn({
                let shared = shared.clone();
                move || watch(&shared)
            })?;
        Ok(SpaceWatch {
            shared,
            thread: Some(thread),
        })
    }

    /// A write of about `bytes` was committed: the watcher looks early when enough add up.
    pub(crate) fn wrote(&self, bytes: u64) {
        let before = self.shared.written.fetch_add(bytes, Ordering::Relaxed);
        if before < self.shared.early_look && before + bytes >= self.shared.early_look {
            self.shared.wake.notify_one();
        }
    }

    /// Looks at the free space now, on this thread.
    pub(crate) fn look_now(&self) {
        look(&self.shared);
    }
}

impl Drop for SpaceWatch {
    fn drop(&mut self) {
        *self.shared.stop.lock() = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn watch(shared: &Shared) {
    loop {
        {
            let mut stop = shared.stop.lock();
            if *stop {
                return;
            }
            if shared.written.load(Ordering::Relaxed) < shared.early_look {
                shared.wake.wait_for(&mut stop, CHECK_INTERVAL);
            }
            if *stop {
                return;
            }
        }
        look(shared);
    }
}

/// One look: the free space, and whether the engine poisoned itself in the background.
fn look(shared: &Shared) {
    shared.written.store(0, Ordering::Relaxed);
    if let Some(free) = free_bytes(shared) {
        shared.health.set_free(free);
    }
    if shared.health.failure().is_none() {
        // Takes the journal writer briefly; fails at once when fjall is poisoned (a flush or
        // compaction worker that failed poisons the whole database).
        if let Err(e) = shared.fjall.persist(fjall::PersistMode::Buffer) {
            shared.health.fail(super::engine_failure(&e));
        }
    }
}

/// Bytes available to the store's files (to an unprivileged user, as `df` shows them).
fn free_bytes(shared: &Shared) -> Option<u64> {
    fail::fail_point!("tarn_store::space::free_bytes", |v| v
        .and_then(|v| v.parse().ok()));
    match rustix::fs::statvfs(&shared.path) {
        Ok(s) => Some(s.f_bavail.saturating_mul(s.f_frsize)),
        Err(e) => {
            tracing::warn!(path = %shared.path.display(), error = %e, "cannot read the free space");
            None
        }
    }
}
