//! Exports: ExportTableToPointInTime, DescribeExport, ListExports.
//!
//! An export writes DynamoDB's S3 export layout ([`crate::transfer::export`]) into the
//! directory its `S3Bucket` names ([`crate::transfer::location`]): a bucket under the export
//! root, or a `file:///abs/path`. As in DynamoDB, the table must have point-in-time recovery
//! enabled (`PointInTimeRecoveryUnavailableException` otherwise) and `ExportTime`, when given,
//! must lie within its recovery window (`InvalidExportTimeException`); without `ExportTime` the
//! export holds the table as it is when the request is taken, read at one consistent instant.
//!
//! The export runs in a background thread; the answer is IN_PROGRESS, and DescribeExport shows
//! `ItemCount` so far, then COMPLETED with `ExportManifest`, or FAILED with `FailureCode` and
//! `FailureMessage`. Only `DYNAMODB_JSON` full exports are made: `ION` and `INCREMENTAL_EXPORT`
//! are refused with a ValidationException. `S3SseAlgorithm` and `S3SseKmsKeyId` are recorded
//! and reported, not applied (the files are plain).
//!
//! DescribeExport is [`super::jobs::describe`] of [`Exports`]; the ClientToken, the job thread and
//! the list pages are [`super::jobs`]'s too, shared with imports.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use tarn_store::clock::now_secs_f64;
use tarn_wire::{kind, member, optional_str, optional_time, required_str, ApiError};

use super::arn::table_arn;
use super::jobs::{
    answer, arn_table, client_token, enum_member, fingerprint, page, page_size, record_failure,
    same_token, start_thread, transfer_error, ApiJob,
};
use crate::api::Api;
use crate::transfer::export::{ExportLayout, ExportSummary, ExportWriter, DEFAULT_FILE_BYTES};
use crate::transfer::jobs::{self, Export, ExportJob, Job, JobStatus, Progress};
use crate::transfer::{location, TransferError};

