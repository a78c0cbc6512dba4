//! DynamoDB request figures per table: what the request path records, and the collector that
//! writes them to `/metrics`.
//!
//! Each table has one [`TableFigures`]: for every operation a fixed block of atomic counters and
//! a latency [`Histogram`] (an array indexed by [`Operation`], so recording needs no map and no
//! allocation), consumed capacity in half units (DynamoDB's units are multiples of one half),
//! and the consumption of each index. Recording a request is one lookup of the table's figures
//! by name in a map loaded without a lock (see [`Requests`]), then a few relaxed atomic adds.
//!
//! Which tables get figures: a table appears once a request on it succeeds (or fails in a way
//! only an existing table can: a condition check, a cancelled or conflicting transaction,
//! throttling). Errors naming a table tarn has no figures for (a typo, a table that does not
//! exist) are counted under `table=""` with the account-level operations, so a client sending
//! random names cannot grow `/metrics` without bound; at most [`MAX_TABLES`] tables are kept.
//! The history's sampler drops the figures of tables that no longer exist.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::{Mutex, RwLock};
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use serde_json::Value;
use tarn_wire::{kind, ApiError};

use super::histogram::{self, Histogram};
use super::names::{self, Family, Operation, OPERATION_COUNT};

/// Most tables with figures of their own (DynamoDB's default quota of tables per region).
pub const MAX_TABLES: usize = 2500;

/// Whether capacity units are read or write units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityKind {
    /// Read capacity units.
    Read,
    /// Write capacity units.
    Write,
}

/// The counters of one operation on one table.
#[derive(Debug, Default)]
pub struct OperationFigures {
    requests: AtomicU64,
    user_errors: AtomicU64,
    system_errors: AtomicU64,
    conditional_check_failed: AtomicU64,
    throttled: AtomicU64,
    transaction_conflicts: AtomicU64,
    returned_items: AtomicU64,
    latency: Histogram,
}

/// Capacity consumed on one index of a table.
#[derive(Debug)]
struct IndexFigures {
    name: Box<str>,
    read_half_units: AtomicU64,
    write_half_units: AtomicU64,
}

/// Everything recorded about one table.
#[derive(Debug)]
pub struct TableFigures {
    operations: [OperationFigures; OPERATION_COUNT],
    read_half_units: AtomicU64,
    write_half_units: AtomicU64,
    indexes: RwLock<Vec<Arc<IndexFigures>>>,
    ttl_deleted: AtomicU64,
}

impl Default for TableFigures {
    fn default() -> Self {
        TableFigures {
            operations: std::array::from_fn(|_| OperationFigures::default()),
            read_half_units: AtomicU64::new(0),
            write_half_units: AtomicU64::new(0),
            indexes: RwLock::new(Vec::new()),
            ttl_deleted: AtomicU64::new(0),
        }
    }
}

/// Half units of `units` (DynamoDB's units are multiples of 0.5: eventually consistent reads).
fn half_units(units: f64) -> u64 {
    if units.is_finite() && units > 0.0 {
        (units * 2.0).round() as u64
    } else {
        0
    }
}

/// How one request ended, as the metrics sort it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Success; the items it returned (Query and Scan's `Count`).
    Ok { returned_items: u64 },
    /// HTTP 400, but for the three kinds below.
    UserError,
    /// HTTP 5xx.
    SystemError,
    /// A condition expression evaluated to false.
    ConditionalCheckFailed,
    /// A throughput or rate limit refused it.
    Throttled,
    /// A conflicting transaction refused it.
    TransactionConflict,
}

