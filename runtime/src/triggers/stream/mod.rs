//! The stream trigger: each `[[stream]]` mapping runs its function on batches of its table's
//! stream records, with the semantics of Lambda's event-source mappings for DynamoDB Streams.
//!
//! - **At least once, in order per item.** Records are read in sequence order and spread over
//!   the mapping's lanes by item key ([`lanes`]; `parallelization_factor`, default 4): each
//!   lane hands its records over in batches (up to `batch_size`, waiting up to
//!   `batching_window_ms` for a batch to fill), one invocation at a time, and the lanes run side
//!   by side. The handler answers with the sequence numbers it failed
//!   (ReportBatchItemFailures) or fails the whole batch. A failed record *blocks its item's
//!   key*: it and every later record of that key wait in the key's queue and are retried (with
//!   exponential backoff) while records of other keys go on. When retries are exhausted
//!   (`max_retries`, or records older than `max_record_age_s`), a batch that failed as a whole
//!   is first split in two (`bisect_on_error`) until the failing record is alone; that record
//!   then goes to `on_failure_table` ([`failure`]) and its key moves on.
//! - **At most one sync per batch.** The handler's table writes do not wait for their own
//!   journal syncs ([`crate::host::sharing_syncs`]; a single-item write runs inline on the
//!   invocation): after the handler returns, the mapping writes its [`checkpoint`] behind
//!   them, made durable by one sync covering both, and only then counts the batch as
//!   processed. The checkpoints are written one at a time, off the mapping's loop: while one
//!   syncs, lanes go on, and of the checkpoints made meanwhile only the newest is written
//!   next (it covers the batches of the others).
//! - **Checkpoints in the store.** The checkpoint says how far the stream was read and which of
//!   the records read are not accepted yet. A restart re-reads only those, so it neither loses
//!   nor replays accepted records. What can be delivered twice is what was in flight when tarn
//!   died: a batch whose handler had not returned yet, or had returned before the checkpoint
//!   written after it was synced (at most the checkpoint write in progress, then its own: two
//!   journal syncs). Since the journal keeps commit order, a crash that
//!   loses a checkpoint also loses every handler write made after the previous one. Handlers
//!   must be idempotent, as on Lambda (whose window is the same: from the function's return to
//!   the mapping's checkpoint).
//! - **Status.** Each mapping reports records processed and failed, retries, the last error, the
//!   checkpoint, the iterator age and the delay from a write to its invocation (p50/p99) through
//!   [`super::status`].
//!
//! - **Through the tables' seam.** This worker is the embedded store's: it reads the table's
//!   stream log and keeps its checkpoint through the seam's embedded side
//!   ([`crate::api::backend::StreamLog`]: the store's own records and sequence numbers, every
//!   shard in one sequence, the checkpoint beside the handler's writes for one sync). On a
//!   cluster node the mappings run [`shard`]'s workers instead, one per leased shard of the
//!   engine's stream, reading through [`crate::api::backend::Tables`] as a [`ShardReader`].
//!
//! [`mapping`] holds a mapping's definition (`[[stream]]`) and its settings with defaults.

mod checkpoint;
mod event;
mod failure;
mod lanes;
pub mod mapping;
pub mod shard;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tarn_store::clock::now_millis;
use tarn_store::stream::{StreamMeta, StreamRecord};
use tokio::task::{JoinHandle, JoinSet};

use self::checkpoint::{Checkpoint, Checkpoints, Written};
use self::event::Event;
use self::lanes::{key_of, lane_of, Finished, Job, Lane, Outcome};
pub use self::mapping::{
    mapping_name, MappingConfig, StreamDef, DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE,
};
pub use self::shard::{ShardLease, ShardMapping, ShardReader};
use super::status::{MappingStatus, TriggerStatus};
use super::Functions;
use crate::api::backend::{Backend, StreamLog};
use crate::api::Api;
use crate::host::{new_request_id, sharing_syncs, FunctionKind, Host, LoadedFunction};

