//! A mapping in engine mode: the table's stream is the engine's, read shard by shard through
//! the DynamoDB Streams API, and each shard is processed by the node holding its lease
//! ([`crate::cluster::leases`] decides which node holds which shard).
//!
//! Two seams keep this testable and free of the cluster's details:
//! - [`ShardReader`]: the engine's Streams API (DescribeTable's stream ARN, DescribeStream's
//!   shards, GetShardIterator, GetRecords); [`crate::api::backend::Tables`] implements it over the
//!   tables' seam (the engine's Streams API in engine mode);
//! - [`ShardLease`]: the lease a shard is processed under; its checkpoint is a conditional
//!   write that fails once another node took the lease.
//!
//! Processing a shard is the embedded mapping's: the same lanes ([`super::lanes`]: per-key
//! order, batching, retries with backoff, bisect, ReportBatchItemFailures), the same handler
//! call and the same on-failure records. The records handed to the handler are the engine's
//! own, with Lambda's `eventSourceARN` added. Inside the worker each record gets a local
//! number (the lanes' `seq`); the checkpoint is the engine's sequence number of the last
//! record up to which everything was accepted. At least once: a record after the checkpoint
//! may be handled again by the next owner.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tarn_store::clock::now_millis;
use tarn_store::schema::{ChangeKind, StreamViewType};
use tarn_store::stream::StreamRecord;
use tokio::task::JoinSet;

pub use crate::api::backend::{BoxFuture, ShardInfo, ShardRead, ShardReader};

use super::lanes::{key_of, lane_of, Finished, Job, Lane, Outcome};
use super::{failure, Mapping};

/// The checkpoint of a shard read to its end.
pub const SHARD_END: &str = "SHARD_END";
/// Most records one GetRecords asks for.
const MAX_READ: usize = 1000;
/// How long a worker waits before reading a shard that had nothing new (Lambda polls a shard
/// about four times a second).
const IDLE_READ: Duration = Duration::from_millis(250);
/// How long a worker with nothing to hand over sleeps between looks.
const IDLE_POLL: Duration = Duration::from_millis(10);

/// The lease a shard is processed under.
pub trait ShardLease: Send + Sync {
    /// Saves the checkpoint (a sequence number, or [`SHARD_END`]) if this node still holds
    /// the lease; an error when it does not (the worker stops) or the write failed.
    fn checkpoint<'a>(&'a self, seq: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// What a shard worker is given: where to read and where to start.
#[derive(Debug, Clone)]
pub struct ShardAssignment {
    /// The stream.
    pub stream_arn: String,
    /// The shard.
    pub shard: String,
    /// The lease's checkpoint: start after it (None: at the mapping's starting position).
    pub checkpoint: Option<String>,
    /// Without a checkpoint, start at the shard's first record whatever the mapping's
    /// starting position (a shard split from one the mapping read: its records follow).
    pub from_start: bool,
}

/// A `[[stream]]` mapping as engine mode runs it, one shard at a time
/// ([`super::shard_mappings`]).
#[derive(Clone)]
pub struct ShardMapping(pub(super) Arc<Mapping>);

impl ShardMapping {
    /// The source table.
    pub fn table(&self) -> &str {
        &self.0.config.table
    }

    /// The mapping's name (`<table> -> <function>`), which its leases are kept under.
    pub fn name(&self) -> String {
        self.0.config.name()
    }

    /// The tables the mapping reads and writes, through the seam (its stream is read there).
    pub fn tables(&self) -> crate::api::backend::Tables {
        crate::api::backend::Tables::of(self.0.api())
    }

    /// Notes in the mapping's status that `node` holds the leases of `shards` (shard, its
    /// checkpoint when taken) and no others; a shard already listed keeps the checkpoint its
    /// worker last wrote.
    pub fn hold_shards<'a>(
        &self,
        node: &str,
        shards: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) {
        let mut st = self.0.status.lock();
        st.node = Some(node.to_string());
        let mut kept = std::collections::BTreeMap::new();
        for (shard, checkpoint) in shards {
            let c = st
                .shards
                .remove(shard)
                .unwrap_or_else(|| checkpoint.map(str::to_string));
            kept.insert(shard.to_string(), c);
        }
        st.shards = kept;
    }

    /// Notes an error in the mapping's status.
    pub fn set_error(&self, e: impl Into<String>) {
        self.0.set_error(e);
    }

