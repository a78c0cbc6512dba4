//! The workloads and the DynamoDB JSON request bodies they send.
//!
//! Two tables, created by [`crate::setup`]:
//!
//! - [`ITEMS_TABLE`] (hash key `pk`, S): `--keys` seeded items `item-0`, `item-1`... of about
//!   1 KB (a `payload` string of [`PAYLOAD_BYTES`]), and the hot counter item `hot`;
//! - [`QUERY_TABLE`] (hash key `pk` S, range key `sk` N): one partition `q` of
//!   [`QUERY_ITEMS`] items of about 100 bytes.
//!
//! Payloads are slices of a per-connection random alphanumeric buffer, so items differ and do
//! not compress to nothing in an LSM store.
//!
//! The big-table bench ([`crate::bigtable`]) reads tables of its own, "wide" tables (hash key
//! `pk` S, range key `sk` N) of items of 1 KB in partitions of [`WIDE_PARTITION`]: item `i` is
//! `pk = p-<i / 10>`, `sk = i % 10`. Its workloads name the table ([`RequestBuilder::on_table`]).

use std::fmt::Write as _;

use serde_json::{json, Value};

/// The table of the single-item workloads.
pub const ITEMS_TABLE: &str = "loadgen_items";
/// The table of the Query workload.
pub const QUERY_TABLE: &str = "loadgen_query";
/// The partition the Query workload reads.
pub const QUERY_PARTITION: &str = "q";
/// Items in the queried partition (one Query answers all of them).
pub const QUERY_ITEMS: usize = 100;
/// Bytes of the `payload` attribute of a 1 KB item.
pub const PAYLOAD_BYTES: usize = 1000;
/// Bytes of the `payload` attribute of a queried item.
pub const QUERY_PAYLOAD_BYTES: usize = 100;
/// Items per BatchWriteItem (DynamoDB's maximum).
pub const BATCH_SIZE: usize = 25;
/// The key of the UpdateItem workload's hot item.
pub const HOT_KEY: &str = "hot";
/// Items in one partition of a wide table.
pub const WIDE_PARTITION: u64 = 10;
/// Length of the random buffer payloads are sliced from.
const RANDOM_BUFFER: usize = 4 * PAYLOAD_BYTES;

/// What one run sends.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// PutItem of 1 KB items, every key distinct.
    Put,
    /// GetItem of seeded items (every read hits).
    Get,
    /// UpdateItem `ADD n :one` on one hot key.
    Update,
    /// Query of one partition of 100 items.
    Query,
    /// BatchWriteItem of 25 distinct 1 KB items.
    BatchWrite,
    /// 80% GetItem of seeded items, 20% PutItem overwriting seeded items.
    Mixed,
    /// GetItem of random items of a wide table (the big-table bench).
    WideGet,
    /// Query of one random partition of a wide table (10 items of 1 KB).
    WideQuery,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 6] = [
        Workload::Put,
        Workload::Get,
        Workload::Update,
        Workload::Query,
        Workload::BatchWrite,
        Workload::Mixed,
    ];

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Update => "update",
            Workload::Query => "query",
            Workload::BatchWrite => "batch-write",
            Workload::Mixed => "mixed",
            Workload::WideGet => "wide-get",
            Workload::WideQuery => "wide-query",
        }
    }

    /// What the workload does, for report headings.
    pub fn describe(self) -> &'static str {
        match self {
            Workload::Put => "PutItem, 1 KB items, distinct keys",
            Workload::Get => "GetItem, hits on 1 KB items",
            Workload::Update => "UpdateItem ADD on one hot key",
            Workload::Query => "Query returning 100 items",
            Workload::BatchWrite => "BatchWriteItem of 25 1 KB items",
            Workload::Mixed => "80% GetItem / 20% PutItem",
            Workload::WideGet => "GetItem of random 1 KB items of a wide table",
            Workload::WideQuery => "Query of a random partition of 10 1 KB items",
        }
    }

    /// Items written or read by one request (for items/s).
    pub fn items_per_request(self) -> usize {
        match self {
            Workload::Query => QUERY_ITEMS,
            Workload::BatchWrite => BATCH_SIZE,
            Workload::WideQuery => WIDE_PARTITION as usize,
            _ => 1,
        }
    }
}

/// A small xorshift generator: random keys without a dependency, reproducible per seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; zero is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Builds the requests of one connection: the operation (`X-Amz-Target` suffix) and JSON body.
pub struct RequestBuilder {
    workload: Workload,
    /// Distinguishes this run's keys from other runs' (PutItem keys are never reused).
    run_id: String,
    connection: usize,
    keys: u64,
    sent: u64,
    rng: Rng,
    random: String,
    /// The wide table the wide workloads read.
    table: String,
}

