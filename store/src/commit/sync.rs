//! Group commit: one syncer thread makes the journal durable for every writer, and the
//! durable view readers read through.
//!
//! A write commits its batch to fjall's journal (the OS's buffers) and goes on at once: it
//! holds no thread while the disk works. What must not happen before the write is durable
//! (answering its client) waits on a [`Durability`] for the sequence number the write
//! reached. The syncer runs syncs back to back while anyone waits: each
//! ([`fjall::Database::persist_with_snapshot`]) flushes the journal, opens a snapshot while it
//! holds the journal, and fdatasyncs the file after letting go of it, so writers keep
//! appending while the disk syncs and the next sync covers them all. When a sync completes,
//! its snapshot becomes the durable view, and every waiter it covers is woken together:
//! tasks on the runtime's workers through their wakers, blocked threads through a condvar.
//!
//! A sync that fails is final: the syncer records the failure ([`super::health`]), wakes
//! every waiter with it, and stops; nothing syncs again in this process.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::{Condvar, Mutex};

use super::health::HealthState;
use crate::error::{Result, StoreError};

/// How long the syncer sleeps with nothing to do before it looks for writes nobody waits for
/// (they become visible to readers at the next sync).
const IDLE_LOOK: Duration = Duration::from_millis(50);

/// What the syncer, the waiters and the readers share.
pub(crate) struct Shared {
    /// Every write with a sequence number below this is durable.
    durable: AtomicU64,
    /// A snapshot of exactly what the last sync made durable.
    view: ArcSwap<fjall::Snapshot>,
    waiters: Mutex<Waiters>,
    /// Wakes threads blocked in [`Durability::wait`].
    synced: Condvar,
    /// Wakes the syncer.
    wanted: Condvar,
    pub(crate) health: Arc<HealthState>,
}

#[derive(Default)]
struct Waiters {
    /// The highest sequence number anyone waits for.
    wanted: u64,
    /// Tasks waiting, each with the sequence number it waits for.
    tasks: Vec<(u64, Waker)>,
    /// The syncer sleeps on `wanted`.
    syncer_idle: bool,
    /// The store closes: sync what is wanted, then stop.
    stop: bool,
    /// The syncer has stopped (closed or failed): nothing becomes durable any more.
    stopped: bool,
}

impl Shared {
    /// Whether sequence number `target` is durable (`Some(Ok)`), will never be
    /// (`Some(Err)`), or not yet (`None`).
    fn check(&self, target: u64, w: Option<&Waiters>) -> Option<Result<()>> {
        if self.durable.load(Ordering::Acquire) >= target {
            return Some(Ok(()));
        }
        if let Some(reason) = self.health.failure() {
            return Some(Err(StoreError::Failed(reason.to_string())));
        }
        if w.is_some_and(|w| w.stopped) {
            return Some(Err(StoreError::Failed(
                "the store closed before the write was synced".into(),
            )));
        }
        None
    }

    /// Asks the syncer for a sync that covers `target` (with the waiters locked).
    fn want(&self, w: &mut Waiters, target: u64) {
        if target > w.wanted {
            w.wanted = target;
        }
        if w.syncer_idle {
            self.wanted.notify_one();
        }
    }

    /// The durable view.
    pub(crate) fn view(&self) -> arc_swap::Guard<Arc<fjall::Snapshot>> {
        self.view.load()
    }

    /// The durable view, held for longer (iterators, backups).
    pub(crate) fn view_full(&self) -> Arc<fjall::Snapshot> {
        self.view.load_full()
    }

    /// Every write with a sequence number below this is durable.
    pub(crate) fn durable(&self) -> u64 {
        self.durable.load(Ordering::Acquire)
    }
}

