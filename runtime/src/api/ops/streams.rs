//! DynamoDB Streams on the DynamoDB port: ListStreams, DescribeStream (with its `CHILD_SHARDS`
//! `ShardFilter`), GetShardIterator and GetRecords
//! (`X-Amz-Target: DynamoDBStreams_20120810.<Operation>`), the StreamSpecification of
//! CreateTable and UpdateTable, and stream records in AWS's JSON shape (also what stream-triggered
//! functions receive).
//!
//! Names as AWS writes them: a stream's label is its creation time (`2026-11-21T22:50:01.123`),
//! its ARN is the table's ARN followed by `/stream/<label>`, a stream's records are split by
//! partition-key hash into shards (`shardId-<first sequence number>-<stream id prefix>-<shard
//! number>`; a stream from before shards has one, without the number), which never split, so
//! none has a parent or children; sequence numbers are decimal
//! strings, zero-padded to 21 digits so that they also sort as strings. A shard iterator is an
//! opaque token naming the stream and the position after which reading continues; it expires
//! after 15 minutes, as AWS's do. A deleted table's streams stay listed, described
//! (`DISABLED`) and readable for the retention period (24 hours by default), as DynamoDB keeps
//! them.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tarn_store::clock::now_millis;
use tarn_store::schema::TableMeta;
use tarn_store::stream::{StreamMeta, StreamRecord, StreamState, StreamViewType};
use tarn_store::{StoreError, StreamChange};

use super::arn::table_arn;
use crate::api::Api;
use tarn_wire::kind;
use tarn_wire::ApiError;
use tarn_wire::{optional_i64, optional_object, optional_str, required_str, ItemJson};

/// How long a shard iterator stays valid.
const ITERATOR_LIFETIME_MS: u64 = 15 * 60 * 1000;
/// Most records GetRecords returns, and its default.
const MAX_RECORDS: i64 = 1000;
/// GetRecords stops adding records after about this many bytes.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A stream's label: its creation time in ISO 8601, to the millisecond, in UTC.
pub(crate) fn stream_label(stream: &StreamMeta) -> String {
    DateTime::<Utc>::from_timestamp_millis(stream.created_ms as i64)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3f")
        .to_string()
}

/// A stream's ARN: `<table ARN>/stream/<label>`.
pub(crate) fn stream_arn(api: &Api, table: &str, stream: &StreamMeta) -> String {
    format!("{}/stream/{}", table_arn(api, table), stream_label(stream))
}

/// The id of shard `shard` of a stream.
pub(crate) fn shard_id(stream: &StreamMeta, shard: u16) -> String {
    let base = format!(
        "shardId-{:020}-{}",
        stream.start_seq,
        &stream.id.simple().to_string()[..8]
    );
    match stream.shards {
        // A stream from before shards keeps its one shard's id.
        None => base,
        Some(_) => format!("{base}-{shard:04}"),
    }
}

/// The number of the shard of `stream` whose id is `id`, if it has one.
fn shard_number(stream: &StreamMeta, id: &str) -> Option<u16> {
    (0..stream.shard_count()).find(|&n| shard_id(stream, n) == id)
}

/// A sequence number as the wire carries it.
pub(crate) fn sequence_number(seq: u64) -> String {
    format!("{seq:021}")
}

fn parse_sequence_number(s: &str) -> Result<u64, ApiError> {
    s.parse().map_err(|_| {
        ApiError::validation(format!(
            "Invalid SequenceNumber: {s} is not a sequence number of this stream"
        ))
    })
}

/// A stream record in the shape of DynamoDB Streams' GetRecords (and Lambda's event records).
pub(crate) fn record_json(region: &str, stream: &StreamMeta, r: &StreamRecord) -> Value {
    let id_prefix = event_id_prefix(stream);
    let record = RecordJson {
        region,
        id_prefix: &id_prefix,
        r,
        lambda_arn: None,
    };
    serde_json::to_value(record).expect("stream records serialize")
}

/// The stream's part of each of its records' `eventID`.
pub(crate) fn event_id_prefix(stream: &StreamMeta) -> String {
    stream.id.simple().to_string()[..16].to_string()
}

