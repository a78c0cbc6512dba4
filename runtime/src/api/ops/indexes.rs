//! Secondary indexes at the API edge: GlobalSecondaryIndexes and LocalSecondaryIndexes in
//! CreateTable, their description in TableDescription, UpdateTable's
//! GlobalSecondaryIndexUpdates, and what Query and Scan check before reading an index
//! (ConsistentRead, Select, projected attributes).
//!
//! The rules that need the whole table definition (index counts, LSI key shapes, unused
//! AttributeDefinitions...) live in the store (`tarn_store::index`); this module reads the
//! wire shapes and applies the request-level ones.

use serde_json::{json, Map, Value};
use tarn_store::index::{
    IndexInfo, IndexKind, IndexMeta, IndexProjection, IndexSpec, IndexStatus, IndexUpdate,
};
use tarn_store::schema::{BillingMode, KeyAttribute, TableMeta, TableStatus};

use super::arn::table_arn;
use super::schema::{
    attribute_definitions, key_schema_json, parse_global_key_schema, parse_key_schema, throughput,
};
use crate::api::Api;
use tarn_wire::ApiError;
use tarn_wire::{optional_array, optional_object, optional_str, ValidationErrors};

/// An index as read from a request, before its key attributes are given their types.
pub(crate) struct ParsedIndex<'a> {
    name: String,
    kind: IndexKind,
    key_elems: &'a [Value],
    path: String,
    projection: IndexProjection,
    throughput: Option<tarn_store::schema::Throughput>,
}

/// The indexes of a CreateTable request.
pub(crate) struct ParsedIndexes<'a>(Vec<ParsedIndex<'a>>);

impl ParsedIndexes<'_> {
    /// The index specs, key attribute types taken from `definitions`.
    pub(crate) fn resolve(self, definitions: &[KeyAttribute]) -> Result<Vec<IndexSpec>, ApiError> {
        self.0.into_iter().map(|p| p.resolve(definitions)).collect()
    }
}

impl ParsedIndex<'_> {
    fn resolve(self, definitions: &[KeyAttribute]) -> Result<IndexSpec, ApiError> {
        let path = format!("{}.keySchema", self.path);
        let key_schema = match self.kind {
            IndexKind::Global => parse_global_key_schema(self.key_elems, definitions, &path)?,
            IndexKind::Local => parse_key_schema(self.key_elems, definitions, &path)?,
        };
        Ok(IndexSpec {
            name: self.name,
            kind: self.kind,
            key_schema,
            projection: self.projection,
            throughput: self.throughput,
        })
    }
}

/// Reads one index structure (an element of GlobalSecondaryIndexes or LocalSecondaryIndexes,
/// or UpdateTable's Create action). Constraint failures go to `errors`; `path` is the member
/// path used in their messages (`globalSecondaryIndexes.1.member`).
fn parse_index<'a>(
    v: &'a Value,
    kind: IndexKind,
    path: String,
    errors: &mut ValidationErrors,
) -> Result<ParsedIndex<'a>, ApiError> {
    let name = match optional_str(v, "IndexName")? {
        Some(n) => {
            errors.check_name(&format!("{path}.indexName"), n);
            n.to_string()
        }
        None => {
            errors.not_null(&format!("{path}.indexName"));
            String::new()
        }
    };
    let key_elems: &[Value] = match optional_array(v, "KeySchema")? {
        Some(k) => {
            // A global index may have a multi-attribute key (up to 4 + 4 elements, checked
            // with the index's other rules).
            if k.is_empty() || (k.len() > 2 && kind == IndexKind::Local) {
                errors.push(
                    &format!("{path}.keySchema"),
                    None,
                    "Member must have length less than or equal to 2, Member must have length greater than or equal to 1",
                );
            }
            super::schema::key_schema_name_lengths(k, &format!("{path}.keySchema"), errors);
            k
        }
        None => {
            errors.not_null(&format!("{path}.keySchema"));
            &[]
        }
    };
    let projection = match optional_object(v, "Projection")? {
        None => {
            errors.not_null(&format!("{path}.projection"));
            IndexProjection::All
        }
        Some(p) => {
            let p = Value::Object(p.clone());
            let non_key: Option<Vec<String>> = optional_array(&p, "NonKeyAttributes")?
                .map(|list| {
                    list.iter()
                        .map(|a| {
                            a.as_str().map(str::to_string).ok_or_else(|| {
                                ApiError::serialization("NonKeyAttributes must be strings")
                            })
                        })
                        .collect::<Result<_, _>>()
                })
                .transpose()?;
            if non_key.as_ref().is_some_and(Vec::is_empty) {
                errors.push(
                    &format!("{path}.projection.nonKeyAttributes"),
                    Some("[]"),
                    "Member must have length greater than or equal to 1",
                );
            }
            let ty = optional_str(&p, "ProjectionType")?;
            if let (Some(ty), Some(_)) = (ty, &non_key) {
                if ty != "INCLUDE" {
                    return Err(ApiError::validation(format!(
                        "One or more parameter values were invalid: ProjectionType is {ty}, but NonKeyAttributes is specified"
                    )));
                }
            }
            match ty {
                None => {
                    return Err(ApiError::validation(
                        "One or more parameter values were invalid: Unknown ProjectionType: null",
                    ))
                }
                Some("ALL") => IndexProjection::All,
                Some("KEYS_ONLY") => IndexProjection::KeysOnly,
                Some("INCLUDE") => IndexProjection::Include(non_key.unwrap_or_default()),
                Some(other) => {
                    errors.push(
                        &format!("{path}.projection.projectionType"),
                        Some(other),
                        "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
                    );
                    IndexProjection::All
                }
            }
        }
    };
    Ok(ParsedIndex {
        name,
        kind,
        key_elems,
        path,
        projection,
        throughput: throughput(v)?,
    })
}

