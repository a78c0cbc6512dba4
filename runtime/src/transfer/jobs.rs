//! Export and import jobs: their durable records, the live progress of running ones, and their
//! ids.
//!
//! Both kinds share one record, [`Job`], with what each kind adds ([`Export`], [`Import`])
//! flattened into the same JSON object. A job's record is JSON in the store's state keyspace
//! under `export/<id>` or `import/<id>`, written when the job starts (IN_PROGRESS) and when it
//! ends (COMPLETED or FAILED). While a job runs, its counters live in memory ([`Progress`],
//! found through [`Transfers::progress`]), so DescribeExport and DescribeImport show items so
//! far without a durable write per batch.
//!
//! A job runs in a thread of the process that started it; if the process stops first, the
//! record stays IN_PROGRESS on disk, and [`fail_interrupted`] (called when `tarn serve` opens the
//! store) marks it FAILED with the failure code `Interrupted`.
//!
//! Ids are DynamoDB's shape: the start time in milliseconds, 14 digits, a dash and 8 hex digits
//! (`01700000000000-0a1b2c3d`), so ids sort by start time.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use tarn_store::schema::TableMeta;
use tarn_store::Store;

use super::TransferError;

/// How long a ClientToken identifies a request (DynamoDB: 8 hours).
pub const CLIENT_TOKEN_WINDOW_SECS: f64 = 8.0 * 3600.0;

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    /// Running.
    #[serde(rename = "IN_PROGRESS")]
    InProgress,
    /// Done.
    #[serde(rename = "COMPLETED")]
    Completed,
    /// Stopped by an error (see the failure code and message).
    #[serde(rename = "FAILED")]
    Failed,
}

impl JobStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::InProgress => "IN_PROGRESS",
            JobStatus::Completed => "COMPLETED",
            JobStatus::Failed => "FAILED",
        }
    }
}

/// What a kind of job (export or import) adds to the record every job has.
pub trait JobKind: Clone + std::fmt::Debug + Serialize + DeserializeOwned {
    /// `export` or `import`: the word in the job's ARN (`<table ARN>/export/<id>`), in its
    /// record's key (`export/<id>`), and in its thread's name.
    const NAME: &'static str;
}

/// A job's durable record: what every export and import has, and what its kind adds. The kind's
/// members are flattened into the same JSON object, so a record reads as one flat object.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "K: JobKind")]
pub struct Job<K> {
    /// The job id.
    pub id: String,
    /// The job ARN: `<table ARN>/<kind>/<id>`.
    pub arn: String,
    /// The table's name (exported from, or created by the import).
    pub table: String,
    /// The table's ARN.
    pub table_arn: String,
    /// The table's id.
    pub table_id: String,
    /// Where it stands.
    pub status: JobStatus,
    /// When it started (seconds since the epoch).
    pub start_time: f64,
    /// When it ended.
    pub end_time: Option<f64>,
    /// The request's ClientToken.
    pub client_token: Option<String>,
    /// Why it failed.
    pub failure_code: Option<String>,
    /// Why it failed, for people.
    pub failure_message: Option<String>,
    /// The request without its ClientToken (what a repeated token must match).
    pub request: Value,
    /// What this kind of job records besides.
    #[serde(flatten)]
    pub details: K,
}

/// What an export (ExportTableToPointInTime) records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Export {
    /// The instant the data is from.
    pub export_time: f64,
    /// `S3Bucket`.
    pub s3_bucket: String,
    /// `S3BucketOwner`.
    pub s3_bucket_owner: Option<String>,
    /// `S3Prefix`.
    pub s3_prefix: Option<String>,
    /// `S3SseAlgorithm` (recorded; files are not encrypted).
    pub s3_sse_algorithm: Option<String>,
    /// `S3SseKmsKeyId` (recorded).
    pub s3_sse_kms_key_id: Option<String>,
    /// Items exported.
    pub item_count: u64,
    /// Their size.
    pub billed_size_bytes: u64,
    /// The key of manifest-summary.json, once complete.
    pub manifest: Option<String>,
}

impl JobKind for Export {
    const NAME: &'static str = "export";
}

/// What an import (ImportTable) records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Import {
    /// `S3BucketSource` as requested.
    pub s3_bucket_source: Value,
    /// `InputFormat`.
    pub input_format: String,
    /// `InputFormatOptions` as requested.
    pub input_format_options: Option<Value>,
    /// `InputCompressionType`.
    pub input_compression_type: String,
    /// `TableCreationParameters` as requested.
    pub table_creation_parameters: Value,
    /// Source items read (good and bad).
    pub processed_item_count: u64,
    /// Items written to the table.
    pub imported_item_count: u64,
    /// Source bytes read (uncompressed).
    pub processed_size_bytes: u64,
    /// Source items that could not be imported.
    pub error_count: u64,
}

impl JobKind for Import {
    const NAME: &'static str = "import";
}