/// A stream record written as JSON straight from the store's record: the Streams API's
/// record (GetRecords), or, with `lambda_arn`, the record as Lambda delivers it to a stream
/// handler (`userIdentity` spelled as Lambda spells it, plus `eventSourceARN`).
pub(crate) struct RecordJson<'a> {
    /// The region the stream is in (`awsRegion`).
    pub(crate) region: &'a str,
    /// [`event_id_prefix`] of the record's stream.
    pub(crate) id_prefix: &'a str,
    pub(crate) r: &'a StreamRecord,
    /// Lambda's shape, with this `eventSourceARN`.
    pub(crate) lambda_arn: Option<&'a str>,
}

impl serde::Serialize for RecordJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.r;
        let mut m = serializer.serialize_map(None)?;
        // Unique per stream and the same on every read of the record, so consumers can
        // deduplicate.
        m.serialize_entry("eventID", &format_args!("{}{:016x}", self.id_prefix, r.seq))?;
        m.serialize_entry("eventName", r.kind.as_str())?;
        m.serialize_entry("eventVersion", "1.1")?;
        m.serialize_entry("eventSource", "aws:dynamodb")?;
        m.serialize_entry("awsRegion", self.region)?;
        m.serialize_entry("dynamodb", &Change(r))?;
        if r.by_ttl {
            let (kind, principal) = match self.lambda_arn {
                Some(_) => ("type", "principalId"),
                None => ("Type", "PrincipalId"),
            };
            let ttl: [(&str, &str); 2] = [(kind, "Service"), (principal, "dynamodb.amazonaws.com")];
            m.serialize_entry("userIdentity", &IdentityJson(ttl))?;
        }
        if let Some(arn) = self.lambda_arn {
            m.serialize_entry("eventSourceARN", arn)?;
        }
        m.end()
    }
}

/// A record's `dynamodb` member.
struct Change<'a>(&'a StreamRecord);

impl serde::Serialize for Change<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("ApproximateCreationDateTime", &(r.time_ms / 1000))?;
        m.serialize_entry("Keys", &ItemJson(&r.keys))?;
        if let Some(new) = &r.new {
            m.serialize_entry("NewImage", &ItemJson(new))?;
        }
        if let Some(old) = &r.old {
            m.serialize_entry("OldImage", &ItemJson(old))?;
        }
        m.serialize_entry("SequenceNumber", &sequence_number(r.seq))?;
        m.serialize_entry("SizeBytes", &r.size_bytes())?;
        m.serialize_entry("StreamViewType", r.view_type.as_str())?;
        m.end()
    }
}

/// A record's `userIdentity`: its two members, in order.
struct IdentityJson<'a>([(&'a str, &'a str); 2]);

impl serde::Serialize for IdentityJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().copied())
    }
}

/// The StreamSpecification member of CreateTable or UpdateTable, if present.
pub(crate) fn stream_specification(body: &Value) -> Result<Option<StreamChange>, ApiError> {
    let Some(spec) = optional_object(body, "StreamSpecification")? else {
        return Ok(None);
    };
    let spec = Value::Object(spec.clone());
    let enabled = spec
        .get("StreamEnabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            ApiError::validation(
                "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null",
            )
        })?;
    let view = optional_str(&spec, "StreamViewType")?;
    match (enabled, view) {
        (true, None) => Err(ApiError::validation(
            "One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true",
        )),
        (true, Some(v)) => StreamViewType::parse(v).map(|v| Some(StreamChange::Enable(v))).ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value '{v}' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
            ))
        }),
        (false, Some(_)) => Err(ApiError::validation(
            "One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false",
        )),
        (false, None) => Ok(Some(StreamChange::Disable)),
    }
}

/// Adds a table's stream members to its TableDescription: StreamSpecification while a stream is
/// enabled, LatestStreamArn and LatestStreamLabel once it has had one.
pub(crate) fn describe_table_streams(api: &Api, meta: &TableMeta, d: &mut Map<String, Value>) {
    if let Some(s) = meta.enabled_stream() {
        d.insert(
            "StreamSpecification".into(),
            json!({"StreamEnabled": true, "StreamViewType": s.view_type.as_str()}),
        );
    }
    if let Some(s) = meta.latest_stream() {
        d.insert("LatestStreamLabel".into(), json!(stream_label(s)));
        d.insert(
            "LatestStreamArn".into(),
            json!(stream_arn(api, &meta.name, s)),
        );
    }
}

