//! What the triggers report about themselves: per stream mapping, records processed and failed,
//! retries, the last error, the checkpoint, the iterator age and the delay from a write to its
//! invocation (and in cluster mode, this node's name and the shards it holds leases on, each
//! with its checkpoint); per schedule, the last and next run, runs, failures and skipped ticks. The admin
//! API serves it at `GET /_tarn/status` (and `tarn status` prints it).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};

/// How many recent write-to-invocation delays a mapping keeps for its percentiles.
const DELAY_SAMPLES: usize = 10_000;

/// A stream mapping's counters.
#[derive(Debug, Default)]
pub struct MappingStatus {
    /// Records the handler accepted.
    pub processed: u64,
    /// Records given up (written to the on-failure table or logged).
    pub failed: u64,
    /// Retry invocations.
    pub retries: u64,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// Every record up to this sequence number is done.
    pub checkpoint: Option<u64>,
    /// Age of the oldest record not yet accepted, in milliseconds (0: caught up).
    pub iterator_age_ms: u64,
    /// Cluster mode: the shards whose leases this node holds, with their checkpoints (the
    /// engine's sequence number through which every record is done, or `SHARD_END`).
    pub shards: BTreeMap<String, Option<String>>,
    /// Cluster mode: this node's name (`--node-id`), the owner of the leases in `shards`.
    pub node: Option<String>,
    delays_ms: VecDeque<u64>,
}

impl MappingStatus {
    /// Notes the delay between a record's write and the start of its first invocation.
    pub fn record_delay(&mut self, ms: u64) {
        if self.delays_ms.len() == DELAY_SAMPLES {
            self.delays_ms.pop_front();
        }
        self.delays_ms.push_back(ms);
    }

    /// The `q` quantile (0..=1) of the recent delays, in milliseconds.
    pub fn delay_quantile(&self, q: f64) -> Option<u64> {
        let mut v: Vec<u64> = self.delays_ms.iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let i = ((v.len() - 1) as f64 * q).round() as usize;
        Some(v[i])
    }

    fn to_json(&self) -> Value {
        json!({
            "processed": self.processed,
            "failed": self.failed,
            "retries": self.retries,
            "last_error": self.last_error,
            "checkpoint": self.checkpoint.map(crate::api::sequence_number),
            "iterator_age_ms": self.iterator_age_ms,
            "delay_ms_p50": self.delay_quantile(0.5),
            "delay_ms_p99": self.delay_quantile(0.99),
            "node": self.node,
            "shards": self.shards.iter().map(|(shard, checkpoint)| {
                (shard.clone(), json!({"checkpoint": checkpoint}))
            }).collect::<serde_json::Map<String, Value>>(),
        })
    }
}

/// A schedule's counters.
#[derive(Debug, Default)]
pub struct ScheduleStatus {
    /// The cron expression.
    pub cron: String,
    /// The last tick run (RFC 3339).
    pub last_run: Option<String>,
    /// The next tick (RFC 3339).
    pub next_run: Option<String>,
    /// Ticks run.
    pub runs: u64,
    /// Ticks whose invocation failed.
    pub failures: u64,
    /// Ticks skipped because the previous run was still going.
    pub skipped: u64,
    /// The last error, if any.
    pub last_error: Option<String>,
}

/// Every trigger's status, shared by the triggers (writing) and the admin API (reading).
#[derive(Debug, Default)]
pub struct TriggerStatus {
    mappings: Mutex<BTreeMap<String, Arc<Mutex<MappingStatus>>>>,
    schedules: Mutex<BTreeMap<String, Arc<Mutex<ScheduleStatus>>>>,
}

