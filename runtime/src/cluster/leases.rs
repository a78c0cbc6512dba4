//! Shard leases: the shards of the engine's streams, shared among the nodes as the Kinesis
//! Client Library shares them (its LeaseTaker, LeaseRenewer and ShardSyncer, read for ideas).
//!
//! The lease table (`--lease-table`, created if missing, on demand) holds one item per
//! (mapping, shard): `pk` the mapping's name, `sk` the shard id, `owner` (absent: free),
//! `counter` (raised by every take and renewal), `checkpoint` (the sequence number through
//! which every record is done, or `SHARD_END`), `parents` and `stream`.
//!
//! Each node runs, per mapping, one coordinator that every sixth of the lease duration:
//! - **renews** the leases it holds (every other pass: every third of the duration): `counter + 1` on condition that the owner is this node
//!   and the counter is the one it last saw; a failed condition means the lease was taken,
//!   and the shard's worker is stopped before it checkpoints again (a checkpoint is itself
//!   conditional on the owner);
//! - **syncs shards** (DescribeStream; every few passes): a lease is created for every shard
//!   that has none, so splits are followed; a closed shard ends with the `SHARD_END`
//!   checkpoint its worker writes;
//! - **takes** leases: a lease is expired when its counter has not moved for a lease duration
//!   as this node saw it (no clocks are compared), or free. A node takes leases up to
//!   `ceil(active shards / live nodes)` (live: owners of unexpired leases, and itself), only
//!   shards whose parents are finished, and, when none is free or expired, steals one lease
//!   per pass from the most loaded node if that node holds more than the target. A lease is
//!   taken with `counter + 1` on condition of the counter seen, from its checkpoint. Each node
//!   tries free leases in its own order, and when another node won a lease it tries the next.
//!
//! [`plan`] is the taking decision, pure and unit-tested.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

use super::{ClusterError, RemoteEngine};
use crate::triggers::stream::shard::{BoxFuture, ShardAssignment, SHARD_END};
use crate::triggers::stream::{ShardLease, ShardMapping, ShardReader};

/// The default name of the lease table.
pub const DEFAULT_LEASE_TABLE: &str = "tarn-leases";
/// The default lease duration, in milliseconds.
pub const DEFAULT_LEASE_DURATION_MS: u64 = 10_000;
/// Shards are synced every this many coordinator passes (and on the first).
const SYNC_EVERY: u32 = 6;

/// One lease as read from the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The shard.
    pub shard: String,
    /// Its holder, if any.
    pub owner: Option<String>,
    /// Raised by every take and renewal.
    pub counter: u64,
    /// Done through this sequence number, or `SHARD_END`.
    pub checkpoint: Option<String>,
    /// The shards it was split from.
    pub parents: Vec<String>,
    /// The stream's ARN.
    pub stream: String,
}

impl Lease {
    fn finished(&self) -> bool {
        self.checkpoint.as_deref() == Some(SHARD_END)
    }
}

/// The lease table as one node uses it.
#[derive(Debug, Clone)]
pub struct LeaseTable {
    engine: Arc<RemoteEngine>,
    table: String,
    node_id: String,
    duration: Duration,
    /// Coordinators running, and the releases of the leases stopped ones held
    /// ([`LeaseTable::released`] waits for them).
    stopping: Arc<Stopping>,
}

/// What a clean stop waits for.
#[derive(Debug, Default)]
struct Stopping {
    coordinators: std::sync::atomic::AtomicUsize,
    releases: parking_lot::Mutex<Vec<JoinHandle<()>>>,
}

impl LeaseTable {
    /// The leases in `table` of `engine`, taken by `node_id`, lasting `duration`.
    pub fn new(engine: Arc<RemoteEngine>, table: &str, node_id: &str, duration: Duration) -> Self {
        LeaseTable {
            engine,
            table: table.to_string(),
            node_id: node_id.to_string(),
            duration,
            stopping: Arc::default(),
        }
    }

