//! On-demand backups and point-in-time recovery: CreateBackup, DescribeBackup, ListBackups,
//! DeleteBackup, RestoreTableFromBackup, UpdateContinuousBackups, DescribeContinuousBackups,
//! RestoreTableToPointInTime.
//!
//! The store does the work (`tarn_store::backup`); this module maps DynamoDB's shapes onto it:
//! backup ARNs (`<table ARN>/backup/<id>`), timestamps as epoch seconds, the overrides a restore
//! may carry, and the exception names of the backup API (TableNotFoundException rather than
//! ResourceNotFoundException for a missing source table).

use serde_json::{json, Map, Value};
use tarn_store::backup::{
    BackupMeta, BackupStatus, PitrStatus, PointInTime, RestoreOverrides, RestoreRequest,
    RestoreSource,
};
use tarn_store::schema::{BillingMode, TableMeta, TableStatus};
use tarn_store::{StoreError, TableInfo};

use super::arn::table_arn;
use super::indexes;
use super::schema::throughput;
use super::tables::table_description;
use crate::api::Api;
use tarn_wire::kind;
use tarn_wire::ApiError;
use tarn_wire::{
    optional_array, optional_bool, optional_i64, optional_object, optional_str, optional_time,
    required_object, required_str, table_name, table_name_member, ValidationErrors,
};

/// A missing source table, as the backup API names it.
fn table_not_found(e: StoreError) -> ApiError {
    match e {
        StoreError::TableNotFound(name) => {
            ApiError::new(kind::TABLE_NOT_FOUND, format!("Table not found: {name}"))
        }
        other => other.into(),
    }
}

fn backup_arn(api: &Api, b: &BackupMeta) -> String {
    format!("{}/backup/{}", table_arn(api, &b.table.name), b.id)
}

/// The backup id inside a BackupArn.
fn backup_id(arn: &str) -> Result<&str, ApiError> {
    let id = arn
        .strip_prefix("arn:")
        .and_then(|_| arn.rsplit_once("/backup/"))
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty() && !id.contains('/'));
    id.ok_or_else(|| ApiError::validation(format!("Invalid BackupArn provided as input: {arn}")))
}

fn backup_details(api: &Api, b: &BackupMeta) -> Value {
    let mut d = Map::new();
    d.insert("BackupArn".into(), json!(backup_arn(api, b)));
    d.insert("BackupName".into(), json!(b.name));
    d.insert("BackupStatus".into(), json!(b.status.as_str()));
    d.insert("BackupType".into(), json!("USER"));
    d.insert("BackupCreationDateTime".into(), json!(b.created_at));
    if b.status == BackupStatus::Available {
        d.insert("BackupSizeBytes".into(), json!(b.size_bytes));
    }
    Value::Object(d)
}

fn backup_description(api: &Api, b: &BackupMeta) -> Value {
    let source = table_description(
        api,
        &TableInfo {
            meta: b.table.clone(),
            item_count: b.item_count,
            size_bytes: b.size_bytes,
            indexes: Vec::new(),
        },
        TableStatus::Active,
    );
    let pick = |k: &str| source.get(k).cloned();
    let mut details = Map::new();
    details.insert("TableName".into(), json!(b.table.name));
    details.insert("TableId".into(), json!(b.table.id.to_string()));
    details.insert("TableArn".into(), json!(table_arn(api, &b.table.name)));
    details.insert("TableSizeBytes".into(), json!(b.size_bytes));
    details.insert("ItemCount".into(), json!(b.item_count));
    details.insert("TableCreationDateTime".into(), json!(b.table.created_at));
    details.insert("BillingMode".into(), json!(b.table.billing_mode.as_str()));
    for k in ["KeySchema", "ProvisionedThroughput"] {
        if let Some(v) = pick(k) {
            details.insert(k.into(), v);
        }
    }
    let mut features = Map::new();
    for k in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        if let Some(Value::Array(list)) = pick(k) {
            let list: Vec<Value> = list
                .into_iter()
                .map(|ix| {
                    let mut o = Map::new();
                    for f in [
                        "IndexName",
                        "KeySchema",
                        "Projection",
                        "ProvisionedThroughput",
                    ] {
                        if let Some(v) = ix.get(f) {
                            o.insert(f.into(), v.clone());
                        }
                    }
                    Value::Object(o)
                })
                .collect();
            features.insert(k.into(), Value::Array(list));
        }
    }
    if let Some(s) = b.table.enabled_stream() {
        features.insert(
            "StreamDescription".into(),
            json!({"StreamEnabled": true, "StreamViewType": s.view_type.as_str()}),
        );
    }
    features.insert(
        "TimeToLiveDescription".into(),
        match &b.table.ttl {
            Some(t) => json!({"TimeToLiveStatus": "ENABLED", "AttributeName": t.attribute}),
            None => json!({"TimeToLiveStatus": "DISABLED"}),
        },
    );
    json!({
        "BackupDetails": backup_details(api, b),
        "SourceTableDetails": details,
        "SourceTableFeatureDetails": features,
    })
}

