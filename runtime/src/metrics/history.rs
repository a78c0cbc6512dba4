//! The history behind the console's charts: the last hour of every table and function at
//! 10-second resolution, kept in memory.
//!
//! Every [`STEP_SECONDS`] (on wall-clock multiples of ten seconds) the sampler
//! ([`super::Metrics::sample`]) takes every counter and histogram, subtracts what it took the
//! step before, and appends one point per table and per function: requests per operation and
//! their p50/p99 latency, consumed capacity, errors, item count and size, TTL deletions;
//! invocations, errors,
//! duration and instantiation p50/p99. Percentiles come from the step's histogram buckets
//! ([`super::histogram::Snapshot::quantile`]), as Prometheus' `histogram_quantile` computes them.
//! [`STEPS`] points are kept per series (an hour); a table that no longer exists loses its
//! history at the next step.
//!
//! Readers get owned, serde-serializable copies ([`TableHistory`], [`FunctionHistory`]).

use std::collections::{BTreeMap, HashMap, VecDeque};

use parking_lot::Mutex;
use serde::Serialize;

use super::functions::FunctionSnapshot;
use super::histogram;
use super::names::Operation;
use super::requests::TableSnapshot;

/// Seconds between two points.
pub const STEP_SECONDS: u64 = 10;
/// Points kept per series: one hour.
pub const STEPS: usize = 360;

/// The 50th and 99th percentile of a step's durations, milliseconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Percentiles {
    /// Median, milliseconds.
    pub p50: f64,
    /// 99th percentile, milliseconds.
    pub p99: f64,
}

impl Percentiles {
    /// The percentiles of `h`, None without observations.
    fn of(h: &histogram::Snapshot) -> Option<Percentiles> {
        Some(Percentiles {
            p50: h.quantile(0.5)? * 1000.0,
            p99: h.quantile(0.99)? * 1000.0,
        })
    }
}

/// One step of one table. Counts are of the step alone, not totals.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TablePoint {
    /// The end of the step, seconds since the Unix epoch (it covers `t - step_seconds` to `t`).
    pub t: u64,
    /// Requests per operation (`"GetItem"`, `"PutItem"`...); operations without requests in
    /// the step are left out.
    pub requests: BTreeMap<&'static str, u64>,
    /// Latency of the successful requests per operation, milliseconds; operations without a
    /// successful request in the step are left out.
    pub latency_ms: BTreeMap<&'static str, Percentiles>,
    /// Read capacity units consumed, the table's and its indexes'.
    pub read_capacity_units: f64,
    /// Write capacity units consumed, the table's and its indexes'.
    pub write_capacity_units: f64,
    /// Throttled requests.
    pub throttled_requests: u64,
    /// User errors (HTTP 400 but conditional check failures, throttling, conflicts).
    pub user_errors: u64,
    /// System errors (HTTP 5xx).
    pub system_errors: u64,
    /// Writes whose condition failed.
    pub conditional_check_failed_requests: u64,
    /// Items in the table at the end of the step.
    pub item_count: u64,
    /// Approximate bytes of the table on disk at the end of the step.
    pub size_bytes: u64,
    /// Items the TTL sweeper deleted in the step (CloudWatch `TimeToLiveDeletedItemCount`).
    pub ttl_deleted_items: u64,
}

/// The last hour of one table, oldest point first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TableHistory {
    /// The table.
    pub table: String,
    /// Seconds between points ([`STEP_SECONDS`]).
    pub step_seconds: u64,
    /// One point per step since the table was first seen, at most [`STEPS`].
    pub points: Vec<TablePoint>,
    /// Items the TTL sweeper deleted from the table since tarn started (as of the last step).
    pub ttl_deleted_total: u64,
}

/// One step of one function. Counts are of the step alone.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FunctionPoint {
    /// The end of the step, seconds since the Unix epoch.
    pub t: u64,
    /// Invocations that ran (failed ones included; throttled ones not).
    pub invocations: u64,
    /// Invocations that failed (trap, timeout, memory limit, handler error, no slot).
    pub errors: u64,
    /// Invocations refused at the function's concurrency limit.
    pub throttles: u64,
    /// Invocation duration, milliseconds (None without invocations).
    pub duration_ms: Option<Percentiles>,
    /// Instantiation time, milliseconds (None without invocations).
    pub instantiation_ms: Option<Percentiles>,
}

/// The last hour of one function, oldest point first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FunctionHistory {
    /// The function.
    pub function: String,
    /// Seconds between points ([`STEP_SECONDS`]).
    pub step_seconds: u64,
    /// One point per step since the function was first invoked, at most [`STEPS`].
    pub points: Vec<FunctionPoint>,
}

