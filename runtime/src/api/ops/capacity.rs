//! ReturnConsumedCapacity: what an operation would cost on DynamoDB.
//!
//! DynamoDB's rules: a read unit covers 4 KB read with strong consistency (eventually
//! consistent reads cost half); a write unit covers 1 KB written, counting the larger of the item
//! before and after; every operation costs at least one unit of its kind; Query and Scan round the
//! total bytes read, not each item; transactions cost twice.
//!
//! Every successful operation passes its units through [`consumed`], [`consumed_on_index`] or
//! [`consumed_write`], which record them in the metrics (consumed capacity per table and index,
//! whether or not the request asked for ReturnConsumedCapacity) and build the response entry
//! when it did.

use serde_json::{json, Map, Value};

use crate::api::Api;
use crate::metrics::CapacityKind;
use tarn_wire::optional_str;
use tarn_wire::ApiError;

/// What ReturnConsumedCapacity asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Report {
    /// Nothing (the default).
    None,
    /// The total per table.
    Total,
    /// The total per table, with the table's own share broken out.
    Indexes,
}

impl Report {
    /// Reads ReturnConsumedCapacity.
    pub(crate) fn from_request(body: &Value) -> Result<Report, ApiError> {
        Report::parse(optional_str(body, "ReturnConsumedCapacity")?)
    }

    /// ReturnConsumedCapacity's value, if the request had the member.
    pub(crate) fn parse(member: Option<&str>) -> Result<Report, ApiError> {
        match member {
            None | Some("NONE") => Ok(Report::None),
            Some("TOTAL") => Ok(Report::Total),
            Some("INDEXES") => Ok(Report::Indexes),
            Some(other) => Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
            ))),
        }
    }
}

/// Read units for `bytes` read in one operation.
pub(crate) fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// Write units for writing an item whose larger version (before or after) is `bytes`.
pub(crate) fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Whether units are read or write units.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// Read units.
    Read,
    /// Write units.
    Write,
}

impl Kind {
    fn metric(self) -> CapacityKind {
        match self {
            Kind::Read => CapacityKind::Read,
            Kind::Write => CapacityKind::Write,
        }
    }
}

/// Records `units` consumed on `table` in the metrics, and answers the ConsumedCapacity entry
/// for them, or `None` when not asked for.
pub(crate) fn consumed(
    api: &Api,
    report: Report,
    table: &str,
    units: f64,
    kind: Kind,
) -> Option<Value> {
    api.metrics()
        .consumed(&api.table_ref(table), None, kind.metric(), units);
    entry(report, table, units, kind)
}

/// The ConsumedCapacity entry for `units` on `table`, or `None` when not asked for.
fn entry(report: Report, table: &str, units: f64, kind: Kind) -> Option<Value> {
    if report == Report::None {
        return None;
    }
    let kind_key = match kind {
        Kind::Read => "ReadCapacityUnits",
        Kind::Write => "WriteCapacityUnits",
    };
    let mut out = Map::new();
    out.insert("TableName".into(), json!(table));
    out.insert("CapacityUnits".into(), json!(units));
    out.insert(kind_key.into(), json!(units));
    if report == Report::Indexes {
        out.insert(
            "Table".into(),
            json!({"CapacityUnits": units, kind_key: units}),
        );
    }
    Some(Value::Object(out))
}

/// Records a read of `units` on index `index` of `table` in the metrics, and answers its
/// ConsumedCapacity entry, or `None` when not asked for. With INDEXES, the units are the
/// index's (the table's share is zero).
pub(crate) fn consumed_on_index(
    api: &Api,
    report: Report,
    table: &str,
    index: &str,
    global: bool,
    units: f64,
) -> Option<Value> {
    api.metrics().consumed(
        &api.table_ref(table),
        Some(index),
        CapacityKind::Read,
        units,
    );
    let mut out = entry(report, table, units, Kind::Read)?;
    if report == Report::Indexes {
        let member = if global {
            "GlobalSecondaryIndexes"
        } else {
            "LocalSecondaryIndexes"
        };
        out["Table"] = json!({"CapacityUnits": 0.0, "ReadCapacityUnits": 0.0});
        out[member] = json!({index: {"CapacityUnits": units, "ReadCapacityUnits": units}});
    }
    Some(out)
}

/// Write units one item change costs each index it touches: (index name, global, units).
pub(crate) fn index_write_units(
    meta: &tarn_store::schema::TableMeta,
    old: Option<&tarn_store::Item>,
    new: Option<&tarn_store::Item>,
) -> Vec<(String, bool, f64)> {
    tarn_store::index::index_writes(meta, old, new)
        .into_iter()
        .map(|(ix, sizes)| {
            (
                ix.name.clone(),
                ix.kind == tarn_store::index::IndexKind::Global,
                sizes.into_iter().map(write_units).sum(),
            )
        })
        .collect()
}

