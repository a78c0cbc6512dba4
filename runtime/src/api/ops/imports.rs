//! Imports: ImportTable, DescribeImport, ListImports.
//!
//! ImportTable creates a new table from `TableCreationParameters` (parsed as CreateTable parses
//! its request; `ResourceInUseException` when the name is taken) and loads it in a background
//! thread from the files under `S3BucketSource` ([`crate::transfer::location`]):
//!
//! - if the prefix holds DynamoDB exports (`manifest-files.json`), the data files their
//!   manifests list;
//! - otherwise every `*.json` / `*.json.gz` file (DYNAMODB_JSON) or `*.csv` / `*.csv.gz` file
//!   (CSV) under the prefix, or the one file the prefix names.
//!
//! `InputFormat` is DYNAMODB_JSON or CSV (`ION` is refused), `InputCompressionType` GZIP or NONE
//! (`ZSTD` is refused). Bad source lines (unparseable, missing or mistyped key, too large) are
//! counted in `ErrorCount` and logged (`tracing` warnings with file and line, where DynamoDB
//! writes to CloudWatch), and the import goes on. The table exists from the start; the import
//! is COMPLETED once every file is read, or FAILED (with `FailureCode` and `FailureMessage`)
//! when no source file is found or the store fails.
//!
//! DescribeImport is [`super::jobs::describe`] of [`Imports`]; the ClientToken, the job thread and
//! the list pages are [`super::jobs`]'s too, shared with exports.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tarn_store::clock::now_secs_f64;
use tarn_store::schema::{ScalarType, TableMeta};
use tarn_wire::{
    kind, missing, optional_array, optional_object, optional_str, required_object, required_str,
    ApiError,
};

use super::arn::table_arn;
use super::jobs::{
    answer, arn_table, client_token, enum_member, fingerprint, page, page_size, record_failure,
    same_token, start_thread, transfer_error, ApiJob,
};
use super::tables::table_spec;
use crate::api::Api;
use crate::transfer::export::DataFile;
use crate::transfer::import::{
    open_source, read_csv, read_json_lines, Compression, CsvOptions, Line, Loader,
};
use crate::transfer::jobs::{self, Import, ImportJob, Job, JobStatus, Progress};
use crate::transfer::location::{self, Object};
use crate::transfer::TransferError;

/// Bad lines logged one by one per import; past this only the count goes on.
const LOGGED_ERRORS: u64 = 100;

/// What the background import needs to know of the request.
struct Source {
    bucket_dir: std::path::PathBuf,
    prefix: String,
    csv: Option<CsvOptions>,
    compression: Compression,
}

/// `InputFormatOptions.Csv`.
fn csv_options(body: &Value) -> Result<CsvOptions, ApiError> {
    let mut options = CsvOptions::default();
    let Some(formats) = optional_object(body, "InputFormatOptions")? else {
        return Ok(options);
    };
    let formats = Value::Object(formats.clone());
    let Some(csv) = optional_object(&formats, "Csv")? else {
        return Ok(options);
    };
    let csv = Value::Object(csv.clone());
    if let Some(d) = optional_str(&csv, "Delimiter")? {
        if d.len() != 1 || !",;:|\t ".contains(d) {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{d}' at 'inputFormatOptions.csv.delimiter' failed to satisfy constraint: Member must satisfy regular expression pattern: [,;:|\\t ]"
            )));
        }
        options.delimiter = d.as_bytes()[0];
    }
    if let Some(list) = optional_array(&csv, "HeaderList")? {
        if list.is_empty() || list.len() > 255 {
            return Err(ApiError::validation(
                "1 validation error detected: Value at 'inputFormatOptions.csv.headerList' failed to satisfy constraint: Member must have length less than or equal to 255, Member must have length greater than or equal to 1",
            ));
        }
        let mut names = Vec::with_capacity(list.len());
        for v in list {
            let name = v.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                ApiError::validation(
                    "1 validation error detected: Value at 'inputFormatOptions.csv.headerList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length greater than or equal to 1]",
                )
            })?;
            if names.iter().any(|n| n == name) {
                return Err(ApiError::validation(format!(
                    "HeaderList names the column {name} twice"
                )));
            }
            names.push(name.to_string());
        }
        options.header = Some(names);
    }
    Ok(options)
}