/// ExportTableToPointInTime.
pub(crate) fn export_table_to_point_in_time(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table_arn_in = required_str(body, "TableArn")?;
    let s3_bucket = required_str(body, "S3Bucket")?;
    let s3_prefix = optional_str(body, "S3Prefix")?;
    let token = client_token(body)?;
    let format = enum_member(
        body,
        "ExportFormat",
        &["DYNAMODB_JSON", "ION"],
        "DYNAMODB_JSON",
    )?;
    if format == "ION" {
        return Err(ApiError::validation(
            "ExportFormat ION is not supported by tarn: use DYNAMODB_JSON",
        ));
    }
    let export_type = enum_member(
        body,
        "ExportType",
        &["FULL_EXPORT", "INCREMENTAL_EXPORT"],
        "FULL_EXPORT",
    )?;
    if export_type == "INCREMENTAL_EXPORT"
        || member(body, "IncrementalExportSpecification").is_some()
    {
        return Err(ApiError::validation(
            "ExportType INCREMENTAL_EXPORT is not supported by tarn: use FULL_EXPORT",
        ));
    }
    let sse = optional_str(body, "S3SseAlgorithm")?;
    if let Some(a) = sse {
        enum_member(body, "S3SseAlgorithm", &["AES256", "KMS"], a)?;
    }
    let sse_key = optional_str(body, "S3SseKmsKeyId")?;
    let owner = optional_str(body, "S3BucketOwner")?;
    let export_time = optional_time(body, "ExportTime")?;
    let bucket_dir =
        location::bucket_dir(api.transfers().export_root(), s3_bucket).map_err(transfer_error)?;
    if let Some(p) = s3_prefix {
        if p.len() > 1024 {
            return Err(ApiError::validation(
                "1 validation error detected: Value at 's3Prefix' failed to satisfy constraint: Member must have length less than or equal to 1024",
            ));
        }
        location::check_prefix(p, "S3Prefix").map_err(transfer_error)?;
    }
    let table = arn_table(table_arn_in)?;
    let not_found = || {
        ApiError::new(
            kind::TABLE_NOT_FOUND,
            format!("Table not found: {table_arn_in}"),
        )
    };
    if table_arn_in.split(':').nth(3) != Some(api.region()) {
        return Err(not_found());
    }
    let meta = match api.store().table_meta(&api.table_ref(table)) {
        Ok(m) => m,
        Err(tarn_store::StoreError::TableNotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let pitr = match api.store().pitr_status(&api.table_ref(table)) {
        Ok(p) => p,
        Err(tarn_store::StoreError::TableNotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if !pitr.enabled {
        return Err(ApiError::new(
            kind::POINT_IN_TIME_RECOVERY_UNAVAILABLE,
            format!("Point in time recovery is not enabled for table '{table}'"),
        ));
    }
    let now = now_secs_f64();
    if let Some(t) = export_time {
        let Some(earliest) = pitr.earliest else {
            return Err(ApiError::new(
                kind::POINT_IN_TIME_RECOVERY_UNAVAILABLE,
                format!("Point in time recovery is not yet available for table '{table}': its first snapshot is being taken"),
            ));
        };
        if t < earliest || t > now {
            return Err(ApiError::new(
                kind::INVALID_EXPORT_TIME,
                format!(
                    "ExportTime {} is outside of the point in time recovery window of table '{table}' ({} to {})",
                    crate::transfer::export::iso_time(t),
                    crate::transfer::export::iso_time(earliest),
                    crate::transfer::export::iso_time(now),
                ),
            ));
        }
    }

    let request = fingerprint(body);
    let _starting = api.transfers().start.lock();
    if let Some(job) = same_token::<Exports>(api, token.as_deref(), &request, now)? {
        return Ok(answer::<Exports>(api, &job));
    }
    let job = Job::start(
        jobs::new_id(now),
        &meta,
        table_arn(api, table),
        now,
        token,
        request,
        Export {
            export_time: export_time.unwrap_or(now),
            s3_bucket: s3_bucket.to_string(),
            s3_bucket_owner: owner.map(str::to_owned),
            s3_prefix: s3_prefix.map(str::to_owned),
            s3_sse_algorithm: sse.map(str::to_owned),
            s3_sse_kms_key_id: sse_key.map(str::to_owned),
            item_count: 0,
            billed_size_bytes: 0,
            manifest: None,
        },
    );
    job.save(api.store()).map_err(transfer_error)?;
    let progress = api.transfers().begin(&job.id);
    let layout = ExportLayout {
        bucket_dir,
        prefix: job.details.s3_prefix.clone(),
        export_id: job.id.clone(),
    };
    let (thread_api, thread_job) = (api.clone(), job.clone());
    start_thread::<Exports>(api, &job, move || {
        run(thread_api, thread_job, layout, export_time, progress)
    })?;
    tracing::info!(export = %job.arn, table, "export started");
    Ok(answer::<Exports>(api, &job))
}

/// The export itself, in its own thread.
fn run(
    api: Api,
    mut job: ExportJob,
    layout: ExportLayout,
    at: Option<f64>,
    progress: Arc<Progress>,
) {
    let span = tracing::info_span!("export", id = %job.id, table = %job.table);
    let _entered = span.enter();
    let result = write_export(&api, &job, layout, at, &progress);
    api.transfers().end(&job.id);
    match result {
        Ok(outcome) => {
            job.status = JobStatus::Completed;
            job.end_time = Some(outcome.1);
            job.details.item_count = outcome.0.item_count;
            job.details.billed_size_bytes = outcome.0.billed_size_bytes;
            job.details.manifest = Some(outcome.0.manifest_key);
            match job.save(api.store()) {
                Ok(()) => tracing::info!(items = job.details.item_count, "export completed"),
                Err(e) => tracing::error!(error = %e, "cannot record the completed export"),
            }
        }
        Err(e) => {
            let code = match &e {
                TransferError::Io { .. } | TransferError::Location(_) => "S3AccessDenied",
                TransferError::Store(tarn_store::StoreError::TableNotFound(_)) => {
                    "TableNotFoundException"
                }
                _ => "InternalServerError",
            };
            tracing::warn!(error = %e, "export failed");
            record_failure(&api, &mut job, code, &e.to_string());
        }
    }
}

fn write_export(
    api: &Api,
    job: &ExportJob,
    layout: ExportLayout,
    at: Option<f64>,
    progress: &Progress,
) -> Result<(crate::transfer::export::ExportOutcome, f64), TransferError> {
    let mut writer = ExportWriter::create(layout, DEFAULT_FILE_BYTES)?;
    let mut write_error = None;
    let read = api
        .store()
        .read_table(&api.table_ref(&job.table), at, &mut |item| {
            if let Err(e) = writer.write_item(&item) {
                write_error = Some(e);
                return Err(tarn_store::StoreError::Validation("export stopped".into()));
            }
            Progress::add(&progress.items, 1);
            Progress::add(&progress.bytes, tarn_store::value::item_size(&item) as u64);
            Ok(())
        });
    if let Some(e) = write_error {
        return Err(e);
    }
    read?;
    let end = now_secs_f64();
    let summary = ExportSummary {
        export_arn: job.arn.clone(),
        start_time: job.start_time,
        end_time: end,
        table_arn: job.table_arn.clone(),
        table_id: job.table_id.clone(),
        export_time: job.details.export_time,
        s3_bucket: job.details.s3_bucket.clone(),
        s3_sse_algorithm: job.details.s3_sse_algorithm.clone(),
        s3_sse_kms_key_id: job.details.s3_sse_kms_key_id.clone(),
    };
    Ok((writer.finish(&summary)?, end))
}

/// Exports as the API describes them (see [`ApiJob`]).
pub(crate) struct Exports;

impl ApiJob for Exports {
    type Kind = Export;
    const DESCRIPTION: &'static str = "ExportDescription";
    const ARN_MEMBER: &'static str = "ExportArn";
    const NOT_FOUND: &'static str = kind::EXPORT_NOT_FOUND;
    const CONFLICT: &'static str = kind::EXPORT_CONFLICT;

    /// DynamoDB's ExportDescription of a job (with live counts while it runs).
    fn describe(api: &Api, job: &ExportJob) -> Value {
        let mut d = Map::new();
        d.insert("ExportArn".into(), json!(job.arn));
        d.insert("ExportStatus".into(), json!(job.status.as_str()));
        d.insert("StartTime".into(), json!(job.start_time));
        if let Some(end) = job.end_time {
            d.insert("EndTime".into(), json!(end));
        }
        if let Some(m) = &job.details.manifest {
            d.insert("ExportManifest".into(), json!(m));
        }
        d.insert("TableArn".into(), json!(job.table_arn));
        d.insert("TableId".into(), json!(job.table_id));
        d.insert("ExportTime".into(), json!(job.details.export_time));
        if let Some(t) = &job.client_token {
            d.insert("ClientToken".into(), json!(t));
        }
        d.insert("S3Bucket".into(), json!(job.details.s3_bucket));
        if let Some(o) = &job.details.s3_bucket_owner {
            d.insert("S3BucketOwner".into(), json!(o));
        }
        if let Some(p) = &job.details.s3_prefix {
            d.insert("S3Prefix".into(), json!(p));
        }
        if let Some(a) = &job.details.s3_sse_algorithm {
            d.insert("S3SseAlgorithm".into(), json!(a));
        }
        if let Some(k) = &job.details.s3_sse_kms_key_id {
            d.insert("S3SseKmsKeyId".into(), json!(k));
        }
        if let Some(c) = &job.failure_code {
            d.insert("FailureCode".into(), json!(c));
        }
        if let Some(m) = &job.failure_message {
            d.insert("FailureMessage".into(), json!(m));
        }
        d.insert("ExportFormat".into(), json!("DYNAMODB_JSON"));
        let (items, bytes) = match (job.status, api.transfers().progress(&job.id)) {
            (JobStatus::InProgress, Some(p)) => (Progress::get(&p.items), Progress::get(&p.bytes)),
            _ => (job.details.item_count, job.details.billed_size_bytes),
        };
        d.insert("BilledSizeBytes".into(), json!(bytes));
        d.insert("ItemCount".into(), json!(items));
        d.insert("ExportType".into(), json!("FULL_EXPORT"));
        Value::Object(d)
    }
}

/// ListExports: newest first, paged by MaxResults (1 to 25) and NextToken, optionally of one
/// table.
pub(crate) fn list_exports(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table = optional_str(body, "TableArn")?.map(arn_table).transpose()?;
    let limit = page_size(body, "MaxResults")?;
    let after = optional_str(body, "NextToken")?;
    if let Some(t) = after {
        if !jobs::is_id(t) {
            return Err(ApiError::validation("Invalid NextToken"));
        }
    }
    let (listed, next) = page::<Export>(api, table, after, limit)?;
    let summaries: Vec<Value> = listed
        .iter()
        .map(|j| {
            json!({
                "ExportArn": j.arn,
                "ExportStatus": j.status.as_str(),
                "ExportType": "FULL_EXPORT",
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("ExportSummaries".into(), Value::Array(summaries));
    if let Some(last) = next {
        out.insert("NextToken".into(), json!(last));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_ids_come_from_arns() {
        assert_eq!(
            ExportJob::id_in_arn(
                "arn:aws:dynamodb:us-east-1:000000000000:table/T/export/01700000000000-0a1b2c3d"
            ),
            Some("01700000000000-0a1b2c3d")
        );
        assert_eq!(
            ExportJob::id_in_arn("arn:aws:dynamodb:us-east-1:0:table/T/export/x"),
            None
        );
        assert_eq!(ExportJob::id_in_arn("01700000000000-0a1b2c3d"), None);
    }
}