impl RequestBuilder {
    /// The builder of connection `connection` of run `run_id`, reading keys `item-0..keys`.
    pub fn new(workload: Workload, run_id: &str, connection: usize, keys: u64) -> Self {
        let mut rng = Rng::new(run_id.bytes().fold(connection as u64 + 1, |h, b| {
            h.wrapping_mul(31) ^ u64::from(b)
        }));
        let random = random_text(&mut rng, RANDOM_BUFFER);
        RequestBuilder {
            workload,
            run_id: run_id.to_string(),
            connection,
            keys: keys.max(1),
            sent: 0,
            rng,
            random,
            table: ITEMS_TABLE.to_string(),
        }
    }

    /// The same builder reading wide table `table` (the wide workloads).
    pub fn on_table(mut self, table: &str) -> Self {
        self.table = table.to_string();
        self
    }

    /// The next request: operation name and body.
    pub fn next_request(&mut self) -> (&'static str, String) {
        self.sent += 1;
        match self.workload {
            Workload::Put => {
                let key = format!("p-{}-{}-{}", self.run_id, self.connection, self.sent);
                ("PutItem", put_body(&key, self.payload(PAYLOAD_BYTES)))
            }
            Workload::Get => ("GetItem", get_body(&item_key(self.rng.below(self.keys)))),
            Workload::Update => ("UpdateItem", update_body()),
            Workload::Query => ("Query", query_body()),
            Workload::BatchWrite => {
                let keys: Vec<String> = (0..BATCH_SIZE)
                    .map(|i| format!("b-{}-{}-{}-{i}", self.run_id, self.connection, self.sent))
                    .collect();
                let body = {
                    let items: Vec<(&str, &str)> = keys
                        .iter()
                        .enumerate()
                        .map(|(i, k)| (k.as_str(), self.payload_at(i, PAYLOAD_BYTES)))
                        .collect();
                    batch_write_body(ITEMS_TABLE, &items)
                };
                ("BatchWriteItem", body)
            }
            Workload::WideGet => (
                "GetItem",
                wide_get_body(&self.table, self.rng.below(self.keys)),
            ),
            Workload::WideQuery => {
                let partitions = self.keys.div_ceil(WIDE_PARTITION);
                (
                    "Query",
                    wide_query_body(&self.table, self.rng.below(partitions)),
                )
            }
            Workload::Mixed => {
                let key = item_key(self.rng.below(self.keys));
                if self.rng.below(5) == 0 {
                    ("PutItem", put_body(&key, self.payload(PAYLOAD_BYTES)))
                } else {
                    ("GetItem", get_body(&key))
                }
            }
        }
    }

    /// A payload of `len` bytes that changes from request to request.
    fn payload(&self, len: usize) -> &str {
        self.payload_at(0, len)
    }

    fn payload_at(&self, index: usize, len: usize) -> &str {
        let spread = RANDOM_BUFFER - len;
        let start = (self.sent as usize * 7919 + index * 131) % spread;
        &self.random[start..start + len]
    }
}

/// `len` random alphanumeric characters.
pub fn random_text(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char)
        .collect()
}

/// The key of seeded item number `i`.
pub fn item_key(i: u64) -> String {
    format!("item-{i}")
}

/// Escapes nothing: keys and payloads are alphanumeric and `-`, which JSON strings take as is.
fn push_str_value(out: &mut String, s: &str) {
    debug_assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    out.push('"');
    out.push_str(s);
    out.push('"');
}