fn backup_name(body: &Value) -> Result<&str, ApiError> {
    let name = required_str(body, "BackupName")?;
    let mut errors = ValidationErrors::new();
    if name.len() < 3 || name.len() > 255 {
        errors.push(
            "backupName",
            Some(name),
            "Member must have length between 3 and 255",
        );
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        errors.push(
            "backupName",
            Some(name),
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        );
    }
    errors.finish()?;
    Ok(name)
}

/// CreateBackup.
pub(crate) fn create_backup(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table = table_name(body)?;
    let name = backup_name(body)?;
    let b = api
        .store()
        .create_backup(&api.table_ref(table), name)
        .map_err(table_not_found)?;
    Ok(json!({"BackupDetails": backup_details(api, &b)}))
}

/// Backup `id`, which must be a backup of a table of the request's region: another region's
/// backups are not found here.
fn regional_backup(api: &Api, id: &str) -> Result<BackupMeta, ApiError> {
    let b = api.store().describe_backup(id)?;
    if b.table.region != api.region() {
        return Err(StoreError::BackupNotFound(format!("Backup not found: {id}")).into());
    }
    Ok(b)
}

/// DescribeBackup.
pub(crate) fn describe_backup(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let id = backup_id(required_str(body, "BackupArn")?)?;
    let b = regional_backup(api, id)?;
    Ok(json!({"BackupDescription": backup_description(api, &b)}))
}

/// DeleteBackup.
pub(crate) fn delete_backup(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let id = backup_id(required_str(body, "BackupArn")?)?;
    regional_backup(api, id)?;
    let mut b = api.store().delete_backup(id)?;
    b.status = BackupStatus::Failed; // reported as DELETED
    Ok(json!({"BackupDescription": backup_description(api, &b)}))
}

