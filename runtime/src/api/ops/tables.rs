//! Table operations: CreateTable, DeleteTable, DescribeTable, ListTables, UpdateTable, tagging,
//! DescribeLimits and DescribeEndpoints, and the TableDescription shape they answer with.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tarn_store::schema::{BillingMode, TableMeta, TableSpec, TableStatus, Throughput};
use tarn_store::{StreamChange, TableInfo, TableUpdate};

use super::arn::{table_arn, table_from_arn};
use super::indexes;
use super::schema::{
    attribute_definitions, key_schema_json, key_schema_name_lengths, parse_key_schema, throughput,
};
use super::streams;
use crate::api::Api;
use tarn_wire::ApiError;
use tarn_wire::{
    optional_array, optional_bool, optional_i64, optional_str, required_array, required_str,
    table_name, ValidationErrors,
};

/// DynamoDB's TableDescription for a table, reporting `status`.
pub(crate) fn table_description(api: &Api, info: &TableInfo, status: TableStatus) -> Value {
    let meta = &info.meta;
    // A table being restored is CREATING whatever the caller thought.
    let restoring = meta.restore.as_ref().is_some_and(|r| r.in_progress);
    let status = if restoring {
        TableStatus::Creating
    } else {
        status
    };
    let mut d = Map::new();
    d.insert(
        "AttributeDefinitions".into(),
        meta.attribute_definitions
            .iter()
            .map(|a| json!({"AttributeName": a.name, "AttributeType": a.attr_type.as_str()}))
            .collect(),
    );
    d.insert("TableName".into(), json!(meta.name));
    d.insert("KeySchema".into(), key_schema_json(&meta.key_schema));
    d.insert("TableStatus".into(), json!(status.as_str()));
    d.insert("CreationDateTime".into(), json!(meta.created_at));
    let mut pt = Map::new();
    let t = meta.throughput.unwrap_or(Throughput { read: 0, write: 0 });
    pt.insert("NumberOfDecreasesToday".into(), json!(meta.decreases_today));
    pt.insert("ReadCapacityUnits".into(), json!(t.read));
    pt.insert("WriteCapacityUnits".into(), json!(t.write));
    if let Some(at) = meta.last_increase_at {
        pt.insert("LastIncreaseDateTime".into(), json!(at));
    }
    if let Some(at) = meta.last_decrease_at {
        pt.insert("LastDecreaseDateTime".into(), json!(at));
    }
    d.insert("ProvisionedThroughput".into(), Value::Object(pt));
    d.insert("TableSizeBytes".into(), json!(info.size_bytes));
    d.insert("ItemCount".into(), json!(info.item_count));
    d.insert("TableArn".into(), json!(table_arn(api, &meta.name)));
    d.insert("TableId".into(), json!(meta.id.to_string()));
    if meta.billing_mode == BillingMode::PayPerRequest
        || meta.billing_mode_updated_at > meta.created_at
    {
        let mut summary = Map::new();
        summary.insert("BillingMode".into(), json!(meta.billing_mode.as_str()));
        let key = if meta.billing_mode == BillingMode::PayPerRequest {
            "LastUpdateToPayPerRequestDateTime"
        } else {
            "LastUpdateToProvisionedDateTime"
        };
        summary.insert(key.into(), json!(meta.billing_mode_updated_at));
        d.insert("BillingModeSummary".into(), Value::Object(summary));
    }
    if let Some(class) = &meta.table_class {
        d.insert("TableClassSummary".into(), json!({"TableClass": class}));
    }
    d.insert(
        "DeletionProtectionEnabled".into(),
        json!(meta.deletion_protection),
    );
    if let Some(r) = &meta.restore {
        let mut summary = Map::new();
        if let Some(b) = &r.source_backup {
            summary.insert(
                "SourceBackupArn".into(),
                json!(format!("{}/backup/{b}", table_arn(api, &r.source_table))),
            );
        }
        summary.insert(
            "SourceTableArn".into(),
            json!(table_arn(api, &r.source_table)),
        );
        summary.insert("RestoreDateTime".into(), json!(r.restore_time));
        summary.insert("RestoreInProgress".into(), json!(r.in_progress));
        d.insert("RestoreSummary".into(), Value::Object(summary));
    }
    streams::describe_table_streams(api, meta, &mut d);
    indexes::describe(api, meta, &info.indexes, status, &mut d);
    Value::Object(d)
}

