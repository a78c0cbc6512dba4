//! The durability side of every write, and what readers may see: group commit, the durable
//! read view, the free-space reserve, and the store's health.
//!
//! - [`sync`]: one syncer thread syncs fjall's journal back to back for every writer; a write
//!   waits on a [`Durability`] (blocking, or awaited as a future) and holds no thread while
//!   the disk works. Each sync's snapshot becomes the **durable view**: user-facing reads
//!   (GetItem, Query, Scan, streams, exports, backups) read through it and never see a write
//!   that a crash could still lose. A store that does not sync its writes (`--in-memory`)
//!   reads the latest data, as before.
//! - [`space`]: writes stop while the disk is below the free-space reserve, and resume by
//!   themselves when space returns.
//! - [`health`]: what stops writes (a full disk, a failed engine), for health checks.
//!
//! A write calls [`Commit::admit`] before it takes its locks (a refused write changes
//! nothing), commits its batch, reports its size ([`Commit::committed`]), and, once it has
//! let go of its locks, [`Commit::settle`]s: it waits until everything it saw or wrote is
//! durable. Inside [`Commit::defer`] (the API's request path) `settle` does not block: it
//! records what the request waits for, and the request awaits the [`Durability`] `defer`
//! returns after its thread has gone on to other work.
//!
//! This module knows fjall and nothing of tables: it sits with the foundations, below the
//! database.

mod health;
mod space;
mod sync;

use std::cell::Cell;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::Arc;

use fjall::Readable;

pub use health::{Health, StoreHealth};
pub use space::{DEFAULT_MIN_FREE_SPACE, MIN_FREE_SPACE_FLOOR};
pub use sync::Durability;

use crate::error::{Result, StoreError};
use health::HealthState;
use space::SpaceWatch;
use sync::Syncer;

thread_local! {
    /// The deferring scope of this thread, if any: which store (its syncer's address) and the
    /// highest sequence number a write in the scope waits for.
    static DEFERRED: Cell<Option<(usize, u64)>> = const { Cell::new(None) };
}

/// The commit pipeline of one open database.
pub(crate) struct Commit {
    fjall: fjall::Database,
    health: Arc<HealthState>,
    /// `None` when the store does not sync its writes.
    syncer: Option<Syncer>,
    space: SpaceWatch,
}

impl Commit {
    /// Starts the pipeline of `fjall`, stored in `path`: the syncer (when `sync_writes`) and
    /// the space watcher, with writes stopping at `reserve` bytes free (raised to
    /// [`MIN_FREE_SPACE_FLOOR`]).
    pub(crate) fn start(
        fjall: &fjall::Database,
        path: &Path,
        sync_writes: bool,
        reserve: u64,
    ) -> Result<Commit> {
        let reserve = reserve.max(MIN_FREE_SPACE_FLOOR);
        let health = Arc::new(HealthState::new(reserve));
        let syncer = sync_writes
            .then(|| Syncer::start(fjall.clone(), health.clone()))
            .transpose()?;
        let space = SpaceWatch::start(path.to_path_buf(), reserve, health.clone(), fjall.clone())?;
        Ok(Commit {
            fjall: fjall.clone(),
            health,
            syncer,
            space,
        })
    }