/// ListBackups: filtered by table, time range and type; paged by ExclusiveStartBackupArn.
pub(crate) fn list_backups(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table = match body.get("TableName") {
        Some(Value::String(_)) => Some(table_name(body)?),
        _ => None,
    };
    let limit = optional_i64(body, "Limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
        )));
    }
    let lower = optional_time(body, "TimeRangeLowerBound")?;
    let upper = optional_time(body, "TimeRangeUpperBound")?;
    let kind = optional_str(body, "BackupType")?.unwrap_or("USER");
    if !["USER", "SYSTEM", "AWS_BACKUP", "ALL"].contains(&kind) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{kind}' at 'backupType' failed to satisfy constraint: Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]"
        )));
    }
    let start = optional_str(body, "ExclusiveStartBackupArn")?
        .map(backup_id)
        .transpose()?;
    let backups: Vec<BackupMeta> = api
        .store()
        .list_backups()?
        .into_iter()
        .filter(|_| kind == "USER" || kind == "ALL")
        .filter(|b| b.table.region == api.region())
        .filter(|b| table.is_none_or(|t| b.table.name == t))
        .filter(|b| lower.is_none_or(|l| b.created_at >= l))
        .filter(|b| upper.is_none_or(|u| b.created_at < u))
        .filter(|b| start.is_none_or(|s| b.id.as_str() > s))
        .collect();
    let more = backups.len() > limit as usize;
    let page = &backups[..backups.len().min(limit as usize)];
    let summaries: Vec<Value> = page
        .iter()
        .map(|b| {
            let mut s = backup_details(api, b);
            let o = s.as_object_mut().expect("an object");
            o.insert("TableName".into(), json!(b.table.name));
            o.insert("TableId".into(), json!(b.table.id.to_string()));
            o.insert("TableArn".into(), json!(table_arn(api, &b.table.name)));
            s
        })
        .collect();
    let mut out = Map::new();
    out.insert("BackupSummaries".into(), Value::Array(summaries));
    if more {
        if let Some(last) = page.last() {
            out.insert(
                "LastEvaluatedBackupArn".into(),
                json!(backup_arn(api, last)),
            );
        }
    }
    Ok(Value::Object(out))
}

/// The overrides of RestoreTableFromBackup and RestoreTableToPointInTime; index overrides are
/// checked against the source's attribute definitions.
fn overrides(body: &Value, source: &TableMeta) -> Result<RestoreOverrides, ApiError> {
    for unsupported in ["SSESpecificationOverride", "OnDemandThroughputOverride"] {
        if body.get(unsupported).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::validation(format!(
                "{unsupported} is not supported by tarn"
            )));
        }
    }
    let billing_mode = match optional_str(body, "BillingModeOverride")? {
        None => None,
        Some("PROVISIONED") => Some(BillingMode::Provisioned),
        Some("PAY_PER_REQUEST") => Some(BillingMode::PayPerRequest),
        Some(other) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'billingModeOverride' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )))
        }
    };
    let throughput = match optional_object(body, "ProvisionedThroughputOverride")? {
        Some(pt) => throughput(&json!({"ProvisionedThroughput": pt}))?,
        None => None,
    };
    // Index overrides are read as CreateTable reads its indexes; an empty override list means
    // "no indexes of that kind" (CreateTable would refuse an empty list).
    let global = optional_array(body, "GlobalSecondaryIndexOverride")?;
    let local = optional_array(body, "LocalSecondaryIndexOverride")?;
    let mut synthetic = Map::new();
    for (list, member) in [
        (global, "GlobalSecondaryIndexes"),
        (local, "LocalSecondaryIndexes"),
    ] {
        if let Some(list) = list.filter(|l| !l.is_empty()) {
            synthetic.insert(member.into(), Value::Array(list.clone()));
        }
    }
    let synthetic = Value::Object(synthetic);
    let mut errors = ValidationErrors::new();
    let parsed = indexes::parse_create(&synthetic, &mut errors)?;
    errors.finish()?;
    let specs = parsed.resolve(&source.attribute_definitions)?;
    let (local_specs, global_specs): (Vec<_>, Vec<_>) = specs
        .into_iter()
        .partition(|s| s.kind == tarn_store::index::IndexKind::Local);
    Ok(RestoreOverrides {
        billing_mode,
        throughput,
        global_indexes: global.map(|_| global_specs),
        local_indexes: local.map(|_| local_specs),
    })
}

fn restored(api: &Api, info: TableInfo) -> Value {
    json!({"TableDescription": table_description(api, &info, TableStatus::Creating)})
}

/// RestoreTableFromBackup.
pub(crate) fn restore_table_from_backup(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let target = table_name_member(body, "TargetTableName")?;
    let id = backup_id(required_str(body, "BackupArn")?)?;
    let backup = regional_backup(api, id)?;
    let info = api.store().restore_table(RestoreRequest {
        target: api.table_ref(target).into_owned(),
        source: RestoreSource::Backup(id.to_string()),
        overrides: overrides(body, &backup.table)?,
    })?;
    Ok(restored(api, info))
}