/// One operation in one step of a table, as kept (compact; made a [`TablePoint`] when read).
#[derive(Debug, Clone)]
struct OperationStep {
    operation: Operation,
    requests: u64,
    latency: Option<Percentiles>,
}

/// One step of a table as kept.
#[derive(Debug, Clone)]
struct TableStep {
    t: u64,
    operations: Box<[OperationStep]>,
    read_units: f64,
    write_units: f64,
    throttled: u64,
    user_errors: u64,
    system_errors: u64,
    conditional_check_failed: u64,
    item_count: u64,
    size_bytes: u64,
    ttl_deleted: u64,
}

impl TableStep {
    fn point(&self) -> TablePoint {
        TablePoint {
            t: self.t,
            requests: self
                .operations
                .iter()
                .map(|o| (o.operation.name(), o.requests))
                .collect(),
            latency_ms: self
                .operations
                .iter()
                .filter_map(|o| Some((o.operation.name(), o.latency?)))
                .collect(),
            read_capacity_units: self.read_units,
            write_capacity_units: self.write_units,
            throttled_requests: self.throttled,
            user_errors: self.user_errors,
            system_errors: self.system_errors,
            conditional_check_failed_requests: self.conditional_check_failed,
            item_count: self.item_count,
            size_bytes: self.size_bytes,
            ttl_deleted_items: self.ttl_deleted,
        }
    }
}

/// A table's size at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableSize {
    /// Items.
    pub items: u64,
    /// Approximate bytes on disk.
    pub bytes: u64,
}

#[derive(Debug, Default)]
struct State {
    /// The counters the previous step ended with.
    last_tables: HashMap<String, TableSnapshot>,
    last_functions: HashMap<String, FunctionSnapshot>,
    tables: HashMap<String, VecDeque<TableStep>>,
    functions: HashMap<String, VecDeque<FunctionPoint>>,
}

/// The last hour of every table and function.
#[derive(Debug, Default)]
pub struct History {
    state: Mutex<State>,
}

fn push<T>(ring: &mut VecDeque<T>, point: T) {
    if ring.len() == STEPS {
        ring.pop_front();
    }
    ring.push_back(point);
}

/// What a table did between `before` and `now` (two snapshots of its counters).
fn table_step(t: u64, before: &TableSnapshot, now: &TableSnapshot, size: TableSize) -> TableStep {
    let mut step = TableStep {
        t,
        operations: Box::new([]),
        // Counters only grow; a table dropped and made again starts over.
        read_units: (now.total_read_units() - before.total_read_units()).max(0.0),
        write_units: (now.total_write_units() - before.total_write_units()).max(0.0),
        throttled: 0,
        user_errors: 0,
        system_errors: 0,
        conditional_check_failed: 0,
        item_count: size.items,
        size_bytes: size.bytes,
        // A counter lower than before is a table made again: all of it is this step's.
        ttl_deleted: match now.ttl_deleted.checked_sub(before.ttl_deleted) {
            Some(n) => n,
            None => now.ttl_deleted,
        },
    };
    let mut operations = Vec::new();
    for (op, o) in &now.operations {
        let prev = before
            .operations
            .iter()
            .find(|(p, _)| p == op)
            .map(|(_, p)| p.clone())
            .filter(|p| p.requests <= o.requests)
            .unwrap_or_default();
        let requests = o.requests - prev.requests;
        if requests == 0 {
            continue;
        }
        step.throttled += o.throttled.saturating_sub(prev.throttled);
        step.user_errors += o.user_errors.saturating_sub(prev.user_errors);
        step.system_errors += o.system_errors.saturating_sub(prev.system_errors);
        step.conditional_check_failed += o
            .conditional_check_failed
            .saturating_sub(prev.conditional_check_failed);
        operations.push(OperationStep {
            operation: *op,
            requests,
            latency: Percentiles::of(&o.latency.since(&prev.latency)),
        });
    }
    step.operations = operations.into_boxed_slice();
    step
}

/// What a function did between `before` and `now`.
fn function_step(t: u64, before: &FunctionSnapshot, now: &FunctionSnapshot) -> FunctionPoint {
    let before = if now.invocations() < before.invocations() {
        &FunctionSnapshot::default()
    } else {
        before
    };
    FunctionPoint {
        t,
        invocations: now.invocations() - before.invocations(),
        errors: now.errors().saturating_sub(before.errors()),
        throttles: now.throttles.saturating_sub(before.throttles),
        duration_ms: Percentiles::of(&now.duration.since(&before.duration)),
        instantiation_ms: Percentiles::of(&now.instantiation.since(&before.instantiation)),
    }
}

