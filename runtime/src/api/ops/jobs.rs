//! What ExportTableToPointInTime and ImportTable share, and their Describe and List operations.
//!
//! Both start a job ([`crate::transfer::jobs::Job`]) that runs in a thread of its own, keyed by
//! a `ClientToken` that makes a repeated request answer the job it started; both describe a job
//! found by its ARN and list jobs newest first, a page at a time. [`ApiJob`] says what differs
//! between the two kinds on the wire (the description, the member and exception names); the
//! functions here do the rest once, for either kind. (`ApiJob` is implemented by types of the
//! API's own, `exports::Exports` and `imports::Imports`, not by the job records' kinds, so
//! `crate::transfer` stays free of the API.)

use serde_json::{Map, Value};
use tarn_store::clock::now_secs_f64;
use tarn_wire::{member_path, optional_i64, optional_str, required_str, ApiError};

use super::arn::table_from_arn;
use crate::api::Api;
use crate::transfer::jobs::{Job, JobKind, CLIENT_TOKEN_WINDOW_SECS};
use crate::transfer::TransferError;

/// Most summaries a ListExports or ListImports page holds.
const MAX_LIST: i64 = 25;

/// What the API says about one kind of job.
pub(crate) trait ApiJob {
    /// The kind of job record.
    type Kind: JobKind;
    /// The answer's member that holds a description: `ExportDescription`,
    /// `ImportTableDescription`.
    const DESCRIPTION: &'static str;
    /// The request member naming a job by its ARN: `ExportArn`, `ImportArn`.
    const ARN_MEMBER: &'static str;
    /// The exception for an ARN that names no job.
    const NOT_FOUND: &'static str;
    /// The exception for a ClientToken used again with other parameters.
    const CONFLICT: &'static str;

    /// DynamoDB's description of `job` (with live counts while it runs).
    fn describe(api: &Api, job: &Job<Self::Kind>) -> Value;
}

/// The answer that describes `job`: `{"ExportDescription": {...}}` or
/// `{"ImportTableDescription": {...}}`.
pub(crate) fn answer<K: ApiJob>(api: &Api, job: &Job<K::Kind>) -> Value {
    let mut out = Map::new();
    out.insert(K::DESCRIPTION.into(), K::describe(api, job));
    Value::Object(out)
}

/// A transfer error as the API reports it.
pub(crate) fn transfer_error(e: TransferError) -> ApiError {
    match e {
        TransferError::Location(m) => ApiError::validation(m),
        TransferError::Store(e) => e.into(),
        other => {
            tracing::error!(error = %other, "transfer record failure");
            ApiError::internal("Internal server error")
        }
    }
}

/// A `ClientToken`, checked against DynamoDB's pattern (no `$`).
pub(crate) fn client_token(body: &Value) -> Result<Option<String>, ApiError> {
    let token = optional_str(body, "ClientToken")?;
    if let Some(t) = token {
        if t.contains('$') || t.is_empty() {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{t}' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[^\\$]+$"
            )));
        }
    }
    Ok(token.map(str::to_owned))
}

/// The request without its ClientToken: what a repeated token must match.
pub(crate) fn fingerprint(body: &Value) -> Value {
    let mut v = body.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("ClientToken");
        o.retain(|_, v| !v.is_null());
    }
    v
}

/// The enum member `name`, one of `allowed`, or its default.
pub(crate) fn enum_member<'a>(
    body: &'a Value,
    name: &str,
    allowed: &[&str],
    default: &'a str,
) -> Result<&'a str, ApiError> {
    match optional_str(body, name)? {
        None => Ok(default),
        Some(v) if allowed.contains(&v) => Ok(v),
        Some(v) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{v}' at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            member_path(name),
            allowed.join(", ")
        ))),
    }
}

/// The table a `TableArn` member names (ValidationException for a malformed ARN).
pub(crate) fn arn_table(arn: &str) -> Result<&str, ApiError> {
    table_from_arn(arn)
        .map_err(|_| ApiError::validation(format!("Invalid TableArn: {arn} is not a table ARN")))
}

/// The job an earlier request with the same ClientToken started in the last 8 hours, to be
/// answered again; a `K::CONFLICT` error if that request asked for something else. Called while
/// holding [`crate::transfer::jobs::Transfers::start`], so two such requests start one job.
pub(crate) fn same_token<K: ApiJob>(
    api: &Api,
    token: Option<&str>,
    request: &Value,
    now: f64,
) -> Result<Option<Job<K::Kind>>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    let existing = Job::<K::Kind>::list(api.store()).map_err(transfer_error)?;
    let Some(job) = existing.into_iter().rev().find(|j| {
        j.client_token.as_deref() == Some(token) && j.start_time + CLIENT_TOKEN_WINDOW_SECS > now
    }) else {
        return Ok(None);
    };
    if job.request != *request {
        return Err(ApiError::new(
            K::CONFLICT,
            format!(
                "An {} with the same ClientToken but different parameters was requested within the last 8 hours",
                K::Kind::NAME
            ),
        ));
    }
    Ok(Some(job))
}