    /// Waits (at most `timeout`) until every stopped coordinator has let its leases go, so
    /// that the other nodes take them at once rather than after a lease duration. Call it
    /// on a clean stop, after aborting the coordinators ([`start`]'s handles).
    pub async fn released(&self, timeout: Duration) {
        let wait = async {
            use std::sync::atomic::Ordering;
            while self.stopping.coordinators.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let releases: Vec<JoinHandle<()>> = std::mem::take(&mut *self.stopping.releases.lock());
            futures_util::future::join_all(releases).await;
        };
        if tokio::time::timeout(timeout, wait).await.is_err() {
            tracing::warn!("shard leases not all released in time: they will expire");
        }
    }

    /// Lets `shard`'s lease go if this node still holds it at `counter`: no owner, the counter
    /// raised (so that a node watching it sees it move), the checkpoint kept.
    async fn release(
        &self,
        mapping: &str,
        shard: &str,
        counter: u64,
    ) -> Result<bool, ClusterError> {
        self.raise_counter(
            mapping,
            shard,
            counter,
            "SET #c = :next REMOVE #o",
            "#c = :seen AND #o = :me",
            "releasing a lease",
        )
        .await
    }

    /// Creates the table when missing.
    pub async fn ensure_table(&self) -> Result<(), ClusterError> {
        super::ensure_table(&self.engine, &self.table, true).await
    }

    /// The lease duration.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Every lease of `mapping`.
    pub async fn list(&self, mapping: &str) -> Result<Vec<Lease>, ClusterError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let r = self
                .engine
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(mapping.to_string()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| ClusterError::sdk("reading the leases", e))?;
            for item in r.items() {
                let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                out.push(Lease {
                    shard: s("sk").unwrap_or_default(),
                    owner: s("owner"),
                    counter: item
                        .get("counter")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                    checkpoint: s("checkpoint"),
                    parents: item
                        .get("parents")
                        .and_then(|v| v.as_l().ok())
                        .map(|l| l.iter().filter_map(|p| p.as_s().ok().cloned()).collect())
                        .unwrap_or_default(),
                    stream: s("stream").unwrap_or_default(),
                });
            }
            match r.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    /// Creates the lease of a shard no lease exists for (another node may have just made it:
    /// fine).
    async fn create(
        &self,
        mapping: &str,
        stream: &str,
        shard: &str,
        parents: &[String],
    ) -> Result<(), ClusterError> {
        let put = self
            .engine
            .client()
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(mapping.to_string()))
            .item("sk", AttributeValue::S(shard.to_string()))
            .item("counter", AttributeValue::N("0".into()))
            .item("stream", AttributeValue::S(stream.to_string()))
            .item(
                "parents",
                AttributeValue::L(
                    parents
                        .iter()
                        .map(|p| AttributeValue::S(p.clone()))
                        .collect(),
                ),
            )
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(ClusterError::sdk("creating a lease", e)),
        }
    }

    /// Raises the counter of `shard`'s lease if its counter is still `counter` (and, with
    /// `renew`, this node owns it), making this node the owner. The new counter, or None when
    /// the condition failed.
    async fn bump(
        &self,
        mapping: &str,
        shard: &str,
        counter: u64,
        renew: bool,
    ) -> Result<Option<u64>, ClusterError> {
        let condition = if renew {
            "#c = :seen AND #o = :me"
        } else {
            "#c = :seen"
        };
        let raised = self
            .raise_counter(
                mapping,
                shard,
                counter,
                "SET #c = :next, #o = :me",
                condition,
                "taking or renewing a lease",
            )
            .await?;
        Ok(raised.then_some(counter + 1))
    }

    /// Raises `shard`'s lease counter from `counter` to the next (`:next`) with `update`, if
    /// `condition` holds; whether it did (false: the condition failed). Both expressions name
    /// the counter `#c` and the owner `#o`, and may use `:seen` (`counter`), `:next` and `:me`
    /// (this node); each of the three must appear in one of them. `what` names the write in
    /// an error.
    async fn raise_counter(
        &self,
        mapping: &str,
        shard: &str,
        counter: u64,
        update: &str,
        condition: &str,
        what: &str,
    ) -> Result<bool, ClusterError> {
        let r = self
            .engine
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(mapping.to_string()))
            .key("sk", AttributeValue::S(shard.to_string()))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#c", "counter")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":seen", AttributeValue::N(counter.to_string()))
            .expression_attribute_values(":next", AttributeValue::N((counter + 1).to_string()))
            .expression_attribute_values(":me", AttributeValue::S(self.node_id.clone()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(ClusterError::sdk(what, e)),
        }
    }

    /// Saves `shard`'s checkpoint if this node still owns the lease.
    async fn checkpoint(&self, mapping: &str, shard: &str, seq: &str) -> Result<(), String> {
        let r = self
            .engine
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(mapping.to_string()))
            .key("sk", AttributeValue::S(shard.to_string()))
            .update_expression("SET #k = :k")
            .condition_expression("#o = :me")
            .expression_attribute_names("#k", "checkpoint")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":k", AttributeValue::S(seq.to_string()))
            .expression_attribute_values(":me", AttributeValue::S(self.node_id.clone()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(format!("lease of {shard} lost: not checkpointed"))
            }
            Err(e) => Err(ClusterError::sdk("checkpointing a lease", e).to_string()),
        }
    }
}

