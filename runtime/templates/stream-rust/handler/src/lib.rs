//! {{name}}: a stream handler in Rust. Each change of `items` moves a counter in `counts` (item
//! `{"id": "totals"}`). A record whose update fails is reported failed (by sequence number) and
//! retried by tarn with the later changes of the same item; the others are accepted.

use tarn_sdk::{EventName, StreamRecord, Table};

fn on_changes(records: Vec<StreamRecord>) -> Vec<String> {
    let counts = Table::open("counts");
    let mut failed = Vec::new();
    let mut failed_keys = Vec::new();
    for record in &records {
        if failed_keys.contains(&record.keys) {
            failed.push(record.sequence_number.clone());
            continue;
        }
        let counter = match record.event_name {
            EventName::Insert => "inserted",
            EventName::Modify => "modified",
            EventName::Remove => "removed",
        };
        match counts.update(&serde_json::json!({ "id": "totals" })).add(counter, &1).send() {
            Ok(()) => tarn_sdk::log::info!("{:?} {:?}", record.event_name, record.keys),
            Err(e) => {
                tarn_sdk::log::warn!("record {} failed: {e}", record.sequence_number);
                failed.push(record.sequence_number.clone());
                failed_keys.push(record.keys.clone());
            }
        }
    }
    failed
}

tarn_sdk::stream_handler!(on_changes);
