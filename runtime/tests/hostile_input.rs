//! End-to-end: hostile requests against a real `tarn serve` while a writer keeps writing.
//!
//! Malformed, truncated, huge and deeply nested requests, garbage expressions, numbers and
//! binaries, broken HTTP and random bytes each get a proper answer (a DynamoDB error with its
//! `__type`, or an HTTP-level 4xx, or a closed connection for a request that never completed),
//! the server stays up, and every write the concurrent writer saw acknowledged is there at the
//! end.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use common::TarnServer;

const TABLE: &str = "victim";

/// A raw answer: status (0 when the connection closed without one) and body.
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    /// The exception name of a DynamoDB error body (after `#`), if any.
    fn error_type(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        let t = v.get("__type")?.as_str()?;
        Some(t.rsplit('#').next().unwrap_or(t).to_string())
    }
}

/// Writes `head` then `body` on a fresh connection (optionally half-closing after), reads what
/// comes back until the server closes the connection.
fn exchange(addr: SocketAddr, head: &[u8], body: &[u8], half_close: bool) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(head);
    let _ = s.write_all(body);
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Answer { status, body }
}

fn post(addr: SocketAddr, target: &str, body: &[u8]) -> Answer {
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: DynamoDB_20120810.{target}\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    exchange(addr, head.as_bytes(), body, false)
}

/// Asserts a 400 DynamoDB error of one of `types`.
fn refused(what: &str, a: &Answer, types: &[&str]) {
    refused_with(400, what, a, types);
}

/// Asserts a DynamoDB error of one of `types`, with HTTP status `status`.
fn refused_with(status: u16, what: &str, a: &Answer, types: &[&str]) {
    assert_eq!(a.status, status, "{what}: {} {}", a.status, a.body);
    let t = a
        .error_type()
        .unwrap_or_else(|| panic!("{what}: no __type in {}", a.body));
    assert!(types.contains(&t.as_str()), "{what}: {t}: {}", a.body);
}