/// The lease of one shard, as its worker checkpoints it.
struct HeldLease {
    table: LeaseTable,
    mapping: String,
    shard: String,
}

impl ShardLease for HeldLease {
    fn checkpoint<'a>(&'a self, seq: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.table.checkpoint(&self.mapping, &self.shard, seq))
    }
}

/// What this node has seen of a lease: its counter, and since when.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    /// The counter.
    pub counter: u64,
    /// When this node first saw it.
    pub since: Instant,
}

/// What to take in one pass: up to `want` of `candidates`, tried in their order (a take that
/// another node won is followed by the next candidate).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Leases to try, in this node's order.
    pub candidates: Vec<Lease>,
    /// How many to take.
    pub want: usize,
}

/// The order this node tries free leases in: its own (a hash of node and shard), so that nodes
/// taking at once do not all race for the same lease.
fn preference(me: &str, shard: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (me, shard).hash(&mut h);
    h.finish()
}

/// Which leases to take in this pass (at most one of them stolen from a live node).
pub fn plan(
    leases: &[Lease],
    me: &str,
    seen: &HashMap<String, Seen>,
    now: Instant,
    duration: Duration,
) -> Plan {
    let finished: HashSet<&str> = leases
        .iter()
        .filter(|l| l.finished())
        .map(|l| l.shard.as_str())
        .collect();
    let known: HashSet<&str> = leases.iter().map(|l| l.shard.as_str()).collect();
    let expired = |l: &Lease| match &l.owner {
        None => true,
        Some(o) if o == me => false,
        Some(_) => seen
            .get(&l.shard)
            .is_some_and(|s| s.counter == l.counter && now.duration_since(s.since) >= duration),
    };
    let active: Vec<&Lease> = leases.iter().filter(|l| !l.finished()).collect();
    // Parents done (or gone from the stream: trimmed).
    let ready = |l: &Lease| {
        l.parents
            .iter()
            .all(|p| finished.contains(p.as_str()) || !known.contains(p.as_str()))
    };
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    load.insert(me, 0);
    for l in &active {
        if let (Some(o), false) = (&l.owner, expired(l)) {
            *load.entry(o.as_str()).or_default() += 1;
        }
    }
    let mine = load[me];
    let target = active.len().div_ceil(load.len());
    if mine >= target {
        return Plan::default();
    }
    let mut free: Vec<Lease> = active
        .iter()
        .filter(|l| expired(l) && ready(l))
        .map(|l| (*l).clone())
        .collect();
    if !free.is_empty() {
        free.sort_by_key(|l| preference(me, &l.shard));
        return Plan {
            candidates: free,
            want: target - mine,
        };
    }
    // Steal one from the most loaded node, if it holds more than its share.
    let Some((&most, &count)) = load
        .iter()
        .filter(|(o, _)| **o != me)
        .max_by_key(|(o, c)| (**c, std::cmp::Reverse(**o)))
    else {
        return Plan::default();
    };
    if count > target || (count == target && mine + 1 < target) {
        if let Some(l) = active
            .iter()
            .find(|l| l.owner.as_deref() == Some(most) && ready(l))
        {
            return Plan {
                candidates: vec![(*l).clone()],
                want: 1,
            };
        }
    }
    Plan::default()
}

