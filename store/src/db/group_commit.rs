//! Group commit: many writers, one fsync.
//!
//! A write is acknowledged only after the journal holding it is synced to disk. Syncing once per
//! write would cap throughput at the disk's fsync rate, so writers share syncs: after committing
//! its batch to the journal (in OS buffers), a writer waits for the next sync that *starts* after
//! its commit. The first waiter to find no sync running becomes the leader and performs it;
//! everyone whose commit it covers is released together.

use parking_lot::{Condvar, Mutex};

use crate::error::Result;

#[derive(Default)]
struct State {
    /// Syncs started so far.
    started: u64,
    /// Syncs finished so far (each covers every commit made before it started).
    completed: u64,
    /// A sync is running now.
    running: bool,
    /// The last sync failed: the database is not trustworthy any more.
    failed: bool,
}

/// Coordinates journal syncs among concurrent writers.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    /// Waits until a sync that started after this call has completed, running it if no one else
    /// is. Call it after the write is committed to the journal, before acknowledging it.
    pub(crate) fn sync(&self, db: &fjall::Database) -> Result<()> {
        let mut st = self.state.lock();
        let needed = st.started + 1;
        loop {
            if st.failed {
                return Err(crate::StoreError::Corrupt(
                    "an earlier journal sync failed; restart the server".into(),
                ));
            }
            if st.completed >= needed {
                return Ok(());
            }
            if st.running {
                self.done.wait(&mut st);
                continue;
            }
            st.running = true;
            st.started += 1;
            let epoch = st.started;
            drop(st);
            let outcome = db.persist(fjall::PersistMode::SyncAll);
            st = self.state.lock();
            st.running = false;
            match outcome {
                Ok(()) => st.completed = epoch,
                Err(_) => st.failed = true,
            }
            self.done.notify_all();
            outcome?;
        }
    }
}