/// The table and stream a stream ARN names.
fn resolve(api: &Api, arn: &str) -> Result<(TableMeta, StreamMeta), ApiError> {
    let not_found = || {
        ApiError::resource_not_found(format!(
            "Requested resource not found: Stream: {arn} not found"
        ))
    };
    let (table_part, label) = arn
        .rsplit_once("/stream/")
        .ok_or_else(|| ApiError::validation(format!("Invalid StreamArn: {arn}")))?;
    let table = table_part
        .rsplit_once(":table/")
        .map(|(_, t)| t)
        .filter(|t| !t.is_empty() && !t.contains('/'))
        .ok_or_else(|| ApiError::validation(format!("Invalid StreamArn: {arn}")))?;
    // The table, or a deleted table of that name whose streams are kept.
    api.store()
        .stream_tables(&api.table_ref(table))
        .into_iter()
        .find_map(|meta| {
            let stream = meta
                .streams
                .iter()
                .find(|s| stream_label(s) == label && stream_arn(api, table, s) == arn)
                .cloned()?;
            Some((meta, stream))
        })
        .ok_or_else(not_found)
}

fn stream_error(e: StoreError) -> ApiError {
    match e {
        StoreError::TrimmedDataAccess(m) => ApiError::new(kind::TRIMMED_DATA_ACCESS, m),
        other => other.into(),
    }
}

