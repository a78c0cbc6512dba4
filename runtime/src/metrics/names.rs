//! Every metric tarn exports, by name, with its help text, type and labels, in one list
//! ([`FAMILIES`]) that README's table documents (a test checks it names each one); and the
//! operations requests are counted under ([`Operation`]).
//!
//! Names follow DynamoDB's CloudWatch metrics where one exists, in Prometheus style: snake case,
//! a `tarn_` prefix and the subsystem (`dynamodb`, `function`, `stream_mapping`, `schedule`,
//! `store`), the unit as a suffix (`_seconds`, `_bytes`), counters ending in `_total` (the
//! encoder adds it: the names here leave it out). Process figures use the names every
//! Prometheus client library uses (`process_cpu_seconds_total`...).

use prometheus_client::metrics::MetricType;

/// One metric family: what `/metrics` shows under one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The name, without the `_total` the encoder adds to counters.
    pub name: &'static str,
    /// One line for people.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricType,
    /// Label names, in the order they are written.
    pub labels: &'static [&'static str],
}

impl Family {
    /// The name as it appears in `/metrics` (counters with `_total`).
    pub fn exposed_name(&self) -> String {
        match self.kind {
            MetricType::Counter => format!("{}_total", self.name),
            _ => self.name.to_string(),
        }
    }
}

const fn counter(
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
) -> Family {
    Family {
        name,
        help,
        kind: MetricType::Counter,
        labels,
    }
}