/// GlobalSecondaryIndexes and LocalSecondaryIndexes of a CreateTable request.
pub(crate) fn parse_create<'a>(
    body: &'a Value,
    errors: &mut ValidationErrors,
) -> Result<ParsedIndexes<'a>, ApiError> {
    let mut out = Vec::new();
    for (member, path, kind) in [
        (
            "LocalSecondaryIndexes",
            "localSecondaryIndexes",
            IndexKind::Local,
        ),
        (
            "GlobalSecondaryIndexes",
            "globalSecondaryIndexes",
            IndexKind::Global,
        ),
    ] {
        let Some(list) = optional_array(body, member)? else {
            continue;
        };
        if list.is_empty() {
            return Err(ApiError::validation(format!(
                "One or more parameter values were invalid: List of {member} is empty"
            )));
        }
        for (i, v) in list.iter().enumerate() {
            out.push(parse_index(
                v,
                kind,
                format!("{path}.{}.member", i + 1),
                errors,
            )?);
        }
    }
    Ok(ParsedIndexes(out))
}

fn projection_json(p: &IndexProjection) -> Value {
    match p {
        IndexProjection::Include(attrs) => {
            json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": attrs})
        }
        other => json!({"ProjectionType": other.type_str()}),
    }
}

/// One index as TableDescription lists it. `status` overrides the index's own (CreateTable
/// answers CREATING, a deleted index DELETING).
fn index_json(
    api: &Api,
    meta: &TableMeta,
    ix: &IndexMeta,
    info: Option<&IndexInfo>,
    status: Option<&str>,
) -> Value {
    let mut d = Map::new();
    d.insert("IndexName".into(), json!(ix.name));
    d.insert("KeySchema".into(), key_schema_json(&ix.key_schema));
    d.insert("Projection".into(), projection_json(&ix.projection));
    if ix.kind == IndexKind::Global {
        let status = status.unwrap_or(ix.status.as_str());
        d.insert("IndexStatus".into(), json!(status));
        if ix.online && status == IndexStatus::Creating.as_str() {
            d.insert("Backfilling".into(), json!(true));
        }
        let t = match meta.billing_mode {
            BillingMode::Provisioned => ix
                .throughput
                .unwrap_or(tarn_store::schema::Throughput { read: 0, write: 0 }),
            BillingMode::PayPerRequest => tarn_store::schema::Throughput { read: 0, write: 0 },
        };
        d.insert(
            "ProvisionedThroughput".into(),
            json!({"NumberOfDecreasesToday": 0, "ReadCapacityUnits": t.read, "WriteCapacityUnits": t.write}),
        );
    }
    d.insert(
        "IndexSizeBytes".into(),
        json!(info.map_or(0, |i| i.size_bytes)),
    );
    d.insert("ItemCount".into(), json!(info.map_or(0, |i| i.item_count)));
    d.insert(
        "IndexArn".into(),
        json!(format!("{}/index/{}", table_arn(api, &meta.name), ix.name)),
    );
    Value::Object(d)
}

