//! Stream definitions: what a table's stream records ([`StreamViewType`]), what the catalog
//! keeps about each stream ([`StreamMeta`]), what one record holds ([`StreamRecord`]), and
//! what reading a stream returns ([`StreamState`], [`StreamRead`]).
//!
//! How records are numbered, written and read lives in the database (`db::stream_log`,
//! `db::sequencer`); the stream operations in [`crate::stream`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::now_millis;
use crate::value::{item_size, Item};

/// What a stream record carries of the item (DynamoDB's StreamViewType).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamViewType {
    /// Only the key attributes.
    KeysOnly,
    /// The item as it is after the change.
    NewImage,
    /// The item as it was before the change.
    OldImage,
    /// Both.
    NewAndOldImages,
}

impl StreamViewType {
    /// DynamoDB's name for the view type.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamViewType::KeysOnly => "KEYS_ONLY",
            StreamViewType::NewImage => "NEW_IMAGE",
            StreamViewType::OldImage => "OLD_IMAGE",
            StreamViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    /// Parses DynamoDB's name for a view type.
    pub fn parse(s: &str) -> Option<StreamViewType> {
        Some(match s {
            "KEYS_ONLY" => StreamViewType::KeysOnly,
            "NEW_IMAGE" => StreamViewType::NewImage,
            "OLD_IMAGE" => StreamViewType::OldImage,
            "NEW_AND_OLD_IMAGES" => StreamViewType::NewAndOldImages,
            _ => return None,
        })
    }

    /// Whether records keep the item after the change.
    pub(crate) fn keeps_new(self) -> bool {
        matches!(
            self,
            StreamViewType::NewImage | StreamViewType::NewAndOldImages
        )
    }

    /// Whether records keep the item before the change.
    pub(crate) fn keeps_old(self) -> bool {
        matches!(
            self,
            StreamViewType::OldImage | StreamViewType::NewAndOldImages
        )
    }
}

/// One stream of a table, as the catalog keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    /// Unique id; the records live in the keyspace `s-<id>`.
    pub id: Uuid,
    /// When the stream was enabled, milliseconds since the epoch. Unique among a table's streams
    /// (DynamoDB's StreamLabel is this instant written as an ISO 8601 timestamp).
    pub created_ms: u64,
    /// What the records carry.
    pub view_type: StreamViewType,
    /// The first sequence number the stream could hold.
    pub start_seq: u64,
    /// When the stream was disabled (its shard closed), milliseconds since the epoch.
    pub disabled_ms: Option<u64>,
    /// The last sequence number handed out before the stream was disabled.
    pub end_seq: Option<u64>,
    /// The shards its records are split into by partition-key hash (records of one item all
    /// go to one shard, in order). `None`: a stream made before streams had shards, whose one
    /// shard keeps the records in its original layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<u16>,
}

impl StreamMeta {
    /// A new stream for a table whose streams so far are `earlier`, when the last sequence
    /// number handed out is `last_seq`.
    pub(crate) fn new(view_type: StreamViewType, earlier: &[StreamMeta], last_seq: u64) -> Self {
        // Stream labels are creation times to the millisecond: keep them distinct.
        let after = earlier.iter().map(|s| s.created_ms + 1).max().unwrap_or(0);
        StreamMeta {
            id: Uuid::new_v4(),
            created_ms: now_millis().max(after),
            view_type,
            start_seq: last_seq + 1,
            disabled_ms: None,
            end_seq: None,
            shards: Some(1),
        }
    }

    /// The same stream with its records split into `shards` shards (at least one).
    pub(crate) fn with_shards(mut self, shards: u16) -> Self {
        self.shards = Some(shards.max(1));
        self
    }

    /// How many shards the stream has.
    pub fn shard_count(&self) -> u16 {
        self.shards.unwrap_or(1)
    }

    /// Name of the fjall keyspace holding the stream's records.
    pub fn keyspace(&self) -> String {
        format!("s-{}", self.id.simple())
    }

    /// Whether new changes are still recorded.
    pub fn is_enabled(&self) -> bool {
        self.disabled_ms.is_none()
    }
}

/// The kind of change a record describes (DynamoDB's eventName).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// A new item was written.
    Insert,
    /// An existing item was changed.
    Modify,
    /// An item was deleted.
    Remove,
}

impl ChangeKind {
    /// DynamoDB's eventName.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Insert => "INSERT",
            ChangeKind::Modify => "MODIFY",
            ChangeKind::Remove => "REMOVE",
        }
    }
}

/// One item change, as a stream holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// The record's sequence number: unique, and increasing in commit order.
    pub seq: u64,
    /// Commit time, milliseconds since the epoch.
    pub time_ms: u64,
    /// Insert, modify or remove.
    pub kind: ChangeKind,
    /// The item's key attributes.
    pub keys: Item,
    /// The item before the change, if the view type keeps it and the item existed.
    pub old: Option<Item>,
    /// The item after the change, if the view type keeps it and the item exists.
    pub new: Option<Item>,
    /// The change was a TTL expiry made by the store itself, not a client's write.
    pub by_ttl: bool,
    /// The view type the record was written under.
    pub view_type: StreamViewType,
}

impl StreamRecord {
    /// DynamoDB's SizeBytes: the size of the keys and images the record carries.
    pub fn size_bytes(&self) -> usize {
        item_size(&self.keys)
            + self.old.as_ref().map_or(0, item_size)
            + self.new.as_ref().map_or(0, item_size)
    }
}

/// A stream's state: its definition and how far its log reaches.
#[derive(Clone, Debug)]
pub struct StreamState {
    /// The table's name.
    pub table: String,
    /// The stream.
    pub meta: StreamMeta,
    /// Sequence number of the oldest record still held, if any.
    pub first_seq: Option<u64>,
    /// Sequence number of the newest record, if any.
    pub last_seq: Option<u64>,
    /// Every record up to this number has been trimmed (0: none ever was).
    pub trimmed_through: u64,
}

/// A batch of records read from a stream.
#[derive(Clone, Debug, Default)]
pub struct StreamRead {
    /// Records in sequence order.
    pub records: Vec<StreamRecord>,
    /// The stream is closed and the read reached its last record.
    pub end_of_shard: bool,
}

/// What UpdateTable's StreamSpecification asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamChange {
    /// Start a new stream with this view type.
    Enable(StreamViewType),
    /// Close the current stream.
    Disable,
}
