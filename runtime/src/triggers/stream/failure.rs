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
use tarn_store::schema::ScalarType;
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

/// Writes the failure record of the stream record `record` (sequence number `seq`, event
/// `event_name`) into `table`, wherever the tables are: the table's key schema comes from its
/// DescribeTable, and the item goes in with PutItem, both through the API (the seam).
pub(super) async fn write(
    api: &Api,
    table: &str,
    seq: &str,
    event_name: &str,
    record: &Value,
    failure: &Failure<'_>,
) -> Result<(), String> {
    let keys = key_attributes(api, table).await?;
    let item = keyed_failure_item(&keys, seq, event_name, record, failure);
    api.call(
        "PutItem",
        json!({"TableName": table, "Item": codec::encode_item(&item)}),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The key attributes of `table` (hash, then range) with their types, from its DescribeTable.
async fn key_attributes(api: &Api, table: &str) -> Result<Vec<(String, ScalarType)>, String> {
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
        return Err(format!("{table} is described without a key schema"));
    }
    Ok(keys)
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

    /// The key attributes of a table `failures` made with key attributes `keys` (name,
    /// type, kind), as [`key_attributes`] reads them.
    async fn keys(keys: &[(&str, &str, &str)]) -> Vec<(String, ScalarType)> {
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
        key_attributes(&api, "failures").await.unwrap()
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
        let seq = crate::api::sequence_number(42);
        let item = keyed_failure_item(
            &keys(&[("id", "S", "HASH")]).await,
            &seq,
            "INSERT",
            &rec,
            &f,
        );
        let v = codec::encode_item(&item);
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
        let item = keyed_failure_item(
            &keys(&[("id", "B", "HASH"), ("at", "N", "RANGE")]).await,
            &seq,
            "INSERT",
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
