//! Metrics: what tarn counts about its DynamoDB requests, functions, triggers, store and
//! process; `GET /metrics` on the admin listener (Prometheus text); and the last hour of each
//! table and function in memory, for the console's charts.
//!
//! One [`Metrics`] per [`crate::api::Api`] (`api.metrics()`), shared by every clone of it:
//! the DynamoDB port, the functions' `tables` import and the console all count into it.
//!
//! # Reading the history (what the console charts)
//!
//! [`Metrics::history`] answers owned, serde-serializable copies: [`History::table`] gives a
//! [`TableHistory`] (requests per operation, p50/p99 latency per operation, consumed RCU/WCU,
//! throttles and errors, item count and size), [`History::function`] a [`FunctionHistory`]
//! (invocations, errors, throttles, duration and instantiation p50/p99). One point per
//! 10-second step ([`STEP_SECONDS`]), oldest first, at most an hour of them ([`STEPS`]); each
//! point's counts are of its step alone. `tarn serve` closes a step every ten seconds
//! ([`run_sampler`]); so fresh traffic shows within ten seconds.
//!
//! ```
//! use std::sync::Arc;
//! use serde_json::json;
//! use tarn::api::Api;
//! use tarn::metrics::{step_end, TableHistory};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let api = Api::new(Arc::new(tarn_store::Store::open(dir.path()).unwrap()));
//! api.call("CreateTable", json!({
//!     "TableName": "Music",
//!     "AttributeDefinitions": [{"AttributeName": "Artist", "AttributeType": "S"}],
//!     "KeySchema": [{"AttributeName": "Artist", "KeyType": "HASH"}],
//!     "BillingMode": "PAY_PER_REQUEST",
//! })).await.unwrap();
//! api.call("PutItem", json!({"TableName": "Music", "Item": {"Artist": {"S": "Ada"}}}))
//!     .await
//!     .unwrap();
//!
//! // `tarn serve` does this every ten seconds; here the step is closed by hand.
//! let sizes = tarn::api::backend::Tables::of(&api).sizes().await;
//! api.metrics().sample(step_end(1_700_000_000), sizes);
//!
//! let music: TableHistory = api.metrics().history().table("Music");
//! assert_eq!(music.step_seconds, 10);
//! let last = music.points.last().unwrap();
//! assert_eq!(last.t, 1_700_000_010);
//! assert_eq!(last.requests["PutItem"], 1);
//! assert_eq!(last.write_capacity_units, 1.0);
//! assert!(last.latency_ms["PutItem"].p99 > 0.0);
//! assert_eq!(last.item_count, 1);
//!
//! // As the console's JSON API would answer it:
//! let body = serde_json::to_value(&music).unwrap();
//! assert_eq!(body["points"][0]["requests"]["PutItem"], 1);
//! # });
//! ```
//!
//! # What is counted, and where
//!
//! - DynamoDB requests ([`requests`]): the API records every request that reaches an
//!   operation (`Api::call`, whoever calls it) with its table, outcome and latency; the
//!   capacity rules (`api::ops::capacity`) record the units every successful request
//!   consumes, per table and index; the TTL sweeper (`crate::maintenance`) the items it
//!   deleted. Requests refused before an operation runs (unparsable JSON, a bad signature, an
//!   unknown `X-Amz-Target`) are not counted.
//! - Functions ([`functions`]): the wasm host reports each invocation (outcome, duration,
//!   instantiation time) and each throttled one through
//!   [`tarn_host::metrics::InvocationObserver`].
//! - Stream mappings and schedules ([`triggers`]): read from the triggers' status at each
//!   scrape, through [`TriggerSource`].
//! - The store and the process: read at each scrape ([`tarn_store::Store::stats`],
//!   [`process`]).
//! - On a cluster node (`tarn serve --engine`): the requests this node forwards to the engine
//!   (its DynamoDB port's proxy, and `Api::call`'s forwarding for functions and the console)
//!   are recorded the same way, their table named by the request body and their outcome by
//!   the engine's answer; table sizes and item counts are the engine's `DescribeTable`
//!   (the samples and scrapes take sizes from the tables' seam, `crate::api::backend`, which reads
//!   the store's or the engine's). Consumed capacity is not counted there (the engine reports it
//!   only to requests that ask for it).
//!
//! Names, types and labels are in [`names`] (and README's table); [`registry`] encodes a
//! scrape; [`endpoint`] answers `GET /metrics`; [`history`] keeps the charts' points.
//!
//! # Cost on the request path
//!
//! Recording a request is a lookup of its table's figures by name under a read lock and a few
//! relaxed atomic adds into fixed arrays (a counter per outcome, a histogram bucket); consumed
//! capacity is one more lookup and add. No allocation, no lock held across the request.