impl History {
    /// Appends the step ending at `t` (Unix seconds): `tables` and `functions` are every
    /// counter now, `sizes` the tables that exist and their size. Tables not in `sizes` are
    /// forgotten.
    pub(crate) fn record(
        &self,
        t: u64,
        tables: Vec<(String, TableSnapshot)>,
        sizes: &HashMap<String, TableSize>,
        functions: Vec<(String, FunctionSnapshot)>,
    ) {
        let mut state = self.state.lock();
        let state = &mut *state;
        let empty = TableSnapshot::default();
        let mut last_tables = HashMap::with_capacity(tables.len());
        for (name, now) in tables {
            let Some(size) = sizes.get(&name) else {
                continue;
            };
            let before = state.last_tables.get(&name).unwrap_or(&empty);
            let step = table_step(t, before, &now, *size);
            push(state.tables.entry(name.clone()).or_default(), step);
            last_tables.insert(name, now);
        }
        state
            .tables
            .retain(|name, _| last_tables.contains_key(name));
        state.last_tables = last_tables;
        let empty = FunctionSnapshot::default();
        for (name, now) in functions {
            let before = state.last_functions.get(&name).unwrap_or(&empty);
            let point = function_step(t, before, &now);
            push(state.functions.entry(name.clone()).or_default(), point);
            state.last_functions.insert(name, now);
        }
    }

    /// The last hour of `table`, oldest point first; no points for a table not seen (yet).
    pub fn table(&self, table: &str) -> TableHistory {
        let state = self.state.lock();
        TableHistory {
            table: table.to_string(),
            step_seconds: STEP_SECONDS,
            points: state
                .tables
                .get(table)
                .map(|ring| ring.iter().map(TableStep::point).collect())
                .unwrap_or_default(),
            ttl_deleted_total: state.last_tables.get(table).map_or(0, |s| s.ttl_deleted),
        }
    }