/// ImportTable.
pub(crate) fn import_table(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let token = client_token(body)?;
    let source = Value::Object(required_object(body, "S3BucketSource")?.clone());
    let bucket = required_str(&source, "S3Bucket")?.to_string();
    let prefix = optional_str(&source, "S3KeyPrefix")?
        .unwrap_or("")
        .to_string();
    optional_str(&source, "S3BucketOwner")?;
    if optional_str(body, "InputFormat")?.is_none() {
        return Err(missing("InputFormat"));
    }
    let format = enum_member(body, "InputFormat", &["DYNAMODB_JSON", "ION", "CSV"], "")?;
    if format == "ION" {
        return Err(ApiError::validation(
            "InputFormat ION is not supported by tarn: use DYNAMODB_JSON or CSV",
        ));
    }
    let compression = enum_member(
        body,
        "InputCompressionType",
        &["GZIP", "ZSTD", "NONE"],
        "NONE",
    )?;
    let compression = match compression {
        "GZIP" => Compression::Gzip,
        "NONE" => Compression::None,
        _ => {
            return Err(ApiError::validation(
                "InputCompressionType ZSTD is not supported by tarn: use GZIP or NONE",
            ))
        }
    };
    let csv = csv_options(body)?;
    let has_csv_options = optional_object(body, "InputFormatOptions")?
        .is_some_and(|o| o.get("Csv").is_some_and(|c| !c.is_null()));
    if has_csv_options && format != "CSV" {
        return Err(ApiError::validation(
            "InputFormatOptions.Csv applies to the CSV InputFormat only",
        ));
    }
    let params = Value::Object(required_object(body, "TableCreationParameters")?.clone());
    let mut spec = table_spec(&params)?;
    spec.name = api.table_ref(&spec.name).into_owned();
    let bucket_dir =
        location::bucket_dir(api.transfers().export_root(), &bucket).map_err(transfer_error)?;
    if prefix.len() > 1024 {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 's3BucketSource.s3KeyPrefix' failed to satisfy constraint: Member must have length less than or equal to 1024",
        ));
    }
    location::check_prefix(&prefix, "S3KeyPrefix").map_err(transfer_error)?;

    let request = fingerprint(body);
    let now = now_secs_f64();
    let _starting = api.transfers().start.lock();
    if let Some(job) = same_token::<Imports>(api, token.as_deref(), &request, now)? {
        return Ok(answer::<Imports>(api, &job));
    }
    let meta = api.store().create_table(spec)?;
    let job = Job::start(
        jobs::new_id(now),
        &meta,
        table_arn(api, &meta.name),
        now,
        token,
        request,
        Import {
            s3_bucket_source: source,
            input_format: format.to_string(),
            input_format_options: body
                .get("InputFormatOptions")
                .filter(|v| !v.is_null())
                .cloned(),
            input_compression_type: match compression {
                Compression::Gzip => "GZIP".into(),
                Compression::None => "NONE".into(),
            },
            table_creation_parameters: params,
            processed_item_count: 0,
            imported_item_count: 0,
            processed_size_bytes: 0,
            error_count: 0,
        },
    );
    job.save(api.store()).map_err(transfer_error)?;
    let progress = api.transfers().begin(&job.id);
    let source = Source {
        bucket_dir,
        prefix,
        csv: (format == "CSV").then_some(csv),
        compression,
    };
    let (thread_api, thread_job) = (api.clone(), job.clone());
    start_thread::<Imports>(api, &job, move || {
        run(thread_api, thread_job, meta, source, progress)
    })?;
    tracing::info!(import = %job.arn, table = %job.table, "import started");
    Ok(answer::<Imports>(api, &job))
}

/// Why an import stopped.
struct Failure {
    code: &'static str,
    message: String,
}