/// An export job's record.
pub type ExportJob = Job<Export>;
/// An import job's record.
pub type ImportJob = Job<Import>;

impl<K: JobKind> Job<K> {
    /// A job of table `table` (whose ARN is `table_arn`) starting at `start_time`, IN_PROGRESS.
    pub fn start(
        id: String,
        table: &TableMeta,
        table_arn: String,
        start_time: f64,
        client_token: Option<String>,
        request: Value,
        details: K,
    ) -> Self {
        Job {
            arn: format!("{table_arn}/{}/{id}", K::NAME),
            id,
            table: table.name.clone(),
            table_arn,
            table_id: table.id.to_string(),
            status: JobStatus::InProgress,
            start_time,
            end_time: None,
            client_token,
            failure_code: None,
            failure_message: None,
            request,
            details,
        }
    }

    /// The key of the record of job `id` in the store's state keyspace: `<kind>/<id>`.
    fn key(id: &str) -> String {
        format!("{}/{id}", K::NAME)
    }

    /// Stores the record.
    pub fn save(&self, store: &Store) -> Result<(), TransferError> {
        let bytes = serde_json::to_vec(self).map_err(|e| TransferError::Format(e.to_string()))?;
        Ok(store.put_state(&Self::key(&self.id), &bytes)?)
    }

    /// The job of this kind with this id.
    pub fn load(store: &Store, id: &str) -> Result<Option<Self>, TransferError> {
        let key = Self::key(id);
        store
            .get_state(&key)?
            .map(|b| {
                serde_json::from_slice(&b)
                    .map_err(|e| TransferError::Format(format!("unreadable job record {key}: {e}")))
            })
            .transpose()
    }

    /// Every job of this kind, oldest first (ids sort by start time).
    pub fn list(store: &Store) -> Result<Vec<Self>, TransferError> {
        let mut out = Vec::new();
        for (key, bytes) in store.list_state(&Self::key(""))? {
            match serde_json::from_slice(&bytes) {
                Ok(r) => out.push(r),
                Err(e) => tracing::warn!(key, error = %e, "skipping an unreadable job record"),
            }
        }
        Ok(out)
    }

    /// Marks the job FAILED at `at` with `code` and `message` (the record is not saved).
    pub fn fail(&mut self, at: f64, code: &str, message: &str) {
        self.status = JobStatus::Failed;
        self.end_time = Some(at);
        self.failure_code = Some(code.into());
        self.failure_message = Some(message.into());
    }

    /// The job id in an ARN of a job of this kind (`.../table/<T>/<kind>/<id>`).
    pub fn id_in_arn(arn: &str) -> Option<&str> {
        let (head, id) = arn.rsplit_once(&format!("/{}/", K::NAME))?;
        (head.starts_with("arn:") && head.contains(":table/") && is_id(id)).then_some(id)
    }
}

/// The counters of a running job.
#[derive(Debug, Default)]
pub struct Progress {
    /// Export: items written. Import: items written to the table.
    pub items: AtomicU64,
    /// Import: source items read.
    pub processed: AtomicU64,
    /// Export: billed bytes. Import: source bytes read.
    pub bytes: AtomicU64,
    /// Import: bad source items.
    pub errors: AtomicU64,
}

impl Progress {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The API's transfer state: where exports go, and the running jobs.
#[derive(Debug)]
pub struct Transfers {
    export_root: PathBuf,
    running: Mutex<HashMap<String, Arc<Progress>>>,
    /// Held while a job is checked against ClientTokens and recorded, so two requests with the
    /// same token start one job.
    pub start: Mutex<()>,
}

impl Transfers {
    /// Transfers whose bucket directories are under `export_root`.
    pub fn new(export_root: PathBuf) -> Self {
        Transfers {
            export_root,
            running: Mutex::default(),
            start: Mutex::default(),
        }
    }

    /// The directory buckets are under.
    pub fn export_root(&self) -> &std::path::Path {
        &self.export_root
    }

    /// Registers a starting job and returns its counters.
    pub fn begin(&self, id: &str) -> Arc<Progress> {
        let p = Arc::new(Progress::default());
        self.running.lock().insert(id.to_string(), p.clone());
        p
    }

    /// The counters of a running job.
    pub fn progress(&self, id: &str) -> Option<Arc<Progress>> {
        self.running.lock().get(id).cloned()
    }