impl Outcome {
    /// The outcome of `op` that answered `result`.
    pub(crate) fn of(op: Operation, result: &Result<Value, ApiError>) -> Outcome {
        match result {
            Ok(out) => Outcome::Ok {
                returned_items: if op.returns_items() {
                    out.get("Count").and_then(Value::as_u64).unwrap_or(0)
                } else {
                    0
                },
            },
            Err(e) => match e.kind {
                kind::CONDITIONAL_CHECK_FAILED => Outcome::ConditionalCheckFailed,
                kind::TRANSACTION_CONFLICT => Outcome::TransactionConflict,
                kind::PROVISIONED_THROUGHPUT_EXCEEDED
                | kind::REQUEST_LIMIT_EXCEEDED
                | kind::THROTTLING => Outcome::Throttled,
                _ if e.is_server_error() => Outcome::SystemError,
                _ => Outcome::UserError,
            },
        }
    }

    /// Whether the table named must exist for a request to end so (then it gets figures).
    fn proves_table_exists(self) -> bool {
        !matches!(self, Outcome::UserError | Outcome::SystemError)
    }
}

impl TableFigures {
    fn record(&self, op: Operation, elapsed: Duration, outcome: Outcome) {
        let f = &self.operations[op.index()];
        f.requests.fetch_add(1, Ordering::Relaxed);
        let counter = match outcome {
            Outcome::Ok { returned_items } => {
                f.latency.observe(elapsed);
                if returned_items > 0 {
                    f.returned_items
                        .fetch_add(returned_items, Ordering::Relaxed);
                }
                return;
            }
            Outcome::UserError => &f.user_errors,
            Outcome::SystemError => &f.system_errors,
            Outcome::ConditionalCheckFailed => &f.conditional_check_failed,
            Outcome::Throttled => &f.throttled,
            Outcome::TransactionConflict => &f.transaction_conflicts,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn consumed(&self, index: Option<&str>, kind: CapacityKind, units: f64) {
        let half = half_units(units);
        if half == 0 {
            return;
        }
        let add = |read: &AtomicU64, write: &AtomicU64| match kind {
            CapacityKind::Read => read.fetch_add(half, Ordering::Relaxed),
            CapacityKind::Write => write.fetch_add(half, Ordering::Relaxed),
        };
        let Some(index) = index else {
            add(&self.read_half_units, &self.write_half_units);
            return;
        };
        if let Some(ix) = self.indexes.read().iter().find(|i| &*i.name == index) {
            add(&ix.read_half_units, &ix.write_half_units);
            return;
        }
        let mut indexes = self.indexes.write();
        let ix = match indexes.iter().find(|i| &*i.name == index) {
            Some(ix) => ix.clone(),
            None => {
                let ix = Arc::new(IndexFigures {
                    name: index.into(),
                    read_half_units: AtomicU64::new(0),
                    write_half_units: AtomicU64::new(0),
                });
                indexes.push(ix.clone());
                ix
            }
        };
        add(&ix.read_half_units, &ix.write_half_units);
    }

    /// The table's counters now.
    pub fn snapshot(&self) -> TableSnapshot {
        let operations = self
            .operations
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let requests = f.requests.load(Ordering::Relaxed);
                (requests > 0).then(|| {
                    (
                        Operation::at(i),
                        OperationSnapshot {
                            requests,
                            user_errors: f.user_errors.load(Ordering::Relaxed),
                            system_errors: f.system_errors.load(Ordering::Relaxed),
                            conditional_check_failed: f
                                .conditional_check_failed
                                .load(Ordering::Relaxed),
                            throttled: f.throttled.load(Ordering::Relaxed),
                            transaction_conflicts: f.transaction_conflicts.load(Ordering::Relaxed),
                            returned_items: f.returned_items.load(Ordering::Relaxed),
                            latency: f.latency.snapshot(),
                        },
                    )
                })
            })
            .collect();
        TableSnapshot {
            operations,
            read_units: self.read_half_units.load(Ordering::Relaxed) as f64 / 2.0,
            write_units: self.write_half_units.load(Ordering::Relaxed) as f64 / 2.0,
            indexes: self
                .indexes
                .read()
                .iter()
                .map(|ix| IndexSnapshot {
                    name: ix.name.to_string(),
                    read_units: ix.read_half_units.load(Ordering::Relaxed) as f64 / 2.0,
                    write_units: ix.write_half_units.load(Ordering::Relaxed) as f64 / 2.0,
                })
                .collect(),
            ttl_deleted: self.ttl_deleted.load(Ordering::Relaxed),
        }
    }
}