impl From<TransferError> for Failure {
    fn from(e: TransferError) -> Self {
        let code = match &e {
            TransferError::Io { .. } => "S3AccessDenied",
            TransferError::Location(_) | TransferError::Format(_) => "InvalidInput",
            TransferError::Store(_) => "InternalServerError",
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

/// The import itself, in its own thread.
fn run(api: Api, mut job: ImportJob, meta: TableMeta, source: Source, progress: Arc<Progress>) {
    let span = tracing::info_span!("import", id = %job.id, table = %job.table);
    let _entered = span.enter();
    let result = load(&api, meta, &source, &progress);
    api.transfers().end(&job.id);
    job.details.processed_item_count = Progress::get(&progress.processed);
    job.details.processed_size_bytes = Progress::get(&progress.bytes);
    job.details.imported_item_count = Progress::get(&progress.items);
    job.details.error_count = Progress::get(&progress.errors);
    match result {
        Ok(()) => {
            job.status = JobStatus::Completed;
            job.end_time = Some(now_secs_f64());
            match job.save(api.store()) {
                Ok(()) => tracing::info!(
                    imported = job.details.imported_item_count,
                    errors = job.details.error_count,
                    "import completed"
                ),
                Err(e) => tracing::error!(error = %e, "cannot record the completed import"),
            }
        }
        Err(f) => {
            tracing::warn!(code = f.code, error = %f.message, "import failed");
            record_failure(&api, &mut job, f.code, &f.message);
        }
    }
}

/// The files to read: those the export manifests under the prefix list, or else the data
/// files of the format under it.
fn source_files(source: &Source) -> Result<Vec<Object>, Failure> {
    let objects = location::list_objects(&source.bucket_dir, &source.prefix)?;
    let manifests: Vec<&Object> = objects
        .iter()
        .filter(|o| o.key.rsplit('/').next() == Some("manifest-files.json"))
        .collect();
    if !manifests.is_empty() {
        let mut files = Vec::new();
        for m in manifests {
            let text = std::fs::read_to_string(&m.path).map_err(TransferError::io(&m.path))?;
            let dir = m.path.parent().unwrap_or(&source.bucket_dir);
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: Value = serde_json::from_str(line).map_err(|e| {
                    TransferError::Format(format!("{}: not JSON lines: {e}", m.key))
                })?;
                let f = DataFile::from_json(&v)?;
                files.push(data_file(source, dir, &f.data_file_s3_key)?);
            }
        }
        return Ok(files);
    }
    let extensions: &[&str] = if source.csv.is_some() {
        &[".csv", ".csv.gz"]
    } else {
        &[".json", ".json.gz"]
    };
    let files: Vec<Object> = objects
        .into_iter()
        .filter(|o| o.key == source.prefix || extensions.iter().any(|e| o.key.ends_with(e)))
        .collect();
    if files.is_empty() {
        return Err(Failure {
            code: "S3NoSuchKey",
            message: format!(
                "no {} files found under S3KeyPrefix {:?}",
                if source.csv.is_some() {
                    "CSV"
                } else {
                    "DynamoDB JSON"
                },
                source.prefix
            ),
        });
    }
    Ok(files)
}

/// Where a data file a manifest lists is: beside the manifest (`data/<name>`, so an export
/// directory may be moved or copied), else at its key in the bucket.
fn data_file(
    source: &Source,
    manifest_dir: &std::path::Path,
    key: &str,
) -> Result<Object, Failure> {
    let mut parts = key.rsplit('/');
    let (name, parent) = (parts.next().unwrap_or(""), parts.next());
    if parent == Some("data") && !name.is_empty() && location::segments(name, "key").is_ok() {
        let beside = manifest_dir.join("data").join(name);
        if beside.is_file() {
            return Ok(Object {
                key: key.to_string(),
                path: beside,
            });
        }
    }
    Ok(Object {
        key: key.to_string(),
        path: location::key_path(&source.bucket_dir, key)?,
    })
}

/// Reads every source file into the table.
fn load(
    api: &Api,
    meta: TableMeta,
    source: &Source,
    progress: &Arc<Progress>,
) -> Result<(), Failure> {
    let files = source_files(source)?;
    let types: std::collections::HashMap<String, ScalarType> = meta
        .attribute_definitions
        .iter()
        .map(|a| (a.name.clone(), a.attr_type))
        .collect();
    let store = api.store().clone();
    let mut loader = Loader::new(&store, meta, progress.clone());
    let mut bad = 0u64;
    let mut note_bad = |file: &str, line: Option<u64>, reason: &str| {
        bad += 1;
        Progress::add(&progress.errors, 1);
        if bad <= LOGGED_ERRORS {
            tracing::warn!(file, line, reason, "import: bad source line skipped");
        } else if bad == LOGGED_ERRORS + 1 {
            tracing::warn!("import: more bad source lines; only counting them from here");
        }
    };
    for file in &files {
        tracing::debug!(file = %file.key, "import: reading");
        let mut fatal: Option<TransferError> = None;
        let mut each = |line: Line| -> Result<(), TransferError> {
            Progress::add(&progress.processed, 1);
            Progress::add(&progress.bytes, line.bytes);
            let reason = match line.item {
                Ok(item) => match loader.add(item) {
                    Ok(Ok(())) => return Ok(()),
                    Ok(Err(reason)) => reason,
                    Err(e) => {
                        let stop = TransferError::Format(e.to_string());
                        fatal = Some(e);
                        return Err(stop);
                    }
                },
                Err(reason) => reason,
            };
            note_bad(&file.key, Some(line.number), &reason);
            Ok(())
        };
        let read =
            open_source(&file.path, source.compression).and_then(|reader| match &source.csv {
                Some(options) => read_csv(reader, options, &types, &mut each),
                None => read_json_lines(reader, &mut each).map_err(TransferError::io(&file.path)),
            });
        if let Some(e) = fatal {
            return Err(e.into());
        }
        if let Err(e) = read {
            // The file could not be read on: one error, then the next file.
            note_bad(&file.key, None, &e.to_string());
        }
    }
    loader.flush()?;
    Ok(())
}

/// Imports as the API describes them (see [`ApiJob`]).
pub(crate) struct Imports;

impl ApiJob for Imports {
    type Kind = Import;
    const DESCRIPTION: &'static str = "ImportTableDescription";
    const ARN_MEMBER: &'static str = "ImportArn";
    const NOT_FOUND: &'static str = kind::IMPORT_NOT_FOUND;
    const CONFLICT: &'static str = kind::IMPORT_CONFLICT;

    /// DynamoDB's ImportTableDescription of a job (with live counts while it runs).
    fn describe(api: &Api, job: &ImportJob) -> Value {
        let (processed, imported, bytes, errors) =
            match (job.status, api.transfers().progress(&job.id)) {
                (JobStatus::InProgress, Some(p)) => (
                    Progress::get(&p.processed),
                    Progress::get(&p.items),
                    Progress::get(&p.bytes),
                    Progress::get(&p.errors),
                ),
                _ => (
                    job.details.processed_item_count,
                    job.details.imported_item_count,
                    job.details.processed_size_bytes,
                    job.details.error_count,
                ),
            };
        let mut d = Map::new();
        d.insert("ImportArn".into(), json!(job.arn));
        d.insert("ImportStatus".into(), json!(job.status.as_str()));
        d.insert("TableArn".into(), json!(job.table_arn));
        d.insert("TableId".into(), json!(job.table_id));
        if let Some(t) = &job.client_token {
            d.insert("ClientToken".into(), json!(t));
        }
        d.insert(
            "S3BucketSource".into(),
            job.details.s3_bucket_source.clone(),
        );
        d.insert("ErrorCount".into(), json!(errors));
        d.insert("InputFormat".into(), json!(job.details.input_format));
        if let Some(o) = &job.details.input_format_options {
            d.insert("InputFormatOptions".into(), o.clone());
        }
        d.insert(
            "InputCompressionType".into(),
            json!(job.details.input_compression_type),
        );
        d.insert(
            "TableCreationParameters".into(),
            job.details.table_creation_parameters.clone(),
        );
        d.insert("StartTime".into(), json!(job.start_time));
        if let Some(end) = job.end_time {
            d.insert("EndTime".into(), json!(end));
        }
        d.insert("ProcessedSizeBytes".into(), json!(bytes));
        d.insert("ProcessedItemCount".into(), json!(processed));
        d.insert("ImportedItemCount".into(), json!(imported));
        if let Some(c) = &job.failure_code {
            d.insert("FailureCode".into(), json!(c));
        }
        if let Some(m) = &job.failure_message {
            d.insert("FailureMessage".into(), json!(m));
        }
        Value::Object(d)
    }
}

/// A ListImports NextToken: the last listed id in hex, padded with zeros to DynamoDB's token
/// shape (a multiple of 16 hex digits, at least 112).
fn next_token(id: &str) -> String {
    let mut hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    while hex.len() < 112 || !hex.len().is_multiple_of(16) {
        hex.push('0');
    }
    hex
}

/// The id in a ListImports NextToken.
fn token_id(token: &str) -> Option<String> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Vec<u8> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let id = String::from_utf8(bytes[..end].to_vec()).ok()?;
    jobs::is_id(&id).then_some(id)
}

/// ListImports: newest first, paged by PageSize (1 to 25) and NextToken, optionally of one
/// table.
pub(crate) fn list_imports(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table = optional_str(body, "TableArn")?.map(arn_table).transpose()?;
    let limit = page_size(body, "PageSize")?;
    let after = optional_str(body, "NextToken")?
        .map(|t| token_id(t).ok_or_else(|| ApiError::validation("Invalid NextToken")))
        .transpose()?;
    let (listed, next) = page::<Import>(api, table, after.as_deref(), limit)?;
    let summaries: Vec<Value> = listed
        .iter()
        .map(|j| {
            let mut s = Map::new();
            s.insert("ImportArn".into(), json!(j.arn));
            s.insert("ImportStatus".into(), json!(j.status.as_str()));
            s.insert("TableArn".into(), json!(j.table_arn));
            s.insert("S3BucketSource".into(), j.details.s3_bucket_source.clone());
            s.insert("InputFormat".into(), json!(j.details.input_format));
            s.insert("StartTime".into(), json!(j.start_time));
            if let Some(end) = j.end_time {
                s.insert("EndTime".into(), json!(end));
            }
            Value::Object(s)
        })
        .collect();
    let mut out = Map::new();
    out.insert("ImportSummaryList".into(), Value::Array(summaries));
    if let Some(last) = next {
        out.insert("NextToken".into(), json!(next_token(&last)));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tokens_have_dynamodbs_shape_and_round_trip() {
        let id = "01700000000000-0a1b2c3d";
        let t = next_token(id);
        assert!(t.len() >= 112 && t.len().is_multiple_of(16), "{t}");
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(token_id(&t).as_deref(), Some(id));
        assert_eq!(token_id("zz"), None);
        assert_eq!(token_id(&"0".repeat(112)), None);
    }

    #[test]
    fn import_ids_come_from_arns() {
        assert_eq!(
            ImportJob::id_in_arn(
                "arn:aws:dynamodb:us-east-1:000000000000:table/T/import/01700000000000-0a1b2c3d"
            ),
            Some("01700000000000-0a1b2c3d")
        );
        assert_eq!(
            ImportJob::id_in_arn(
                "arn:aws:dynamodb:us-east-1:0:table/T/export/01700000000000-0a1b2c3d"
            ),
            None
        );
    }

    #[test]
    fn csv_options_are_checked() {
        let o = csv_options(&json!({"InputFormatOptions": {"Csv": {"Delimiter": "\t",
                                    "HeaderList": ["a", "b"]}}}))
        .unwrap();
        assert_eq!(o.delimiter, b'\t');
        assert_eq!(o.header, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(csv_options(&json!({})).unwrap(), CsvOptions::default());
        for bad in [
            json!({"InputFormatOptions": {"Csv": {"Delimiter": "x"}}}),
            json!({"InputFormatOptions": {"Csv": {"Delimiter": ",,"}}}),
            json!({"InputFormatOptions": {"Csv": {"HeaderList": []}}}),
            json!({"InputFormatOptions": {"Csv": {"HeaderList": ["a", ""]}}}),
            json!({"InputFormatOptions": {"Csv": {"HeaderList": ["a", "a"]}}}),
        ] {
            assert_eq!(
                csv_options(&bad).unwrap_err().kind,
                kind::VALIDATION,
                "{bad}"
            );
        }
    }
}
