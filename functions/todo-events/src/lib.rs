//! `todo-events`: a stream handler on the `todos` table (world `stream-handler`).
//!
//! For each change it keeps counters in the `todo-stats` table (item `{"id": "totals"}`:
//! `created`, `deleted`, `completed`) and logs a line. A record whose update fails is reported
//! as failed (by sequence number), so the host retries only that record and the ones after it
//! for the same item.

use serde::Deserialize;
use serde_json::json;
use tarn_sdk::{EventName, StreamRecord, Table};

/// The table holding the counters.
pub const STATS_TABLE: &str = "todo-stats";

#[derive(Debug, Deserialize)]
struct Todo {
    #[serde(default)]
    done: bool,
}

/// The counter a change moves, if any.
fn counter(record: &StreamRecord) -> tarn_sdk::Result<Option<&'static str>> {
    Ok(match record.event_name {
        EventName::Insert => Some("created"),
        EventName::Remove => Some("deleted"),
        EventName::Modify => {
            let old: Option<Todo> = record.old_as()?;
            let new: Option<Todo> = record.new_as()?;
            match (old, new) {
                (Some(o), Some(n)) if !o.done && n.done => Some("completed"),
                _ => None,
            }
        }
    })
}

/// The stream handler: returns the sequence numbers of the records it could not apply.
pub fn on_changes(records: Vec<StreamRecord>) -> Vec<String> {
    let stats = Table::open(STATS_TABLE);
    let mut failed = Vec::new();
    for record in &records {
        let result = counter(record).and_then(|c| match c {
            Some(c) => stats
                .update(&json!({ "id": "totals" }))
                .add(c, &1)
                .send()
                .map(|_| Some(c)),
            None => Ok(None),
        });
        match result {
            Ok(c) => {
                let id = record
                    .keys_as::<serde_json::Value>()
                    .ok()
                    .and_then(|k| k["id"].as_str().map(String::from));
                tarn_sdk::log::info!(
                    "todo {} {:?} -> {}",
                    id.unwrap_or_default(),
                    record.event_name,
                    c.unwrap_or("-")
                );
            }
            Err(e) => {
                tarn_sdk::log::warn!("record {} failed: {e}", record.sequence_number);
                failed.push(record.sequence_number.clone());
            }
        }
    }
    failed
}

tarn_sdk::stream_handler!(on_changes);

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_sdk::testing::set_tables_handler;
    use tarn_sdk::Error;

    #[test]
    fn counts_and_reports_failures() {
        let batch = r#"[
          {"eventID": "1", "eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": "a"}}, "SequenceNumber": "1"}},
          {"eventID": "2", "eventName": "MODIFY", "dynamodb": {"Keys": {"id": {"S": "a"}}, "SequenceNumber": "2",
            "OldImage": {"id": {"S": "a"}, "done": {"BOOL": false}}, "NewImage": {"id": {"S": "a"}, "done": {"BOOL": true}}}},
          {"eventID": "3", "eventName": "REMOVE", "dynamodb": {"Keys": {"id": {"S": "a"}}, "SequenceNumber": "3"}}
        ]"#;
        let records = StreamRecord::parse_batch(batch).unwrap();
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let s = seen.clone();
        set_tables_handler(move |_, req| {
            let attr = req["ExpressionAttributeNames"]["#_0"]
                .as_str()
                .unwrap()
                .to_string();
            s.borrow_mut().push(attr.clone());
            if attr == "deleted" {
                Err(Error::table("ThrottlingException", "slow down"))
            } else {
                Ok(json!({}))
            }
        });
        assert_eq!(on_changes(records), ["3"]);
        assert_eq!(*seen.borrow(), ["created", "completed", "deleted"]);
    }
}