/// Runs `work` (the job `job` itself) in a thread of its own. If no thread can be started, the
/// job is recorded FAILED and the request answered `InternalServerError`.
pub(crate) fn start_thread<K: ApiJob>(
    api: &Api,
    job: &Job<K::Kind>,
    work: impl FnOnce() + Send + 'static,
) -> Result<(), ApiError> {
    let started = std::thread::Builder::new()
        .name(format!("{}-{}", K::Kind::NAME, job.id))
        .spawn(work);
    if let Err(e) = started {
        tracing::error!(error = %e, "cannot start the {} thread", K::Kind::NAME);
        api.transfers().end(&job.id);
        let mut failed = job.clone();
        record_failure(
            api,
            &mut failed,
            "InternalServerError",
            &format!("cannot start the {}", K::Kind::NAME),
        );
        return Err(ApiError::internal("Internal server error"));
    }
    Ok(())
}

/// Marks `job` FAILED now with `code` and `message`, and records it.
pub(crate) fn record_failure<K: JobKind>(api: &Api, job: &mut Job<K>, code: &str, message: &str) {
    job.fail(now_secs_f64(), code, message);
    if let Err(e) = job.save(api.store()) {
        tracing::error!(job = %job.arn, error = %e, "cannot record the failed {}", K::NAME);
    }
}

/// DescribeExport and DescribeImport: the job the request's ARN member names.
pub(crate) fn describe<K: ApiJob>(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let arn = required_str(body, K::ARN_MEMBER)?;
    let not_found = || {
        ApiError::new(
            K::NOT_FOUND,
            format!("{} not found: {arn}", title::<K::Kind>()),
        )
    };
    let id = Job::<K::Kind>::id_in_arn(arn).ok_or_else(not_found)?;
    let job = Job::<K::Kind>::load(api.store(), id)
        .map_err(transfer_error)?
        .filter(|j| j.arn == arn && in_region(api, &j.arn))
        .ok_or_else(not_found)?;
    Ok(answer::<K>(api, &job))
}

/// Whether a job's ARN (`arn:aws:dynamodb:<region>:...`) is in the request's region: a
/// request sees the exports and imports of its region's tables only.
fn in_region(api: &Api, arn: &str) -> bool {
    arn.split(':').nth(3) == Some(api.region())
}

/// The kind's name with a capital, as messages begin with it (`Export`, `Import`).
fn title<K: JobKind>() -> String {
    let mut chars = K::NAME.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A list's page size member (`MaxResults`, `PageSize`): 1 to 25, 25 when absent.
pub(crate) fn page_size(body: &Value, name: &str) -> Result<usize, ApiError> {
    let limit = optional_i64(body, name)?.unwrap_or(MAX_LIST);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{limit}' at '{}' failed to satisfy constraint: Member must have value {}",
            member_path(name),
            if limit < 1 { "greater than or equal to 1" } else { "less than or equal to 25" }
        )));
    }
    Ok(limit as usize)
}

/// One page of ListExports or ListImports: jobs newest first, only those of `table` when it is
/// given, only those older than the job `after` when it is given; at most `limit` of them, and
/// the id of the last one when more follow.
pub(crate) fn page<K: JobKind>(
    api: &Api,
    table: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Job<K>>, Option<String>), ApiError> {
    let mut all = Job::<K>::list(api.store()).map_err(transfer_error)?;
    all.reverse();
    let mut matching = all
        .into_iter()
        .filter(|j| in_region(api, &j.arn))
        .filter(|j| table.is_none_or(|t| j.table == t))
        .filter(|j| after.is_none_or(|a| j.id.as_str() < a))
        .peekable();
    let page: Vec<Job<K>> = matching.by_ref().take(limit).collect();
    let next = match matching.peek() {
        Some(_) => page.last().map(|j| j.id.clone()),
        None => None,
    };
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::transfer::jobs::{Export, Import};

    #[test]
    fn fingerprints_ignore_the_token() {
        assert_eq!(
            fingerprint(&json!({"ClientToken": "a", "S3Bucket": "b", "S3Prefix": null})),
            json!({"S3Bucket": "b"})
        );
    }

    #[test]
    fn titles_capitalize_the_kind() {
        assert_eq!(title::<Export>(), "Export");
        assert_eq!(title::<Import>(), "Import");
    }

    #[test]
    fn page_sizes_are_one_to_twenty_five() {
        assert_eq!(page_size(&json!({}), "PageSize").unwrap(), 25);
        assert_eq!(
            page_size(&json!({"MaxResults": 3}), "MaxResults").unwrap(),
            3
        );
        assert_eq!(
            page_size(&json!({"MaxResults": 26}), "MaxResults")
                .unwrap_err()
                .message,
            "1 validation error detected: Value '26' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 25"
        );
        assert!(page_size(&json!({"PageSize": 0}), "PageSize").is_err());
    }
}