/// One operation's counters on one table at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationSnapshot {
    /// Requests, successful or not.
    pub requests: u64,
    /// HTTP 400s but the three kinds below.
    pub user_errors: u64,
    /// HTTP 5xx.
    pub system_errors: u64,
    /// Conditional check failures.
    pub conditional_check_failed: u64,
    /// Throttled requests.
    pub throttled: u64,
    /// Transaction conflicts.
    pub transaction_conflicts: u64,
    /// Items Query and Scan returned.
    pub returned_items: u64,
    /// Latency of the successful requests.
    pub latency: histogram::Snapshot,
}

/// Capacity one index consumed, at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSnapshot {
    /// The index.
    pub name: String,
    /// Read units consumed.
    pub read_units: f64,
    /// Write units consumed.
    pub write_units: f64,
}

/// A table's counters at one moment: operations with at least one request, consumed capacity
/// of the table itself and of each index, TTL deletions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableSnapshot {
    /// Per operation with requests.
    pub operations: Vec<(Operation, OperationSnapshot)>,
    /// Read units the table itself consumed.
    pub read_units: f64,
    /// Write units the table itself consumed.
    pub write_units: f64,
    /// Per index.
    pub indexes: Vec<IndexSnapshot>,
    /// Items the TTL sweeper deleted.
    pub ttl_deleted: u64,
}

impl TableSnapshot {
    /// Read units of the table and its indexes together.
    pub fn total_read_units(&self) -> f64 {
        self.read_units + self.indexes.iter().map(|i| i.read_units).sum::<f64>()
    }

    /// Write units of the table and its indexes together.
    pub fn total_write_units(&self) -> f64 {
        self.write_units + self.indexes.iter().map(|i| i.write_units).sum::<f64>()
    }
}

/// The label a table's figures have for a request made in `region`: the bare name in the home
/// region (and for `""`), `region/name` elsewhere.
fn label<'t>(region: &str, table: &'t str) -> std::borrow::Cow<'t, str> {
    if table.is_empty() || region == tarn_store::schema::HOME_REGION {
        std::borrow::Cow::Borrowed(table)
    } else {
        std::borrow::Cow::Owned(tarn_store::schema::table_ref(region, table))
    }
}

/// Every table's figures, by name.
type TableMap = HashMap<Box<str>, Arc<TableFigures>>;

/// The figures of every table, by name (`""`: requests naming no table).
///
/// The map is read by every request and changed only when a table gets or loses its figures,
/// so readers load it from an [`ArcSwap`] (a thread-local slot, no shared lock word bouncing
/// between the cores) and a change swaps in a new copy, one change at a time.
#[derive(Debug)]
pub struct Requests {
    tables: ArcSwap<TableMap>,
    changes: Mutex<()>,
}

impl Default for Requests {
    fn default() -> Self {
        let mut tables = HashMap::new();
        tables.insert(Box::<str>::from(""), Arc::default());
        Requests {
            tables: ArcSwap::from_pointee(tables),
            changes: Mutex::new(()),
        }
    }
}

impl Requests {
    /// Runs `f` on the figures of `table`; with `create`, makes them first if missing (within
    /// [`MAX_TABLES`]); otherwise, or past the limit, on the figures of `""`.
    fn with_table<R>(&self, table: &str, create: bool, f: impl FnOnce(&TableFigures) -> R) -> R {
        {
            let tables = self.tables.load();
            if let Some(t) = tables.get(table) {
                return f(t);
            }
            if !create || tables.len() > MAX_TABLES {
                return f(&tables[""]);
            }
        }
        let figures = {
            let _change = self.changes.lock();
            let current = self.tables.load_full();
            match current.get(table) {
                Some(t) => t.clone(),
                None => {
                    let mut next = TableMap::clone(&current);
                    let figures = next.entry(table.into()).or_default().clone();
                    self.tables.store(Arc::new(next));
                    figures
                }
            }
        };
        f(&figures)
    }