/// Records a single-item write in the metrics (`table_units` on the table, each index's on
/// the index) and answers its ConsumedCapacity entry: the table's units plus what each index
/// write cost, INDEXES breaking the total down; `None` when not asked for.
pub(crate) fn consumed_write(
    api: &Api,
    report: Report,
    table: &str,
    table_units: f64,
    indexes: &[(String, bool, f64)],
) -> Option<Value> {
    let metrics = api.metrics();
    // Figures per table reference: a name used in two regions never shares them.
    let label = api.table_ref(table);
    metrics.consumed(&label, None, CapacityKind::Write, table_units);
    for (name, _, units) in indexes {
        metrics.consumed(&label, Some(name), CapacityKind::Write, *units);
    }
    let total = table_units + indexes.iter().map(|(_, _, u)| u).sum::<f64>();
    let mut out = entry(report, table, total, Kind::Write)?;
    if report == Report::Indexes {
        out["Table"] = json!({"CapacityUnits": table_units, "WriteCapacityUnits": table_units});
        for (name, global, units) in indexes {
            let member = if *global {
                "GlobalSecondaryIndexes"
            } else {
                "LocalSecondaryIndexes"
            };
            if out.get(member).is_none() {
                out[member] = json!({});
            }
            out[member][name] = json!({"CapacityUnits": units, "WriteCapacityUnits": units});
        }
    }
    Some(out)
}

/// The write capacity of several item changes (BatchWriteItem, TransactWriteItems), per
/// table: the table's units and what each index write cost, as [`consumed_write`] counts a
/// single write's.
#[derive(Default)]
pub(crate) struct WriteTally {
    tables: std::collections::BTreeMap<String, (f64, Vec<IndexUnits>)>,
}

/// An index's name, whether it is global, and the units written to it.
type IndexUnits = (String, bool, f64);

impl WriteTally {
    /// Counts `units` on `table` itself.
    pub(crate) fn add_table(&mut self, table: &str, units: f64) {
        self.tables.entry(table.to_string()).or_default().0 += units;
    }

    /// Counts what the change from `old` to `new` cost `table`'s indexes (`table` as the
    /// request names it), times `factor` (2 in a transaction).
    pub(crate) fn add_index_writes(
        &mut self,
        api: &Api,
        table: &str,
        old: Option<&tarn_store::Item>,
        new: Option<&tarn_store::Item>,
        factor: f64,
    ) {
        let writes = api
            .store()
            .with_table_meta(&api.table_ref(table), |meta| {
                if meta.indexes.is_empty() {
                    Vec::new()
                } else {
                    index_write_units(meta, old, new)
                }
            })
            .unwrap_or_default();
        let entry = &mut self.tables.entry(table.to_string()).or_default().1;
        for (name, global, units) in writes {
            match entry.iter_mut().find(|(n, _, _)| *n == name) {
                Some(e) => e.2 += units * factor,
                None => entry.push((name, global, units * factor)),
            }
        }
    }

    /// Records every table's units in the metrics; the ConsumedCapacity list when asked for.
    pub(crate) fn consumed(self, api: &Api, report: Report) -> Option<Value> {
        let entries: Vec<Value> = self
            .tables
            .into_iter()
            .filter_map(|(t, (units, indexes))| consumed_write(api, report, &t, units, &indexes))
            .collect();
        (report != Report::None).then_some(Value::Array(entries))
    }
}

/// Adds `ConsumedCapacity` (a single entry) to a response object, when asked for.
pub(crate) fn attach(response: &mut Value, entry: Option<Value>) {
    if let (Some(entry), Some(obj)) = (entry, response.as_object_mut()) {
        obj.insert("ConsumedCapacity".into(), entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_dynamodb_rules() {
        assert_eq!(read_units(0, true), 1.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(read_units(100, false), 0.5);
        assert_eq!(write_units(1), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(write_units(400 * 1024), 400.0);
    }

    fn api() -> (tempfile::TempDir, Api) {
        let dir = tempfile::tempdir().unwrap();
        let store = tarn_store::Store::open(dir.path()).unwrap();
        (dir, Api::new(std::sync::Arc::new(store)))
    }

    fn consumed_on(api: &Api, table: &str) -> (f64, f64, Vec<(String, f64, f64)>) {
        let tables = api.metrics().requests_snapshot();
        let (_, t) = tables.iter().find(|(n, _)| n == table).unwrap();
        (
            t.read_units,
            t.write_units,
            t.indexes
                .iter()
                .map(|i| (i.name.clone(), i.read_units, i.write_units))
                .collect(),
        )
    }

    #[test]
    fn reports_only_when_asked_and_records_always() {
        let (_dir, api) = api();
        assert!(consumed(&api, Report::None, "t", 1.0, Kind::Read).is_none());
        let v = consumed(&api, Report::Indexes, "t", 2.0, Kind::Write).unwrap();
        assert_eq!(v["TableName"], "t");
        assert_eq!(v["Table"]["CapacityUnits"], 2.0);
        assert!(consumed_on_index(&api, Report::None, "t", "ix", true, 0.5).is_none());
        let indexes = [("ix".to_string(), true, 3.0)];
        let w = consumed_write(&api, Report::Total, "t", 1.0, &indexes).unwrap();
        assert_eq!(w["CapacityUnits"], 4.0);
        assert_eq!(
            consumed_on(&api, "t"),
            (1.0, 3.0, vec![("ix".to_string(), 0.5, 3.0)])
        );
    }
}
