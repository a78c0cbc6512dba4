//! A mapping's checkpoint: how far it has read its stream, and which of the records read are
//! not accepted yet. Kept in the store's own state (through the seam's
//! [`StreamLog`], over [`tarn_store::Store::put_state`]) under the mapping's key, so a restart re-reads exactly the records still owed to the handler.
//!
//! The runner makes one after every answer of the handler and hands it to [`Checkpoints`].
//! The handler's own writes return without waiting for their sync
//! ([`tarn_store::Store::deferring_syncs`]); the checkpoint, written after them, waits for one
//! sync, which covers both. The journal keeps commit order, so a crash keeps the checkpoint
//! only with the handler's writes before it. Checkpoints are written one at a time; those made
//! while one is being written wait, and only the newest of them is written next: it lists
//! every record still owed, so it covers the others.

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::lanes::Lane;
use crate::api::backend::StreamLog;

/// What a checkpoint holds: the stream, how far it was read, and what still waits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Checkpoint {
    /// The stream the positions refer to.
    pub(super) stream: Uuid,
    /// Every record up to here was accepted or given up, except those in `pending`.
    pub(super) read_to: u64,
    /// Records read but not yet accepted (waiting in a lane, in flight, or in a blocked
    /// key's queue), in sequence order.
    pub(super) pending: Vec<u64>,
}

impl Checkpoint {
    /// The checkpoint of `stream` read up to `read_to`, with what `lanes` still hold.
    pub(super) fn of(stream: Uuid, read_to: u64, lanes: &[Lane]) -> Checkpoint {
        let mut pending: Vec<u64> = lanes.iter().flat_map(Lane::pending).collect();
        pending.sort_unstable();
        Checkpoint {
            stream,
            read_to,
            pending,
        }
    }

    /// Every record up to this sequence number is done (what `tarn status` reports).
    pub(super) fn done_through(&self) -> u64 {
        self.pending.first().map_or(self.read_to, |p| p - 1)
    }

    /// The checkpoint saved under `key`, if it is one of `stream` (a checkpoint of an older
    /// stream of the table does not apply).
    pub(super) async fn load(
        log: &StreamLog,
        key: &str,
        stream: Uuid,
    ) -> Result<Option<Checkpoint>, String> {
        let saved = log.load_state(key).await?;
        Ok(saved
            .and_then(|b| serde_json::from_slice::<Checkpoint>(&b).ok())
            .filter(|c| c.stream == stream))
    }

    /// Saves the checkpoint under `key`, durable when this answers.
    pub(super) async fn save(&self, log: &StreamLog, key: &str) -> Result<(), String> {
        log.save_state(key, self.to_bytes()).await
    }

    fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("checkpoints serialize")
    }
}

/// A checkpoint made durable, and what it settled.
#[derive(Debug, PartialEq)]
pub(super) struct Written {
    /// The records accepted by the batches whose answers it follows.
    pub(super) accepted: u64,
    /// [`Checkpoint::done_through`] of the checkpoint written.
    pub(super) done_through: u64,
}

/// Writes a mapping's checkpoints in order, one at a time, each with one journal sync (which
/// also makes durable every write committed before it: the handler's). A checkpoint made
/// while another is being written waits; of those waiting, only the newest is written.
pub(super) struct Checkpoints {
    log: StreamLog,
    key: String,
    /// The write in progress (at most one).
    writing: JoinSet<Result<Written, String>>,
    /// The newest checkpoint waiting, and the records accepted since the last one written.
    next: Option<Checkpoint>,
    next_accepted: u64,
}

impl Checkpoints {
    /// The checkpoints of the mapping whose state is kept under `key` in `log`.
    pub(super) fn new(log: StreamLog, key: String) -> Checkpoints {
        Checkpoints {
            log,
            key,
            writing: JoinSet::new(),
            next: None,
            next_accepted: 0,
        }
    }

    /// Writes `c`, made after the handler's writes for `accepted` more records were committed,
    /// now or once the write in progress is done.
    pub(super) fn push(&mut self, c: Checkpoint, accepted: u64) {
        self.next = Some(c);
        self.next_accepted += accepted;
        if self.writing.is_empty() {
            self.start();
        }
    }

    /// Whether a checkpoint is being written.
    pub(super) fn writing(&self) -> bool {
        !self.writing.is_empty()
    }

    /// Waits for the checkpoint being written to be durable (forever when none is), then
    /// starts on the next one. Cancel-safe: a checkpoint whose write completed is reported by
    /// the call that saw it complete.
    pub(super) async fn written(&mut self) -> Result<Written, String> {
        let Some(done) = self.writing.join_next().await else {
            return std::future::pending().await;
        };
        let written = done.map_err(|e| format!("a checkpoint write failed: {e}"))??;
        self.start();
        Ok(written)
    }

    fn start(&mut self) {
        let Some(c) = self.next.take() else {
            return;
        };
        let accepted = std::mem::take(&mut self.next_accepted);
        let (log, key) = (self.log.clone(), self.key.clone());
        self.writing.spawn(async move {
            c.save(&log, &key).await?;
            Ok(Written {
                accepted,
                done_through: c.done_through(),
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_checkpoint_reads_back_only_for_its_stream() {
        let dir = tempfile::tempdir().unwrap();
        let open = || {
            let store = tarn_store::Store::open(dir.path()).unwrap();
            let api = crate::api::Api::new(std::sync::Arc::new(store));
            let log = crate::api::backend::EmbeddedTables.stream_log(&api, "t");
            (api, log)
        };
        let (api, log) = open();
        let stream = Uuid::new_v4();
        let c = Checkpoint {
            stream,
            read_to: 40,
            pending: vec![12, 30],
        };
        assert_eq!(c.done_through(), 11);
        c.save(&log, "k").await.unwrap();
        assert_eq!(
            Checkpoint::load(&log, "k", stream).await.unwrap(),
            Some(c.clone())
        );
        assert_eq!(
            Checkpoint::load(&log, "k", Uuid::new_v4()).await.unwrap(),
            None
        );
        drop((api, log));
        let (_api, log) = open();
        let back = Checkpoint::load(&log, "k", stream).await.unwrap().unwrap();
        assert_eq!(back, c);
    }

    #[tokio::test]
    async fn checkpoints_are_written_in_order_and_the_newest_waiting_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = tarn_store::Store::open(dir.path()).unwrap();
        let api = crate::api::Api::new(std::sync::Arc::new(store));
        let log = crate::api::backend::EmbeddedTables.stream_log(&api, "t");
        let stream = Uuid::new_v4();
        let at = |read_to: u64, pending: Vec<u64>| Checkpoint {
            stream,
            read_to,
            pending,
        };
        let mut checkpoints = Checkpoints::new(log.clone(), "k".into());
        assert!(!checkpoints.writing());
        checkpoints.push(at(10, vec![4]), 3);
        assert!(checkpoints.writing());
        // Made while the first is being written: only the newest of these is written next,
        // with the records of both.
        checkpoints.push(at(20, vec![15]), 5);
        checkpoints.push(at(30, vec![]), 7);
        let first = checkpoints.written().await.unwrap();
        assert_eq!(
            first,
            Written {
                accepted: 3,
                done_through: 3
            }
        );
        assert!(checkpoints.writing());
        let second = checkpoints.written().await.unwrap();
        assert_eq!(
            second,
            Written {
                accepted: 12,
                done_through: 30
            }
        );
        assert!(!checkpoints.writing());
        assert_eq!(
            Checkpoint::load(&log, "k", stream).await.unwrap(),
            Some(at(30, vec![]))
        );
    }
}