    /// Records one request of `op` that ended with `outcome` after `elapsed`, under every table
    /// `body` names (the tables of a batch or transaction each count it once).
    #[cfg(test)]
    pub(crate) fn record(&self, op: Operation, body: &Value, elapsed: Duration, outcome: Outcome) {
        self.record_in(tarn_store::schema::HOME_REGION, op, body, elapsed, outcome);
    }

    /// [`Requests::record`] for a request made in `region`: its tables are counted under their
    /// store reference (the bare name in the home region, `region/name` elsewhere), so a name
    /// used in two regions has two sets of figures.
    pub(crate) fn record_in(
        &self,
        region: &str,
        op: Operation,
        body: &Value,
        elapsed: Duration,
        outcome: Outcome,
    ) {
        let create = outcome.proves_table_exists();
        if !op.is_multi_table() {
            let table = single_table(body).unwrap_or("");
            self.record_table_in(region, op, table, elapsed, outcome);
            return;
        }
        let mut seen: Vec<&str> = Vec::new();
        for_each_table(body, |table| {
            if !seen.contains(&table) {
                seen.push(table);
                self.with_table(&label(region, table), create, |t| {
                    t.record(op, elapsed, outcome)
                });
            }
        });
        if seen.is_empty() {
            self.with_table("", false, |t| t.record(op, elapsed, outcome));
        }
    }

    /// Records one request of a single-table `op` on `table` (`""`: naming none) made in
    /// `region`, as [`Requests::record_in`] records it when the body names `table`.
    pub(crate) fn record_table_in(
        &self,
        region: &str,
        op: Operation,
        table: &str,
        elapsed: Duration,
        outcome: Outcome,
    ) {
        let create = outcome.proves_table_exists();
        self.with_table(&label(region, table), create, |t| {
            t.record(op, elapsed, outcome)
        });
    }

    /// Records `units` of capacity consumed on `table` (on its index `index`, if given).
    pub fn consumed(&self, table: &str, index: Option<&str>, kind: CapacityKind, units: f64) {
        self.with_table(table, true, |t| t.consumed(index, kind, units));
    }

    /// Records `n` items of `table` deleted by the TTL sweeper.
    pub fn ttl_deleted(&self, table: &str, n: u64) {
        self.with_table(table, true, |t| {
            t.ttl_deleted.fetch_add(n, Ordering::Relaxed)
        });
    }

    /// Makes figures for `table` if it has none (a table that exists, with no request yet).
    pub fn ensure(&self, table: &str) {
        self.with_table(table, true, |_| ());
    }

    /// Drops the figures of tables for which `keep` says no (tables that no longer exist);
    /// `""` stays.
    pub fn retain(&self, mut keep: impl FnMut(&str) -> bool) {
        let _change = self.changes.lock();
        let mut next = TableMap::clone(&self.tables.load_full());
        next.retain(|name, _| name.is_empty() || keep(name));
        self.tables.store(Arc::new(next));
    }

