//! Query and Scan: pages of items with Limit, ExclusiveStartKey/LastEvaluatedKey, the 1 MB page
//! rule, filters, projections, Select, ScanIndexForward and parallel Scan segments, on a table
//! or on one of its secondary indexes (IndexName).

use serde_json::{json, Value};
use tarn_store::expr::{Condition, Projection};
use tarn_store::index::{IndexKind, IndexRead};
use tarn_store::schema::{KeySchema, TableMeta};
use tarn_store::{Page, PageRequest};

use super::capacity::{self, Kind, Report};
use super::expressions::RequestExprs;
use super::indexes::{self, IndexReadPlan};
use super::items::project;
use crate::api::Api;
use tarn_wire::ApiError;
use tarn_wire::{
    encode_item, optional_bool, optional_i64, optional_item, optional_str, table_name,
};

/// What Select asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Select {
    All,
    AllProjected,
    Count,
    Specific,
}

fn select(
    body: &Value,
    projection: Option<&Projection>,
    on_index: bool,
) -> Result<Select, ApiError> {
    // The member that carried the projection, named in the errors as DynamoDB names it.
    let member = if body
        .get("ProjectionExpression")
        .is_some_and(|v| !v.is_null())
    {
        "ProjectionExpression"
    } else {
        "AttributesToGet"
    };
    let refuse = |what: &str| {
        ApiError::validation(format!(
            "Cannot specify the {member} when choosing to get {what}"
        ))
    };
    match optional_str(body, "Select")? {
        None if projection.is_some() => Ok(Select::Specific),
        None if on_index => Ok(Select::AllProjected),
        None => Ok(Select::All),
        Some("ALL_ATTRIBUTES") if projection.is_some() => Err(refuse("ALL_ATTRIBUTES")),
        Some("ALL_ATTRIBUTES") => Ok(Select::All),
        Some("COUNT") if projection.is_some() => Err(refuse("only the COUNT")),
        Some("COUNT") => Ok(Select::Count),
        Some("SPECIFIC_ATTRIBUTES") if projection.is_none() => Err(ApiError::validation(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
        )),
        Some("SPECIFIC_ATTRIBUTES") => Ok(Select::Specific),
        Some("ALL_PROJECTED_ATTRIBUTES") if !on_index => Err(ApiError::validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
        )),
        Some("ALL_PROJECTED_ATTRIBUTES") if projection.is_some() => {
            Err(refuse("ALL_PROJECTED_ATTRIBUTES"))
        }
        Some("ALL_PROJECTED_ATTRIBUTES") => Ok(Select::AllProjected),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        ))),
    }
}

fn page_request(body: &Value) -> Result<PageRequest, ApiError> {
    let limit = optional_i64(body, "Limit")?;
    if let Some(l) = limit.filter(|l| *l < 1) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        )));
    }
    Ok(PageRequest {
        exclusive_start_key: optional_item(body, "ExclusiveStartKey")?,
        limit: limit.map(|l| l as usize),
    })
}

/// The index a read targets, checked against the request: `None` for the table itself.
fn index_plan(
    body: &Value,
    meta: &TableMeta,
    consistent: bool,
    select: Select,
    projection: Option<&Projection>,
    filter: Option<&Condition>,
) -> Result<Option<IndexReadPlan>, ApiError> {
    let Some(name) = optional_str(body, "IndexName")? else {
        return Ok(None);
    };
    let filter_paths = filter.map(Condition::paths).unwrap_or_default();
    let named = projection
        .into_iter()
        .flat_map(|p| p.paths.iter())
        .chain(filter_paths.iter().copied())
        .map(|p| p.top());
    indexes::plan_read(meta, name, consistent, select == Select::All, named).map(Some)
}

fn filter_fn(
    filter: Option<&Condition>,
) -> impl FnMut(&tarn_store::Item) -> tarn_store::Result<bool> + '_ {
    move |item| match filter {
        None => Ok(true),
        Some(f) => f
            .evaluate(Some(item))
            .map_err(|e| tarn_store::StoreError::Validation(e.to_string())),
    }
}

/// What a page's consumed capacity depends on, beside its bytes: where it read, how, and
/// whether the request asked for ReturnConsumedCapacity.
struct PageRead<'a> {
    report: Report,
    table: &'a str,
    index: Option<&'a IndexReadPlan>,
    consistent: bool,
}

fn page_response(
    api: &Api,
    page: Page,
    select: Select,
    projection: Option<&Projection>,
    read: PageRead<'_>,
) -> Value {
    let PageRead {
        report,
        table,
        index,
        consistent,
    } = read;
    let mut out = json!({
        "Count": page.items.len(),
        "ScannedCount": page.scanned_count,
    });
    if select != Select::Count {
        out["Items"] = page
            .items
            .into_iter()
            .map(|i| encode_item(&project(projection, i)))
            .collect();
    }
    if let Some(k) = page.last_evaluated_key {
        out["LastEvaluatedKey"] = encode_item(&k);
    }
    let units = capacity::read_units(page.scanned_bytes, consistent);
    let consumed = match index {
        None => capacity::consumed(api, report, table, units, Kind::Read),
        Some(ix) => capacity::consumed_on_index(
            api,
            report,
            table,
            &ix.meta.name,
            ix.meta.kind == IndexKind::Global,
            units,
        ),
    };
    capacity::attach(&mut out, consumed);
    out
}