/// ListStreams: every stream, or those of one table, paged by ExclusiveStartStreamArn.
pub(crate) fn list_streams(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let limit = optional_i64(body, "Limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
        )));
    }
    let table = optional_str(body, "TableName")?;
    if let Some(t) = table {
        // A deleted table whose streams are kept is listed too, as DynamoDB lists it.
        if api.store().stream_tables(&api.table_ref(t)).is_empty() {
            api.store().table_meta(&api.table_ref(t))?;
        }
    }
    let start = optional_str(body, "ExclusiveStartStreamArn")?;
    let all: Vec<Value> = api
        .store()
        .list_streams()
        .into_iter()
        .filter_map(|(t, s)| {
            let (region, name) = tarn_store::schema::split_table_ref(&t);
            (region == api.region()).then(|| (name.to_string(), s))
        })
        .filter(|(t, _)| table.is_none_or(|want| want == t))
        .map(|(t, s)| {
            json!({"StreamArn": stream_arn(api, &t, &s), "TableName": t, "StreamLabel": stream_label(&s)})
        })
        .collect();
    let skip = match start {
        Some(arn) => all
            .iter()
            .position(|s| s["StreamArn"] == arn)
            .map_or(all.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<Value> = all[skip..].iter().take(limit as usize).cloned().collect();
    let mut out = Map::new();
    if skip + page.len() < all.len() {
        if let Some(last) = page.last() {
            out.insert("LastEvaluatedStreamArn".into(), last["StreamArn"].clone());
        }
    }
    out.insert("Streams".into(), Value::Array(page));
    Ok(Value::Object(out))
}

/// Shard `shard` of a stream as DescribeStream lists it. Every shard of a stream starts with
/// the stream (sequence numbers are the store's, shared by the shards) and closes with it.
fn shard_json(state: &StreamState, shard: u16) -> Value {
    let meta = &state.meta;
    let mut range = Map::new();
    range.insert(
        "StartingSequenceNumber".into(),
        json!(sequence_number(meta.start_seq)),
    );
    if let Some(end) = meta.end_seq {
        range.insert(
            "EndingSequenceNumber".into(),
            json!(sequence_number(end.max(meta.start_seq))),
        );
    }
    json!({"ShardId": shard_id(meta, shard), "SequenceNumberRange": Value::Object(range)})
}

/// Shortest and longest shard id DynamoDB Streams accepts.
const SHARD_ID_LENGTH: std::ops::RangeInclusive<usize> = 28..=65;

/// DescribeStream's `ShardFilter` (`{"Type": "CHILD_SHARDS", "ShardId": ...}`): the parent
/// shard whose children are asked for, or `None` without a filter. Validated as DynamoDB Streams
/// does: the type must be `CHILD_SHARDS`, the shard id 28 to 65 characters (all constraint
/// violations in one message), and a `CHILD_SHARDS` filter must name its shard.
fn child_shards_filter(body: &Value) -> Result<Option<String>, ApiError> {
    let Some(filter) = optional_object(body, "ShardFilter")? else {
        return Ok(None);
    };
    let filter = Value::Object(filter.clone());
    let kind_name = optional_str(&filter, "Type")?;
    let parent = optional_str(&filter, "ShardId")?;
    let mut violations = Vec::new();
    if let Some(t) = kind_name.filter(|t| *t != "CHILD_SHARDS") {
        violations.push(format!(
            "Value '{t}' at 'shardFilter.type' failed to satisfy constraint: Member must satisfy enum value set: [CHILD_SHARDS]"
        ));
    }
    if let Some(id) = parent {
        let len = id.chars().count();
        if len < *SHARD_ID_LENGTH.start() {
            violations.push(format!(
                "Value '{id}' at 'shardFilter.shardId' failed to satisfy constraint: Member must have length greater than or equal to {}",
                SHARD_ID_LENGTH.start()
            ));
        } else if len > *SHARD_ID_LENGTH.end() {
            violations.push(format!(
                "Value '{id}' at 'shardFilter.shardId' failed to satisfy constraint: Member must have length less than or equal to {}",
                SHARD_ID_LENGTH.end()
            ));
        }
    }
    if !violations.is_empty() {
        let n = violations.len();
        let plural = if n == 1 { "" } else { "s" };
        return Err(ApiError::validation(format!(
            "{n} validation error{plural} detected: {}",
            violations.join("; ")
        )));
    }
    match (kind_name, parent) {
        (None, _) => Err(ApiError::validation(
            "ShardFilter.Type must be provided when a ShardFilter is given (the only type is CHILD_SHARDS)",
        )),
        (Some(_), None) => Err(ApiError::validation(
            "ShardFilter.ShardId must be provided for a CHILD_SHARDS filter",
        )),
        (Some(_), Some(id)) => Ok(Some(id.to_string())),
    }
}

/// DescribeStream: the stream, its status and its shards, at most `Limit` (100 by default)
/// after `ExclusiveStartShardId`, with `LastEvaluatedShardId` when more follow (or, with a
/// `CHILD_SHARDS` [`child_shards_filter`], the children of the shard it names: none, as a tarn
/// stream's shards never split; a shard id of the right form that is not in the stream has none
/// either).
pub(crate) fn describe_stream(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let arn = required_str(body, "StreamArn")?;
    let limit = optional_i64(body, "Limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
        )));
    }
    let child_of = child_shards_filter(body)?;
    let (table, stream) = resolve(api, arn)?;
    let state = api
        .store()
        .stream_state(&api.table_ref(&table.name), stream.id)
        .map_err(stream_error)?;
    let count = stream.shard_count();
    let first = match optional_str(body, "ExclusiveStartShardId")? {
        // A shard id not in the stream lists from the start, as one before its first shard.
        Some(id) => shard_number(&stream, id).map_or(0, |n| n + 1),
        None => 0,
    };
    let (shards, last_evaluated) = match child_of {
        // Shards never split: no shard has children.
        Some(_parent) => (vec![], None),
        None => {
            let end = count.min(first.saturating_add(limit as u16));
            let page: Vec<Value> = (first..end).map(|n| shard_json(&state, n)).collect();
            let more = (end < count).then(|| shard_id(&stream, end - 1));
            (page, more)
        }
    };
    let key_schema: Vec<Value> =
        std::iter::once(json!({"AttributeName": table.key_schema.hash.name, "KeyType": "HASH"}))
            .chain(
                table
                    .key_schema
                    .range
                    .iter()
                    .map(|r| json!({"AttributeName": r.name, "KeyType": "RANGE"})),
            )
            .collect();
    let mut out = json!({"StreamDescription": {
        "StreamArn": arn,
        "StreamLabel": stream_label(&stream),
        "StreamStatus": if stream.is_enabled() { "ENABLED" } else { "DISABLED" },
        "StreamViewType": stream.view_type.as_str(),
        "CreationRequestDateTime": stream.created_ms as f64 / 1000.0,
        "TableName": table.name,
        "KeySchema": key_schema,
        "Shards": shards,
    }});
    if let Some(last) = last_evaluated {
        out["StreamDescription"]["LastEvaluatedShardId"] = json!(last);
    }
    Ok(out)
}

/// Where a shard iterator points: the stream, its shard, and the sequence number after which to
/// read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShardIterator {
    table: String,
    stream: uuid::Uuid,
    shard: u16,
    after: u64,
    issued_ms: u64,
}

