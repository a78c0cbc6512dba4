//! The event a stream handler gets: its batch's records as Lambda delivers them (the Streams
//! API's record, `userIdentity` spelled as Lambda spells it, plus `eventSourceARN`), written
//! as JSON straight from the store's records.
//!
//! Each record is written by the writer GetRecords' records come from
//! ([`crate::api::ops::streams::RecordJson`], in Lambda's shape), without a JSON tree per
//! record; what is the same for the whole batch (the region, the stream's ARN, the event ids'
//! prefix) is made once. The test below holds the bytes to the Streams API's record with
//! Lambda's changes.

use serde::ser::{Serialize, Serializer};
use tarn_store::stream::{StreamMeta, StreamRecord};

use crate::api::ops::streams::{event_id_prefix, RecordJson};
use crate::api::Api;

/// One batch's event.
pub(super) struct Event<'a> {
    region: &'a str,
    arn: String,
    /// The stream's part of each record's `eventID`.
    id_prefix: String,
    records: &'a [StreamRecord],
}

impl<'a> Event<'a> {
    /// The event of `records`, read from `stream` of `table`.
    pub(super) fn new(
        api: &'a Api,
        table: &str,
        stream: &StreamMeta,
        records: &'a [StreamRecord],
    ) -> Event<'a> {
        Event {
            region: api.region(),
            arn: api.stream_arn(table, stream),
            id_prefix: event_id_prefix(stream),
            records,
        }
    }

    /// The event as the handler gets it: a JSON array of records.
    pub(super) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("stream events serialize")
    }
}

impl Serialize for Event<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.records.iter().map(|r| RecordJson {
            region: self.region,
            id_prefix: &self.id_prefix,
            r,
            lambda_arn: Some(&self.arn),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use tarn_store::clock::now_millis;
    use tarn_store::schema::{ChangeKind, StreamViewType};
    use tarn_store::AttributeValue;

    /// The record as the Streams API's tree, changed as Lambda delivers it.
    fn lambda_record(api: &Api, table: &str, stream: &StreamMeta, r: &StreamRecord) -> Value {
        let mut v = api.stream_record_json(stream, r);
        v["eventSourceARN"] = json!(api.stream_arn(table, stream));
        if let Some(u) = v.get_mut("userIdentity") {
            *u = json!({"type": u["Type"], "principalId": u["PrincipalId"]});
        }
        v
    }

    #[test]
    fn the_event_is_the_streams_records_as_lambda_delivers_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = tarn_store::Store::open(dir.path()).unwrap();
        let api = Api::new(std::sync::Arc::new(store));
        let stream = StreamMeta {
            id: uuid::Uuid::new_v4(),
            created_ms: 1_765_000_000_000,
            view_type: StreamViewType::NewAndOldImages,
            start_seq: 1,
            disabled_ms: None,
            end_seq: None,
            shards: Some(4),
        };
        let item = |id: &str, n: &str| {
            [
                ("id".to_string(), AttributeValue::S(id.into())),
                ("n".to_string(), AttributeValue::N(n.parse().unwrap())),
                (
                    "tags".to_string(),
                    AttributeValue::L(vec![AttributeValue::Bool(true), AttributeValue::Null]),
                ),
                ("blob".to_string(), AttributeValue::B(vec![0, 1, 2, 250])),
            ]
            .into_iter()
            .collect::<tarn_store::Item>()
        };
        let key = |id: &str| {
            [("id".to_string(), AttributeValue::S(id.into()))]
                .into_iter()
                .collect::<tarn_store::Item>()
        };
        let records = vec![
            StreamRecord {
                seq: 7,
                time_ms: now_millis(),
                kind: ChangeKind::Insert,
                keys: key("a"),
                old: None,
                new: Some(item("a", "1.50")),
                by_ttl: false,
                view_type: StreamViewType::NewAndOldImages,
            },
            StreamRecord {
                seq: 1 << 40,
                time_ms: now_millis(),
                kind: ChangeKind::Modify,
                keys: key("b\"q"),
                old: Some(item("b\"q", "-2")),
                new: Some(item("b\"q", "3e5")),
                by_ttl: false,
                view_type: StreamViewType::NewAndOldImages,
            },
            StreamRecord {
                seq: 9,
                time_ms: now_millis(),
                kind: ChangeKind::Remove,
                keys: key("c"),
                old: Some(item("c", "0")),
                new: None,
                by_ttl: true,
                view_type: StreamViewType::NewAndOldImages,
            },
        ];
        let written = Event::new(&api, "todos", &stream, &records).to_json();
        let tree = Value::Array(
            records
                .iter()
                .map(|r| lambda_record(&api, "todos", &stream, r))
                .collect(),
        );
        // The same bytes: members, values and their order.
        assert_eq!(written, tree.to_string());
        assert_eq!(
            Event::new(&api, "todos", &stream, &[]).to_json(),
            "[]",
            "an empty batch is an empty array"
        );
    }
}