    /// Every table's figures now, by name (`""` first).
    pub fn snapshot(&self) -> Vec<(String, TableSnapshot)> {
        let tables: Vec<(String, Arc<TableFigures>)> = self
            .tables
            .load()
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let mut out: Vec<(String, TableSnapshot)> = tables
            .into_iter()
            .map(|(name, t)| (name, t.snapshot()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// The table a single-table request names: `TableName`, a restore's `TargetTableName`, an
/// import's `TableCreationParameters.TableName`, or the table of a `TableArn`/`ResourceArn`.
fn single_table(body: &Value) -> Option<&str> {
    let str_at = |key: &str| body.get(key).and_then(Value::as_str);
    str_at("TableName")
        .or_else(|| str_at("TargetTableName"))
        .or_else(|| {
            body.get("TableCreationParameters")
                .and_then(|p| p.get("TableName"))
                .and_then(Value::as_str)
        })
        .or_else(|| {
            str_at("TableArn")
                .or_else(|| str_at("ResourceArn"))
                .and_then(table_of_arn)
        })
}

/// `Music` from `arn:aws:dynamodb:us-east-1:000000000000:table/Music` (or `.../table/Music/...`).
fn table_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":table/")?.1;
    Some(rest.split('/').next().unwrap_or(rest)).filter(|t| !t.is_empty())
}

/// Calls `f` with each table a batch or transaction names (`RequestItems`' keys, or each
/// `TransactItems` action's `TableName`), duplicates included.
fn for_each_table<'a>(body: &'a Value, mut f: impl FnMut(&'a str)) {
    if let Some(items) = body.get("RequestItems").and_then(Value::as_object) {
        for table in items.keys() {
            f(table);
        }
    }
    for action in body
        .get("TransactItems")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(action) = action.as_object() else {
            continue;
        };
        for inner in action.values() {
            if let Some(t) = inner.get("TableName").and_then(Value::as_str) {
                f(t);
            }
        }
    }
}

/// The request figures as `/metrics` writes them.
#[derive(Debug)]
pub(crate) struct RequestsCollector {
    /// Every table's counters, taken when the scrape began.
    pub(crate) tables: Vec<(String, TableSnapshot)>,
    /// Items and bytes per table and index: (table, index or "", items, bytes).
    pub(crate) sizes: Vec<(String, String, u64, u64)>,
}

fn descriptor<'a>(
    encoder: &'a mut DescriptorEncoder,
    family: &'a Family,
) -> Result<MetricEncoder<'a>, std::fmt::Error> {
    encoder.encode_descriptor(family.name, family.help, None, family.kind)
}