fn pitr_description(s: &PitrStatus) -> Value {
    let mut p = Map::new();
    p.insert(
        "PointInTimeRecoveryStatus".into(),
        json!(if s.enabled { "ENABLED" } else { "DISABLED" }),
    );
    if s.enabled {
        p.insert("RecoveryPeriodInDays".into(), json!(s.recovery_period_days));
    }
    if let Some(t) = s.earliest {
        p.insert("EarliestRestorableDateTime".into(), json!(t));
    }
    if let Some(t) = s.latest {
        p.insert("LatestRestorableDateTime".into(), json!(t));
    }
    json!({"ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED",
        "PointInTimeRecoveryDescription": p,
    }})
}

/// UpdateContinuousBackups: PointInTimeRecoverySpecification on or off.
pub(crate) fn update_continuous_backups(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table = table_name(body)?;
    let spec = Value::Object(required_object(body, "PointInTimeRecoverySpecification")?.clone());
    let enabled = optional_bool(&spec, "PointInTimeRecoveryEnabled")?.ok_or_else(|| {
        ApiError::validation(
            "1 validation error detected: Value null at 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let days = optional_i64(&spec, "RecoveryPeriodInDays")?.unwrap_or(35);
    if !(1..=35).contains(&days) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{days}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value between 1 and 35"
        )));
    }
    let status = api
        .store()
        .update_pitr(&api.table_ref(table), enabled, days as u32)
        .map_err(table_not_found)?;
    Ok(pitr_description(&status))
}

/// DescribeContinuousBackups.
pub(crate) fn describe_continuous_backups(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let status = api
        .store()
        .pitr_status(&api.table_ref(table_name(body)?))
        .map_err(table_not_found)?;
    Ok(pitr_description(&status))
}

/// RestoreTableToPointInTime: a table (live or deleted within its recovery period) as it was
/// at RestoreDateTime, or at the latest restorable time, into a new table.
pub(crate) fn restore_table_to_point_in_time(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let target = table_name_member(body, "TargetTableName")?;
    let source = match (
        optional_str(body, "SourceTableName")?,
        optional_str(body, "SourceTableArn")?,
    ) {
        (Some(_), None) => table_name_member(body, "SourceTableName")?.to_string(),
        (None, Some(arn)) => arn
            .rsplit_once(":table/")
            .map(|(_, n)| n.to_string())
            .filter(|n| !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| ApiError::validation(format!("Invalid SourceTableArn: {arn}")))?,
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "Only one of SourceTableArn or SourceTableName may be specified",
            ))
        }
        (None, None) => {
            return Err(ApiError::validation(
                "Either SourceTableArn or SourceTableName must be specified",
            ))
        }
    };
    let latest = optional_bool(body, "UseLatestRestorableTime")?.unwrap_or(false);
    let at = match (optional_time(body, "RestoreDateTime")?, latest) {
        (Some(_), true) => {
            return Err(ApiError::validation(
                "Only one of RestoreDateTime or UseLatestRestorableTime may be specified",
            ))
        }
        (Some(t), false) => PointInTime::At(t),
        (None, true) => PointInTime::Latest,
        (None, false) => {
            return Err(ApiError::validation(
                "Either RestoreDateTime or UseLatestRestorableTime must be specified",
            ))
        }
    };
    let source_meta = api
        .store()
        .pitr_source(&api.table_ref(&source))
        .map_err(table_not_found)?;
    let info = api
        .store()
        .restore_table(RestoreRequest {
            target: api.table_ref(target).into_owned(),
            source: RestoreSource::PointInTime {
                table: api.table_ref(&source).into_owned(),
                at,
            },
            overrides: overrides(body, &source_meta)?,
        })
        .map_err(table_not_found)?;
    Ok(restored(api, info))
}