pub mod endpoint;
pub mod functions;
pub mod histogram;
pub mod history;
pub mod names;
pub mod process;
pub mod registry;
pub mod requests;
pub mod storage;
pub mod triggers;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde_json::Value;
use tarn_store::Store;
use tarn_wire::ApiError;

pub use functions::Functions;
pub use history::{
    step_end, FunctionHistory, FunctionPoint, History, Percentiles, TableHistory, TablePoint,
    STEPS, STEP_SECONDS,
};
pub use names::Operation;
pub use requests::{CapacityKind, Requests};
pub use triggers::{MappingFigures, ScheduleFigures, TriggerFigures, TriggerSource};

/// Every figure tarn keeps about one server. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    requests: Requests,
    functions: Arc<Functions>,
    triggers: RwLock<Option<Arc<dyn TriggerSource>>>,
    history: History,
    /// Tables with figures that the last sample did not find in the store.
    gone: Mutex<HashSet<String>>,
    /// Whether DynamoDB requests and their consumed capacity are recorded (see
    /// [`Metrics::set_request_recording`]).
    recording: AtomicBool,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Empty figures for the server over `store`.
    pub fn new(store: Arc<Store>) -> Metrics {
        Metrics {
            inner: Arc::new(Inner {
                store,
                requests: Requests::default(),
                functions: Arc::default(),
                triggers: RwLock::new(None),
                history: History::default(),
                gone: Mutex::new(HashSet::new()),
                recording: AtomicBool::new(true),
            }),
        }
    }

    /// Records one request of `op` that took `elapsed` and answered `result`, under the
    /// table(s) `body` names.
    pub fn record_request(
        &self,
        op: Operation,
        body: &Value,
        elapsed: Duration,
        result: &Result<Value, ApiError>,
    ) {
        self.record_request_in(tarn_store::schema::HOME_REGION, op, body, elapsed, result);
    }

    /// [`Metrics::record_request`] for a request made in `region`: a table outside the home
    /// region (`us-east-1`) is counted under `region/name` (its `table` label), so a name used
    /// in two regions never shares its figures; home-region tables keep their bare names.
    pub fn record_request_in(
        &self,
        region: &str,
        op: Operation,
        body: &Value,
        elapsed: Duration,
        result: &Result<Value, ApiError>,
    ) {
        if !self.records_requests() {
            return;
        }
        let outcome = requests::Outcome::of(op, result);
        self.inner
            .requests
            .record_in(region, op, body, elapsed, outcome);
    }

    /// [`Metrics::record_request_in`] for a request on one table, named (`""` for none) rather
    /// than read from the request's body.
    pub fn record_table_request_in(
        &self,
        region: &str,
        op: Operation,
        table: &str,
        elapsed: Duration,
        result: &Result<Value, ApiError>,
    ) {
        if !self.records_requests() {
            return;
        }
        let outcome = requests::Outcome::of(op, result);
        self.inner
            .requests
            .record_table_in(region, op, table, elapsed, outcome);
    }

    /// Turns the recording of DynamoDB requests and their consumed capacity on or off (on
    /// from the start; `tarn serve --no-request-metrics` turns it off). Off, a request costs
    /// one relaxed load instead of the table lookup and the adds: what the benchmarks compare
    /// to measure the recording's cost. Functions, triggers and the store are still counted.
    pub fn set_request_recording(&self, on: bool) {
        self.inner.recording.store(on, Ordering::Relaxed);
    }

    /// Whether DynamoDB requests are recorded.
    pub fn records_requests(&self) -> bool {
        self.inner.recording.load(Ordering::Relaxed)
    }

    /// Runs `handler` and records it as one request of `op` on the table(s) `body` names.
    pub fn time_request(
        &self,
        op: Operation,
        body: &Value,
        handler: impl FnOnce() -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        let started = Instant::now();
        let result = handler();
        self.record_request(op, body, started.elapsed(), &result);
        result
    }

    /// Records `units` of capacity of `kind` consumed on `table` (on its index `index`, if
    /// given).
    pub fn consumed(&self, table: &str, index: Option<&str>, kind: CapacityKind, units: f64) {
        if !self.records_requests() {
            return;
        }
        self.inner.requests.consumed(table, index, kind, units);
    }

    /// Records `n` expired items of `table` deleted by the TTL sweeper.
    pub fn ttl_deleted(&self, table: &str, n: u64) {
        self.inner.requests.ttl_deleted(table, n);
    }

    /// What the wasm host reports invocations to (`HostConfig::observer`).
    pub fn invocation_observer(&self) -> Arc<dyn tarn_host::metrics::InvocationObserver> {
        self.inner.functions.clone()
    }

    /// Where stream mapping and schedule figures come from (the function server's trigger
    /// status); replaces any earlier source.
    pub fn set_trigger_source(&self, source: Arc<dyn TriggerSource>) {
        *self.inner.triggers.write() = Some(source);
    }

    /// Every table's request counters now, by name (`""`: requests naming no table): what
    /// `/metrics` shows of the requests.
    pub fn requests_snapshot(&self) -> Vec<(String, requests::TableSnapshot)> {
        self.inner.requests.snapshot()
    }

    /// Every function's counters now, by name.
    pub fn functions_snapshot(&self) -> Vec<(String, functions::FunctionSnapshot)> {
        self.inner.functions.snapshot()
    }

    /// The last hour of every table and function.
    pub fn history(&self) -> &History {
        &self.inner.history
    }

    /// Closes the history step ending at `t` (seconds since the Unix epoch; see [`step_end`]):
    /// one point per table and function, `sizes` being every table and index with its size
    /// now (the tables' seam answers them: `crate::api::backend::Tables::sizes`). Forgets the
    /// figures of tables that two samples in a row did not find (one could miss a table
    /// created while they were listed).
    pub fn sample(&self, t: u64, sizes: Vec<(String, String, u64, u64)>) {
        let sizes: HashMap<String, history::TableSize> = sizes
            .into_iter()
            .filter(|(_, index, _, _)| index.is_empty())
            .map(|(table, _, items, bytes)| (table, history::TableSize { items, bytes }))
            .collect();
        let requests = &self.inner.requests;
        {
            let mut gone = self.inner.gone.lock();
            let mut missing = HashSet::new();
            requests.retain(|name| {
                if sizes.contains_key(name) {
                    return true;
                }
                missing.insert(name.to_string());
                !gone.contains(name)
            });
            *gone = missing;
        }
        for name in sizes.keys() {
            requests.ensure(name);
        }
        self.inner.history.record(
            t,
            requests.snapshot(),
            &sizes,
            self.inner.functions.snapshot(),
        );
    }

    /// The Prometheus text exposition of every figure now ([`registry::CONTENT_TYPE`]), with
    /// `sizes` the tables' and indexes' sizes (as for [`Metrics::sample`]). Reads the store's
    /// own figures: call it off the async executor.
    pub fn render(&self, sizes: Vec<(String, String, u64, u64)>) -> String {
        let triggers = self
            .inner
            .triggers
            .read()
            .as_ref()
            .map(|t| t.trigger_figures())
            .unwrap_or_default();
        registry::Scrape {
            requests: requests::RequestsCollector {
                tables: self.inner.requests.snapshot(),
                sizes,
            },
            functions: functions::FunctionsCollector(self.inner.functions.snapshot()),
            triggers: triggers::TriggersCollector(triggers),
            storage: storage::StorageCollector(self.inner.store.stats()),
            process: process::ProcessCollector(process::current()),
        }
        .encode()
    }
}

