//! Given-up records: a record whose retries are exhausted goes to the mapping's
//! `on_failure_table` (Lambda's on-failure destination), or to the log without one.
//!
//! The failure record is an item of the on-failure table: its key (hash key
//! `<source table>#<sequence number>`, range key the sequence number; a number key holds the
//! sequence number itself), `sourceTable`, `function`, `sequenceNumber`, `eventID`,
//! `eventName`, `error`, `attempts`, `failedAt` (RFC 3339) and `record` (the stream record as
//! the handler got it, in JSON). It is built as a store item and written through the API's
//! PutItem, in DynamoDB JSON from the one codec (`tarn_wire`).

use serde_json::{json, Value};
use tarn_store::schema::{ScalarType, TableMeta};
use tarn_store::stream::StreamRecord;
use tarn_store::{AttributeValue, Item, Number};

use crate::api::{codec, Api};

/// What the failure record of one record says besides the record itself.
pub(super) struct Failure<'a> {
    /// The mapping's source table.
    pub(super) source_table: &'a str,
    /// The handler.
    pub(super) function: &'a str,
    /// The last error.
    pub(super) error: &'a str,
    /// Invocations tried.
    pub(super) attempts: u32,
}

/// Writes the failure record of `r` (`record`: as the Streams API renders it) into `table`.
pub(super) async fn write(
    api: &Api,
    table: &str,
    r: &StreamRecord,
    record: &Value,
    failure: &Failure<'_>,
) -> Result<(), String> {
    let meta = api
        .store()
        .table_meta(&api.table_ref(table))
        .map_err(|e| e.to_string())?;
    let item = failure_item(&meta, r, record, failure);
    api.call(
        "PutItem",
        json!({"TableName": table, "Item": codec::encode_item(&item)}),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The failure record of `r` as an item of the table `meta` describes.
fn failure_item(meta: &TableMeta, r: &StreamRecord, record: &Value, f: &Failure<'_>) -> Item {
    let mut keys = vec![(
        meta.key_schema.hash.name.clone(),
        meta.key_schema.hash.attr_type,
    )];
    if let Some(range) = &meta.key_schema.range {
        keys.push((range.name.clone(), range.attr_type));
    }
    let seq = crate::api::sequence_number(r.seq);
    keyed_failure_item(&keys, &seq, r.kind.as_str(), record, f)
}

/// Writes the failure record of the engine's stream record `record` (sequence number `seq`)
/// into `table`, in engine mode: the table's key schema comes from the engine's DescribeTable.
pub(super) async fn write_engine(
    api: &Api,
    table: &str,
    seq: &str,
    record: &Value,
    failure: &Failure<'_>,
) -> Result<(), String> {
    let d = api
        .call("DescribeTable", json!({"TableName": table}))
        .await
        .map_err(|e| e.to_string())?;
    let t = &d["Table"];
    let type_of = |name: &str| {
        t["AttributeDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["AttributeName"] == name)
            .map_or(ScalarType::S, |a| match a["AttributeType"].as_str() {
                Some("N") => ScalarType::N,
                Some("B") => ScalarType::B,
                _ => ScalarType::S,
            })
    };
    let mut keys = Vec::new();
    for kind in ["HASH", "RANGE"] {
        for k in t["KeySchema"].as_array().into_iter().flatten() {
            if k["KeyType"] == kind {
                let name = k["AttributeName"].as_str().unwrap_or_default();
                keys.push((name.to_string(), type_of(name)));
            }
        }
    }
    if keys.is_empty() {
        return Err(format!("the engine describes {table} without a key schema"));
    }
    let event_name = record["eventName"].as_str().unwrap_or_default();
    let item = keyed_failure_item(&keys, seq, event_name, record, failure);
    api.call(
        "PutItem",
        json!({"TableName": table, "Item": codec::encode_item(&item)}),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The failure record of the record with sequence number `seq` as an item of a table whose
/// key attributes are `keys` (hash, then range).
fn keyed_failure_item(
    keys: &[(String, ScalarType)],
    seq: &str,
    event_name: &str,
    record: &Value,
    f: &Failure<'_>,
) -> Item {
    let key_value = |ty: ScalarType, s: String| match ty {
        ScalarType::N => Number::parse(seq.trim_start_matches('0'))
            .or_else(|_| Number::parse(seq))
            .map_or_else(|_| AttributeValue::S(s), AttributeValue::N),
        ScalarType::B => AttributeValue::B(s.into_bytes()),
        ScalarType::S => AttributeValue::S(s),
    };
    let mut item = Item::new();
    if let Some((name, ty)) = keys.first() {
        item.insert(
            name.clone(),
            key_value(*ty, format!("{}#{seq}", f.source_table)),
        );
    }
    if let Some((name, ty)) = keys.get(1) {
        item.insert(name.clone(), key_value(*ty, seq.to_string()));
    }
    let s = |v: &str| AttributeValue::S(v.to_string());
    let event_id = record["eventID"].as_str().map_or(AttributeValue::Null, s);
    for (name, value) in [
        ("sourceTable", s(f.source_table)),
        ("function", s(f.function)),
        ("sequenceNumber", s(seq)),
        ("eventID", event_id),
        ("eventName", s(event_name)),
        ("error", s(f.error)),
        (
            "attempts",
            AttributeValue::N(Number::from_i64(f.attempts.into())),
        ),
        ("failedAt", s(&chrono::Utc::now().to_rfc3339())),
        ("record", s(&record.to_string())),
    ] {
        // The table's own key attributes win over a member of the same name.
        item.entry(name.to_string()).or_insert(value);
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_store::schema::{ChangeKind, StreamViewType};

    fn record() -> StreamRecord {
        StreamRecord {
            seq: 42,
            time_ms: 0,
            kind: ChangeKind::Insert,
            keys: [("id".to_string(), AttributeValue::S("a".into()))].into(),
            old: None,
            new: None,
            by_ttl: false,
            view_type: StreamViewType::KeysOnly,
        }
    }

    /// The definition of a table `failures` with key attributes `keys` (name, type, kind).
    async fn meta(keys: &[(&str, &str, &str)]) -> TableMeta {
        let dir = tempfile::tempdir().unwrap();
        let api = Api::new(std::sync::Arc::new(
            tarn_store::Store::open(dir.path()).unwrap(),
        ));
        let defs: Vec<Value> = keys
            .iter()
            .map(|(n, t, _)| json!({"AttributeName": n, "AttributeType": t}))
            .collect();
        let schema: Vec<Value> = keys
            .iter()
            .map(|(n, _, k)| json!({"AttributeName": n, "KeyType": k}))
            .collect();
        api.call(
            "CreateTable",
            json!({"TableName": "failures", "AttributeDefinitions": defs, "KeySchema": schema,
                   "BillingMode": "PAY_PER_REQUEST"}),
        )
        .await
        .unwrap();
        api.store().table_meta("failures").unwrap()
    }

    #[tokio::test]
    async fn the_record_keeps_its_shape() {
        let f = Failure {
            source_table: "orders",
            function: "totals",
            error: "boom",
            attempts: 4,
        };
        let rec = json!({"eventID": "e-1", "eventName": "INSERT"});
        let item = failure_item(&meta(&[("id", "S", "HASH")]).await, &record(), &rec, &f);
        let v = codec::encode_item(&item);
        let seq = crate::api::sequence_number(42);
        assert_eq!(v["id"], json!({"S": format!("orders#{seq}")}));
        assert_eq!(v["sourceTable"], json!({"S": "orders"}));
        assert_eq!(v["function"], json!({"S": "totals"}));
        assert_eq!(v["sequenceNumber"], json!({"S": seq}));
        assert_eq!(v["eventID"], json!({"S": "e-1"}));
        assert_eq!(v["eventName"], json!({"S": "INSERT"}));
        assert_eq!(v["error"], json!({"S": "boom"}));
        assert_eq!(v["attempts"], json!({"N": "4"}));
        assert!(v["failedAt"]["S"].as_str().unwrap().contains('T'));
        assert_eq!(v["record"], json!({"S": rec.to_string()}));

        // Binary and number keys; an event without an id.
        let item = failure_item(
            &meta(&[("id", "B", "HASH"), ("at", "N", "RANGE")]).await,
            &record(),
            &json!({}),
            &f,
        );
        let v = codec::encode_item(&item);
        let expected = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(format!("orders#{seq}"))
        };
        assert_eq!(v["id"], json!({"B": expected}));
        assert_eq!(v["at"], json!({"N": "42"}));
        assert_eq!(v["eventID"], json!({"NULL": true}));
    }
}