/// Reading ahead stops while this many records wait in blocked keys' queues.
const MAX_PENDING: usize = 10_000;
/// How long an idle mapping sleeps before looking for new records.
const IDLE_POLL: Duration = Duration::from_millis(10);
/// About the most bytes of records one read of the stream takes.
const READ_BYTES: usize = 6 * 1024 * 1024;

/// Starts one task per mapping of `defs`, running the handlers among `functions`. Abort the
/// handles to stop them.
pub fn start(
    host: &Host,
    defs: &[StreamDef],
    functions: &Functions,
    status: &Arc<TriggerStatus>,
) -> Vec<JoinHandle<()>> {
    mappings(host, defs, functions, status)
        .into_iter()
        .map(|m| tokio::spawn(m.run()))
        .collect()
}

/// The mappings of `defs` whose handler is among `functions`, ready to run (an invalid one is
/// logged and left out).
fn mappings(
    host: &Host,
    defs: &[StreamDef],
    functions: &Functions,
    status: &Arc<TriggerStatus>,
) -> Vec<Arc<Mapping>> {
    let mut out = Vec::new();
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
        out.push(Arc::new(Mapping {
            status: status.mapping(&config.name()),
            config,
            host: host.clone(),
            function: f,
        }));
    }
    out
}

/// The mappings of `defs` for engine mode, where the shards of the engine's streams are
/// shared among the nodes: the lease coordinator ([`crate::cluster::leases`]) runs each
/// shard it holds with [`ShardMapping::run_shard`].
pub fn shard_mappings(
    host: &Host,
    defs: &[StreamDef],
    functions: &Functions,
    status: &Arc<TriggerStatus>,
) -> Vec<ShardMapping> {
    mappings(host, defs, functions, status)
        .into_iter()
        .map(ShardMapping)
        .collect()
}

struct Mapping {
    config: MappingConfig,
    host: Host,
    function: Arc<LoadedFunction>,
    status: Arc<parking_lot::Mutex<MappingStatus>>,
}

/// A lane's invocation, answered: the lane, what it ran, and how the handler answered.
type Answered = (usize, Job, Outcome);

impl Mapping {
    fn api(&self) -> &Api {
        self.host.api()
    }

    fn set_error(&self, e: impl Into<String>) {
        let e = e.into();
        tracing::warn!(mapping = %self.config.name(), "{e}");
        self.status.lock().last_error = Some(e);
    }

    /// How many lanes: the mapping's parallelization, within the function's `max_concurrency`
    /// (more would only be refused).
    fn lanes(&self) -> usize {
        let cap = self
            .function
            .spec
            .limits
            .max_concurrency
            .map_or(usize::MAX, |c| c as usize);
        self.config.parallelization.min(cap).max(1)
    }

