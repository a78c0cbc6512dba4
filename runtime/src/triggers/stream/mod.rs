//! The stream trigger: each `[[stream]]` mapping runs its function on batches of its table's
//! stream records, with the semantics of Lambda's event-source mappings for DynamoDB Streams.
//!
//! - **At least once, in order per item.** Records are read in sequence order and handed over in
//!   batches (up to `batch_size`, waiting up to `batching_window_ms` for a batch to fill). The
//!   handler answers with the sequence numbers it failed (ReportBatchItemFailures) or fails the
//!   whole batch. A failed record *blocks its item's key*: it and every later record of that key
//!   wait in the key's queue and are retried (with exponential backoff) while records of other
//!   keys go on. When retries are exhausted (`max_retries`, or records older than
//!   `max_record_age_s`), a batch that failed as a whole is first split in two
//!   (`bisect_on_error`) until the failing record is alone; that record then goes to
//!   `on_failure_table` (with the error) and its key moves on.
//! - **Checkpoints in the store.** After every step the mapping's position is written durably
//!   into the store's own state ([`tarn_store::Store::put_state`]): how far it has read, and the
//!   sequence numbers still waiting in key queues. A restart re-reads only those, so it neither
//!   loses nor replays accepted records (a batch the handler finished but whose checkpoint was
//!   not yet written when the process died is delivered again: handlers must be idempotent, as
//!   on Lambda).
//! - **Status.** Each mapping reports records processed and failed, retries, the last error, the
//!   checkpoint, the iterator age and the delay from a write to its invocation (p50/p99) through
//!   [`super::status`].
//!
//! [`mapping`] holds a mapping's definition (`[[stream]]`) and its settings with defaults.

pub mod mapping;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tarn_store::clock::now_millis;
use tarn_store::stream::{StreamMeta, StreamRecord};
use tarn_store::Store;
use tokio::task::JoinHandle;

pub use self::mapping::{
    mapping_name, MappingConfig, StreamDef, DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE,
};
use super::status::{MappingStatus, TriggerStatus};
use super::Functions;
use crate::api::Api;
use crate::host::{new_request_id, FunctionKind, Host, LoadedFunction};

/// Reading ahead stops while this many records wait in blocked keys' queues.
const MAX_PENDING: usize = 10_000;
/// How long an idle mapping sleeps before looking for new records.
const IDLE_POLL: Duration = Duration::from_millis(10);
/// First retry delay; doubled on each further failure, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Starts one task per mapping of `defs`, running the handlers among `functions`. Abort the
/// handles to stop them.
pub fn start(
    host: &Host,
    defs: &[StreamDef],
    functions: &Functions,
    status: &Arc<TriggerStatus>,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for def in defs {
        let config = match MappingConfig::from_def(def) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("{e}");
                continue;
            }
        };
        let Some(f) = functions.get(&def.function).cloned() else {
            continue;
        };
        if f.kind != FunctionKind::Stream {
            tracing::error!(function = %def.function, "a [[stream]] names a function that is not a stream handler");
            continue;
        }
        let mapping = Mapping {
            status: status.mapping(&config.name()),
            config,
            host: host.clone(),
            function: f,
        };
        tasks.push(tokio::spawn(mapping.run()));
    }
    tasks
}

/// What a checkpoint holds: the stream, how far it was read, and what still waits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Checkpoint {
    /// The stream the positions refer to.
    stream: uuid::Uuid,
    /// Every record up to here was accepted or given up, except those in `pending`.
    read_to: u64,
    /// Records read but not yet accepted (in blocked keys' queues).
    pending: Vec<u64>,
}

/// The records of one blocked item key, oldest first.
struct KeyQueue {
    records: VecDeque<StreamRecord>,
    attempts: u32,
    next_try: Instant,
    /// With bisect_on_error: the size of the next try after whole-batch failures.
    try_len: usize,
    last_error: String,
}

enum Outcome {
    /// The handler returned; these sequence numbers failed.
    Failed(HashSet<u64>),
    /// The invocation failed as a whole.
    Error(String),
}