fn nested_map(levels: usize) -> String {
    let mut v = r#"{"S":"leaf"}"#.to_string();
    for _ in 0..levels {
        v = format!(r#"{{"M":{{"a":{v}}}}}"#);
    }
    v
}

fn put(item_json: &str) -> Vec<u8> {
    format!(r#"{{"TableName":"{TABLE}","Item":{{"pk":{{"S":"h"}},"x":{item_json}}}}}"#).into_bytes()
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_requests_get_errors_and_lose_no_writes() {
    let server = TarnServer::start();
    let addr = server.addr;
    let client = server.client();
    client
        .create_table()
        .table_name(TABLE)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    common::wait_active(&client, TABLE).await;

    // The writer: puts w-0, w-1, ... until told to stop, remembering what was acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let writer = {
        let (client, stop, acked) = (client.clone(), stop.clone(), acked.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .put_item()
                    .table_name(TABLE)
                    .item("pk", AttributeValue::S(format!("w-{n}")))
                    .item("n", AttributeValue::N(n.to_string()))
                    .send()
                    .await;
                if r.is_ok() {
                    acked.lock().unwrap().push(n);
                }
                n += 1;
            }
        })
    };

    let hostile = tokio::task::spawn_blocking(move || {
        // Malformed JSON, wrong JSON shapes, invalid UTF-8.
        for body in [
            &b"{"[..],
            b"{\"TableName\": ",
            b"{\"TableName\": \"victim\", \"Item\": {",
            b"[1, 2, 3]",
            b"\"just a string\"",
            b"nul",
            b"{\"a\": 1,}",
            b"{\"TableName\": \"vic\xff\xfetim\"}",
            b"\x00\x01\x02\x03",
        ] {
            refused(
                &format!("malformed {:?}", String::from_utf8_lossy(body)),
                &post(addr, "PutItem", body),
                &["SerializationException"],
            );
        }
        refused(
            "TableName a number",
            &post(addr, "PutItem", br#"{"TableName": 5, "Item": {}}"#),
            &["SerializationException", "ValidationException"],
        );
        refused(
            "Item a list",
            &post(addr, "PutItem", br#"{"TableName": "victim", "Item": []}"#),
            &["SerializationException", "ValidationException"],
        );

        // Deep nesting: raw JSON arrays and objects past any sane depth, and attribute values
        // nested past DynamoDB's 32 levels.
        let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        refused(
            "deep array",
            &post(addr, "PutItem", deep_array.as_bytes()),
            &["SerializationException"],
        );
        let deep_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
        refused(
            "deep object",
            &post(addr, "Query", deep_object.as_bytes()),
            &["SerializationException"],
        );
        refused(
            "40 levels of M",
            &post(addr, "PutItem", &put(&nested_map(40))),
            &["ValidationException", "SerializationException"],
        );
        refused(
            "10000 levels of M",
            &post(addr, "PutItem", &put(&nested_map(10_000))),
            &["ValidationException", "SerializationException"],
        );

        // Huge: declared past 16 MB (refused before reading), and sent past it chunked.
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            64 << 20
        );
        // A body over the limit answers 413, as DynamoDB does.
        refused_with(
            413,
            "declared 64 MB",
            &exchange(addr, head.as_bytes(), b"", false),
            &["ValidationException"],
        );
        let mut chunked = Vec::new();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..17 {
            chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            chunked.extend_from_slice(&chunk);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        let a = exchange(addr, head.as_bytes(), &chunked, false);
        refused_with(413, "17 MB chunked", &a, &["ValidationException"]);
        // An item over 400 KB, a string attribute of 1 MB.
        let big = format!(r#"{{"S":"{}"}}"#, "b".repeat(1 << 20));
        refused(
            "1 MB attribute",
            &post(addr, "PutItem", &put(&big)),
            &["ValidationException"],
        );
        // 100,000 attributes.
        let mut many = format!(r#"{{"TableName":"{TABLE}","Item":{{"pk":{{"S":"m"}}"#);
        for i in 0..100_000 {
            many.push_str(&format!(r#","a{i}":{{"N":"1"}}"#));
        }
        many.push_str("}}");
        refused(
            "100k attributes",
            &post(addr, "PutItem", many.as_bytes()),
            &["ValidationException"],
        );

        // Truncated: fewer bytes than declared, then the client stops writing.
        let body = br#"{"TableName":"victim","Item":{"pk":{"S":"#;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n\
             Content-Length: 1000\r\nConnection: close\r\n\r\n"
        );
        let a = exchange(addr, head.as_bytes(), body, true);
        assert!(
            a.status == 0 || a.status == 400,
            "truncated: {} {}",
            a.status,
            a.body
        );
        // Truncated mid-headers.
        let a = exchange(addr, b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar", b"", true);
        assert!(
            a.status == 0 || a.status == 400,
            "truncated head: {}",
            a.status
        );

        // Expressions: too long, too deep, garbage, and bad placeholders.
        let exprs = [
            format!("#a = :v{}", " ".repeat(5000)),
            format!("{}a = :v{}", "(".repeat(3000), ")".repeat(3000)),
            "NOT ".repeat(1000) + "a = :v",
            "a = :v AND".into(),
            "attribute_exists(".into(),
            "size(size(size(size(a)))) > :v".into(),
            "a IN (".to_string() + &vec![":v"; 500].join(",") + ")",
            "\u{0}\u{1}\u{fffd}".into(),
            "a.b[99999999999999999999] = :v".into(),
            "#".repeat(4000),
        ];
        for e in &exprs {
            let body = serde_json::json!({
                "TableName": TABLE,
                "Key": {"pk": {"S": "h"}},
                "ConditionExpression": e,
                "UpdateExpression": "SET x = :v",
                "ExpressionAttributeValues": {":v": {"N": "1"}},
            });
            refused(
                &format!("expression {:?}", e.chars().take(40).collect::<String>()),
                &post(addr, "UpdateItem", body.to_string().as_bytes()),
                &["ValidationException"],
            );
        }
        let body = serde_json::json!({
            "TableName": TABLE,
            "KeyConditionExpression": "(".repeat(2000),
        });
        refused(
            "key condition",
            &post(addr, "Query", body.to_string().as_bytes()),
            &["ValidationException"],
        );

        // Numbers and binaries DynamoDB refuses.
        for n in [
            "1e999999999",
            "-1e-999999999",
            "99999999999999999999999999999999999999999",
            "NaN",
            "Infinity",
            "0x10",
            "1..2",
            "",
        ] {
            refused(
                &format!("number {n:?}"),
                &post(addr, "PutItem", &put(&format!(r#"{{"N":"{n}"}}"#))),
                &["ValidationException", "SerializationException"],
            );
        }
        refused(
            "bad base64",
            &post(addr, "PutItem", &put(r#"{"B":"!!!not base64!!!"}"#)),
            &["SerializationException", "ValidationException"],
        );
        refused(
            "two types",
            &post(addr, "PutItem", &put(r#"{"S":"a","N":"1"}"#)),
            &["ValidationException", "SerializationException"],
        );

        // Unknown and missing operations.
        refused(
            "unknown op",
            &post(addr, "DropAllTables", b"{}"),
            &["UnknownOperationException"],
        );
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
        );
        refused(
            "no target",
            &exchange(addr, head.as_bytes(), b"{}", false),
            &["UnknownOperationException"],
        );

        // Broken HTTP: hyper answers 400 (or closes); header floods: 431.
        for raw in [
            &b"GARBAGE\r\n\r\n"[..],
            b"POST / HTTP/9.9\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        ] {
            let a = exchange(addr, raw, b"", true);
            assert!(
                a.status == 0 || (400..500).contains(&a.status),
                "{:?}: {}",
                String::from_utf8_lossy(raw),
                a.status
            );
        }
        let head = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nX-Long: {}\r\nContent-Length: 2\r\n\r\n{{}}",
            "h".repeat(200_000)
        );
        let a = exchange(addr, head.as_bytes(), b"", false);
        assert!(
            a.status == 431 || a.status == 0,
            "long header: {}",
            a.status
        );

        // Random bytes and random mutations of a valid request, to every kind of operation.
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let valid = put(r#"{"L":[{"N":"1"},{"SS":["a","b"]},{"M":{"k":{"BOOL":true}}}]}"#);
        let ops = [
            "PutItem",
            "GetItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "BatchWriteItem",
            "BatchGetItem",
            "TransactWriteItems",
            "TransactGetItems",
            "CreateTable",
            "DescribeTable",
        ];
        for i in 0..300 {
            let mut body = if i % 3 == 0 {
                (0..rng.below(200)).map(|_| rng.next() as u8).collect()
            } else {
                valid.clone()
            };
            if !body.is_empty() {
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(body.len());
                    match rng.below(3) {
                        0 => body[at] = rng.next() as u8,
                        1 => {
                            body.remove(at);
                        }
                        _ => body.insert(at, b"{}[]\":,\\"[rng.below(8)]),
                    }
                    if body.is_empty() {
                        break;
                    }
                }
            }
            let op = ops[rng.below(ops.len())];
            let a = post(addr, op, &body);
            assert!(
                a.status == 200 || (a.status == 400 && a.error_type().is_some()),
                "random #{i} to {op}: {} {} (body {:?})",
                a.status,
                a.body,
                String::from_utf8_lossy(&body)
            );
        }
    });
    hostile
        .await
        .expect("a hostile request was not answered properly");

    // Let the writer go on a little after the storm, then stop it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "the writer barely ran: {}", acked.len());

    // Every acknowledged write is there.
    for n in &acked {
        let got = client
            .get_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S(format!("w-{n}")))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        let item = got
            .item
            .unwrap_or_else(|| panic!("acknowledged write w-{n} lost"));
        assert_eq!(item["n"], AttributeValue::N(n.to_string()));
    }
    let mut server = server;
    server.assert_alive();
}