const fn gauge(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Family {
    Family {
        name,
        help,
        kind: MetricType::Gauge,
        labels,
    }
}

const fn histogram(
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
) -> Family {
    Family {
        name,
        help,
        kind: MetricType::Histogram,
        labels,
    }
}

const OP_TABLE: &[&str] = &["operation", "table"];
const TABLE_INDEX: &[&str] = &["table", "index"];
const FUNCTION: &[&str] = &["function"];
const MAPPING: &[&str] = &["table", "function"];
const SCHEDULE: &[&str] = &["schedule", "function"];

// ---- DynamoDB requests (labels: operation, table; account-level operations have table="")

/// Requests that reached an operation (successful or not).
pub const REQUESTS: Family = counter(
    "tarn_dynamodb_requests",
    "DynamoDB API requests that reached an operation, successful or not.",
    OP_TABLE,
);
/// CloudWatch `SuccessfulRequestLatency`.
pub const SUCCESSFUL_REQUEST_LATENCY: Family = histogram(
    "tarn_dynamodb_successful_request_latency_seconds",
    "Time tarn took to run successful requests (CloudWatch SuccessfulRequestLatency).",
    OP_TABLE,
);
/// CloudWatch `UserErrors`.
pub const USER_ERRORS: Family = counter(
    "tarn_dynamodb_user_errors",
    "Requests answered with HTTP 400, other than conditional check failures, throttling and transaction conflicts (CloudWatch UserErrors).",
    OP_TABLE,
);
/// CloudWatch `SystemErrors`.
pub const SYSTEM_ERRORS: Family = counter(
    "tarn_dynamodb_system_errors",
    "Requests answered with HTTP 500 or 503 (CloudWatch SystemErrors).",
    OP_TABLE,
);
/// CloudWatch `ConditionalCheckFailedRequests`.
pub const CONDITIONAL_CHECK_FAILED: Family = counter(
    "tarn_dynamodb_conditional_check_failed_requests",
    "Writes whose condition expression evaluated to false (CloudWatch ConditionalCheckFailedRequests).",
    OP_TABLE,
);
/// CloudWatch `ThrottledRequests`.
pub const THROTTLED_REQUESTS: Family = counter(
    "tarn_dynamodb_throttled_requests",
    "Requests refused with a throughput or rate exception (CloudWatch ThrottledRequests).",
    OP_TABLE,
);
/// CloudWatch `TransactionConflict`.
pub const TRANSACTION_CONFLICT: Family = counter(
    "tarn_dynamodb_transaction_conflict",
    "Requests rejected because of a conflicting transaction (CloudWatch TransactionConflict).",
    OP_TABLE,
);
/// CloudWatch `ReturnedItemCount`.
pub const RETURNED_ITEM_COUNT: Family = counter(
    "tarn_dynamodb_returned_item_count",
    "Items returned by Query and Scan (CloudWatch ReturnedItemCount).",
    OP_TABLE,
);

// ---- per table and index (index="" is the table itself)

/// CloudWatch `ConsumedReadCapacityUnits`.
pub const CONSUMED_READ_CAPACITY: Family = counter(
    "tarn_dynamodb_consumed_read_capacity_units",
    "Read capacity units successful requests consumed, by DynamoDB's rules; index=\"\" is the table itself (CloudWatch ConsumedReadCapacityUnits).",
    TABLE_INDEX,
);
/// CloudWatch `ConsumedWriteCapacityUnits`.
pub const CONSUMED_WRITE_CAPACITY: Family = counter(
    "tarn_dynamodb_consumed_write_capacity_units",
    "Write capacity units successful requests consumed, by DynamoDB's rules; index=\"\" is the table itself (CloudWatch ConsumedWriteCapacityUnits).",
    TABLE_INDEX,
);
/// DescribeTable's `ItemCount`.
pub const ITEM_COUNT: Family = gauge(
    "tarn_dynamodb_item_count",
    "Items in the table or index (DescribeTable ItemCount), exact.",
    TABLE_INDEX,
);
/// DescribeTable's `TableSizeBytes`.
pub const TABLE_SIZE: Family = gauge(
    "tarn_dynamodb_table_size_bytes",
    "Approximate bytes on disk of the table or index (DescribeTable TableSizeBytes).",
    TABLE_INDEX,
);
/// CloudWatch `TimeToLiveDeletedItemCount`.
pub const TTL_DELETED: Family = counter(
    "tarn_dynamodb_time_to_live_deleted_item_count",
    "Expired items the TTL sweeper deleted (CloudWatch TimeToLiveDeletedItemCount).",
    &["table"],
);

// ---- functions

/// Lambda's `Invocations`, with their outcome.
pub const FUNCTION_INVOCATIONS: Family = counter(
    "tarn_function_invocations",
    "Function invocations that ran, by outcome: ok, trap, timeout, out_of_memory, failed (the handler reported an error) or busy (no instance slot).",
    &["function", "outcome"],
);
/// Lambda's `Throttles`.
pub const FUNCTION_THROTTLES: Family = counter(
    "tarn_function_throttles",
    "Invocations refused because the function ran its max_concurrency already (Lambda Throttles).",
    FUNCTION,
);
/// Lambda's `Duration`.
pub const FUNCTION_DURATION: Family = histogram(
    "tarn_function_duration_seconds",
    "Time from the start of an invocation to its end, instantiation included (Lambda Duration).",
    FUNCTION,
);
/// Lambda's `InitDuration`, per invocation (tarn instantiates every invocation).
pub const FUNCTION_INSTANTIATION: Family = histogram(
    "tarn_function_instantiation_seconds",
    "Time to instantiate the component for one invocation (Lambda InitDuration; tarn instantiates every invocation).",
    FUNCTION,
);

// ---- stream mappings and schedules

/// Lambda's `IteratorAge`.
pub const ITERATOR_AGE: Family = gauge(
    "tarn_stream_mapping_iterator_age_seconds",
    "Age of the oldest stream record the mapping has not finished with; 0 when caught up (Lambda IteratorAge).",
    MAPPING,
);
/// Records a mapping's handler accepted.
pub const MAPPING_PROCESSED: Family = counter(
    "tarn_stream_mapping_records_processed",
    "Stream records the mapping's handler accepted.",
    MAPPING,
);
/// Records a mapping gave up on.
pub const MAPPING_FAILED: Family = counter(
    "tarn_stream_mapping_records_failed",
    "Stream records the mapping gave up on (written to its on-failure table, or logged).",
    MAPPING,
);
/// Retry invocations of a mapping.
pub const MAPPING_RETRIES: Family = counter(
    "tarn_stream_mapping_retries",
    "Invocations of the mapping that retried records which failed before.",
    MAPPING,
);
/// Schedule ticks run.
pub const SCHEDULE_RUNS: Family = counter(
    "tarn_schedule_runs",
    "Ticks of the schedule that ran its function.",
    SCHEDULE,
);
/// Schedule ticks whose run failed.
pub const SCHEDULE_FAILURES: Family = counter(
    "tarn_schedule_failures",
    "Ticks of the schedule whose invocation failed.",
    SCHEDULE,
);
/// Schedule ticks skipped.
pub const SCHEDULE_SKIPPED: Family = counter(
    "tarn_schedule_skipped_ticks",
    "Ticks skipped because the previous run was still going.",
    SCHEDULE,
);

// ---- the store (fjall)

/// Bytes the store takes on disk.
pub const STORE_DISK: Family = gauge(
    "tarn_store_disk_bytes",
    "Bytes the store takes on disk: journal and every keyspace.",
    &[],
);
/// Bytes of journal on disk.
pub const STORE_JOURNAL: Family = gauge(
    "tarn_store_journal_bytes",
    "Bytes of write-ahead journal on disk.",
    &[],
);
/// Journal files on disk.
pub const STORE_JOURNALS: Family = gauge(
    "tarn_store_journals",
    "Journal files on disk (sealed ones wait for their memtables to be flushed).",
    &[],
);
/// Memtable bytes.
pub const STORE_WRITE_BUFFER: Family = gauge(
    "tarn_store_write_buffer_bytes",
    "Bytes of writes held in memtables, not yet flushed to tables on disk.",
    &[],
);
/// Flushes queued.
pub const STORE_FLUSHES_QUEUED: Family = gauge(
    "tarn_store_flushes_queued",
    "Memtable flushes waiting to run.",
    &[],
);
/// Compactions completed.
pub const STORE_COMPACTIONS: Family = counter(
    "tarn_store_compactions",
    "Compactions completed since tarn started.",
    &[],
);
/// Compactions running.
pub const STORE_COMPACTIONS_RUNNING: Family = gauge(
    "tarn_store_compactions_running",
    "Compactions running now.",
    &[],
);
/// Time spent compacting.
pub const STORE_COMPACTION_TIME: Family = counter(
    "tarn_store_compaction_seconds",
    "Time spent in compactions since tarn started.",
    &[],
);
/// Block cache in use.
pub const STORE_CACHE: Family = gauge(
    "tarn_store_block_cache_bytes",
    "Bytes in the block cache.",
    &[],
);
/// Block cache capacity.
pub const STORE_CACHE_CAPACITY: Family = gauge(
    "tarn_store_block_cache_capacity_bytes",
    "Capacity of the block cache.",
    &[],
);
/// What makes fjall stall writes: level-0 tables.
pub const STORE_L0_MAX: Family = gauge(
    "tarn_store_l0_tables_max",
    "Most level-0 tables in any one keyspace; fjall slows writes to a keyspace whose level 0 reaches 20 runs and stops them at 30 (write stalls).",
    &[],
);
/// What makes fjall halt writes: sealed memtables.
pub const STORE_SEALED_MAX: Family = gauge(
    "tarn_store_sealed_memtables_max",
    "Most sealed memtables waiting for a flush in any one keyspace; fjall halts writes to a keyspace at 4 (write stalls).",
    &[],
);

// ---- the process

/// CPU time.
pub const PROCESS_CPU: Family = counter(
    "process_cpu_seconds",
    "User and system CPU time the tarn process spent.",
    &[],
);
/// Resident memory.
pub const PROCESS_RESIDENT: Family = gauge(
    "process_resident_memory_bytes",
    "Resident memory of the tarn process.",
    &[],
);
/// Virtual memory.
pub const PROCESS_VIRTUAL: Family = gauge(
    "process_virtual_memory_bytes",
    "Virtual memory of the tarn process (wasm instance slots reserve much of it).",
    &[],
);
/// Open file descriptors.
pub const PROCESS_OPEN_FDS: Family = gauge("process_open_fds", "Open file descriptors.", &[]);
/// The descriptor limit.
pub const PROCESS_MAX_FDS: Family = gauge(
    "process_max_fds",
    "The soft limit on open file descriptors.",
    &[],
);
/// Threads.
pub const PROCESS_THREADS: Family = gauge("process_threads", "Threads of the tarn process.", &[]);
/// Start time.
pub const PROCESS_START: Family = gauge(
    "process_start_time_seconds",
    "When the tarn process started, seconds since the Unix epoch.",
    &[],
);
/// Build information.
pub const BUILD_INFO: Family = gauge(
    "tarn_build_info",
    "Always 1; the version label says which tarn this is.",
    &["version"],
);

/// Every family, in the order `/metrics` writes them.
pub const FAMILIES: &[Family] = &[
    BUILD_INFO,
    REQUESTS,
    SUCCESSFUL_REQUEST_LATENCY,
    USER_ERRORS,
    SYSTEM_ERRORS,
    CONDITIONAL_CHECK_FAILED,
    THROTTLED_REQUESTS,
    TRANSACTION_CONFLICT,
    RETURNED_ITEM_COUNT,
    CONSUMED_READ_CAPACITY,
    CONSUMED_WRITE_CAPACITY,
    ITEM_COUNT,
    TABLE_SIZE,
    TTL_DELETED,
    FUNCTION_INVOCATIONS,
    FUNCTION_THROTTLES,
    FUNCTION_DURATION,
    FUNCTION_INSTANTIATION,
    ITERATOR_AGE,
    MAPPING_PROCESSED,
    MAPPING_FAILED,
    MAPPING_RETRIES,
    SCHEDULE_RUNS,
    SCHEDULE_FAILURES,
    SCHEDULE_SKIPPED,
    STORE_DISK,
    STORE_JOURNAL,
    STORE_JOURNALS,
    STORE_WRITE_BUFFER,
    STORE_FLUSHES_QUEUED,
    STORE_COMPACTIONS,
    STORE_COMPACTIONS_RUNNING,
    STORE_COMPACTION_TIME,
    STORE_CACHE,
    STORE_CACHE_CAPACITY,
    STORE_L0_MAX,
    STORE_SEALED_MAX,
    PROCESS_CPU,
    PROCESS_RESIDENT,
    PROCESS_VIRTUAL,
    PROCESS_OPEN_FDS,
    PROCESS_MAX_FDS,
    PROCESS_THREADS,
    PROCESS_START,
];

/// The operations requests are counted under, as their `operation` label reads: DynamoDB's
/// operation names (the Streams API's without tarn's internal `Streams.` prefix, as CloudWatch
/// names them), PartiQL's, and `Other` for any operation not listed.
pub const OPERATIONS: [&str; 44] = [
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
    "CreateTable",
    "DeleteTable",
    "DescribeTable",
    "ListTables",
    "UpdateTable",
    "TagResource",
    "UntagResource",
    "ListTagsOfResource",
    "DescribeLimits",
    "DescribeEndpoints",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "CreateBackup",
    "DescribeBackup",
    "ListBackups",
    "DeleteBackup",
    "RestoreTableFromBackup",
    "UpdateContinuousBackups",
    "DescribeContinuousBackups",
    "RestoreTableToPointInTime",
    "ExportTableToPointInTime",
    "DescribeExport",
    "ListExports",
    "ImportTable",
    "DescribeImport",
    "ListImports",
    "ListStreams",
    "DescribeStream",
    "GetShardIterator",
    "GetRecords",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
    "Other",
];

/// How many operations [`OPERATIONS`] lists (`Other` included).
pub const OPERATION_COUNT: usize = OPERATIONS.len();

/// An operation, as an index into [`OPERATIONS`]: what the request path records under, found
/// once per request from the name the API dispatches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation(u8);

impl Operation {
    /// The operation the API calls `name` (`"GetItem"`, `"Streams.GetRecords"`); `Other` for
    /// names not in [`OPERATIONS`].
    pub fn from_api_name(name: &str) -> Operation {
        let plain = name.strip_prefix("Streams.").unwrap_or(name);
        let i = OPERATIONS
            .iter()
            .position(|o| *o == plain)
            .unwrap_or(OPERATION_COUNT - 1);
        Operation(i as u8)
    }

    /// The `operation` label.
    pub fn name(self) -> &'static str {
        OPERATIONS[self.index()]
    }

    /// Its index into [`OPERATIONS`].
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The operation at `index` of [`OPERATIONS`].
    pub fn at(index: usize) -> Operation {
        Operation(index.min(OPERATION_COUNT - 1) as u8)
    }

    /// Whether the operation reads or writes items of several tables named in its request
    /// (`RequestItems` or `TransactItems`) rather than one `TableName`.
    pub fn is_multi_table(self) -> bool {
        matches!(
            self.name(),
            "BatchGetItem" | "BatchWriteItem" | "TransactGetItems" | "TransactWriteItems"
        )
    }

    /// Whether its answer's `Count` is CloudWatch's ReturnedItemCount (Query and Scan).
    pub fn returns_items(self) -> bool {
        matches!(self.name(), "Query" | "Scan")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_map_both_ways() {
        for (i, name) in OPERATIONS.iter().enumerate() {
            let op = Operation::from_api_name(name);
            assert_eq!(op.index(), i);
            assert_eq!(op.name(), *name);
        }
        assert_eq!(
            Operation::from_api_name("Streams.GetRecords").name(),
            "GetRecords"
        );
        assert_eq!(Operation::from_api_name("MakeCoffee").name(), "Other");
        assert!(Operation::from_api_name("BatchWriteItem").is_multi_table());
        assert!(!Operation::from_api_name("PutItem").is_multi_table());
        assert!(Operation::from_api_name("Scan").returns_items());
    }

    #[test]
    fn every_operation_the_api_runs_has_its_own_label() {
        // PartiQL's operations are listed ahead of their handlers; every operation the API
        // runs must have its own label.
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(tarn_store::Store::open(dir.path()).unwrap());
        let api = crate::api::Api::new(store);
        for implemented in IMPLEMENTED_BY_API {
            assert!(
                api.supports(implemented),
                "{implemented} is not implemented"
            );
            assert_ne!(
                Operation::from_api_name(implemented).name(),
                "Other",
                "{implemented} has no label of its own"
            );
        }
    }

    /// The operations `api::ops::handler` dispatches (kept here to check the label list).
    const IMPLEMENTED_BY_API: &[&str] = &[
        "CreateTable",
        "DeleteTable",
        "DescribeTable",
        "ListTables",
        "UpdateTable",
        "TagResource",
        "UntagResource",
        "ListTagsOfResource",
        "DescribeLimits",
        "DescribeEndpoints",
        "PutItem",
        "GetItem",
        "DeleteItem",
        "UpdateItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
        "UpdateTimeToLive",
        "DescribeTimeToLive",
        "CreateBackup",
        "DescribeBackup",
        "ListBackups",
        "DeleteBackup",
        "RestoreTableFromBackup",
        "UpdateContinuousBackups",
        "DescribeContinuousBackups",
        "RestoreTableToPointInTime",
        "ExportTableToPointInTime",
        "DescribeExport",
        "ListExports",
        "ImportTable",
        "DescribeImport",
        "ListImports",
        "Streams.ListStreams",
        "Streams.DescribeStream",
        "Streams.GetShardIterator",
        "Streams.GetRecords",
    ];

    #[test]
    fn readme_documents_every_family() {
        let readme = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
        )
        .unwrap();
        for f in FAMILIES {
            assert!(
                readme.contains(&format!("`{}`", f.exposed_name())),
                "README does not document {}",
                f.exposed_name()
            );
        }
    }
}