fn billing_mode(body: &Value) -> Result<Option<BillingMode>, ApiError> {
    match optional_str(body, "BillingMode")? {
        None => Ok(None),
        Some("PROVISIONED") => Ok(Some(BillingMode::Provisioned)),
        Some("PAY_PER_REQUEST") => Ok(Some(BillingMode::PayPerRequest)),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
        ))),
    }
}

/// Tags a table may carry at most.
const MAX_TAGS: usize = 50;

/// A `Tags` member (CreateTable's, TagResource's) checked as DynamoDB checks tags: keys of 1 to
/// 128 characters and values of at most 256, made of letters, digits, white space and
/// `+ - = . _ : /`, keys not starting with the reserved `aws:`, at most 50 of them.
fn tags(body: &Value, member: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    for (i, t) in optional_array(body, member)?
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = format!("tags.{}.member", i + 1);
        let field = |name: &str, member: &str| {
            t.get(name).and_then(Value::as_str).ok_or_else(|| {
                ApiError::validation(format!(
                    "1 validation error detected: Value null at '{path}.{member}' failed to satisfy constraint: Member must not be null"
                ))
            })
        };
        let key = field("Key", "key")?;
        let value = field("Value", "value")?;
        check_tag(&path, key, value)?;
        out.insert(key.to_string(), value.to_string());
    }
    if out.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    Ok(out)
}

fn too_many_tags() -> ApiError {
    ApiError::validation(format!(
        "One or more parameter values were invalid: The number of tags on the resource exceeds the limit of {MAX_TAGS}"
    ))
}

/// One tag's key and value, against DynamoDB's rules.
fn check_tag(path: &str, key: &str, value: &str) -> Result<(), ApiError> {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "+-=._:/".contains(c))
    };
    let key_chars = key.chars().count();
    if !(1..=128).contains(&key_chars) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{key}' at '{path}.key' failed to satisfy constraint: Member must have length {}",
            if key_chars == 0 { "greater than or equal to 1" } else { "less than or equal to 128" }
        )));
    }
    if value.chars().count() > 256 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{value}' at '{path}.value' failed to satisfy constraint: Member must have length less than or equal to 256"
        )));
    }
    if !allowed(key) || !allowed(value) {
        return Err(ApiError::validation(
            "One or more parameter values were invalid: A tag key or value contains characters that are not allowed: use letters, numbers, white space and + - = . _ : /",
        ));
    }
    if key.len() >= 4 && key[..4].eq_ignore_ascii_case("aws:") {
        return Err(ApiError::validation(format!(
            "One or more parameter values were invalid: The tag key '{key}' is reserved: keys starting with 'aws:' are reserved for AWS use"
        )));
    }
    Ok(())
}

/// CreateTable.
pub(crate) fn create_table(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let mut spec = table_spec(body)?;
    spec.name = api.table_ref(&spec.name).into_owned();
    let meta = api.store().create_table(spec)?;
    let info = TableInfo {
        meta,
        item_count: 0,
        size_bytes: 0,
        indexes: Vec::new(),
    };
    Ok(json!({"TableDescription": table_description(api, &info, TableStatus::Creating)}))
}