impl TriggerStatus {
    /// The status of mapping `name` (created on first use, kept across redeploys).
    pub fn mapping(&self, name: &str) -> Arc<Mutex<MappingStatus>> {
        self.mappings
            .lock()
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// The status of schedule `name`.
    pub fn schedule(&self, name: &str) -> Arc<Mutex<ScheduleStatus>> {
        self.schedules
            .lock()
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// Forgets the triggers not in `mappings` and `schedules` (after a deploy).
    pub fn retain(&self, mappings: &[String], schedules: &[String]) {
        self.mappings.lock().retain(|k, _| mappings.contains(k));
        self.schedules.lock().retain(|k, _| schedules.contains(k));
    }

    /// Everything, as the admin API answers it.
    pub fn to_json(&self) -> Value {
        let streams: serde_json::Map<String, Value> = self
            .mappings
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.lock().to_json()))
            .collect();
        let schedules: serde_json::Map<String, Value> = self
            .schedules
            .lock()
            .iter()
            .map(|(k, v)| {
                let s = v.lock();
                (
                    k.clone(),
                    json!({
                        "cron": s.cron,
                        "last_run": s.last_run,
                        "next_run": s.next_run,
                        "runs": s.runs,
                        "failures": s.failures,
                        "skipped": s.skipped,
                        "last_error": s.last_error,
                    }),
                )
            })
            .collect();
        json!({"streams": streams, "schedules": schedules})
    }
}

/// What the metrics read at each scrape (`/metrics`): per mapping its table, function and
/// counters; per schedule its cron, function and counters.
impl crate::metrics::TriggerSource for TriggerStatus {
    fn trigger_figures(&self) -> crate::metrics::TriggerFigures {
        // Names are `mapping_name(table, function)` and `schedule::name(cron, function)`:
        // "<table or cron> -> <function>" (table and function names cannot hold " -> ").
        let split = |name: &str| {
            let (source, function) = name.rsplit_once(" -> ").unwrap_or((name, ""));
            (source.to_string(), function.to_string())
        };
        let mappings = self
            .mappings
            .lock()
            .iter()
            .map(|(name, m)| {
                let (table, function) = split(name);
                let m = m.lock();
                crate::metrics::MappingFigures {
                    table,
                    function,
                    processed: m.processed,
                    failed: m.failed,
                    retries: m.retries,
                    iterator_age_ms: m.iterator_age_ms,
                }
            })
            .collect();
        let schedules = self
            .schedules
            .lock()
            .iter()
            .map(|(name, s)| {
                let (cron, function) = split(name);
                let s = s.lock();
                crate::metrics::ScheduleFigures {
                    cron: if s.cron.is_empty() {
                        cron
                    } else {
                        s.cron.clone()
                    },
                    function,
                    runs: s.runs,
                    failures: s.failures,
                    skipped: s.skipped,
                }
            })
            .collect();
        crate::metrics::TriggerFigures {
            mappings,
            schedules,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_percentiles() {
        let mut m = MappingStatus::default();
        assert_eq!(m.delay_quantile(0.5), None);
        for d in 1..=100 {
            m.record_delay(d);
        }
        assert_eq!(m.delay_quantile(0.5), Some(51));
        assert_eq!(m.delay_quantile(0.99), Some(99));
        let s = TriggerStatus::default();
        s.mapping("a").lock().processed = 3;
        s.schedule("b").lock().runs = 1;
        let j = s.to_json();
        assert_eq!(j["streams"]["a"]["processed"], 3);
        s.retain(&[], &["b".into()]);
        assert!(s.to_json()["streams"].as_object().unwrap().is_empty());
    }

    #[test]
    fn figures_for_the_metrics() {
        use crate::metrics::TriggerSource;
        let s = TriggerStatus::default();
        {
            let m = s.mapping(&crate::triggers::stream::mapping_name("orders", "totals"));
            let mut m = m.lock();
            m.processed = 7;
            m.failed = 1;
            m.iterator_age_ms = 1500;
        }
        let sched = s.schedule(&crate::triggers::schedule::name("*/5 * * * * *", "tick"));
        sched.lock().cron = "*/5 * * * * *".into();
        sched.lock().runs = 3;
        let f = s.trigger_figures();
        assert_eq!(f.mappings.len(), 1);
        let m = &f.mappings[0];
        assert_eq!(
            (m.table.as_str(), m.function.as_str()),
            ("orders", "totals")
        );
        assert_eq!((m.processed, m.failed, m.iterator_age_ms), (7, 1, 1500));
        let sc = &f.schedules[0];
        assert_eq!(
            (sc.cron.as_str(), sc.function.as_str(), sc.runs),
            ("*/5 * * * * *", "tick", 3)
        );
    }
}