impl ShardIterator {
    fn encode(&self) -> String {
        let raw = format!(
            "tarn2|{}|{}|{}|{}|{}",
            self.table,
            self.stream.simple(),
            self.shard,
            self.after,
            self.issued_ms
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    fn decode(token: &str) -> Result<ShardIterator, ApiError> {
        let invalid = || ApiError::validation("Invalid ShardIterator");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid())?;
        let raw = String::from_utf8(raw).map_err(|_| invalid())?;
        let parts: Vec<&str> = raw.split('|').collect();
        // `tarn1`: an iterator handed out before streams had shards (of shard 0).
        let (table, stream, shard, after, issued) = match parts[..] {
            ["tarn2", table, stream, shard, after, issued] => (table, stream, shard, after, issued),
            ["tarn1", table, stream, after, issued] => (table, stream, "0", after, issued),
            _ => return Err(invalid()),
        };
        Ok(ShardIterator {
            table: table.to_string(),
            stream: stream.parse().map_err(|_| invalid())?,
            shard: shard.parse().map_err(|_| invalid())?,
            after: after.parse().map_err(|_| invalid())?,
            issued_ms: issued.parse().map_err(|_| invalid())?,
        })
    }
}

/// GetShardIterator: TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER.
pub(crate) fn get_shard_iterator(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let arn = required_str(body, "StreamArn")?;
    let shard = required_str(body, "ShardId")?;
    let kind_name = required_str(body, "ShardIteratorType")?;
    let seq = optional_str(body, "SequenceNumber")?;
    let (table, stream) = resolve(api, arn)?;
    let Some(shard_no) = shard_number(&stream, shard) else {
        return Err(ApiError::resource_not_found(format!(
            "Requested resource not found: Shard does not exist: {shard}"
        )));
    };
    let state = api
        .store()
        .stream_state(&api.table_ref(&table.name), stream.id)
        .map_err(stream_error)?;
    let trimmed = |n: u64| {
        ApiError::new(
            kind::TRIMMED_DATA_ACCESS,
            format!(
                "Attempted to access data beyond the trim horizon: sequence number {} has been trimmed",
                sequence_number(n)
            ),
        )
    };
    let need_seq = || {
        seq.map(parse_sequence_number).transpose()?.ok_or_else(|| {
            ApiError::validation(format!(
                "A SequenceNumber is required for ShardIteratorType {kind_name}"
            ))
        })
    };
    let last_handed_out = stream
        .end_seq
        .unwrap_or_else(|| api.store().latest_sequence_number());
    let in_shard = |n: u64| {
        if n < stream.start_seq || n > last_handed_out {
            Err(ApiError::validation(format!(
                "Invalid SequenceNumber: {} is not in the range of shard {}",
                sequence_number(n),
                shard
            )))
        } else {
            Ok(n)
        }
    };
    let after = match kind_name {
        "TRIM_HORIZON" => state.trimmed_through.max(stream.start_seq.saturating_sub(1)),
        "LATEST" => last_handed_out,
        "AT_SEQUENCE_NUMBER" => {
            let n = in_shard(need_seq()?)?;
            if n <= state.trimmed_through {
                return Err(trimmed(n));
            }
            n - 1
        }
        "AFTER_SEQUENCE_NUMBER" => {
            let n = in_shard(need_seq()?)?;
            if n < state.trimmed_through {
                return Err(trimmed(n));
            }
            n
        }
        other => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]"
            )))
        }
    };
    let it = ShardIterator {
        table: table.name,
        stream: stream.id,
        shard: shard_no,
        after,
        issued_ms: now_millis(),
    };
    Ok(json!({"ShardIterator": it.encode()}))
}