impl prometheus_client::collector::Collector for RequestsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        type Pick = fn(&OperationSnapshot) -> u64;
        let per_operation: [(&Family, Pick); 7] = [
            (&names::REQUESTS, |o| o.requests),
            (&names::USER_ERRORS, |o| o.user_errors),
            (&names::SYSTEM_ERRORS, |o| o.system_errors),
            (&names::CONDITIONAL_CHECK_FAILED, |o| {
                o.conditional_check_failed
            }),
            (&names::THROTTLED_REQUESTS, |o| o.throttled),
            (&names::TRANSACTION_CONFLICT, |o| o.transaction_conflicts),
            (&names::RETURNED_ITEM_COUNT, |o| o.returned_items),
        ];
        for (family, pick) in per_operation {
            let mut metric = descriptor(&mut encoder, family)?;
            for (table, t) in &self.tables {
                for (op, o) in &t.operations {
                    let labels = [("operation", op.name()), ("table", table.as_str())];
                    ConstCounter::new(pick(o)).encode(metric.encode_family(&labels)?)?;
                }
            }
        }
        {
            let family = &names::SUCCESSFUL_REQUEST_LATENCY;
            let mut metric = descriptor(&mut encoder, family)?;
            for (table, t) in &self.tables {
                for (op, o) in &t.operations {
                    if o.latency.count() == 0 {
                        continue;
                    }
                    let labels = [("operation", op.name()), ("table", table.as_str())];
                    metric
                        .encode_family(&labels)?
                        .encode_histogram::<NoLabelSet>(
                            o.latency.sum_seconds(),
                            o.latency.count(),
                            &o.latency.prometheus_buckets(),
                            None,
                        )?;
                }
            }
        }
        type PickUnits = fn(&TableSnapshot) -> f64;
        type PickIndexUnits = fn(&IndexSnapshot) -> f64;
        let capacity: [(&Family, PickUnits, PickIndexUnits); 2] = [
            (
                &names::CONSUMED_READ_CAPACITY,
                |t| t.read_units,
                |i| i.read_units,
            ),
            (
                &names::CONSUMED_WRITE_CAPACITY,
                |t| t.write_units,
                |i| i.write_units,
            ),
        ];
        for (family, table_units, index_units) in capacity {
            let mut metric = descriptor(&mut encoder, family)?;
            for (table, t) in self.tables.iter().filter(|(name, _)| !name.is_empty()) {
                let labels = [("table", table.as_str()), ("index", "")];
                ConstCounter::new(table_units(t)).encode(metric.encode_family(&labels)?)?;
                for ix in &t.indexes {
                    let labels = [("table", table.as_str()), ("index", ix.name.as_str())];
                    ConstCounter::new(index_units(ix)).encode(metric.encode_family(&labels)?)?;
                }
            }
        }
        type PickSize = fn(&(String, String, u64, u64)) -> u64;
        let sizes: [(&Family, PickSize); 2] =
            [(&names::ITEM_COUNT, |s| s.2), (&names::TABLE_SIZE, |s| s.3)];
        for (family, pick) in sizes {
            let mut metric = descriptor(&mut encoder, family)?;
            for s in &self.sizes {
                let labels = [("table", s.0.as_str()), ("index", s.1.as_str())];
                metric.encode_family(&labels)?.encode_gauge(&pick(s))?;
            }
        }
        let mut metric = descriptor(&mut encoder, &names::TTL_DELETED)?;
        for (table, t) in self.tables.iter().filter(|(name, _)| !name.is_empty()) {
            let labels = [("table", table.as_str())];
            ConstCounter::new(t.ttl_deleted).encode(metric.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn op(name: &str) -> Operation {
        Operation::from_api_name(name)
    }

    fn ok() -> Result<Value, ApiError> {
        Ok(json!({}))
    }

    #[test]
    fn outcomes_sort_errors_as_cloudwatch_does() {
        let get = op("GetItem");
        assert_eq!(Outcome::of(get, &ok()), Outcome::Ok { returned_items: 0 });
        assert_eq!(
            Outcome::of(op("Query"), &Ok(json!({"Count": 7}))),
            Outcome::Ok { returned_items: 7 }
        );
        // GetItem's answer has no Count; a Count elsewhere is not ReturnedItemCount.
        assert_eq!(
            Outcome::of(get, &Ok(json!({"Count": 7}))),
            Outcome::Ok { returned_items: 0 }
        );
        let err = |e: ApiError| Outcome::of(get, &Err(e));
        assert_eq!(err(ApiError::validation("x")), Outcome::UserError);
        assert_eq!(err(ApiError::resource_not_found("x")), Outcome::UserError);
        assert_eq!(err(ApiError::internal("x")), Outcome::SystemError);
        assert_eq!(
            err(ApiError::conditional_check_failed()),
            Outcome::ConditionalCheckFailed
        );
        assert_eq!(
            err(ApiError::new(kind::THROTTLING, "slow down")),
            Outcome::Throttled
        );
        assert_eq!(
            err(ApiError::new(kind::TRANSACTION_CONFLICT, "busy")),
            Outcome::TransactionConflict
        );
    }

    #[test]
    fn requests_are_counted_per_operation_and_table() {
        let r = Requests::default();
        let body = json!({"TableName": "Music"});
        for _ in 0..3 {
            r.record(
                op("PutItem"),
                &body,
                Duration::from_micros(300),
                Outcome::Ok { returned_items: 0 },
            );
        }
        r.record(
            op("PutItem"),
            &body,
            Duration::ZERO,
            Outcome::ConditionalCheckFailed,
        );
        r.record(
            op("Query"),
            &body,
            Duration::from_millis(2),
            Outcome::Ok { returned_items: 5 },
        );
        let snap = r.snapshot();
        let music = &snap.iter().find(|(n, _)| n == "Music").unwrap().1;
        let put = &music
            .operations
            .iter()
            .find(|(o, _)| o.name() == "PutItem")
            .unwrap()
            .1;
        assert_eq!(put.requests, 4);
        assert_eq!(put.conditional_check_failed, 1);
        assert_eq!(put.latency.count(), 3, "only successes have a latency");
        let query = &music
            .operations
            .iter()
            .find(|(o, _)| o.name() == "Query")
            .unwrap()
            .1;
        assert_eq!(query.returned_items, 5);
    }

    #[test]
    fn unknown_tables_do_not_get_figures_from_errors() {
        let r = Requests::default();
        for i in 0..50 {
            r.record(
                op("GetItem"),
                &json!({"TableName": format!("typo{i}")}),
                Duration::ZERO,
                Outcome::UserError,
            );
        }
        let snap = r.snapshot();
        assert_eq!(snap.len(), 1, "only the account-level entry");
        assert_eq!(snap[0].0, "");
        assert_eq!(snap[0].1.operations[0].1.user_errors, 50);
        // Once a request on it succeeded, a table's errors are its own.
        r.record(
            op("CreateTable"),
            &json!({"TableName": "real"}),
            Duration::ZERO,
            Outcome::Ok { returned_items: 0 },
        );
        r.record(
            op("GetItem"),
            &json!({"TableName": "real"}),
            Duration::ZERO,
            Outcome::UserError,
        );
        let snap = r.snapshot();
        let real = &snap.iter().find(|(n, _)| n == "real").unwrap().1;
        assert_eq!(real.operations.len(), 2);
        r.retain(|name| name != "real");
        assert_eq!(r.snapshot().len(), 1);
    }

    #[test]
    fn batches_count_once_per_table_named() {
        let r = Requests::default();
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "a", "Item": {}}},
            {"Update": {"TableName": "a", "Key": {}}},
            {"ConditionCheck": {"TableName": "b", "Key": {}}}
        ]});
        r.record(
            op("TransactWriteItems"),
            &body,
            Duration::ZERO,
            Outcome::Ok { returned_items: 0 },
        );
        r.record(
            op("BatchGetItem"),
            &json!({"RequestItems": {"a": {}, "c": {}}}),
            Duration::ZERO,
            Outcome::Ok { returned_items: 0 },
        );
        let snap = r.snapshot();
        let requests = |table: &str, operation: &str| {
            snap.iter()
                .find(|(n, _)| n == table)
                .and_then(|(_, t)| t.operations.iter().find(|(o, _)| o.name() == operation))
                .map_or(0, |(_, o)| o.requests)
        };
        assert_eq!(requests("a", "TransactWriteItems"), 1);
        assert_eq!(requests("b", "TransactWriteItems"), 1);
        assert_eq!(requests("a", "BatchGetItem"), 1);
        assert_eq!(requests("c", "BatchGetItem"), 1);
    }

    #[test]
    fn tables_named_by_other_members() {
        assert_eq!(
            single_table(&json!({"TargetTableName": "t2", "SourceTableName": "t1"})),
            Some("t2")
        );
        assert_eq!(
            single_table(
                &json!({"TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Music"})
            ),
            Some("Music")
        );
        assert_eq!(
            single_table(
                &json!({"ResourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Music/index/x"})
            ),
            Some("Music")
        );
        assert_eq!(
            single_table(&json!({"TableCreationParameters": {"TableName": "imp"}})),
            Some("imp")
        );
        assert_eq!(single_table(&json!({"BackupArn": "arn:..."})), None);
    }

    #[test]
    fn capacity_is_kept_in_half_units_per_table_and_index() {
        let r = Requests::default();
        r.consumed("t", None, CapacityKind::Read, 0.5);
        r.consumed("t", None, CapacityKind::Read, 1.0);
        r.consumed("t", Some("byDate"), CapacityKind::Write, 2.0);
        r.consumed("t", Some("byDate"), CapacityKind::Read, 0.5);
        r.consumed("t", None, CapacityKind::Write, 0.0);
        let snap = r.snapshot();
        let t = &snap.iter().find(|(n, _)| n == "t").unwrap().1;
        assert_eq!(t.read_units, 1.5);
        assert_eq!(t.write_units, 0.0);
        assert_eq!(t.indexes.len(), 1);
        assert_eq!(t.indexes[0].write_units, 2.0);
        assert_eq!(t.total_read_units(), 2.0);
        assert_eq!(t.total_write_units(), 2.0);
    }
}
