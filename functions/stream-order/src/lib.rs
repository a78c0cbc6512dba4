//! `stream-order`: a stream handler that checks per-key order (a test guest of the cluster
//! stream tests, usable on any table whose items carry a version).
//!
//! Every write of an item carries `v`, its version for that key: 1, 2, 3... A record whose new
//! image has version `n` may be handled only after version `n - 1` of the same key was. The
//! handler keeps, per key, the last version handled in `stream-order` (`{"key": <the item's
//! keys>, "last": n}`), moved on with a conditional update (`last = n - 1`, or no item and
//! `n = 1`). A redelivery (a version at or below `last`, normal with at-least-once delivery)
//! changes nothing; a version beyond `last + 1` means a record of that key was handed over
//! before an earlier one: it counts an order violation in the item `{"key": "violations"}`.
//! Every record handled also adds one to `{"key": "handled"}`.

use serde_json::{json, Value};
use tarn_sdk::{Condition, StreamRecord, Table};

/// The table holding the last versions and the counters.
pub const CHECK_TABLE: &str = "stream-order";

/// The version a record's new image carries, if any.
fn version(record: &StreamRecord) -> Option<i64> {
    record
        .new_image
        .as_ref()?
        .get("v")?
        .get("N")?
        .as_str()?
        .parse()
        .ok()
}

/// The record's item key as one string.
fn key(record: &StreamRecord) -> String {
    serde_json::to_string(&record.keys).unwrap_or_default()
}

/// Checks one record; `Err` when the table could not be written (the record is retried).
fn check(checks: &Table, record: &StreamRecord) -> Result<(), String> {
    checks
        .update(&json!({"key": "handled"}))
        .add("count", &1)
        .send()
        .map_err(|e| e.to_string())?;
    let Some(n) = version(record) else {
        return Ok(());
    };
    let k = key(record);
    let moved = checks
        .update(&json!({ "key": k }))
        .set("last", &n)
        .condition(
            Condition::new("(attribute_not_exists(#l) AND :n = :one) OR #l = :prev")
                .name("#l", "last")
                .value(":n", &n)
                .value(":one", &1)
                .value(":prev", &(n - 1)),
        )
        .send();
    match moved {
        Ok(()) => Ok(()),
        Err(e) if e.is_conditional_check_failed() => {
            let last = checks
                .get::<Value, _>(&json!({ "key": k }))
                .map_err(|e| e.to_string())?
                .and_then(|v| v.get("last").and_then(Value::as_i64))
                .unwrap_or(0);
            if last >= n {
                return Ok(()); // handled before: a redelivery
            }
            tarn_sdk::log::warn!("order violation on {k}: version {n} after {last}");
            checks
                .update(&json!({"key": "violations"}))
                .add("count", &1)
                .send()
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The stream handler: the sequence numbers of the records it could not check.
pub fn on_change(records: Vec<StreamRecord>) -> Vec<String> {
    let checks = Table::open(CHECK_TABLE);
    let mut failed: Vec<String> = Vec::new();
    for record in &records {
        // Once a record of a batch failed, the later ones wait for its retry (per-key order:
        // the trigger blocks the failed record's key, and this handler keeps order for all).
        if !failed.is_empty() {
            failed.push(record.sequence_number.clone());
            continue;
        }
        if let Err(e) = check(&checks, record) {
            tarn_sdk::log::warn!("record {} failed: {e}", record.sequence_number);
            failed.push(record.sequence_number.clone());
        }
    }
    failed
}

tarn_sdk::stream_handler!(on_change);