/// GetRecords: up to Limit records (1 to 1000) after the iterator's position, and the iterator
/// for the next call (none once a closed shard has been read to its end).
pub(crate) fn get_records(api: &Api, body: &Value) -> Result<Value, ApiError> {
    let it = ShardIterator::decode(required_str(body, "ShardIterator")?)?;
    let limit = optional_i64(body, "Limit")?.unwrap_or(MAX_RECORDS);
    if !(1..=MAX_RECORDS).contains(&limit) {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000"
        )));
    }
    let now = now_millis();
    if now.saturating_sub(it.issued_ms) > ITERATOR_LIFETIME_MS {
        return Err(ApiError::new(
            kind::EXPIRED_ITERATOR,
            format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {ITERATOR_LIFETIME_MS} milliseconds.",
                it.issued_ms, now
            ),
        ));
    }
    let stream = api
        .store()
        .stream_tables(&api.table_ref(&it.table))
        .into_iter()
        .find_map(|meta| meta.streams.into_iter().find(|s| s.id == it.stream))
        .ok_or_else(|| {
            ApiError::resource_not_found("Requested resource not found: Stream not found")
        })?;
    let read = api
        .store()
        .read_stream_shard(
            &api.table_ref(&it.table),
            it.stream,
            it.shard,
            it.after,
            limit as usize,
            MAX_RESPONSE_BYTES,
        )
        .map_err(stream_error)?;
    let records: Vec<Value> = read
        .records
        .iter()
        .map(|r| record_json(api.region(), &stream, r))
        .collect();
    let mut out = Map::new();
    out.insert("Records".into(), Value::Array(records));
    if !read.end_of_shard {
        let next = ShardIterator {
            after: read.records.last().map_or(it.after, |r| r.seq),
            issued_ms: now,
            ..it
        };
        out.insert("NextShardIterator".into(), json!(next.encode()));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterators_round_trip_and_reject_garbage() {
        let it = ShardIterator {
            table: "orders.v2-x_y".into(),
            stream: uuid::Uuid::new_v4(),
            shard: 3,
            after: 1_700_000_000_000_123,
            issued_ms: 42,
        };
        assert_eq!(ShardIterator::decode(&it.encode()).unwrap(), it);
        // An iterator handed out before shards reads shard 0.
        let old = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("tarn1|t|{}|5|42", it.stream.simple()));
        let old = ShardIterator::decode(&old).unwrap();
        assert_eq!((old.shard, old.after, old.issued_ms), (0, 5, 42));
        for bad in ["", "not base64!", "dGFybjF8YQ", &it.encode()[1..]] {
            assert_eq!(
                ShardIterator::decode(bad).unwrap_err().kind,
                kind::VALIDATION,
                "{bad}"
            );
        }
    }

    #[test]
    fn sequence_numbers_sort_as_strings() {
        let a = sequence_number(999);
        let b = sequence_number(1_700_000_000_000_000);
        assert_eq!(a.len(), 21);
        assert!(a < b);
        assert_eq!(parse_sequence_number(&b).unwrap(), 1_700_000_000_000_000);
        assert!(parse_sequence_number("12x").is_err());
    }

    #[test]
    fn labels_are_iso_timestamps_to_the_millisecond() {
        let s = StreamMeta {
            id: uuid::Uuid::nil(),
            created_ms: 1_431_379_293_291,
            view_type: StreamViewType::KeysOnly,
            start_seq: 1,
            disabled_ms: None,
            end_seq: None,
            shards: None,
        };
        assert_eq!(stream_label(&s), "2015-05-11T21:21:33.291");
        // A stream from before shards keeps its one shard's id.
        assert_eq!(shard_id(&s, 0), "shardId-00000000000000000001-00000000");
        assert_eq!(
            shard_number(&s, "shardId-00000000000000000001-00000000"),
            Some(0)
        );
        let sharded = StreamMeta {
            shards: Some(4),
            ..s
        };
        assert_eq!(
            shard_id(&sharded, 3),
            "shardId-00000000000000000001-00000000-0003"
        );
        assert_eq!(shard_number(&sharded, &shard_id(&sharded, 2)), Some(2));
        assert_eq!(
            shard_number(&sharded, "shardId-00000000000000000001-00000000"),
            None
        );
        assert!(SHARD_ID_LENGTH.contains(&shard_id(&sharded, 3).len()));
    }

    #[test]
    fn stream_specifications_follow_dynamodb() {
        let spec = |v: Value| stream_specification(&json!({"StreamSpecification": v}));
        assert_eq!(
            spec(json!({"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"})).unwrap(),
            Some(StreamChange::Enable(StreamViewType::KeysOnly))
        );
        assert_eq!(
            spec(json!({"StreamEnabled": false})).unwrap(),
            Some(StreamChange::Disable)
        );
        assert!(spec(json!({"StreamEnabled": true})).is_err());
        assert!(spec(json!({"StreamEnabled": true, "StreamViewType": "ALL"})).is_err());
        assert!(spec(json!({"StreamViewType": "KEYS_ONLY"})).is_err());
        assert_eq!(stream_specification(&json!({})).unwrap(), None);
    }
}