/// The table a CreateTable request (or ImportTable's TableCreationParameters, a subset of it)
/// describes, validated as CreateTable validates it.
pub(crate) fn table_spec(body: &Value) -> Result<TableSpec, ApiError> {
    let name = table_name(body)?;
    let mut errors = ValidationErrors::new();
    let definitions =
        attribute_definitions(required_array(body, "AttributeDefinitions")?, &mut errors)?;
    let key_elems = required_array(body, "KeySchema")?;
    if key_elems.is_empty() || key_elems.len() > 2 {
        errors.push(
            "keySchema",
            None,
            "Member must have length less than or equal to 2, Member must have length greater than or equal to 1",
        );
    }
    key_schema_name_lengths(key_elems, "keySchema", &mut errors);
    let indexes = indexes::parse_create(body, &mut errors)?;
    errors.finish()?;
    let key_schema = parse_key_schema(key_elems, &definitions, "keySchema")?;
    let spec = TableSpec {
        name: name.to_string(),
        key_schema,
        attribute_definitions: definitions.clone(),
        billing_mode: billing_mode(body)?.unwrap_or(BillingMode::Provisioned),
        throughput: throughput(body)?,
        tags: tags(body, "Tags")?,
        deletion_protection: optional_bool(body, "DeletionProtectionEnabled")?.unwrap_or(false),
        table_class: optional_str(body, "TableClass")?.map(str::to_string),
        indexes: indexes.resolve(&definitions)?,
        stream: match streams::stream_specification(body)? {
            Some(StreamChange::Enable(view)) => Some(view),
            _ => None,
        },
    };
    Ok(spec)
}

/// DeleteTable: the table's description in `DELETING`, with the members DynamoDB's answer
/// has (its name and status, throughput, size and count, ARN and id, billing and class
/// summaries, deletion protection, its stream), not the definition (attributes, keys,
/// indexes, creation time).
pub(crate) fn delete_table(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let info = api
        .store()
        .delete_table(&api.table_ref(table_name(body)?))?;
    let full = table_description(api, &info, TableStatus::Deleting);
    let mut d = Map::new();
    for member in [
        "TableName",
        "TableStatus",
        "ProvisionedThroughput",
        "TableSizeBytes",
        "ItemCount",
        "TableArn",
        "TableId",
        "BillingModeSummary",
        "TableClassSummary",
        "DeletionProtectionEnabled",
        "StreamSpecification",
        "LatestStreamLabel",
        "LatestStreamArn",
    ] {
        if let Some(v) = full.get(member) {
            d.insert(member.into(), v.clone());
        }
    }
    // Only the current figures of the throughput, without the dates of its changes.
    if let Some(Value::Object(pt)) = d.get_mut("ProvisionedThroughput") {
        pt.retain(|k, _| {
            matches!(
                k.as_str(),
                "NumberOfDecreasesToday" | "ReadCapacityUnits" | "WriteCapacityUnits"
            )
        });
    }
    Ok(json!({ "TableDescription": d }))
}

/// DescribeTable.
pub(crate) fn describe_table(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let info = api
        .store()
        .describe_table(&api.table_ref(table_name(body)?))?;
    Ok(json!({"Table": table_description(api, &info, TableStatus::Active)}))
}

/// ListTables, paged by ExclusiveStartTableName and Limit (1 to 100).
pub(crate) fn list_tables(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let limit = optional_i64(body, "Limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value {}",
            if limit < 1 { "greater than or equal to 1" } else { "less than or equal to 100" }
        )));
    }
    let start = optional_str(body, "ExclusiveStartTableName")?;
    let (names, last) = api
        .store()
        .list_tables_in(api.region(), start, limit as usize);
    let mut out = Map::new();
    out.insert("TableNames".into(), json!(names));
    if let Some(last) = last {
        out.insert("LastEvaluatedTableName".into(), json!(last));
    }
    Ok(Value::Object(out))
}