/// Adds GlobalSecondaryIndexes and LocalSecondaryIndexes to a TableDescription.
pub(crate) fn describe(
    api: &Api,
    meta: &TableMeta,
    infos: &[IndexInfo],
    table_status: TableStatus,
    d: &mut Map<String, Value>,
) {
    for (kind, member) in [
        (IndexKind::Global, "GlobalSecondaryIndexes"),
        (IndexKind::Local, "LocalSecondaryIndexes"),
    ] {
        let list: Vec<Value> = meta
            .indexes
            .iter()
            .filter(|i| i.kind == kind)
            .map(|ix| {
                let info = infos.iter().find(|i| i.name == ix.name);
                let status = (table_status == TableStatus::Creating).then_some("CREATING");
                index_json(api, meta, ix, info, status)
            })
            .collect();
        if !list.is_empty() {
            d.insert(member.into(), Value::Array(list));
        }
    }
}

/// UpdateTable's index members: refuses what only CreateTable can do, reads
/// GlobalSecondaryIndexUpdates (with AttributeDefinitions for new index keys).
pub(crate) fn parse_updates(body: &Value, meta: &TableMeta) -> Result<Vec<IndexUpdate>, ApiError> {
    for member in ["LocalSecondaryIndexes", "LocalSecondaryIndexUpdates"] {
        if body.get(member).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::validation(format!(
                "{member} cannot be given to UpdateTable: local secondary indexes can only be created with the table (CreateTable)"
            )));
        }
    }
    let Some(list) = optional_array(body, "GlobalSecondaryIndexUpdates")? else {
        return Ok(Vec::new());
    };
    let mut errors = ValidationErrors::new();
    let definitions = attribute_definitions(
        optional_array(body, "AttributeDefinitions")?.map_or(&[], Vec::as_slice),
        &mut errors,
    )?;
    let mut parsed = Vec::new();
    let mut names = Vec::new();
    let mut online = 0;
    for (i, u) in list.iter().enumerate() {
        let path = format!("globalSecondaryIndexUpdates.{}.member", i + 1);
        let (create, update, delete) = (
            optional_object(u, "Create")?,
            optional_object(u, "Update")?,
            optional_object(u, "Delete")?,
        );
        let action = match (create, update, delete) {
            (Some(c), None, None) => {
                online += 1;
                let c = Value::Object(c.clone());
                let ix = parse_index(&c, IndexKind::Global, format!("{path}.create"), &mut errors)?;
                names.push(ix.name.clone());
                let keys: Vec<Value> = ix.key_elems.to_vec();
                (Some((ix.name, keys, ix.projection, ix.throughput)), None)
            }
            (None, Some(up), None) => {
                let up = Value::Object(up.clone());
                let name = optional_str(&up, "IndexName")?.unwrap_or_default().to_string();
                let t = throughput(&up)?.ok_or_else(|| {
                    let mut e = ValidationErrors::new();
                    e.not_null(&format!("{path}.update.provisionedThroughput"));
                    e.into_error().expect("one error")
                })?;
                names.push(name.clone());
                (None, Some(IndexUpdate::Throughput { name, throughput: t }))
            }
            (None, None, Some(del)) => {
                online += 1;
                let del = Value::Object(del.clone());
                let name = match optional_str(&del, "IndexName")? {
                    Some(n) => {
                        errors.check_name(&format!("{path}.delete.indexName"), n);
                        n.to_string()
                    }
                    None => {
                        errors.not_null(&format!("{path}.delete.indexName"));
                        String::new()
                    }
                };
                names.push(name.clone());
                (None, Some(IndexUpdate::Delete { name }))
            }
            _ => {
                return Err(ApiError::validation(
                    "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null",
                ))
            }
        };
        parsed.push(action);
    }
    errors.finish()?;
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(ApiError::validation(format!(
                "One or more parameter values were invalid: Only one global secondary index update per index is allowed simultaneously. Index: {n}"
            )));
        }
    }
    if online > 1 {
        return Err(ApiError::limit_exceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table",
        ));
    }
    let mut out = Vec::new();
    for (create, other) in parsed {
        if let Some((name, keys, projection, throughput)) = create {
            if definitions.is_empty() {
                return Err(ApiError::validation(
                    "One or more parameter values were invalid: AttributeDefinitions must be specified when creating a global secondary index",
                ));
            }
            // Key types from the request's definitions, else from the table's.
            let mut known = definitions.clone();
            known.extend(
                meta.attribute_definitions
                    .iter()
                    .filter(|d| !definitions.iter().any(|x| x.name == d.name))
                    .cloned(),
            );
            let key_schema = parse_global_key_schema(&keys, &known, "globalSecondaryIndexUpdates.create.keySchema")
                .map_err(|e| {
                    if e.message.contains("are not defined") {
                        ApiError::validation(format!(
                            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                            keys.iter().filter_map(|k| k.get("AttributeName").and_then(Value::as_str)).collect::<Vec<_>>().join(", "),
                            definitions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    } else {
                        e
                    }
                })?;
            out.push(IndexUpdate::Create {
                index: IndexSpec {
                    name,
                    kind: IndexKind::Global,
                    key_schema,
                    projection,
                    throughput,
                },
                attribute_definitions: definitions.clone(),
            });
        }
        if let Some(u) = other {
            out.push(u);
        }
    }
    Ok(out)
}

/// Applies GlobalSecondaryIndexUpdates; returns the indexes deleted (for the answer, which
/// still lists them, DELETING).
pub(crate) fn apply_updates(
    api: &Api,
    table: &str,
    updates: Vec<IndexUpdate>,
) -> Result<Vec<IndexMeta>, ApiError> {
    let mut deleted = Vec::new();
    for u in updates {
        let (_, removed) = api.store().update_global_index(&api.table_ref(table), u)?;
        deleted.extend(removed);
    }
    Ok(deleted)
}

/// Adds deleted indexes, DELETING, to an UpdateTable answer's TableDescription.
pub(crate) fn describe_deleted(api: &Api, meta: &TableMeta, deleted: &[IndexMeta], d: &mut Value) {
    if deleted.is_empty() {
        return;
    }
    let Some(obj) = d.as_object_mut() else { return };
    let list = obj
        .entry("GlobalSecondaryIndexes")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(list) = list.as_array_mut() {
        for ix in deleted {
            list.push(index_json(api, meta, ix, None, Some("DELETING")));
        }
    }
}

// ---- reads ----

/// What a Query or Scan on an index may read, decided from the request.
pub(crate) struct IndexReadPlan {
    /// The index.
    pub(crate) meta: IndexMeta,
    /// Return the table's items (a local index asked for attributes it does not project).
    pub(crate) fetch_table_items: bool,
}

/// Checks a read of index `name` of `table`: the index exists, no ConsistentRead on a global
/// index, Select ALL_ATTRIBUTES only where the index (or, for a local index, the table) has
/// every attribute, and a global index projects every attribute the request names.
pub(crate) fn plan_read<'a>(
    table: &TableMeta,
    name: &str,
    consistent: bool,
    all_attributes: bool,
    named: impl Iterator<Item = &'a str>,
) -> Result<IndexReadPlan, ApiError> {
    let ix = table
        .indexes
        .iter()
        .find(|i| i.name == name)
        .cloned()
        .ok_or_else(|| {
            ApiError::validation(format!(
                "The table does not have the specified index: {name}"
            ))
        })?;
    let global = ix.kind == IndexKind::Global;
    if global && consistent {
        return Err(ApiError::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    let complete = ix.projection == IndexProjection::All;
    if all_attributes && global && !complete {
        return Err(ApiError::validation(format!(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {name} because its projection type is not ALL"
        )));
    }
    let mut missing: Vec<&str> = named
        .filter(|a| !ix.projects(&table.key_schema, std::iter::once(*a)))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if global && !missing.is_empty() {
        return Err(ApiError::validation(format!(
            "One or more parameter values were invalid: Global secondary index {name} does not project [{}]",
            missing.join(", ")
        )));
    }
    let fetch_table_items = !global && !complete && (all_attributes || !missing.is_empty());
    Ok(IndexReadPlan {
        meta: ix,
        fetch_table_items,
    })
}