/// Starts one lease coordinator per mapping. Abort the handles to stop them: their shard
/// workers stop with them and their leases are let go (a clean stop then waits for that with
/// [`LeaseTable::released`]); a node that dies instead leaves its leases to expire.
pub fn start(table: LeaseTable, mappings: Vec<ShardMapping>) -> Vec<JoinHandle<()>> {
    mappings
        .into_iter()
        .map(|m| {
            // The mapping's stream, read through the tables' seam (the engine's Streams API).
            let reader: Arc<dyn ShardReader> = Arc::new(m.tables());
            tokio::spawn(coordinate(table.clone(), reader, m))
        })
        .collect()
}

/// A shard this node holds: its lease's counter and its worker.
struct Held {
    counter: u64,
    worker: AbortHandle,
    renewed: Instant,
}

/// The shards one coordinator holds. When the coordinator stops (its task aborted), its
/// workers are stopped and its leases let go, on tasks of their own that
/// [`LeaseTable::released`] waits for.
struct HeldShards {
    table: LeaseTable,
    mapping: String,
    shards: HashMap<String, Held>,
}

impl HeldShards {
    fn new(table: &LeaseTable, mapping: &str) -> Self {
        table
            .stopping
            .coordinators
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        HeldShards {
            table: table.clone(),
            mapping: mapping.to_string(),
            shards: HashMap::new(),
        }
    }
}

