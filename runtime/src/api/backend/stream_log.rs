//! The embedded side's stream log as the embedded stream trigger reads it: [`StreamLog`],
//! from [`super::EmbeddedTables::stream_log`].
//!
//! The trigger (`crate::triggers::stream`) works in the store's own terms: a stream's
//! [`StreamMeta`], records as [`StreamRecord`]s numbered by the store's `u64` sequence, read
//! across every shard of the stream in sequence order (per-key order is the lanes' business);
//! and its checkpoint (how far it read, which records are pending) is kept in the store's
//! state beside the handler's writes, so that both are made durable by one journal sync. These
//! are the embedded side's only: on a cluster node the mappings read the engine's shards
//! through [`super::ShardReader`] and keep their checkpoints in the lease table.
//!
//! Every method that touches the disk runs on tokio's blocking pool.

use std::sync::Arc;

use tarn_store::stream::{StreamMeta, StreamRecord};
use tarn_store::Store;

use crate::api::Api;

/// One table's stream log in the embedded store, and the trigger state kept beside it.
#[derive(Clone)]
pub struct StreamLog {
    store: Arc<Store>,
    /// The table's reference in the store (its region's).
    table: String,
    /// The table's name, for messages.
    name: String,
}

impl super::EmbeddedTables {
    /// The stream log of `table`, in `api`'s region.
    pub fn stream_log(&self, api: &Api, table: &str) -> StreamLog {
        StreamLog {
            store: api.store().clone(),
            table: api.table_ref(table).into_owned(),
            name: table.to_string(),
        }
    }
}

impl StreamLog {
    /// The table's enabled stream; an error saying why there is none.
    pub fn enabled_stream(&self) -> Result<StreamMeta, String> {
        let meta = self
            .store
            .table_meta(&self.table)
            .map_err(|e| format!("table {}: {e}", self.name))?;
        meta.enabled_stream().cloned().ok_or_else(|| {
            format!(
                "table {} has no stream enabled (set `stream` in its [[table]])",
                self.name
            )
        })
    }

    /// The sequence number before the oldest record of `stream` still kept (its trim horizon).
    pub async fn trim_horizon(&self, stream: &StreamMeta) -> Result<u64, String> {
        let (table, id, start) = (self.table.clone(), stream.id, stream.start_seq);
        let state = self
            .blocking(move |s| s.stream_state(&table, id).map_err(|e| e.to_string()))
            .await?;
        Ok(state.trimmed_through.max(start.saturating_sub(1)))
    }

    /// The newest sequence number the store handed out (any table's): where LATEST starts.
    pub fn latest_sequence_number(&self) -> u64 {
        self.store.latest_sequence_number()
    }

    /// Up to `max` records of stream `stream` after sequence number `after` (at most about
    /// `max_bytes`), oldest first, from every shard.
    pub async fn read(
        &self,
        stream: uuid::Uuid,
        after: u64,
        max: usize,
        max_bytes: usize,
    ) -> Result<Vec<StreamRecord>, String> {
        let table = self.table.clone();
        self.blocking(move |s| {
            s.read_stream(&table, stream, after, max, max_bytes)
                .map(|r| r.records)
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// The trigger state saved under `key`, if any.
    pub async fn load_state(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let key = key.to_string();
        self.blocking(move |s| s.get_state(&key).map_err(|e| e.to_string()))
            .await
    }

    /// Saves trigger state `value` under `key`, durable when this answers.
    pub async fn save_state(&self, key: &str, value: Vec<u8>) -> Result<(), String> {
        let key = key.to_string();
        self.blocking(move |s| s.put_state(&key, &value).map_err(|e| e.to_string()))
            .await
    }

    /// Runs `f` on the store, on tokio's blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(r) => r,
            Err(e) => Err(format!("store task failed: {e}")),
        }
    }
}
