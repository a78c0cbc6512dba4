//! A mapping's checkpoint: how far it has read its stream, and which of the records read are
//! not accepted yet. Kept in the store's own state ([`tarn_store::Store::put_state`]) under the
//! mapping's key, so a restart re-reads exactly the records still owed to the handler.
//!
//! The runner writes one after every answer of the handler. The handler's own writes return
//! without waiting for their sync ([`tarn_store::Store::deferring_syncs`]); the checkpoint
//! written right after them waits for one sync, which covers both. The journal keeps commit
//! order, so a crash keeps the checkpoint only with the handler's writes before it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tarn_store::Store;
use uuid::Uuid;

use super::lanes::Lane;

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

    /// The checkpoint saved under `key` for `stream`, if any (one of another stream is none).
    pub(super) fn load(
        store: &Store,
        key: &str,
        stream: Uuid,
    ) -> Result<Option<Checkpoint>, String> {
        let saved = store.get_state(key).map_err(|e| e.to_string())?;
        Ok(saved
            .and_then(|b| serde_json::from_slice::<Checkpoint>(&b).ok())
            .filter(|c| c.stream == stream))
    }

    /// Writes the checkpoint under `key` and waits for its sync.
    pub(super) fn save(&self, store: &Store, key: &str) -> Result<(), String> {
        store
            .put_state(key, &self.to_bytes())
            .map_err(|e| e.to_string())
    }

    /// Writes the checkpoint under `key` inside the batch's deferring scope. A state record
    /// still waits for its own sync, and that sync covers every write the batch committed
    /// before it; the caller waits for [`Store::sync`] before it counts the records as done.
    pub(super) fn append(&self, store: &Store, key: &str) -> Result<(), String> {
        store
            .deferring_syncs(|| store.put_state(key, &self.to_bytes()))
            .map_err(|e| e.to_string())
    }

    fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("checkpoints serialize")
    }
}

/// Runs a blocking store call on tokio's blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || f(&store)).await {
        Ok(r) => r,
        Err(e) => Err(format!("store task failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_only_for_its_stream() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let stream = Uuid::new_v4();
        let c = Checkpoint {
            stream,
            read_to: 40,
            pending: vec![12, 30],
        };
        assert_eq!(c.done_through(), 11);
        c.save(&store, "k").unwrap();
        assert_eq!(
            Checkpoint::load(&store, "k", stream).unwrap(),
            Some(c.clone())
        );
        assert_eq!(Checkpoint::load(&store, "k", Uuid::new_v4()).unwrap(), None);
        let later = Checkpoint {
            pending: vec![],
            ..c
        };
        later.append(&store, "k").unwrap();
        store.sync().unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let back = Checkpoint::load(&store, "k", stream).unwrap().unwrap();
        assert_eq!(back.done_through(), 40);
    }
}