struct Mapping {
    config: MappingConfig,
    host: Host,
    function: Arc<LoadedFunction>,
    status: Arc<parking_lot::Mutex<MappingStatus>>,
}

/// Runs a blocking store call on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> tarn_store::Result<T> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || f(&store)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("store task failed: {e}")),
    }
}

fn key_of(r: &StreamRecord) -> String {
    crate::api::codec::encode_item(&r.keys).to_string()
}

impl Mapping {
    fn api(&self) -> &Api {
        self.host.api()
    }

    fn store(&self) -> Arc<Store> {
        self.api().store().clone()
    }

    fn set_error(&self, e: impl Into<String>) {
        let e = e.into();
        tracing::warn!(mapping = %self.config.name(), "{e}");
        self.status.lock().last_error = Some(e);
    }

    /// The mapping's loop: find the stream, restore the checkpoint, then process until aborted.
    async fn run(self) {
        let name = self.config.name();
        tracing::info!(mapping = %name, "stream mapping started");
        loop {
            let stream = match self.current_stream() {
                Ok(s) => s,
                Err(e) => {
                    self.set_error(e);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            match self.follow(&stream).await {
                Ok(()) => {} // the stream changed: start over on the new one
                Err(e) => {
                    self.set_error(e);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn current_stream(&self) -> Result<StreamMeta, String> {
        let meta = self
            .api()
            .store()
            .table_meta(&self.config.table)
            .map_err(|e| format!("table {}: {e}", self.config.table))?;
        meta.enabled_stream().cloned().ok_or_else(|| {
            format!(
                "table {} has no stream enabled (set `stream` in its [[table]])",
                self.config.table
            )
        })
    }

    /// Processes `stream` until it is no longer the table's enabled stream.
    async fn follow(&self, stream: &StreamMeta) -> Result<(), String> {
        let store = self.store();
        let key = self.config.state_key();
        let saved: Option<Checkpoint> = blocking(&store, {
            let key = key.clone();
            move |s| s.get_state(&key)
        })
        .await?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|c: &Checkpoint| c.stream == stream.id);
        let mut blocked: BTreeMap<String, KeyQueue> = BTreeMap::new();
        let mut read_to = match saved {
            Some(c) => {
                self.restore_pending(stream, &c, &mut blocked).await?;
                c.read_to
            }
            None => {
                let start = if self.config.from_trim_horizon {
                    let (table, id) = (self.config.table.clone(), stream.id);
                    let state = blocking(&store, move |s| s.stream_state(&table, id)).await?;
                    state
                        .trimmed_through
                        .max(stream.start_seq.saturating_sub(1))
                } else {
                    store.latest_sequence_number()
                };
                self.save(stream, start, &blocked).await?;
                start
            }
        };
        self.status.lock().checkpoint = Some(read_to);
        let mut buffer: VecDeque<StreamRecord> = VecDeque::new();
        let mut buffered_since: Option<Instant> = None;
        let mut last_stream_check = Instant::now();
        loop {
            if last_stream_check.elapsed() > Duration::from_secs(1) {
                last_stream_check = Instant::now();
                if self.current_stream().map(|s| s.id) != Ok(stream.id) {
                    return Ok(());
                }
            }
            let mut worked = false;
            // Read ahead, unless blocked keys hold too much already.
            let pending: usize = blocked.values().map(|q| q.records.len()).sum();
            if pending < MAX_PENDING && buffer.len() < self.config.batch_size {
                let after = buffer.back().map_or(read_to, |r| r.seq);
                let want = self.config.batch_size - buffer.len();
                let (table, id) = (self.config.table.clone(), stream.id);
                let read = blocking(&store, move |s| {
                    s.read_stream(&table, id, after, want, 6 * 1024 * 1024)
                })
                .await?;
                if !read.records.is_empty() && buffered_since.is_none() {
                    buffered_since = Some(Instant::now());
                }
                buffer.extend(read.records);
            }
            self.update_age(&buffer, &blocked);
            let window_over =
                buffered_since.is_some_and(|t| t.elapsed() >= self.config.batching_window);
            if !buffer.is_empty() && (buffer.len() >= self.config.batch_size || window_over) {
                let batch: Vec<StreamRecord> = buffer.drain(..).collect();
                buffered_since = None;
                read_to = batch.last().map_or(read_to, |r| r.seq);
                self.process_fresh(stream, batch, &mut blocked).await;
                self.save(stream, read_to, &blocked).await?;
                worked = true;
            }
            // Retry blocked keys whose time has come.
            let due: Vec<String> = blocked
                .iter()
                .filter(|(_, q)| q.next_try <= Instant::now())
                .map(|(k, _)| k.clone())
                .collect();
            for k in due {
                if self.retry_key(stream, &k, &mut blocked).await {
                    self.save(stream, read_to, &blocked).await?;
                    worked = true;
                }
            }
            if !worked {
                let next_retry = blocked.values().map(|q| q.next_try).min();
                let wait = next_retry
                    .map_or(IDLE_POLL, |t| t.saturating_duration_since(Instant::now()))
                    .min(IDLE_POLL);
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// Puts the records a checkpoint lists as pending back into their keys' queues.
    async fn restore_pending(
        &self,
        stream: &StreamMeta,
        c: &Checkpoint,
        blocked: &mut BTreeMap<String, KeyQueue>,
    ) -> Result<(), String> {
        let Some(&first) = c.pending.iter().min() else {
            return Ok(());
        };
        let wanted: HashSet<u64> = c.pending.iter().copied().collect();
        let mut after = first - 1;
        while after < c.read_to {
            let (table, id) = (self.config.table.clone(), stream.id);
            let read = blocking(&self.store(), move |s| {
                s.read_stream(&table, id, after, 1000, 6 * 1024 * 1024)
            })
            .await?;
            let Some(last) = read.records.last().map(|r| r.seq) else {
                break;
            };
            for r in read.records.into_iter().filter(|r| r.seq <= c.read_to) {
                if wanted.contains(&r.seq) {
                    self.block(blocked, r, "pending before restart".into(), 0);
                }
            }
            after = last;
        }
        Ok(())
    }

    /// Writes the checkpoint.
    async fn save(
        &self,
        stream: &StreamMeta,
        read_to: u64,
        blocked: &BTreeMap<String, KeyQueue>,
    ) -> Result<(), String> {
        let mut pending: Vec<u64> = blocked
            .values()
            .flat_map(|q| q.records.iter().map(|r| r.seq))
            .collect();
        pending.sort_unstable();
        let checkpoint = pending.first().map_or(read_to, |p| p - 1);
        let c = Checkpoint {
            stream: stream.id,
            read_to,
            pending,
        };
        let bytes = serde_json::to_vec(&c).expect("checkpoints serialize");
        let key = self.config.state_key();
        blocking(&self.store(), move |s| s.put_state(&key, &bytes)).await?;
        self.status.lock().checkpoint = Some(checkpoint);
        Ok(())
    }

    fn update_age(&self, buffer: &VecDeque<StreamRecord>, blocked: &BTreeMap<String, KeyQueue>) {
        let oldest = blocked
            .values()
            .filter_map(|q| q.records.front())
            .chain(buffer.front())
            .map(|r| r.time_ms)
            .min();
        self.status.lock().iterator_age_ms = oldest.map_or(0, |t| now_millis().saturating_sub(t));
    }

    fn block(
        &self,
        blocked: &mut BTreeMap<String, KeyQueue>,
        r: StreamRecord,
        error: String,
        attempts: u32,
    ) {
        let q = blocked.entry(key_of(&r)).or_insert_with(|| KeyQueue {
            records: VecDeque::new(),
            attempts,
            next_try: Instant::now() + backoff(attempts),
            try_len: self.config.batch_size,
            last_error: error,
        });
        q.records.push_back(r);
    }

    async fn invoke(&self, stream: &StreamMeta, records: &[StreamRecord]) -> Outcome {
        let json = Value::Array(
            records
                .iter()
                .map(|r| self.lambda_record(stream, r))
                .collect(),
        )
        .to_string();
        let request_id = new_request_id();
        match self
            .host
            .invoke_stream(&self.function, &request_id, &json)
            .await
        {
            Ok(failed) => {
                let mut set = HashSet::new();
                for s in failed {
                    match s.trim().parse::<u64>() {
                        Ok(n) => {
                            set.insert(n);
                        }
                        // An unknown sequence number: Lambda fails the whole batch.
                        Err(_) => {
                            return Outcome::Error(format!(
                                "the handler reported an unknown sequence number {s:?}"
                            ))
                        }
                    }
                }
                Outcome::Failed(set)
            }
            Err(e) => Outcome::Error(e.to_string()),
        }
    }

    /// A record as Lambda delivers it: the Streams API's record plus `eventSourceARN`, with
    /// `userIdentity` spelled as Lambda spells it (`type`, `principalId`).
    fn lambda_record(&self, stream: &StreamMeta, r: &StreamRecord) -> Value {
        let mut v = self.api().stream_record_json(stream, r);
        v["eventSourceARN"] = json!(self.api().stream_arn(&self.config.table, stream));
        if let Some(u) = v.get_mut("userIdentity") {
            *u = json!({"type": u["Type"], "principalId": u["PrincipalId"]});
        }
        v
    }

    /// Hands newly read records to the handler; records of blocked keys join their queues.
    async fn process_fresh(
        &self,
        stream: &StreamMeta,
        batch: Vec<StreamRecord>,
        blocked: &mut BTreeMap<String, KeyQueue>,
    ) {
        let (queued, fresh): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|r| blocked.contains_key(&key_of(r)));
        for r in queued {
            let k = key_of(&r);
            if let Some(q) = blocked.get_mut(&k) {
                q.records.push_back(r);
            }
        }
        if fresh.is_empty() {
            return;
        }
        let started = now_millis();
        let outcome = self.invoke(stream, &fresh).await;
        {
            let mut st = self.status.lock();
            for r in &fresh {
                st.record_delay(started.saturating_sub(r.time_ms));
            }
        }
        let mut failed_keys = HashSet::new();
        let mut accepted = 0;
        for r in fresh {
            let k = key_of(&r);
            let failed = match &outcome {
                Outcome::Error(_) => true,
                Outcome::Failed(set) => set.contains(&r.seq) || failed_keys.contains(&k),
            };
            if failed {
                failed_keys.insert(k);
                let error = match &outcome {
                    Outcome::Error(e) => e.clone(),
                    Outcome::Failed(_) => "the handler reported the record as failed".into(),
                };
                self.block(blocked, r, error, 1);
            } else {
                accepted += 1;
            }
        }
        let mut st = self.status.lock();
        st.processed += accepted;
        if let Outcome::Error(e) = &outcome {
            st.last_error = Some(e.clone());
        } else if !failed_keys.is_empty() {
            st.last_error = Some("the handler reported failed records".into());
        }
    }

    /// Retries the queue of key `k`; returns whether anything changed.
    async fn retry_key(
        &self,
        stream: &StreamMeta,
        k: &str,
        blocked: &mut BTreeMap<String, KeyQueue>,
    ) -> bool {
        let Some(q) = blocked.get_mut(k) else {
            return false;
        };
        let n = q
            .records
            .len()
            .min(self.config.batch_size)
            .min(q.try_len.max(1));
        let batch: Vec<StreamRecord> = q.records.iter().take(n).cloned().collect();
        self.status.lock().retries += 1;
        let outcome = self.invoke(stream, &batch).await;
        let q = blocked.get_mut(k).expect("still there");
        // The records accepted: everything before the first failure.
        let (accepted, failing, error) = match outcome {
            Outcome::Failed(set) => match batch.iter().position(|r| set.contains(&r.seq)) {
                None => (n, 0, None),
                Some(i) => (
                    i,
                    1,
                    Some("the handler reported the record as failed".to_string()),
                ),
            },
            Outcome::Error(e) => (0, n, Some(e)),
        };
        q.records.drain(..accepted);
        self.status.lock().processed += accepted as u64;
        let Some(error) = error else {
            q.attempts = 0;
            q.try_len = self.config.batch_size;
            if q.records.is_empty() {
                blocked.remove(k);
            }
            return true;
        };
        q.attempts += 1;
        q.last_error = error.clone();
        self.status.lock().last_error = Some(error.clone());
        let too_many = self.config.max_retries.is_some_and(|m| q.attempts > m);
        let too_old = self.config.max_record_age.is_some_and(|age| {
            q.records
                .front()
                .is_some_and(|r| now_millis().saturating_sub(r.time_ms) > age.as_millis() as u64)
        });
        if (too_many || too_old) && self.config.bisect_on_error && failing > 1 {
            // Split: the first half is tried on its own, with a fresh count of retries.
            q.try_len = failing / 2;
            q.attempts = 0;
            q.next_try = Instant::now();
        } else if too_many || too_old {
            let given_up: Vec<StreamRecord> = q.records.drain(..failing).collect();
            let attempts = q.attempts;
            q.attempts = 0;
            q.try_len = self.config.batch_size;
            q.next_try = Instant::now();
            if q.records.is_empty() {
                blocked.remove(k);
            }
            for r in given_up {
                if let Err(e) = self.give_up(stream, &r, &error, attempts).await {
                    // Not written anywhere: keep it, try again later.
                    self.set_error(format!("cannot write to the on-failure table: {e}"));
                    self.block(blocked, r, error.clone(), attempts);
                }
            }
        } else {
            q.next_try = Instant::now() + backoff(q.attempts);
        }
        true
    }

    /// Records a given-up record in the on-failure table (or the log).
    async fn give_up(
        &self,
        stream: &StreamMeta,
        r: &StreamRecord,
        error: &str,
        attempts: u32,
    ) -> Result<(), String> {
        self.status.lock().failed += 1;
        let record = self.api().stream_record_json(stream, r);
        let Some(table) = &self.config.on_failure_table else {
            tracing::error!(mapping = %self.config.name(), seq = r.seq, error, "record given up (no on_failure_table): {record}");
            return Ok(());
        };
        let meta = self
            .api()
            .store()
            .table_meta(table)
            .map_err(|e| e.to_string())?;
        let seq = crate::api::sequence_number(r.seq);
        let key_value = |ty: tarn_store::schema::ScalarType, s: String| match ty {
            tarn_store::schema::ScalarType::N => json!({"N": r.seq.to_string()}),
            tarn_store::schema::ScalarType::B => json!({"B": base64_of(&s)}),
            tarn_store::schema::ScalarType::S => json!({"S": s}),
        };
        let mut item = serde_json::Map::new();
        let hash = &meta.key_schema.hash;
        item.insert(
            hash.name.clone(),
            key_value(hash.attr_type, format!("{}#{seq}", self.config.table)),
        );
        if let Some(range) = &meta.key_schema.range {
            item.insert(range.name.clone(), key_value(range.attr_type, seq.clone()));
        }
        for (k, v) in [
            ("sourceTable", json!({"S": self.config.table})),
            ("function", json!({"S": self.config.function})),
            ("sequenceNumber", json!({"S": seq})),
            (
                "eventID",
                record["eventID"]
                    .as_str()
                    .map_or(json!({"NULL": true}), |s| json!({"S": s})),
            ),
            ("eventName", json!({"S": r.kind.as_str()})),
            ("error", json!({"S": error})),
            ("attempts", json!({"N": attempts.to_string()})),
            ("failedAt", json!({"S": chrono::Utc::now().to_rfc3339()})),
            ("record", json!({"S": record.to_string()})),
        ] {
            item.entry(k.to_string()).or_insert(v);
        }
        self.api()
            .call(
                "PutItem",
                json!({"TableName": table, "Item": Value::Object(item)}),
            )
            .await
            .map_err(|e| e.to_string())?;
        tracing::warn!(mapping = %self.config.name(), seq = r.seq, table = %table, "record given up after {attempts} attempts: {error}");
        Ok(())
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn backoff(attempts: u32) -> Duration {
    if attempts == 0 {
        return Duration::ZERO;
    }
    FIRST_BACKOFF
        .saturating_mul(1 << (attempts - 1).min(16))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff(0), Duration::ZERO);
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(3), Duration::from_millis(400));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