    /// Forgets a finished job's counters.
    pub fn end(&self, id: &str) {
        self.running.lock().remove(id);
    }
}

/// A new job id for a job starting at `now` (seconds since the epoch).
pub fn new_id(now: f64) -> String {
    let ms = (now * 1000.0) as u64;
    let [a, b, c, d, ..] = *uuid::Uuid::new_v4().as_bytes();
    let random = u32::from_be_bytes([a, b, c, d]);
    format!("{ms:014}-{random:08x}")
}

/// Whether `s` has the shape of a job id.
pub fn is_id(s: &str) -> bool {
    let Some((ms, hex)) = s.split_once('-') else {
        return false;
    };
    ms.len() == 14
        && ms.bytes().all(|b| b.is_ascii_digit())
        && hex.len() == 8
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Marks every job still IN_PROGRESS as FAILED: called when the store is opened, before any job
/// can run, so such a job was interrupted by a stop or a crash. Returns how many were marked.
pub fn fail_interrupted(store: &Store) -> Result<usize, TransferError> {
    let at = tarn_store::clock::now_secs_f64();
    Ok(fail_interrupted_of::<Export>(store, at)? + fail_interrupted_of::<Import>(store, at)?)
}

/// [`fail_interrupted`] for the jobs of one kind.
fn fail_interrupted_of<K: JobKind>(store: &Store, at: f64) -> Result<usize, TransferError> {
    const MESSAGE: &str = "tarn stopped before the job finished";
    let mut n = 0;
    for mut job in Job::<K>::list(store)? {
        if job.status == JobStatus::InProgress {
            job.fail(at, "Interrupted", MESSAGE);
            job.save(store)?;
            tracing::warn!(
                job = %job.arn,
                "{} interrupted by a restart: marked FAILED",
                K::NAME
            );
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn export(id: &str, status: JobStatus) -> ExportJob {
        ExportJob {
            id: id.into(),
            arn: format!("arn:aws:dynamodb:us-east-1:000000000000:table/T/export/{id}"),
            table: "T".into(),
            table_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/T".into(),
            table_id: "00000000-0000-0000-0000-000000000001".into(),
            status,
            start_time: 1.0,
            end_time: None,
            client_token: None,
            failure_code: None,
            failure_message: None,
            request: json!({}),
            details: Export {
                export_time: 1.0,
                s3_bucket: "b".into(),
                s3_bucket_owner: None,
                s3_prefix: None,
                s3_sse_algorithm: None,
                s3_sse_kms_key_id: None,
                item_count: 0,
                billed_size_bytes: 0,
                manifest: None,
            },
        }
    }

    #[test]
    fn records_are_one_flat_object() {
        // A record as tarn has always written it: the kind's members beside the common ones.
        let record = json!({
            "id": "01700000000000-0a1b2c3d",
            "arn": "arn:aws:dynamodb:us-east-1:000000000000:table/T/import/01700000000000-0a1b2c3d",
            "table": "T",
            "table_arn": "arn:aws:dynamodb:us-east-1:000000000000:table/T",
            "table_id": "00000000-0000-0000-0000-000000000001",
            "status": "COMPLETED",
            "start_time": 1700000000.0,
            "end_time": 1700000001.5,
            "client_token": null,
            "s3_bucket_source": {"S3Bucket": "b"},
            "input_format": "CSV",
            "input_format_options": null,
            "input_compression_type": "NONE",
            "table_creation_parameters": {"TableName": "T"},
            "processed_item_count": 3,
            "imported_item_count": 2,
            "processed_size_bytes": 30,
            "error_count": 1,
            "failure_code": null,
            "failure_message": null,
            "request": {"InputFormat": "CSV"},
        });
        let job: ImportJob = serde_json::from_value(record.clone()).unwrap();
        assert_eq!(job.status, JobStatus::Completed);
        assert_eq!(job.end_time, Some(1700000001.5));
        assert_eq!(job.details.input_format, "CSV");
        assert_eq!(job.details.error_count, 1);
        assert_eq!(serde_json::to_value(&job).unwrap(), record);
        assert_eq!(
            ImportJob::id_in_arn(&job.arn),
            Some("01700000000000-0a1b2c3d")
        );
        assert_eq!(ExportJob::id_in_arn(&job.arn), None);
    }

    #[test]
    fn ids_sort_by_time() {
        let a = new_id(1_700_000_000.0);
        let b = new_id(1_700_000_000.5);
        assert!(is_id(&a) && is_id(&b), "{a} {b}");
        assert!(a.starts_with("01700000000000-"));
        assert!(a < b);
        for bad in [
            "",
            "1-2",
            "0170000000000-0a1b2c3d",
            "01700000000000-0a1b2c3g",
        ] {
            assert!(!is_id(bad), "{bad}");
        }
    }

    #[test]
    fn interrupted_jobs_fail_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        export("01700000000000-00000001", JobStatus::InProgress)
            .save(&store)
            .unwrap();
        export("01700000000000-00000002", JobStatus::Completed)
            .save(&store)
            .unwrap();
        assert_eq!(fail_interrupted(&store).unwrap(), 1);
        let listed = ExportJob::list(&store).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].status, JobStatus::Failed);
        assert_eq!(listed[0].failure_code.as_deref(), Some("Interrupted"));
        assert!(listed[0].end_time.is_some());
        assert_eq!(listed[1].status, JobStatus::Completed);
        assert_eq!(fail_interrupted(&store).unwrap(), 0);
        assert!(ExportJob::load(&store, "01700000000000-00000003")
            .unwrap()
            .is_none());
    }
}
