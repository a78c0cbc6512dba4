//! Export and import jobs: their durable records, the live progress of running ones, and their
//! ids.
//!
//! A job's record is JSON in the store's state keyspace under `export/<id>` or `import/<id>`,
//! written when the job starts (IN_PROGRESS) and when it ends (COMPLETED or FAILED). While a job
//! runs, its counters live in memory ([`Progress`], found through [`Transfers::progress`]), so
//! DescribeExport and DescribeImport show items so far without a durable write per batch.
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
use tarn_store::Store;

use super::TransferError;

/// Key prefix of export records.
pub const EXPORT_PREFIX: &str = "export/";
/// Key prefix of import records.
pub const IMPORT_PREFIX: &str = "import/";
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

/// An export job (ExportTableToPointInTime).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportJob {
    /// The export id.
    pub id: String,
    /// The export ARN.
    pub arn: String,
    /// The table's name.
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
    /// The instant the data is from.
    pub export_time: f64,
    /// The request's ClientToken.
    pub client_token: Option<String>,
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
    /// Why it failed.
    pub failure_code: Option<String>,
    /// Why it failed, for people.
    pub failure_message: Option<String>,
    /// The request without its ClientToken (what a repeated token must match).
    pub request: Value,
}

/// An import job (ImportTable).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportJob {
    /// The import id.
    pub id: String,
    /// The import ARN.
    pub arn: String,
    /// The new table's name.
    pub table: String,
    /// The new table's ARN.
    pub table_arn: String,
    /// The new table's id.
    pub table_id: String,
    /// Where it stands.
    pub status: JobStatus,
    /// When it started.
    pub start_time: f64,
    /// When it ended.
    pub end_time: Option<f64>,
    /// The request's ClientToken.
    pub client_token: Option<String>,
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
    /// Why it failed.
    pub failure_code: Option<String>,
    /// Why it failed, for people.
    pub failure_message: Option<String>,
    /// The request without its ClientToken.
    pub request: Value,
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

/// The job id in a job ARN (`.../table/<T>/<kind>/<id>`, kind `export` or `import`).
pub fn id_in_arn<'a>(arn: &'a str, kind: &str) -> Option<&'a str> {
    let (head, id) = arn.rsplit_once(&format!("/{kind}/"))?;
    (head.starts_with("arn:") && head.contains(":table/") && is_id(id)).then_some(id)
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

fn save<T: Serialize>(store: &Store, key: &str, record: &T) -> Result<(), TransferError> {
    let bytes = serde_json::to_vec(record).map_err(|e| TransferError::Format(e.to_string()))?;
    Ok(store.put_state(key, &bytes)?)
}

fn load<T: DeserializeOwned>(store: &Store, key: &str) -> Result<Option<T>, TransferError> {
    store
        .get_state(key)?
        .map(|b| {
            serde_json::from_slice(&b)
                .map_err(|e| TransferError::Format(format!("unreadable job record {key}: {e}")))
        })
        .transpose()
}

fn list<T: DeserializeOwned>(store: &Store, prefix: &str) -> Result<Vec<T>, TransferError> {
    let mut out = Vec::new();
    for (key, bytes) in store.list_state(prefix)? {
        match serde_json::from_slice(&bytes) {
            Ok(r) => out.push(r),
            Err(e) => tracing::warn!(key, error = %e, "skipping an unreadable job record"),
        }
    }
    Ok(out)
}

/// Stores an export's record.
pub fn save_export(store: &Store, job: &ExportJob) -> Result<(), TransferError> {
    save(store, &format!("{EXPORT_PREFIX}{}", job.id), job)
}

/// The export with this id.
pub fn load_export(store: &Store, id: &str) -> Result<Option<ExportJob>, TransferError> {
    load(store, &format!("{EXPORT_PREFIX}{id}"))
}

/// Every export, oldest first.
pub fn list_exports(store: &Store) -> Result<Vec<ExportJob>, TransferError> {
    list(store, EXPORT_PREFIX)
}

/// Stores an import's record.
pub fn save_import(store: &Store, job: &ImportJob) -> Result<(), TransferError> {
    save(store, &format!("{IMPORT_PREFIX}{}", job.id), job)
}

/// The import with this id.
pub fn load_import(store: &Store, id: &str) -> Result<Option<ImportJob>, TransferError> {
    load(store, &format!("{IMPORT_PREFIX}{id}"))
}

/// Every import, oldest first.
pub fn list_imports(store: &Store) -> Result<Vec<ImportJob>, TransferError> {
    list(store, IMPORT_PREFIX)
}

/// Marks every job still IN_PROGRESS as FAILED: called when the store is opened, before any job
/// can run, so such a job was interrupted by a stop or a crash. Returns how many were marked.
pub fn fail_interrupted(store: &Store) -> Result<usize, TransferError> {
    const MESSAGE: &str = "tarn stopped before the job finished";
    let at = tarn_store::clock::now_secs_f64();
    let mut n = 0;
    for mut job in list_exports(store)? {
        if job.status == JobStatus::InProgress {
            job.status = JobStatus::Failed;
            job.end_time = Some(at);
            job.failure_code = Some("Interrupted".into());
            job.failure_message = Some(MESSAGE.into());
            save_export(store, &job)?;
            tracing::warn!(export = %job.arn, "export interrupted by a restart: marked FAILED");
            n += 1;
        }
    }
    for mut job in list_imports(store)? {
        if job.status == JobStatus::InProgress {
            job.status = JobStatus::Failed;
            job.end_time = Some(at);
            job.failure_code = Some("Interrupted".into());
            job.failure_message = Some(MESSAGE.into());
            save_import(store, &job)?;
            tracing::warn!(import = %job.arn, "import interrupted by a restart: marked FAILED");
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
            export_time: 1.0,
            client_token: None,
            s3_bucket: "b".into(),
            s3_bucket_owner: None,
            s3_prefix: None,
            s3_sse_algorithm: None,
            s3_sse_kms_key_id: None,
            item_count: 0,
            billed_size_bytes: 0,
            manifest: None,
            failure_code: None,
            failure_message: None,
            request: json!({}),
        }
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
        save_export(
            &store,
            &export("01700000000000-00000001", JobStatus::InProgress),
        )
        .unwrap();
        save_export(
            &store,
            &export("01700000000000-00000002", JobStatus::Completed),
        )
        .unwrap();
        assert_eq!(fail_interrupted(&store).unwrap(), 1);
        let listed = list_exports(&store).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].status, JobStatus::Failed);
        assert_eq!(listed[0].failure_code.as_deref(), Some("Interrupted"));
        assert!(listed[0].end_time.is_some());
        assert_eq!(listed[1].status, JobStatus::Completed);
        assert_eq!(fail_interrupted(&store).unwrap(), 0);
        assert!(load_export(&store, "01700000000000-00000003")
            .unwrap()
            .is_none());
    }
}
