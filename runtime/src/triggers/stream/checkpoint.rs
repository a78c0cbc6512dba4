//! A mapping's checkpoint: how far it has read its stream, and which of the records read are
//! not accepted yet. Kept in the store's own state (through the seam's
//! [`StreamLog`], over [`tarn_store::Store::put_state`]) under the mapping's key, so a restart re-reads exactly the records still owed to the handler.
//!
//! The runner writes one after every answer of the handler. The handler's own writes return
//! without waiting for their sync ([`tarn_store::Store::deferring_syncs`]); the checkpoint
//! written right after them waits for one sync, which covers both. The journal keeps commit
//! order, so a crash keeps the checkpoint only with the handler's writes before it.

use serde::{Deserialize, Serialize};
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

    /// Saves the checkpoint under `key` without waiting for its sync: the caller waits for
    /// one sync covering it and the handler's writes before it.
    pub(super) async fn append(&self, log: &StreamLog, key: &str) -> Result<(), String> {
        log.append_state(key, self.to_bytes()).await
    }

    fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("checkpoints serialize")
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
        let later = Checkpoint {
            pending: vec![],
            ..c
        };
        later.append(&log, "k").await.unwrap();
        api.sync().await.unwrap();
        drop((api, log));
        let (_api, log) = open();
        let back = Checkpoint::load(&log, "k", stream).await.unwrap().unwrap();
        assert_eq!(back.done_through(), 40);
    }
}