/// UpdateTable: billing mode, provisioned throughput, deletion protection, table class, the
/// stream, and global secondary indexes.
pub(crate) fn update_table(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let name = table_name(body)?;
    let table = api.table_ref(name);
    for unsupported in ["ReplicaUpdates"] {
        if body.get(unsupported).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::validation(format!(
                "{unsupported} is not supported by this version of tarn yet"
            )));
        }
    }
    let update = TableUpdate {
        billing_mode: billing_mode(body)?,
        throughput: throughput(body)?,
        deletion_protection: optional_bool(body, "DeletionProtectionEnabled")?,
        table_class: optional_str(body, "TableClass")?.map(str::to_string),
        stream: streams::stream_specification(body)?,
    };
    let index_updates = indexes::parse_updates(body, &api.store().table_meta(&table)?)?;
    let table_level = update.billing_mode.is_some()
        || update.throughput.is_some()
        || update.deletion_protection.is_some()
        || update.table_class.is_some()
        || update.stream.is_some();
    if !table_level && index_updates.is_empty() {
        return Err(ApiError::validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    if update.billing_mode == Some(BillingMode::Provisioned) && update.throughput.is_none() {
        let current = api.store().table_meta(&table)?;
        if current.throughput.is_none() {
            return Err(ApiError::validation(
                "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
            ));
        }
    }
    if table_level {
        api.store().update_table(&table, update)?;
    }
    let status = if index_updates.is_empty() {
        TableStatus::Active
    } else {
        TableStatus::Updating
    };
    let deleted = indexes::apply_updates(api, name, index_updates)?;
    let info = api.store().describe_table(&table)?;
    let mut d = table_description(api, &info, status);
    indexes::describe_deleted(api, &info.meta, &deleted, &mut d);
    Ok(json!({ "TableDescription": d }))
}

/// The table a `ResourceArn` names, which must be in the request's region: a table of
/// another region is not found here.
fn resource_table<'a>(api: &Api, body: &'a Value) -> Result<&'a str, ApiError> {
    let arn = required_str(body, "ResourceArn")?;
    let name = table_from_arn(arn)?;
    if arn.split(':').nth(3) != Some(api.region()) {
        return Err(ApiError::resource_not_found(format!(
            "Requested resource not found: ResourcArn: {arn} not found"
        )));
    }
    Ok(name)
}

fn not_found_arn(api: &Api, name: &str, e: tarn_store::StoreError) -> ApiError {
    match e {
        tarn_store::StoreError::TableNotFound(_) => ApiError::resource_not_found(format!(
            "Requested resource not found: ResourcArn: {} not found",
            table_arn(api, name)
        )),
        other => other.into(),
    }
}

/// TagResource.
pub(crate) fn tag_resource(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let name = resource_table(api, body)?;
    if required_array(body, "Tags")?.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let tags = tags(body, "Tags")?;
    api.store()
        .tag_table(&api.table_ref(name), tags)
        .map_err(|e| match e {
            tarn_store::StoreError::LimitExceeded(_) => too_many_tags(),
            e => not_found_arn(api, name, e),
        })?;
    Ok(json!({}))
}

/// UntagResource.
pub(crate) fn untag_resource(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let name = resource_table(api, body)?;
    let keys: Vec<String> = required_array(body, "TagKeys")?
        .iter()
        .map(|k| {
            k.as_str()
                .map(str::to_string)
                .ok_or_else(|| ApiError::serialization("TagKeys must be strings"))
        })
        .collect::<Result<_, _>>()?;
    api.store()
        .untag_table(&api.table_ref(name), &keys)
        .map_err(|e| not_found_arn(api, name, e))?;
    Ok(json!({}))
}

/// ListTagsOfResource.
pub(crate) fn list_tags_of_resource(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let name = resource_table(api, body)?;
    let meta: TableMeta = api
        .store()
        .table_meta(&api.table_ref(name))
        .map_err(|e| not_found_arn(api, name, e))?;
    let tags: Vec<Value> = meta
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({"Tags": tags}))
}

/// DescribeLimits: DynamoDB's default account and table quotas.
pub(crate) fn describe_limits(_api: &Api, _body: &Value) -> Result<Value, ApiError> {
    Ok(json!({
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000
    }))
}

/// DescribeEndpoints: the regional endpoint, cached for a day, as DynamoDB answers.
pub(crate) fn describe_endpoints(api: &Api, _body: &Value) -> Result<Value, ApiError> {
    Ok(
        json!({"Endpoints": [{"Address": format!("dynamodb.{}.amazonaws.com", api.region()), "CachePeriodInMinutes": 1440}]}),
    )
}