    /// The last hour of `function`, oldest point first; no points for a function never
    /// invoked.
    pub fn function(&self, function: &str) -> FunctionHistory {
        let state = self.state.lock();
        FunctionHistory {
            function: function.to_string(),
            step_seconds: STEP_SECONDS,
            points: state
                .functions
                .get(function)
                .map(|ring| ring.iter().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// The tables with a history, in name order.
    pub fn tables(&self) -> Vec<String> {
        let mut names: Vec<String> = self.state.lock().tables.keys().cloned().collect();
        names.sort();
        names
    }

    /// The functions with a history, in name order.
    pub fn functions(&self) -> Vec<String> {
        let mut names: Vec<String> = self.state.lock().functions.keys().cloned().collect();
        names.sort();
        names
    }
}

/// The end of the step that contains `now_secs` (a multiple of [`STEP_SECONDS`]).
pub fn step_end(now_secs: u64) -> u64 {
    now_secs - now_secs % STEP_SECONDS + STEP_SECONDS
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::requests::{CapacityKind, Outcome, Requests};
    use super::*;

    fn sizes(pairs: &[(&str, u64)]) -> HashMap<String, TableSize> {
        pairs
            .iter()
            .map(|(n, items)| {
                (
                    n.to_string(),
                    TableSize {
                        items: *items,
                        bytes: items * 100,
                    },
                )
            })
            .collect()
    }

    fn ok() -> Outcome {
        Outcome::Ok { returned_items: 0 }
    }

    #[test]
    fn steps_hold_what_happened_within_them() {
        let r = Requests::default();
        let h = History::default();
        let music = json!({"TableName": "Music"});
        let put = Operation::from_api_name("PutItem");
        let get = Operation::from_api_name("GetItem");
        for _ in 0..3 {
            r.record(put, &music, Duration::from_micros(400), ok());
            r.consumed("Music", None, CapacityKind::Write, 1.0);
        }
        r.record(get, &music, Duration::from_millis(3), ok());
        r.consumed("Music", None, CapacityKind::Read, 0.5);
        r.record(put, &music, Duration::ZERO, Outcome::ConditionalCheckFailed);
        r.ttl_deleted("Music", 2);
        h.record(10, r.snapshot(), &sizes(&[("Music", 3)]), Vec::new());

        // The next step: one GetItem, one user error, an index read.
        r.record(get, &music, Duration::from_micros(200), ok());
        r.record(get, &music, Duration::ZERO, Outcome::UserError);
        r.consumed("Music", Some("byYear"), CapacityKind::Read, 1.0);
        r.ttl_deleted("Music", 5);
        h.record(20, r.snapshot(), &sizes(&[("Music", 3)]), Vec::new());
        // A quiet step.
        h.record(30, r.snapshot(), &sizes(&[("Music", 4)]), Vec::new());

        let history = h.table("Music");
        assert_eq!(history.step_seconds, 10);
        let p = &history.points;
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].t, 10);
        assert_eq!(p[0].requests["PutItem"], 4);
        assert_eq!(p[0].requests["GetItem"], 1);
        assert_eq!(p[0].write_capacity_units, 3.0);
        assert_eq!(p[0].read_capacity_units, 0.5);
        assert_eq!(p[0].conditional_check_failed_requests, 1);
        let put_latency = p[0].latency_ms["PutItem"];
        assert!(
            put_latency.p50 > 0.25 && put_latency.p50 <= 0.5,
            "{put_latency:?}"
        );
        let get_latency = p[0].latency_ms["GetItem"];
        assert!(
            get_latency.p99 > 2.5 && get_latency.p99 <= 5.0,
            "{get_latency:?}"
        );

        assert_eq!(p[1].requests.get("PutItem"), None);
        assert_eq!(p[1].requests["GetItem"], 2);
        assert_eq!(p[1].user_errors, 1);
        assert_eq!(p[1].read_capacity_units, 1.0, "index units count");
        assert_eq!(p[1].write_capacity_units, 0.0);
        let get_latency = p[1].latency_ms["GetItem"];
        assert!(
            get_latency.p99 <= 0.25,
            "this step's latency only: {get_latency:?}"
        );

        assert!(p[2].requests.is_empty());
        assert!(p[2].latency_ms.is_empty());
        assert_eq!(p[2].item_count, 4);
        assert_eq!(p[2].size_bytes, 400);
        let ttl: Vec<u64> = p.iter().map(|p| p.ttl_deleted_items).collect();
        assert_eq!(ttl, [2, 5, 0]);
        assert_eq!(history.ttl_deleted_total, 7);

        let v = serde_json::to_value(&history).unwrap();
        assert_eq!(v["step_seconds"], 10);
        assert_eq!(v["points"][0]["requests"]["PutItem"], 4);
        assert!(v["points"][0]["latency_ms"]["GetItem"]["p99"].is_number());

        // Unknown tables have no points; deleted tables lose theirs.
        assert!(h.table("Nope").points.is_empty());
        assert_eq!(h.tables(), vec!["Music".to_string()]);
        h.record(40, r.snapshot(), &sizes(&[]), Vec::new());
        assert!(h.table("Music").points.is_empty());
    }

    #[test]
    fn an_hour_is_kept() {
        let r = Requests::default();
        r.ensure("t"); // as `Metrics::sample` does for every table that exists
        let h = History::default();
        for i in 1..=(STEPS as u64 + 5) {
            h.record(i * 10, r.snapshot(), &sizes(&[("t", i)]), Vec::new());
        }
        let p = h.table("t").points;
        assert_eq!(p.len(), STEPS);
        assert_eq!(p[0].t, 60);
        assert_eq!(p[STEPS - 1].item_count, STEPS as u64 + 5);
    }

    #[test]
    fn function_steps() {
        use tarn_host::metrics::InvocationObserver;
        let f = super::super::functions::Functions::default();
        let h = History::default();
        let none = HashMap::new();
        f.instantiated("api", Duration::from_micros(90));
        f.finished("api", Duration::from_millis(4), Ok(()));
        f.finished(
            "api",
            Duration::from_millis(4),
            Err(&tarn_host::InvocationError::Trap("x".into())),
        );
        f.throttled("api");
        h.record(10, Vec::new(), &none, f.snapshot());
        h.record(20, Vec::new(), &none, f.snapshot());
        let p = h.function("api").points;
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].invocations, p[0].errors, p[0].throttles), (2, 1, 1));
        let d = p[0].duration_ms.unwrap();
        assert!(d.p50 > 2.5 && d.p50 <= 5.0, "{d:?}");
        let i = p[0].instantiation_ms.unwrap();
        assert!(i.p50 > 0.05 && i.p50 <= 0.1, "{i:?}");
        assert_eq!((p[1].invocations, p[1].errors, p[1].throttles), (0, 0, 0));
        assert_eq!(p[1].duration_ms, None);
        assert_eq!(h.functions(), vec!["api".to_string()]);
        assert!(h.function("never").points.is_empty());
    }

    #[test]
    fn steps_end_on_multiples_of_ten_seconds() {
        assert_eq!(step_end(0), 10);
        assert_eq!(step_end(1_700_000_003), 1_700_000_010);
        assert_eq!(step_end(1_700_000_010), 1_700_000_020);
    }
}