/// Refuses a Query filter on a key attribute of the table or index queried.
fn check_filter_keys(filter: Option<&Condition>, keys: &KeySchema) -> Result<(), ApiError> {
    if let Some(key) = filter.and_then(|f| {
        f.paths()
            .into_iter()
            .map(|p| p.top())
            .find(|a| keys.is_key_attribute(a))
            .map(str::to_string)
    }) {
        return Err(ApiError::validation(format!(
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: {key}"
        )));
    }
    Ok(())
}

fn index_read(plan: &IndexReadPlan) -> IndexRead<'_> {
    IndexRead {
        name: &plan.meta.name,
        fetch_table_items: plan.fetch_table_items,
    }
}

/// Query.
pub(crate) fn query(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table = table_name(body)?;
    let meta = api.store().table_meta(&api.table_ref(table))?;
    let report = Report::from_request(body)?;
    let consistent = optional_bool(body, "ConsistentRead")?.unwrap_or(false);
    let forward = optional_bool(body, "ScanIndexForward")?.unwrap_or(true);
    let page = page_request(body)?;
    let index_name = optional_str(body, "IndexName")?;
    // The key the condition is on: the table's, or the index's.
    let keys = match index_name {
        None => meta.key_schema.clone(),
        Some(name) => meta
            .indexes
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.key_schema.clone())
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "The table does not have the specified index: {name}"
                ))
            })?,
    };
    let mut exprs = RequestExprs::new(body)?;
    let hash_names: Vec<&str> = keys.hash_attributes().map(|a| a.name.as_str()).collect();
    let range_names: Vec<&str> = keys.range_attributes().map(|a| a.name.as_str()).collect();
    let key_condition = exprs.key_condition(&hash_names, &range_names)?;
    let filter = exprs.filter("QueryFilter")?;
    let projection = exprs.projection()?;
    exprs.check_key_paths(api, &api.table_ref(table))?;
    exprs.finish()?;
    check_filter_keys(filter.as_ref(), &keys)?;
    let select = select(body, projection.as_ref(), index_name.is_some())?;
    let plan = index_plan(
        body,
        &meta,
        consistent,
        select,
        projection.as_ref(),
        filter.as_ref(),
    )?;
    let result = match &plan {
        None => api.store().query(
            &api.table_ref(table),
            &key_condition.hash_value,
            key_condition.range.as_ref(),
            forward,
            &page,
            filter_fn(filter.as_ref()),
        )?,
        Some(plan) => api.store().query_index(
            &api.table_ref(table),
            index_read(plan),
            &key_condition,
            forward,
            &page,
            filter_fn(filter.as_ref()),
        )?,
    };
    Ok(page_response(
        api,
        result,
        select,
        projection.as_ref(),
        PageRead {
            report,
            table,
            index: plan.as_ref(),
            consistent,
        },
    ))
}

/// Scan, including parallel Scan (Segment / TotalSegments).
pub(crate) fn scan(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let table = table_name(body)?;
    let report = Report::from_request(body)?;
    let consistent = optional_bool(body, "ConsistentRead")?.unwrap_or(false);
    let page = page_request(body)?;
    let segment = match (optional_i64(body, "Segment")?, optional_i64(body, "TotalSegments")?) {
        (None, None) => None,
        (Some(s), Some(t)) => {
            if !(1..=1_000_000).contains(&t) {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value {}",
                    if t < 1 { "greater than or equal to 1" } else { "less than or equal to 1000000" }
                )));
            }
            if s < 0 || s >= t {
                return Err(ApiError::validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                )));
            }
            Some((s as u32, t as u32))
        }
        (Some(_), None) => {
            return Err(ApiError::validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present"))
        }
        (None, Some(_)) => {
            return Err(ApiError::validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present"))
        }
    };
    let mut exprs = RequestExprs::new(body)?;
    let filter = exprs.filter("ScanFilter")?;
    let projection = exprs.projection()?;
    exprs.check_key_paths(api, &api.table_ref(table))?;
    exprs.finish()?;
    let on_index = optional_str(body, "IndexName")?.is_some();
    let select = select(body, projection.as_ref(), on_index)?;
    let plan = if on_index {
        let meta = api.store().table_meta(&api.table_ref(table))?;
        index_plan(
            body,
            &meta,
            consistent,
            select,
            projection.as_ref(),
            filter.as_ref(),
        )?
    } else {
        None
    };
    let result = match &plan {
        None => api.store().scan(
            &api.table_ref(table),
            segment,
            &page,
            filter_fn(filter.as_ref()),
        )?,
        Some(plan) => api.store().scan_index(
            &api.table_ref(table),
            index_read(plan),
            segment,
            &page,
            filter_fn(filter.as_ref()),
        )?,
    };
    Ok(page_response(
        api,
        result,
        select,
        projection.as_ref(),
        PageRead {
            report,
            table,
            index: plan.as_ref(),
            consistent,
        },
    ))
}