/// An item of [`ITEMS_TABLE`] in DynamoDB JSON, appended to `out`.
fn push_item(out: &mut String, key: &str, payload: &str) {
    out.push_str(r#"{"pk":{"S":"#);
    push_str_value(out, key);
    out.push_str(r#"},"payload":{"S":"#);
    push_str_value(out, payload);
    out.push_str("}}");
}

/// PutItem of `{pk: key, payload}` into [`ITEMS_TABLE`].
pub fn put_body(key: &str, payload: &str) -> String {
    let mut out = String::with_capacity(payload.len() + 96);
    let _ = write!(out, r#"{{"TableName":"{ITEMS_TABLE}","Item":"#);
    push_item(&mut out, key, payload);
    out.push('}');
    out
}

/// GetItem of `key` from [`ITEMS_TABLE`].
pub fn get_body(key: &str) -> String {
    let mut out = String::with_capacity(64 + key.len());
    let _ = write!(out, r#"{{"TableName":"{ITEMS_TABLE}","Key":{{"pk":{{"S":"#);
    push_str_value(&mut out, key);
    out.push_str("}}}");
    out
}

/// GetItem of item `i` of wide table `table`.
pub fn wide_get_body(table: &str, i: u64) -> String {
    format!(
        r#"{{"TableName":"{table}","Key":{{"pk":{{"S":"p-{}"}},"sk":{{"N":"{}"}}}}}}"#,
        i / WIDE_PARTITION,
        i % WIDE_PARTITION
    )
}

/// Query of partition `p` of wide table `table`.
pub fn wide_query_body(table: &str, p: u64) -> String {
    format!(
        r#"{{"TableName":"{table}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"p-{p}"}}}}}}"#
    )
}

/// BatchWriteItem of the wide table's items `first..first + count` (for loading; `count` at
/// most [`BATCH_SIZE`]), payloads sliced from `random` (at least 4 KB).
pub fn wide_load_body(table: &str, first: u64, count: u64, random: &str) -> String {
    let mut out = String::with_capacity(count as usize * (PAYLOAD_BYTES + 96) + 64);
    let _ = write!(out, r#"{{"RequestItems":{{"{table}":["#);
    for i in first..first + count {
        if i > first {
            out.push(',');
        }
        let at = (i as usize * 37) % (random.len() - PAYLOAD_BYTES);
        let _ = write!(
            out,
            r#"{{"PutRequest":{{"Item":{{"pk":{{"S":"p-{}"}},"sk":{{"N":"{}"}},"payload":{{"S":"{}"}}}}}}}}"#,
            i / WIDE_PARTITION,
            i % WIDE_PARTITION,
            &random[at..at + PAYLOAD_BYTES]
        );
    }
    out.push_str("]}}");
    out
}

/// CreateTable of a wide table (`pk` S hash, `sk` N range), on demand.
pub fn create_wide_table_body(table: &str) -> String {
    json!({
        "TableName": table,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        "BillingMode": "PAY_PER_REQUEST",
    })
    .to_string()
}

/// UpdateItem `ADD n :one` on the hot item.
pub fn update_body() -> String {
    json!({
        "TableName": ITEMS_TABLE,
        "Key": {"pk": {"S": HOT_KEY}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    })
    .to_string()
}

/// Query of the whole [`QUERY_PARTITION`].
pub fn query_body() -> String {
    json!({
        "TableName": QUERY_TABLE,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": QUERY_PARTITION}},
    })
    .to_string()
}

/// BatchWriteItem of PutRequests of `(key, payload)` items into `table` ([`ITEMS_TABLE`]'s
/// schema).
pub fn batch_write_body(table: &str, items: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(
        items
            .iter()
            .map(|(k, p)| k.len() + p.len() + 64)
            .sum::<usize>()
            + 64,
    );
    let _ = write!(out, r#"{{"RequestItems":{{"{table}":["#);
    for (i, (key, payload)) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"PutRequest":{"Item":"#);
        push_item(&mut out, key, payload);
        out.push_str("}}");
    }
    out.push_str("]}}");
    out
}

/// BatchWriteItem of the query partition's items `sk = first..first+count` (for seeding).
pub fn query_seed_body(first: usize, count: usize, payload: &str) -> String {
    let requests: Vec<Value> = (first..first + count)
        .map(|sk| {
            json!({"PutRequest": {"Item": {
                "pk": {"S": QUERY_PARTITION},
                "sk": {"N": sk.to_string()},
                "payload": {"S": payload},
            }}})
        })
        .collect();
    json!({ "RequestItems": { QUERY_TABLE: requests } }).to_string()
}

/// CreateTable of [`ITEMS_TABLE`] or [`QUERY_TABLE`]. Provisioned throughput, because every
/// peer accepts it (none of them throttles).
pub fn create_table_body(table: &str) -> String {
    let (keys, attrs) = if table == QUERY_TABLE {
        (
            json!([{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]),
            json!([{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}]),
        )
    } else {
        (
            json!([{"AttributeName": "pk", "KeyType": "HASH"}]),
            json!([{"AttributeName": "pk", "AttributeType": "S"}]),
        )
    };
    json!({
        "TableName": table,
        "KeySchema": keys,
        "AttributeDefinitions": attrs,
        "ProvisionedThroughput": {"ReadCapacityUnits": 10000, "WriteCapacityUnits": 10000},
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Value {
        serde_json::from_str(body).expect("valid JSON")
    }

    #[test]
    fn put_items_are_1_kb_with_distinct_keys() {
        let mut b = RequestBuilder::new(Workload::Put, "r1", 3, 100);
        let (op, first) = b.next_request();
        let (_, second) = b.next_request();
        assert_eq!(op, "PutItem");
        let (first, second) = (parse(&first), parse(&second));
        assert_eq!(first["TableName"], ITEMS_TABLE);
        assert_eq!(first["Item"]["pk"]["S"], "p-r1-3-1");
        assert_eq!(second["Item"]["pk"]["S"], "p-r1-3-2");
        let payload = first["Item"]["payload"]["S"].as_str().unwrap();
        assert_eq!(payload.len(), PAYLOAD_BYTES);
        assert_ne!(payload, second["Item"]["payload"]["S"].as_str().unwrap());
    }

    #[test]
    fn gets_hit_seeded_keys() {
        let mut b = RequestBuilder::new(Workload::Get, "r", 0, 10);
        for _ in 0..50 {
            let (op, body) = b.next_request();
            assert_eq!(op, "GetItem");
            let key = parse(&body)["Key"]["pk"]["S"].as_str().unwrap().to_string();
            let n: u64 = key.strip_prefix("item-").unwrap().parse().unwrap();
            assert!(n < 10, "{key}");
        }
    }

    #[test]
    fn batch_write_has_25_distinct_puts() {
        let mut b = RequestBuilder::new(Workload::BatchWrite, "r", 1, 10);
        let (op, body) = b.next_request();
        assert_eq!(op, "BatchWriteItem");
        let body = parse(&body);
        let puts = body["RequestItems"][ITEMS_TABLE].as_array().unwrap();
        assert_eq!(puts.len(), BATCH_SIZE);
        let keys: std::collections::HashSet<_> = puts
            .iter()
            .map(|p| p["PutRequest"]["Item"]["pk"]["S"].as_str().unwrap())
            .collect();
        assert_eq!(keys.len(), BATCH_SIZE);
    }

    #[test]
    fn mixed_is_about_80_20() {
        let mut b = RequestBuilder::new(Workload::Mixed, "r", 0, 1000);
        let puts = (0..10_000)
            .filter(|_| b.next_request().0 == "PutItem")
            .count();
        assert!((1700..2300).contains(&puts), "{puts} puts in 10000");
    }

    #[test]
    fn wide_workloads_read_their_table() {
        let mut b = RequestBuilder::new(Workload::WideGet, "r", 0, 1000).on_table("big");
        for _ in 0..50 {
            let body = parse(&b.next_request().1);
            assert_eq!(body["TableName"], "big");
            let p: u64 = body["Key"]["pk"]["S"].as_str().unwrap()[2..]
                .parse()
                .unwrap();
            let sk: u64 = body["Key"]["sk"]["N"].as_str().unwrap().parse().unwrap();
            assert!(p < 100 && sk < WIDE_PARTITION);
        }
        let mut b = RequestBuilder::new(Workload::WideQuery, "r", 0, 1000).on_table("big");
        let (op, body) = b.next_request();
        assert_eq!(op, "Query");
        let body = parse(&body);
        assert_eq!(body["TableName"], "big");
        assert!(body["ExpressionAttributeValues"][":p"]["S"]
            .as_str()
            .unwrap()
            .starts_with("p-"));
        let random = "x".repeat(4 * PAYLOAD_BYTES);
        let load = parse(&wide_load_body("big", 20, 5, &random));
        let puts = load["RequestItems"]["big"].as_array().unwrap();
        assert_eq!(puts.len(), 5);
        assert_eq!(puts[0]["PutRequest"]["Item"]["pk"]["S"], "p-2");
        assert_eq!(puts[4]["PutRequest"]["Item"]["sk"]["N"], "4");
        assert_eq!(
            parse(&create_wide_table_body("big"))["KeySchema"][1]["KeyType"],
            "RANGE"
        );
    }

    #[test]
    fn fixed_bodies_are_valid() {
        let u = parse(&update_body());
        assert_eq!(u["UpdateExpression"], "ADD n :one");
        assert_eq!(u["Key"]["pk"]["S"], HOT_KEY);
        assert_eq!(parse(&query_body())["TableName"], QUERY_TABLE);
        let seed = parse(&query_seed_body(0, 25, "x"));
        assert_eq!(
            seed["RequestItems"][QUERY_TABLE].as_array().unwrap().len(),
            25
        );
        let create = parse(&create_table_body(QUERY_TABLE));
        assert_eq!(create["KeySchema"][1]["AttributeName"], "sk");
    }
}
