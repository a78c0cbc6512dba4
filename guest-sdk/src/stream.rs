//! Stream and schedule handlers: [`StreamRecord`] (one table change), what handlers may return
//! ([`BatchResult`], [`TickResult`]), and the glue used by [`crate::stream_handler!`] and
//! [`crate::schedule_handler!`].

use crate::error::Result;
use crate::item::{from_item, Item};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::fmt::Display;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EventName {
    /// A new item.
    #[serde(rename = "INSERT")]
    Insert,
    /// An item was replaced or updated.
    #[serde(rename = "MODIFY")]
    Modify,
    /// An item was deleted (by a request or by TTL).
    #[serde(rename = "REMOVE")]
    Remove,
}

/// One table change record (a Lambda DynamoDB event record).
#[derive(Debug, Clone)]
pub struct StreamRecord {
    /// The record's id.
    pub event_id: String,
    /// What changed.
    pub event_name: EventName,
    /// The sequence number: what a handler reports for a failed record.
    pub sequence_number: String,
    /// The item's key attributes.
    pub keys: Item,
    /// The item after the change, if the stream's view type includes it.
    pub new_image: Option<Item>,
    /// The item before the change, if the stream's view type includes it.
    pub old_image: Option<Item>,
    /// True for a deletion made by TTL expiry.
    pub by_ttl: bool,
}

#[derive(Deserialize)]
struct WireRecord {
    #[serde(rename = "eventID", default)]
    event_id: String,
    #[serde(rename = "eventName")]
    event_name: EventName,
    dynamodb: WireData,
    #[serde(rename = "userIdentity", default)]
    user_identity: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireData {
    #[serde(default)]
    keys: Item,
    new_image: Option<Item>,
    old_image: Option<Item>,
    sequence_number: String,
}

impl StreamRecord {
    /// Parses the JSON array the host hands to a stream handler.
    pub fn parse_batch(json: &str) -> Result<Vec<StreamRecord>, String> {
        let wire: Vec<WireRecord> =
            serde_json::from_str(json).map_err(|e| format!("bad stream batch: {e}"))?;
        Ok(wire
            .into_iter()
            .map(|w| StreamRecord {
                event_id: w.event_id,
                event_name: w.event_name,
                sequence_number: w.dynamodb.sequence_number,
                keys: w.dynamodb.keys,
                new_image: w.dynamodb.new_image,
                old_image: w.dynamodb.old_image,
                by_ttl: w
                    .user_identity
                    .and_then(|u| {
                        // Lambda's events spell it principalId, the Streams API PrincipalId.
                        u.get("principalId")
                            .or_else(|| u.get("PrincipalId"))
                            .and_then(|p| p.as_str().map(|p| p == "dynamodb.amazonaws.com"))
                    })
                    .unwrap_or(false),
            })
            .collect())
    }

    /// The key as `T`.
    pub fn keys_as<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(from_item(self.keys.clone())?)
    }

    /// The new image as `T` (`None` when the record has none).
    pub fn new_as<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        self.new_image
            .clone()
            .map(from_item)
            .transpose()
            .map_err(Into::into)
    }

    /// The old image as `T` (`None` when the record has none).
    pub fn old_as<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        self.old_image
            .clone()
            .map(from_item)
            .transpose()
            .map_err(Into::into)
    }
}

/// What a stream handler returns: `()` accepts the batch, a `Vec<String>` lists the sequence
/// numbers of failed records (the rest are accepted), `Err` fails the whole batch.
pub trait BatchResult {
    /// The failed sequence numbers, or the batch's error message.
    fn into_batch_result(self) -> Result<Vec<String>, String>;
}

impl BatchResult for () {
    fn into_batch_result(self) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }
}

impl BatchResult for Vec<String> {
    fn into_batch_result(self) -> Result<Vec<String>, String> {
        Ok(self)
    }
}

impl<T: BatchResult, E: Display> BatchResult for Result<T, E> {
    fn into_batch_result(self) -> Result<Vec<String>, String> {
        self.map_err(|e| e.to_string())?.into_batch_result()
    }
}

/// What a schedule handler returns: `()` or `Result<(), E: Display>`.
pub trait TickResult {
    /// `Err` with a message when the tick failed.
    fn into_tick_result(self) -> Result<(), String>;
}

impl TickResult for () {
    fn into_tick_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> TickResult for Result<(), E> {
    fn into_tick_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BATCH: &str = r#"[
      {"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
       "dynamodb": {"Keys": {"id": {"S": "a"}}, "NewImage": {"id": {"S": "a"}, "n": {"N": "1"}},
                    "SequenceNumber": "100", "StreamViewType": "NEW_AND_OLD_IMAGES"}},
      {"eventID": "2", "eventName": "REMOVE",
       "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
       "dynamodb": {"Keys": {"id": {"S": "b"}}, "OldImage": {"id": {"S": "b"}, "n": {"N": "2"}},
                    "SequenceNumber": "101"}}
    ]"#;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Row {
        id: String,
        n: u32,
    }

    #[test]
    fn parses_records() {
        let rs = StreamRecord::parse_batch(BATCH).unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].event_name, EventName::Insert);
        assert_eq!(
            rs[0].new_as::<Row>().unwrap(),
            Some(Row {
                id: "a".into(),
                n: 1
            })
        );
        assert!(!rs[0].by_ttl);
        assert_eq!(rs[1].sequence_number, "101");
        assert_eq!(rs[1].old_as::<Row>().unwrap().unwrap().n, 2);
        assert_eq!(rs[1].new_as::<Row>().unwrap(), None);
        assert!(rs[1].by_ttl);
        assert!(StreamRecord::parse_batch("{").is_err());
    }

    #[test]
    fn results() {
        assert_eq!(().into_batch_result(), Ok(vec![]));
        assert_eq!(
            vec!["7".to_string()].into_batch_result(),
            Ok(vec!["7".to_string()])
        );
        assert_eq!(
            Err::<(), _>("boom").into_batch_result(),
            Err("boom".to_string())
        );
        assert_eq!(Ok::<(), &str>(()).into_tick_result(), Ok(()));
    }
}