    /// Processes one shard from its lease's checkpoint until the shard ends (then the
    /// checkpoint is [`SHARD_END`] and this answers Ok), the lease is lost or an error stops it.
    pub async fn run_shard(
        &self,
        reader: Arc<dyn ShardReader>,
        lease: Arc<dyn ShardLease>,
        shard: ShardAssignment,
    ) -> Result<(), String> {
        Worker {
            mapping: self.0.clone(),
            reader,
            lease,
            shard,
            records: BTreeMap::new(),
            next_seq: 1,
            saved: None,
        }
        .run()
        .await
    }
}

/// The state of one shard's processing.
struct Worker {
    mapping: Arc<Mapping>,
    reader: Arc<dyn ShardReader>,
    lease: Arc<dyn ShardLease>,
    shard: ShardAssignment,
    /// Records read and not yet covered by the checkpoint, by local number: the engine's
    /// sequence number and the record as the handler gets it.
    records: BTreeMap<u64, (String, Value)>,
    next_seq: u64,
    /// The last checkpoint written.
    saved: Option<String>,
}

type Answered = (usize, Job, Outcome);

impl Worker {
    async fn run(mut self) -> Result<(), String> {
        let m = self.mapping.clone();
        let config = &m.config;
        let mut lanes: Vec<Lane> = (0..m.lanes()).map(|_| Lane::default()).collect();
        let arn = self.shard.stream_arn.clone();
        let trim_horizon = config.from_trim_horizon || self.shard.from_start;
        let mut iterator = Some(
            self.reader
                .iterator(
                    &arn,
                    &self.shard.shard,
                    self.shard.checkpoint.as_deref(),
                    trim_horizon,
                )
                .await?,
        );
        // The engine's sequence number of the last record read.
        let mut last_read: Option<String> = self.shard.checkpoint.clone();
        let mut next_read = Instant::now();
        let mut running: JoinSet<Answered> = JoinSet::new();
        loop {
            let fresh: usize = lanes.iter().map(Lane::fresh_len).sum();
            let blocked: usize = lanes.iter().map(Lane::blocked_len).sum();
            let room = (lanes.len() * config.batch_size).saturating_sub(fresh);
            if let Some(it) = iterator.clone() {
                if blocked < super::MAX_PENDING && room > 0 && Instant::now() >= next_read {
                    let read = match self.reader.read(&it, room.min(MAX_READ)).await {
                        Ok(r) => r,
                        Err(e) if e.contains("ExpiredIteratorException") => {
                            iterator = Some(
                                self.reader
                                    .iterator(
                                        &arn,
                                        &self.shard.shard,
                                        last_read.as_deref(),
                                        trim_horizon,
                                    )
                                    .await?,
                            );
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    next_read = if read.records.is_empty() {
                        Instant::now() + IDLE_READ
                    } else {
                        Instant::now()
                    };
                    iterator = read.next;
                    let n = lanes.len();
                    for v in read.records {
                        let (seq, r) = self.local_record(v)?;
                        last_read = Some(seq);
                        let k = key_of(&r);
                        lanes[lane_of(&k, n)].push(r, k);
                    }
                }
            }
            if iterator.is_none()
                && running.is_empty()
                && lanes.iter().all(|l| l.pending().next().is_none())
            {
                // The shard is closed and every record of it is done.
                self.lease.checkpoint(SHARD_END).await?;
                tracing::info!(mapping = %config.name(), shard = %self.shard.shard, "shard finished");
                return Ok(());
            }
            let now = Instant::now();
            for (i, lane) in lanes.iter_mut().enumerate() {
                if let Some(job) = lane.next_job(now, config) {
                    if matches!(job, Job::Retry { .. }) {
                        m.status.lock().retries += 1;
                    }
                    let json = self.event_json(job.records());
                    let seqs: HashMap<String, u64> = job
                        .records()
                        .iter()
                        .filter_map(|r| self.records.get(&r.seq).map(|(s, _)| (s.clone(), r.seq)))
                        .collect();
                    let started = now_millis();
                    if let Job::Fresh(records) = &job {
                        let mut st = m.status.lock();
                        for r in records {
                            st.record_delay(started.saturating_sub(r.time_ms));
                        }
                    }
                    let mapping = m.clone();
                    running.spawn(async move {
                        let outcome = mapping
                            .invoke_json(&json, |s| seqs.get(s.trim()).copied())
                            .await;
                        (i, job, outcome)
                    });
                }
            }
            m.update_age(&lanes);
            let wait = lanes
                .iter()
                .filter_map(|l| l.next_due(config))
                .min()
                .map_or(IDLE_POLL, |t| t.saturating_duration_since(now))
                .min(IDLE_POLL);
            tokio::select! {
                biased;
                Some(answered) = running.join_next(), if !running.is_empty() => {
                    let (i, job, outcome) =
                        answered.map_err(|e| format!("a stream invocation task failed: {e}"))?;
                    let accepted = self.finish(&mut lanes[i], job, outcome).await;
                    m.status.lock().processed += accepted;
                    self.save_checkpoint(&lanes, last_read.as_deref()).await?;
                }
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Numbers an engine record for the lanes: its sequence number, and the lanes' view of it
    /// (local number, key, time). The record itself is kept for the handler.
    fn local_record(&mut self, mut v: Value) -> Result<(String, StreamRecord), String> {
        let d = &v["dynamodb"];
        let seq = d["SequenceNumber"]
            .as_str()
            .ok_or("a stream record without a SequenceNumber")?
            .to_string();
        let keys = tarn_wire::decode_item(&d["Keys"])
            .map_err(|e| format!("a stream record's Keys: {}", e.message))?;
        let time_ms = d["ApproximateCreationDateTime"]
            .as_f64()
            .map_or_else(now_millis, |s| (s * 1000.0) as u64);
        let kind = match v["eventName"].as_str() {
            Some("INSERT") => ChangeKind::Insert,
            Some("REMOVE") => ChangeKind::Remove,
            _ => ChangeKind::Modify,
        };
        let local = self.next_seq;
        self.next_seq += 1;
        v["eventSourceARN"] = json!(self.shard.stream_arn);
        self.records.insert(local, (seq.clone(), v));
        Ok((
            seq,
            StreamRecord {
                seq: local,
                time_ms,
                kind,
                keys,
                old: None,
                new: None,
                by_ttl: false,
                view_type: StreamViewType::KeysOnly,
            },
        ))
    }

    /// The handler's event records for `records`, in order.
    fn event_json(&self, records: &[StreamRecord]) -> String {
        Value::Array(
            records
                .iter()
                .filter_map(|r| self.records.get(&r.seq).map(|(_, v)| v.clone()))
                .collect(),
        )
        .to_string()
    }

    /// Applies a lane's answer: status, given-up records; answers the records accepted.
    async fn finish(&self, lane: &mut Lane, job: Job, outcome: Outcome) -> u64 {
        let m = &self.mapping;
        let Finished {
            accepted,
            given_up,
            error,
        } = lane.finish(job, outcome, &m.config);
        if let Some(e) = error {
            m.status.lock().last_error = Some(e);
        }
        for (r, error, attempts) in given_up {
            let Some((seq, record)) = self.records.get(&r.seq) else {
                continue;
            };
            match self.give_up(seq, record, &error, attempts).await {
                Ok(()) => m.status.lock().failed += 1,
                Err(e) => {
                    m.set_error(format!("cannot write to the on-failure table: {e}"));
                    lane.requeue(vec![r], attempts, Instant::now());
                }
            }
        }
        accepted
    }

    async fn give_up(
        &self,
        seq: &str,
        record: &Value,
        error: &str,
        attempts: u32,
    ) -> Result<(), String> {
        let config = &self.mapping.config;
        let Some(table) = &config.on_failure_table else {
            tracing::error!(mapping = %config.name(), seq, error, "record given up (no on_failure_table): {record}");
            return Ok(());
        };
        let what = failure::Failure {
            source_table: &config.table,
            function: &config.function,
            error,
            attempts,
        };
        let event_name = record["eventName"].as_str().unwrap_or_default();
        failure::write(self.mapping.api(), table, seq, event_name, record, &what).await?;
        tracing::warn!(mapping = %config.name(), seq, table = %table, "record given up after {attempts} attempts: {error}");
        Ok(())
    }

    /// Writes the lease's checkpoint when it moved: the last record up to which every record
    /// read was accepted (or given up). Records it covers are forgotten.
    async fn save_checkpoint(
        &mut self,
        lanes: &[Lane],
        last_read: Option<&str>,
    ) -> Result<(), String> {
        let first_pending = lanes.iter().flat_map(Lane::pending).min();
        let through = match first_pending {
            Some(p) => self
                .records
                .range(..p)
                .next_back()
                .map(|(_, (s, _))| s.clone()),
            None => last_read.map(str::to_string),
        };
        let Some(through) = through else {
            return Ok(());
        };
        if self.saved.as_deref() == Some(through.as_str()) {
            return Ok(());
        }
        self.lease.checkpoint(&through).await?;
        if let Some(c) = self.mapping.status.lock().shards.get_mut(&self.shard.shard) {
            *c = Some(through.clone());
        }
        match first_pending {
            Some(p) => self.records = self.records.split_off(&p),
            None => self.records.clear(),
        }
        self.saved = Some(through);
        Ok(())
    }
}