/// The syncer thread.
pub(crate) struct Syncer {
    pub(crate) shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the syncer of `fjall`. Everything committed so far (a freshly opened database:
    /// what recovery found on disk) is durable, and the durable view starts there.
    pub(crate) fn start(fjall: fjall::Database, health: Arc<HealthState>) -> std::io::Result<Self> {
        let first = fjall.snapshot();
        let shared = Arc::new(Shared {
            durable: AtomicU64::new(first.seqno()),
            view: ArcSwap::from_pointee(first),
            waiters: Mutex::new(Waiters::default()),
            synced: Condvar::new(),
            wanted: Condvar::new(),
            health,
        });
        let thread = std::thread::Builder::new()
            .name("tarn-sync".into())
            .spawn({
                let shared = shared.clone();
                move || run(&shared, &fjall)
            })?;
        Ok(Syncer {
            shared,
            thread: Some(thread),
        })
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        {
            let mut w = self.shared.waiters.lock();
            w.stop = true;
            self.shared.wanted.notify_one();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The sequence number the next batch commits after: everything published so far is below
/// it. (fjall's snapshot tracker holds the visible sequence number; a snapshot opened now
/// would read at it.)
pub(crate) fn visible(fjall: &fjall::Database) -> u64 {
    fjall.visible_seqno()
}

fn run(shared: &Shared, fjall: &fjall::Database) {
    loop {
        {
            let mut w = shared.waiters.lock();
            loop {
                if w.wanted > shared.durable() {
                    break;
                }
                if w.stop {
                    w.stopped = true;
                    let tasks = std::mem::take(&mut w.tasks);
                    drop(w);
                    shared.synced.notify_all();
                    tasks.into_iter().for_each(|(_, t)| t.wake());
                    return;
                }
                w.syncer_idle = true;
                let idle = shared.wanted.wait_for(&mut w, IDLE_LOOK).timed_out();
                w.syncer_idle = false;
                if idle {
                    // Writes nobody waits for (fjall's own, background work that does not
                    // wait): sync them too, so readers see them.
                    let v = visible(fjall);
                    if v > w.wanted {
                        w.wanted = v;
                    }
                }
            }
        }
        fail::fail_point!("tarn_store::commit::before_sync");
        let outcome = injected_sync_error().map_or_else(
            || fjall.persist_with_snapshot(fjall::PersistMode::SyncData),
            Err,
        );
        match outcome {
            Ok(snapshot) => {
                let durable = snapshot.seqno();
                shared.view.store(Arc::new(snapshot));
                shared.durable.fetch_max(durable, Ordering::AcqRel);
                let ready = {
                    let mut w = shared.waiters.lock();
                    let (ready, waiting) = std::mem::take(&mut w.tasks)
                        .into_iter()
                        .partition(|(t, _)| *t <= durable);
                    w.tasks = waiting;
                    ready
                };
                shared.synced.notify_all();
                for (_, task) in ready {
                    task.wake();
                }
            }
            Err(e) => {
                // Never retried: the journal is suspect until the store is opened again.
                shared.health.fail(format!(
                    "syncing the journal failed: {}",
                    super::describe(&e)
                ));
                let tasks = {
                    let mut w = shared.waiters.lock();
                    w.stopped = true;
                    std::mem::take(&mut w.tasks)
                };
                shared.synced.notify_all();
                tasks.into_iter().for_each(|(_, t)| t.wake());
                return;
            }
        }
    }
}

/// An fsync error injected by the failpoint `tarn_store::commit::fsync` (`return` gives EIO,
/// `return(28)` the OS error 28, ENOSPC), in place of the sync.
fn injected_sync_error() -> Option<fjall::Error> {
    fail::fail_point!("tarn_store::commit::fsync", |code| {
        let code = code.and_then(|c| c.parse().ok()).unwrap_or(5);
        Some(fjall::Error::Io(std::io::Error::from_raw_os_error(code)))
    });
    None
}

/// A write's durability: ready once the journal holding the write is synced.
///
/// Await it (it is a [`Future`]) or [`Durability::wait`] for it before telling anyone the
/// write happened. It fails with [`StoreError::Failed`] when the sync failed: the write may or
/// may not survive a restart, and the store takes no more writes.
#[must_use = "a write is durable only once its Durability is ready"]
pub struct Durability {
    pending: Option<(Arc<Shared>, u64)>,
}

impl Durability {
    /// A durability that is ready at once (nothing to wait for).
    pub(crate) fn ready() -> Self {
        Durability { pending: None }
    }

    /// Durable once sequence number `target` is.
    pub(crate) fn at(shared: &Arc<Shared>, target: u64) -> Self {
        if shared.durable() >= target {
            return Self::ready();
        }
        Durability {
            pending: Some((shared.clone(), target)),
        }
    }

    /// Whether the write is durable already.
    pub fn is_ready(&self) -> bool {
        match &self.pending {
            None => true,
            Some((shared, target)) => shared.durable() >= *target,
        }
    }

    /// Blocks this thread until the write is durable.
    pub fn wait(self) -> Result<()> {
        let Some((shared, target)) = self.pending else {
            return Ok(());
        };
        let mut w = shared.waiters.lock();
        loop {
            if let Some(r) = shared.check(target, Some(&w)) {
                return r;
            }
            shared.want(&mut w, target);
            shared.synced.wait(&mut w);
        }
    }
}

impl Future for Durability {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let Some((shared, target)) = &self.pending else {
            return Poll::Ready(Ok(()));
        };
        if let Some(r) = shared.check(*target, None) {
            return Poll::Ready(r);
        }
        let mut w = shared.waiters.lock();
        if let Some(r) = shared.check(*target, Some(&w)) {
            return Poll::Ready(r);
        }
        // Polled again only once woken (then ready) or by a caller that polls spuriously: a
        // second entry for the same task is woken once more, harmlessly.
        w.tasks.push((*target, cx.waker().clone()));
        shared.want(&mut w, *target);
        Poll::Pending
    }
}

impl std::fmt::Debug for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.pending {
            None => f.write_str("Durability(ready)"),
            Some((_, target)) => write!(f, "Durability(waits for {target})"),
        }
    }
}