    /// The mapping's loop: find the stream, restore the checkpoint, then process until aborted.
    async fn run(self: Arc<Self>) {
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
            match self.follow(Arc::new(stream)).await {
                Ok(()) => {} // the stream changed: start over on the new one
                Err(e) => {
                    self.set_error(e);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// The table's stream log, through the seam's embedded side: this worker is the embedded
    /// store's (on a cluster node the shard workers of [`shard`] read the engine's streams).
    fn log(&self) -> Result<StreamLog, String> {
        match self.api().backend() {
            Backend::Embedded(tables) => Ok(tables.stream_log(self.api(), &self.config.table)),
            Backend::Remote(_) => Err(format!(
                "mapping {}: the engine's streams are read by the cluster's shard workers",
                self.config.name()
            )),
        }
    }

    fn current_stream(&self) -> Result<StreamMeta, String> {
        self.log()?.enabled_stream()
    }

    /// Processes `stream` until it is no longer the table's enabled stream (an error stops it
    /// too; the caller starts over from the last durable checkpoint).
    async fn follow(self: &Arc<Self>, stream: Arc<StreamMeta>) -> Result<(), String> {
        let log = self.log()?;
        let key = self.config.state_key();
        let mut lanes: Vec<Lane> = (0..self.lanes()).map(|_| Lane::default()).collect();
        let saved = Checkpoint::load(&log, &key, stream.id).await?;
        let mut read_to = match saved {
            Some(c) => {
                self.restore_pending(&log, &stream, &c, &mut lanes).await?;
                c.read_to
            }
            None => {
                let start = if self.config.from_trim_horizon {
                    log.trim_horizon(&stream).await?
                } else {
                    log.latest_sequence_number()
                };
                Checkpoint::of(stream.id, start, &lanes)
                    .save(&log, &key)
                    .await?;
                start
            }
        };
        self.status.lock().checkpoint =
            Some(Checkpoint::of(stream.id, read_to, &lanes).done_through());

        let mut running: JoinSet<Answered> = JoinSet::new();
        let mut checkpoints = Checkpoints::new(log.clone(), key);
        let mut last_stream_check = Instant::now();
        loop {
            if last_stream_check.elapsed() > Duration::from_secs(1) {
                last_stream_check = Instant::now();
                if self.current_stream().map(|s| s.id) != Ok(stream.id) {
                    return Ok(());
                }
            }
            // Read ahead: enough for a full batch in every lane, unless blocked keys hold too
            // much already.
            let fresh: usize = lanes.iter().map(Lane::fresh_len).sum();
            let blocked: usize = lanes.iter().map(Lane::blocked_len).sum();
            let room = (lanes.len() * self.config.batch_size).saturating_sub(fresh);
            let mut more = false;
            if blocked < MAX_PENDING && room > 0 {
                let read = log.read(stream.id, read_to, room, READ_BYTES).await?;
                more = read.len() == room;
                let n = lanes.len();
                for r in read {
                    read_to = r.seq;
                    let k = key_of(&r);
                    lanes[lane_of(&k, n)].push(r, k);
                }
            }
            // Hand over whatever is due.
            let now = Instant::now();
            for (i, lane) in lanes.iter_mut().enumerate() {
                if let Some(job) = lane.next_job(now, &self.config) {
                    if matches!(job, Job::Retry { .. }) {
                        self.status.lock().retries += 1;
                    }
                    running.spawn(self.clone().run_job(stream.clone(), i, job));
                }
            }
            self.update_age(&lanes);
            let wait = if more {
                Duration::ZERO
            } else {
                lanes
                    .iter()
                    .filter_map(|l| l.next_due(&self.config))
                    .min()
                    .map_or(IDLE_POLL, |t| t.saturating_duration_since(now))
                    .min(IDLE_POLL)
            };
            tokio::select! {
                biased;
                Some(answered) = running.join_next(), if !running.is_empty() => {
                    let (i, job, outcome) =
                        answered.map_err(|e| format!("a stream invocation task failed: {e}"))?;
                    let accepted = self.finish(&stream, &mut lanes[i], job, outcome).await;
                    // The checkpoint, behind the handler's writes: the sync that makes it
                    // durable makes them durable too.
                    checkpoints.push(Checkpoint::of(stream.id, read_to, &lanes), accepted);
                }
                written = checkpoints.written(), if checkpoints.writing() => {
                    let Written { accepted, done_through } = written?;
                    let mut st = self.status.lock();
                    st.processed += accepted;
                    st.checkpoint = Some(done_through);
                }
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Runs one lane's job: the invocation, its table writes sharing one sync.
    async fn run_job(self: Arc<Self>, stream: Arc<StreamMeta>, lane: usize, job: Job) -> Answered {
        if let Job::Fresh(records) = &job {
            let started = now_millis();
            let mut st = self.status.lock();
            for r in records {
                st.record_delay(started.saturating_sub(r.time_ms));
            }
        }
        let outcome = sharing_syncs(self.invoke(&stream, job.records())).await;
        (lane, job, outcome)
    }

    /// Applies a lane's answer: status, given-up records; returns the records accepted.
    async fn finish(
        &self,
        stream: &StreamMeta,
        lane: &mut Lane,
        job: Job,
        outcome: Outcome,
    ) -> u64 {
        let Finished {
            accepted,
            given_up,
            error,
        } = lane.finish(job, outcome, &self.config);
        if let Some(e) = error {
            self.status.lock().last_error = Some(e);
        }
        for (r, error, attempts) in given_up {
            match self.give_up(stream, &r, &error, attempts).await {
                Ok(()) => self.status.lock().failed += 1,
                Err(e) => {
                    // Not written anywhere: keep it, try again later.
                    self.set_error(format!("cannot write to the on-failure table: {e}"));
                    lane.requeue(vec![r], attempts, Instant::now());
                }
            }
        }
        accepted
    }

    /// Puts the records a checkpoint lists as pending back into their keys' queues.
    async fn restore_pending(
        &self,
        log: &StreamLog,
        stream: &StreamMeta,
        c: &Checkpoint,
        lanes: &mut [Lane],
    ) -> Result<(), String> {
        let Some(&first) = c.pending.first() else {
            return Ok(());
        };
        let wanted: HashSet<u64> = c.pending.iter().copied().collect();
        let mut after = first - 1;
        let now = Instant::now();
        while after < c.read_to {
            let read = log.read(stream.id, after, 1000, READ_BYTES).await?;
            let Some(last) = read.last().map(|r| r.seq) else {
                break;
            };
            for r in read.into_iter().filter(|r| r.seq <= c.read_to) {
                if wanted.contains(&r.seq) {
                    let n = lanes.len();
                    lanes[lane_of(&key_of(&r), n)].restore(r, now);
                }
            }
            after = last;
        }
        Ok(())
    }

    fn update_age(&self, lanes: &[Lane]) {
        let oldest = lanes.iter().filter_map(Lane::oldest_waiting_ms).min();
        self.status.lock().iterator_age_ms = oldest.map_or(0, |t| now_millis().saturating_sub(t));
    }

    async fn invoke(&self, stream: &StreamMeta, records: &[StreamRecord]) -> Outcome {
        let json = Event::new(self.api(), &self.config.table, stream, records).to_json();
        self.invoke_json(&json, |s| s.trim().parse::<u64>().ok())
            .await
    }

    /// Runs the handler on `json` (the event's records); `seq_of` turns a sequence number the
    /// handler reports as failed into the record's `seq` (an unknown one fails the batch, as
    /// on Lambda).
    async fn invoke_json(&self, json: &str, seq_of: impl Fn(&str) -> Option<u64>) -> Outcome {
        let request_id = new_request_id();
        match self
            .host
            .invoke_stream(&self.function, &request_id, json)
            .await
        {
            Ok(failed) => {
                let mut set = HashSet::new();
                for s in failed {
                    match seq_of(&s) {
                        Some(n) => {
                            set.insert(n);
                        }
                        None => {
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

    /// Records a given-up record in the on-failure table (or the log).
    async fn give_up(
        &self,
        stream: &StreamMeta,
        r: &StreamRecord,
        error: &str,
        attempts: u32,
    ) -> Result<(), String> {
        let record = self.api().stream_record_json(stream, r);
        let Some(table) = &self.config.on_failure_table else {
            tracing::error!(mapping = %self.config.name(), seq = r.seq, error, "record given up (no on_failure_table): {record}");
            return Ok(());
        };
        let what = failure::Failure {
            source_table: &self.config.table,
            function: &self.config.function,
            error,
            attempts,
        };
        failure::write(
            self.api(),
            table,
            &crate::api::sequence_number(r.seq),
            r.kind.as_str(),
            &record,
            &what,
        )
        .await?;
        tracing::warn!(mapping = %self.config.name(), seq = r.seq, table = %table, "record given up after {attempts} attempts: {error}");
        Ok(())
    }
}