impl Drop for HeldShards {
    fn drop(&mut self) {
        let held: Vec<(String, u64)> = self
            .shards
            .drain()
            .map(|(shard, h)| {
                h.worker.abort();
                (shard, h.counter)
            })
            .collect();
        if let (false, Ok(rt)) = (held.is_empty(), tokio::runtime::Handle::try_current()) {
            let (table, mapping) = (self.table.clone(), self.mapping.clone());
            let release = rt.spawn(async move {
                for (shard, counter) in held {
                    match table.release(&mapping, &shard, counter).await {
                        Ok(true) => tracing::info!(mapping = %mapping, shard, "lease released"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!(mapping = %mapping, shard, error = %e, "lease not released"),
                    }
                }
            });
            let mut releases = self.table.stopping.releases.lock();
            releases.retain(|r| !r.is_finished());
            releases.push(release);
        }
        self.table
            .stopping
            .coordinators
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

async fn coordinate(table: LeaseTable, reader: Arc<dyn ShardReader>, mapping: ShardMapping) {
    let name = mapping.name();
    // Renewals every third of the duration; looking for leases to take twice as often, so a
    // dead node's shards move soon after they expire.
    let mut ticks = tokio::time::interval((table.duration / 6).max(Duration::from_millis(20)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shards = HeldShards::new(&table, &name);
    let held = &mut shards.shards;
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut workers: JoinSet<(String, Result<(), String>)> = JoinSet::new();
    let mut passes: u32 = 0;
    tracing::info!(mapping = %name, node = %table.node_id, "stream mapping started (shard leases)");
    loop {
        ticks.tick().await;
        // Workers that ended: a finished shard lets its lease go; a failed one is restarted
        // from its checkpoint on the next pass.
        // (A worker stopped earlier may end after its shard was taken again: only the current
        // worker's end lets the shard go.)
        while let Some(done) = workers.try_join_next_with_id() {
            let Ok((id, (shard, result))) = done else {
                continue;
            };
            if let Err(e) = result {
                mapping.set_error(format!("shard {shard}: {e}"));
            }
            if held.get(&shard).is_some_and(|h| h.worker.id() == id) {
                held.remove(&shard);
            }
        }
        // Renew.
        let now = Instant::now();
        let renew = passes.is_multiple_of(2);
        for (shard, h) in held.iter_mut().filter(|_| renew) {
            match table.bump(&name, shard, h.counter, true).await {
                Ok(Some(c)) => {
                    h.counter = c;
                    h.renewed = now;
                }
                Ok(None) => {
                    tracing::info!(mapping = %name, shard, "lease lost to another node");
                    h.worker.abort();
                    h.renewed = now - table.duration * 2;
                }
                Err(e) => mapping.set_error(e.to_string()),
            }
        }
        // Unrenewed for a lease duration: another node may have it now.
        held.retain(|_, h| {
            let keep = now.duration_since(h.renewed) < table.duration;
            if !keep {
                h.worker.abort();
            }
            keep
        });
        if let Err(e) = take_pass(
            &table,
            &reader,
            &mapping,
            &name,
            passes.is_multiple_of(SYNC_EVERY),
            held,
            &mut seen,
            &mut workers,
        )
        .await
        {
            mapping.set_error(e);
        }
        passes = passes.wrapping_add(1);
    }
}

#[allow(clippy::too_many_arguments)] // one pass's state, spelled out
async fn take_pass(
    table: &LeaseTable,
    reader: &Arc<dyn ShardReader>,
    mapping: &ShardMapping,
    name: &str,
    sync: bool,
    held: &mut HashMap<String, Held>,
    seen: &mut HashMap<String, Seen>,
    workers: &mut JoinSet<(String, Result<(), String>)>,
) -> Result<(), String> {
    let mut leases = table.list(name).await.map_err(|e| e.to_string())?;
    if sync || leases.is_empty() {
        let Some(arn) = reader.stream_arn(mapping.table()).await? else {
            return Err(format!("table {} has no stream enabled", mapping.table()));
        };
        let known: HashSet<String> = leases
            .iter()
            .filter(|l| l.stream == arn)
            .map(|l| l.shard.clone())
            .collect();
        let mut created = false;
        for s in reader.shards(&arn).await? {
            if !known.contains(&s.id) {
                table
                    .create(name, &arn, &s.id, &s.parents)
                    .await
                    .map_err(|e| e.to_string())?;
                created = true;
            }
        }
        if created {
            leases = table.list(name).await.map_err(|e| e.to_string())?;
        }
        // Leases of an older stream of the table are not this stream's shards.
        leases.retain(|l| l.stream == arn);
    }
    // A lease the table gives to this node that it runs no worker for (its worker failed,
    // or the node restarted under the same name): taken again, from its checkpoint.
    for l in leases.iter_mut() {
        if l.owner.as_deref() == Some(table.node_id.as_str()) && !held.contains_key(&l.shard) {
            l.owner = None;
        }
    }
    let now = Instant::now();
    for l in &leases {
        match seen.get(&l.shard) {
            Some(s) if s.counter == l.counter => {}
            _ => {
                seen.insert(
                    l.shard.clone(),
                    Seen {
                        counter: l.counter,
                        since: now,
                    },
                );
            }
        }
    }
    // A lease this node believes it holds but the table gives to another: let it go.
    for l in &leases {
        if let Some(h) = held.get(&l.shard) {
            if l.owner.as_deref() != Some(table.node_id.as_str()) {
                h.worker.abort();
                held.remove(&l.shard);
            }
        }
    }
    let Plan { candidates, want } = plan(&leases, &table.node_id, seen, now, table.duration);
    let mut taken = 0;
    for lease in candidates {
        if taken == want {
            break;
        }
        let Some(counter) = table
            .bump(name, &lease.shard, lease.counter, false)
            .await
            .map_err(|e| e.to_string())?
        else {
            continue; // another node was quicker
        };
        taken += 1;
        tracing::info!(mapping = %name, shard = %lease.shard, from = ?lease.owner, "lease taken");
        let held_lease = Arc::new(HeldLease {
            table: table.clone(),
            mapping: name.to_string(),
            shard: lease.shard.clone(),
        });
        let assignment = ShardAssignment {
            stream_arn: lease.stream.clone(),
            shard: lease.shard.clone(),
            checkpoint: lease.checkpoint.clone(),
            // A shard split from one the mapping read starts at its first record.
            from_start: lease
                .parents
                .iter()
                .any(|p| leases.iter().any(|l| l.shard == *p)),
        };
        let (m, r, shard) = (mapping.clone(), reader.clone(), lease.shard.clone());
        let worker = workers.spawn(async move {
            let result = m.run_shard(r, held_lease, assignment).await;
            (shard, result)
        });
        held.insert(
            lease.shard.clone(),
            Held {
                counter,
                worker,
                renewed: Instant::now(),
            },
        );
    }
    // The status shows the shards this node holds, and their checkpoints.
    mapping.hold_shards(
        &table.node_id,
        held.keys().map(|shard| {
            let lease = leases.iter().find(|l| l.shard == *shard);
            (shard.as_str(), lease.and_then(|l| l.checkpoint.as_deref()))
        }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(shard: &str, owner: Option<&str>, counter: u64) -> Lease {
        Lease {
            shard: shard.into(),
            owner: owner.map(str::to_string),
            counter,
            checkpoint: None,
            parents: vec![],
            stream: "s".into(),
        }
    }

    fn seen_now(leases: &[Lease], at: Instant) -> HashMap<String, Seen> {
        leases
            .iter()
            .map(|l| {
                (
                    l.shard.clone(),
                    Seen {
                        counter: l.counter,
                        since: at,
                    },
                )
            })
            .collect()
    }

    const D: Duration = Duration::from_secs(2);

    /// The leases a plan takes when every take succeeds.
    fn takes(leases: &[Lease], me: &str, seen: &HashMap<String, Seen>, now: Instant) -> Vec<Lease> {
        let p = plan(leases, me, seen, now, D);
        p.candidates.into_iter().take(p.want).collect()
    }

    #[test]
    fn a_lone_node_takes_every_free_lease() {
        let leases: Vec<Lease> = (0..4).map(|i| lease(&format!("s{i}"), None, 0)).collect();
        let now = Instant::now();
        let take = takes(&leases, "a", &seen_now(&leases, now), now);
        assert_eq!(take.len(), 4);
    }

    #[test]
    fn a_new_node_steals_one_per_pass_from_the_most_loaded() {
        let leases: Vec<Lease> = (0..4)
            .map(|i| lease(&format!("s{i}"), Some("a"), 5))
            .collect();
        let now = Instant::now();
        let seen = seen_now(&leases, now);
        let take = takes(&leases, "b", &seen, now);
        assert_eq!(take.len(), 1, "one steal per pass");
        assert_eq!(take[0].owner.as_deref(), Some("a"));
        // Balanced at 2 and 2: nothing more to take.
        let mut balanced = leases.clone();
        balanced[0].owner = Some("b".into());
        balanced[1].owner = Some("b".into());
        assert!(takes(&balanced, "b", &seen, now).is_empty());
        assert!(takes(&balanced, "a", &seen, now).is_empty());
        // Three nodes, 2/2/0: the third steals one (target 2, it has none).
        assert_eq!(takes(&balanced, "c", &seen, now).len(), 1);
    }

    #[test]
    fn an_expired_lease_is_taken_over_after_the_duration() {
        let leases = vec![
            lease("s0", Some("a"), 3),
            lease("s1", Some("dead"), 7),
            lease("s2", Some("a"), 3),
        ];
        let t0 = Instant::now();
        let seen = seen_now(&leases, t0);
        // Within the duration the dead node still counts as live: a has its share.
        assert!(takes(&leases, "a", &seen, t0 + D / 2).is_empty());
        let take = takes(&leases, "a", &seen, t0 + D);
        assert_eq!(
            take.iter().map(|l| l.shard.as_str()).collect::<Vec<_>>(),
            ["s1"]
        );
    }

    #[test]
    fn children_wait_for_their_parents() {
        let mut parent = lease("p", Some("a"), 1);
        let mut child = lease("c", None, 0);
        child.parents = vec!["p".into()];
        let now = Instant::now();
        let leases = vec![parent.clone(), child.clone()];
        let take = takes(&leases, "b", &seen_now(&leases, now), now);
        assert!(
            take.iter().all(|l| l.shard != "c"),
            "the child waits: {take:?}"
        );
        parent.checkpoint = Some(SHARD_END.into());
        let leases = vec![parent, child];
        let take = takes(&leases, "b", &seen_now(&leases, now), now);
        assert_eq!(take.len(), 1);
        assert_eq!(take[0].shard, "c");
        // A parent no longer in the stream (trimmed) does not hold its child back.
        let mut orphan = lease("o", None, 0);
        orphan.parents = vec!["gone".into()];
        let take = takes(&[orphan.clone()], "b", &HashMap::new(), now);
        assert_eq!(take, vec![orphan]);
    }
}