    /// Refuses a write when the disk is below the reserve or the store failed. Call it before
    /// taking any lock.
    pub(crate) fn admit(&self) -> Result<()> {
        match self.health.refusal() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// [`Commit::admit`] for background work: while the disk is below the reserve, waits
    /// for space to return (or for `stopping` to turn true) instead of failing.
    pub(crate) fn admit_waiting(&self, stopping: &dyn Fn() -> bool) -> Result<()> {
        loop {
            match self.health.refusal() {
                None => return Ok(()),
                Some(StoreError::DiskFull { .. }) if !stopping() => {
                    std::thread::sleep(space::CHECK_INTERVAL)
                }
                Some(e) => return Err(e),
            }
        }
    }

    /// A batch of about `bytes` was committed to the journal.
    pub(crate) fn committed(&self, bytes: u64) {
        self.space.wrote(bytes);
    }

    /// A write's error from fjall, recorded as the store's failure when it means the engine
    /// stopped (fjall poisons itself on a failed journal write).
    pub(crate) fn engine_error(&self, e: fjall::Error) -> StoreError {
        if matches!(e, fjall::Error::Io(_) | fjall::Error::Poisoned) {
            self.health.fail(engine_failure(&e));
            return StoreError::Failed(engine_failure(&e));
        }
        StoreError::Storage(e)
    }

    /// Waits until everything this thread's write saw or wrote is durable: its own batch,
    /// and any write it read (a condition that failed on an item still being synced must not
    /// be answered before that item is durable). Inside [`Commit::defer`] it only records
    /// what the scope waits for.
    pub(crate) fn settle(&self) -> Result<()> {
        let Some(syncer) = &self.syncer else {
            return Ok(());
        };
        let target = sync::visible(&self.fjall);
        if syncer.shared.durable() >= target {
            return Ok(());
        }
        let key = Arc::as_ptr(&syncer.shared) as usize;
        let deferred = DEFERRED.with(|d| match d.get() {
            Some((k, t)) if k == key => {
                d.set(Some((k, t.max(target))));
                true
            }
            _ => false,
        });
        if deferred {
            return Ok(());
        }
        Durability::at(&syncer.shared, target).wait()
    }

    /// Waits until everything committed so far is durable, blocking this thread even inside
    /// [`Commit::defer`] (definitions and tarn's own records, which later writes rely on).
    pub(crate) fn sync(&self) -> Result<()> {
        match &self.syncer {
            None => Ok(()),
            Some(s) => Durability::at(&s.shared, sync::visible(&self.fjall)).wait(),
        }
    }

    /// Runs `f` with this thread's item writes not waiting for their syncs; returns what `f`
    /// returned and the [`Durability`] of every write it made (and of what they read).
    pub(crate) fn defer<R>(&self, f: impl FnOnce() -> R) -> (R, Durability) {
        let Some(syncer) = &self.syncer else {
            return (f(), Durability::ready());
        };
        let key = Arc::as_ptr(&syncer.shared) as usize;
        let scope = Scope {
            outer: DEFERRED.with(|d| d.replace(Some((key, 0)))),
        };
        let out = f();
        let target = scope.close(key);
        (out, Durability::at(&syncer.shared, target))
    }

    /// What user-facing reads read: the durable view, or the latest data when writes are
    /// not synced.
    pub(crate) fn read_view(&self) -> ReadView {
        match &self.syncer {
            None => ReadView::Latest,
            Some(s) => ReadView::Durable(s.shared.view()),
        }
    }

    /// A snapshot for a long read (exports, backups): the durable view, or a snapshot of the
    /// latest data when writes are not synced.
    pub(crate) fn snapshot(&self) -> fjall::Snapshot {
        match &self.syncer {
            None => self.fjall.snapshot(),
            Some(s) => (*s.shared.view_full()).clone(),
        }
    }

    /// The store's health now.
    pub(crate) fn health(&self) -> Health {
        self.health.health()
    }

    /// A handle on the store's health that does not keep it open.
    pub(crate) fn health_handle(&self) -> StoreHealth {
        StoreHealth(self.health.clone())
    }

    /// Looks at the free space now rather than at the watcher's next look.
    pub(crate) fn look_at_space(&self) {
        self.space.look_now();
    }
}

/// A deferring scope on this thread; restores the enclosing one when closed or unwound.
struct Scope {
    outer: Option<(usize, u64)>,
}

impl Scope {
    /// Ends the scope of store `key`: returns what it waits for.
    fn close(self, key: usize) -> u64 {
        let mine = DEFERRED.with(|d| d.get());
        drop(self);
        match mine {
            Some((k, t)) if k == key => t,
            _ => 0,
        }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        DEFERRED.with(|d| {
            let mine = d.get();
            // An enclosing scope of the same store waits for what this one waited for too.
            let restored = match (self.outer, mine) {
                (Some((ko, to)), Some((k, t))) if ko == k => Some((ko, to.max(t))),
                (outer, _) => outer,
            };
            d.set(restored);
        });
    }
}

/// What a read reads through: the durable view, or the latest data.
pub(crate) enum ReadView {
    /// The latest committed data (a store that does not sync).
    Latest,
    /// What the last sync made durable.
    Durable(arc_swap::Guard<Arc<fjall::Snapshot>>),
}

impl ReadView {
    /// A sequence number every write below which this view shows: the durable snapshot's, or
    /// (reading the latest data) `fjall`'s visible sequence number now, so take it before
    /// reading.
    pub(crate) fn seqno(&self, fjall: &fjall::Database) -> u64 {
        match self {
            ReadView::Latest => fjall.visible_seqno(),
            ReadView::Durable(s) => s.seqno(),
        }
    }

    /// The value under `key` in `keyspace`.
    pub(crate) fn get(
        &self,
        keyspace: &fjall::Keyspace,
        key: &[u8],
    ) -> fjall::Result<Option<fjall::UserValue>> {
        match self {
            ReadView::Latest => keyspace.get(key),
            ReadView::Durable(s) => s.get(keyspace, key),
        }
    }

    /// The entries of `keyspace` in `range`.
    pub(crate) fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(
        &self,
        keyspace: &fjall::Keyspace,
        range: R,
    ) -> fjall::Iter {
        match self {
            ReadView::Latest => keyspace.range(range),
            ReadView::Durable(s) => s.range(keyspace, range),
        }
    }
}

/// A fjall error as the reason the store failed.
pub(crate) fn engine_failure(e: &fjall::Error) -> String {
    match e {
        fjall::Error::Poisoned => {
            "the storage engine stopped after an earlier write or background error (see the log)"
                .into()
        }
        e => describe(e),
    }
}

/// A fjall error for people: an I/O error says which, a full disk says so.
pub(crate) fn describe(e: &fjall::Error) -> String {
    match e {
        fjall::Error::Io(io) if io.raw_os_error() == Some(28) => {
            format!("the disk is full ({io}), although writes stop at the free-space reserve")
        }
        fjall::Error::Io(io) => format!("I/O error: {io}"),
        e => format!("storage engine error: {e:?}"),
    }
}