/// Every table and index of the store with its size.
pub fn store_sizes(store: &tarn_store::Store) -> Vec<(String, String, u64, u64)> {
    let (names, _) = store.list_tables(None, usize::MAX);
    let mut out = Vec::new();
    for name in names {
        let Ok(info) = store.describe_table(&name) else {
            continue; // deleted meanwhile
        };
        out.push((
            name.clone(),
            String::new(),
            info.item_count,
            info.size_bytes,
        ));
        for ix in &info.indexes {
            out.push((name.clone(), ix.name.clone(), ix.item_count, ix.size_bytes));
        }
    }
    out
}

/// Closes a history step every [`STEP_SECONDS`], on wall-clock multiples of it, until
/// `shutdown` completes (`tarn serve` runs it beside the DynamoDB server); `sizes` answers the
/// tables' sizes at each step (the tables' seam: the store's, or the engine's).
pub async fn run_sampler<F, Fut>(metrics: Metrics, sizes: F, shutdown: impl Future<Output = ()>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Vec<(String, String, u64, u64)>>,
{
    tokio::pin!(shutdown);
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let t = step_end(now.as_secs());
        let wait = Duration::from_secs(t).saturating_sub(now);
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(wait) => {}
        }
        metrics.sample(t, sizes().await);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::api::Api;

    fn api() -> (tempfile::TempDir, Api) {
        let dir = tempfile::tempdir().unwrap();
        let store = tarn_store::Store::open(dir.path()).unwrap();
        (dir, Api::new(std::sync::Arc::new(store)))
    }

    async fn create_indexed_table(api: &Api, name: &str) {
        api.call(
            "CreateTable",
            json!({
                "TableName": name,
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "year", "AttributeType": "N"}
                ],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "byYear",
                    "KeySchema": [{"AttributeName": "year", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}
                }],
                "BillingMode": "PAY_PER_REQUEST"
            }),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn requests_capacity_and_sizes_reach_the_exposition() {
        let (_dir, api) = api();
        create_indexed_table(&api, "songs").await;
        for i in 0..3 {
            let item = json!({"pk": {"S": format!("k{i}")}, "year": {"N": "1999"}});
            api.call("PutItem", json!({"TableName": "songs", "Item": item}))
                .await
                .unwrap();
        }
        let failed = api
            .call(
                "PutItem",
                json!({"TableName": "songs", "Item": {"pk": {"S": "k0"}},
                       "ConditionExpression": "attribute_not_exists(pk)"}),
            )
            .await
            .unwrap_err();
        assert_eq!(failed.kind, "ConditionalCheckFailedException");
        // GetItem runs inline on the HTTP path; through call_inline here too.
        api.call_inline(
            "GetItem",
            json!({"TableName": "songs", "Key": {"pk": {"S": "k1"}}, "ConsistentRead": true}),
        )
        .await
        .unwrap();
        let page = api
            .call(
                "Query",
                json!({"TableName": "songs", "IndexName": "byYear",
                       "KeyConditionExpression": "#y = :y",
                       "ExpressionAttributeNames": {"#y": "year"},
                       "ExpressionAttributeValues": {":y": {"N": "1999"}}}),
            )
            .await
            .unwrap();
        assert_eq!(page["Count"], 3);
        api.call(
            "GetItem",
            json!({"TableName": "nope", "Key": {"pk": {"S": "x"}}}),
        )
        .await
        .unwrap_err();

        let text = api.metrics().render(super::store_sizes(api.store()));
        for line in [
            r#"tarn_dynamodb_requests_total{operation="PutItem",table="songs"} 4"#,
            r#"tarn_dynamodb_requests_total{operation="GetItem",table="songs"} 1"#,
            r#"tarn_dynamodb_requests_total{operation="CreateTable",table="songs"} 1"#,
            r#"tarn_dynamodb_requests_total{operation="GetItem",table=""} 1"#,
            r#"tarn_dynamodb_user_errors_total{operation="GetItem",table=""} 1"#,
            r#"tarn_dynamodb_conditional_check_failed_requests_total{operation="PutItem",table="songs"} 1"#,
            r#"tarn_dynamodb_successful_request_latency_seconds_count{operation="PutItem",table="songs"} 3"#,
            r#"tarn_dynamodb_returned_item_count_total{operation="Query",table="songs"} 3"#,
            // Each small put: 1 WCU on the table and 1 on the index it adds an entry to.
            r#"tarn_dynamodb_consumed_write_capacity_units_total{table="songs",index=""} 3"#,
            r#"tarn_dynamodb_consumed_write_capacity_units_total{table="songs",index="byYear"} 3"#,
            // A consistent GetItem: 1 RCU; an eventually consistent Query of the index: 0.5.
            r#"tarn_dynamodb_consumed_read_capacity_units_total{table="songs",index=""} 1"#,
            r#"tarn_dynamodb_consumed_read_capacity_units_total{table="songs",index="byYear"} 0.5"#,
            r#"tarn_dynamodb_item_count{table="songs",index=""} 3"#,
            r#"tarn_dynamodb_item_count{table="songs",index="byYear"} 3"#,
            "# TYPE tarn_dynamodb_successful_request_latency_seconds histogram",
            "# TYPE tarn_store_disk_bytes gauge",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(
            !text.contains("nope"),
            "no series for a table that does not exist"
        );

        // The history: one step with what happened.
        api.metrics()
            .sample(super::step_end(1_000), super::store_sizes(api.store()));
        let songs = api.metrics().history().table("songs");
        let p = songs.points.last().unwrap();
        assert_eq!(p.requests["PutItem"], 4);
        assert_eq!(p.conditional_check_failed_requests, 1);
        assert_eq!(p.write_capacity_units, 6.0, "table and index");
        assert_eq!(p.read_capacity_units, 1.5);
        assert_eq!(p.item_count, 3);
    }

    #[tokio::test]
    async fn request_recording_can_be_turned_off() {
        let (_dir, api) = api();
        create_indexed_table(&api, "quiet").await;
        let put =
            |pk: &str| json!({"TableName": "quiet", "Item": {"pk": {"S": pk}, "year": {"N": "1"}}});
        api.metrics().set_request_recording(false);
        assert!(!api.metrics().records_requests());
        api.call("PutItem", put("a")).await.unwrap();
        api.call_inline("PutItem", put("b")).await.unwrap();

        // Only the put made after recording is on again is counted.
        api.metrics().set_request_recording(true);
        api.call_inline("PutItem", put("c")).await.unwrap();
        let text = api.metrics().render(super::store_sizes(api.store()));
        assert!(
            text.contains(r#"tarn_dynamodb_requests_total{operation="PutItem",table="quiet"} 1"#),
            "{text}"
        );
        assert!(text.contains(
            r#"tarn_dynamodb_consumed_write_capacity_units_total{table="quiet",index=""} 1"#
        ));
    }

    #[tokio::test]
    async fn deleted_tables_lose_their_figures_after_two_samples() {
        let (_dir, api) = api();
        create_indexed_table(&api, "gone").await;
        api.metrics().sample(10, super::store_sizes(api.store()));
        assert_eq!(api.metrics().history().table("gone").points.len(), 1);
        api.call("DeleteTable", json!({"TableName": "gone"}))
            .await
            .unwrap();
        api.metrics().sample(20, super::store_sizes(api.store()));
        assert!(api.metrics().history().table("gone").points.is_empty());
        assert!(api
            .metrics()
            .render(super::store_sizes(api.store()))
            .contains(r#"table="gone""#));
        api.metrics().sample(30, super::store_sizes(api.store()));
        assert!(!api
            .metrics()
            .render(super::store_sizes(api.store()))
            .contains(r#"table="gone""#));
    }
}
