//! Tables and seed data the workloads read: created once per endpoint, reused by later runs.
//!
//! A marker item (`pk = loadgen-seeded`, `keys = N`) records a finished seeding, so a second
//! `run` against the same endpoint skips it.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::client::{Connection, Endpoint};
use crate::workload::{
    batch_write_body, create_table_body, item_key, query_seed_body, random_text, Rng, BATCH_SIZE,
    HOT_KEY, ITEMS_TABLE, PAYLOAD_BYTES, QUERY_ITEMS, QUERY_PAYLOAD_BYTES, QUERY_TABLE,
};

/// The key of the marker item.
const MARKER: &str = "loadgen-seeded";
/// Connections used for seeding.
const SEED_CONNECTIONS: u64 = 8;

/// Creates the tables if missing and seeds `keys` items unless an earlier run did.
pub async fn ensure(endpoint: &Endpoint, keys: u64) -> Result<()> {
    let mut conn = Connection::open(endpoint).await?;
    for table in [ITEMS_TABLE, QUERY_TABLE] {
        ensure_table(&mut conn, table).await?;
    }
    let marker = conn
        .call_ok(
            "GetItem",
            json!({"TableName": ITEMS_TABLE, "Key": {"pk": {"S": MARKER}}, "ConsistentRead": true})
                .to_string(),
        )
        .await?;
    let seeded: u64 = marker["Item"]["keys"]["N"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if seeded >= keys && marker["Item"].is_object() {
        return Ok(());
    }
    let started = Instant::now();
    seed_items(endpoint, keys).await?;
    conn.call_ok(
        "PutItem",
        json!({"TableName": ITEMS_TABLE, "Item": {"pk": {"S": HOT_KEY}, "n": {"N": "0"}}})
            .to_string(),
    )
    .await?;
    let payload = random_text(&mut Rng::new(7), QUERY_PAYLOAD_BYTES);
    for first in (0..QUERY_ITEMS).step_by(BATCH_SIZE) {
        let count = BATCH_SIZE.min(QUERY_ITEMS - first);
        batch_write(&mut conn, query_seed_body(first, count, &payload)).await?;
    }
    conn.call_ok(
        "PutItem",
        json!({"TableName": ITEMS_TABLE, "Item": {"pk": {"S": MARKER}, "keys": {"N": keys.to_string()}}})
            .to_string(),
    )
    .await?;
    eprintln!(
        "loadgen: seeded {keys} items on {} in {:.1} s",
        endpoint.host,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Creates `table` unless it exists, then waits until it is ACTIVE.
async fn ensure_table(conn: &mut Connection, table: &str) -> Result<()> {
    let describe = json!({ "TableName": table }).to_string();
    let (status, body) = conn.call("DescribeTable", describe.clone()).await?;
    if status != 200 {
        let text = String::from_utf8_lossy(&body);
        if !text.contains("ResourceNotFoundException") {
            bail!("DescribeTable {table} answered {status}: {text}");
        }
        conn.call_ok("CreateTable", create_table_body(table))
            .await
            .with_context(|| format!("creating {table}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = conn.call_ok("DescribeTable", describe.clone()).await?;
        if answer["Table"]["TableStatus"] == "ACTIVE" {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{table} is not ACTIVE after 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Puts `item-0..keys` (1 KB each) with BatchWriteItem over a few connections.
async fn seed_items(endpoint: &Endpoint, keys: u64) -> Result<()> {
    let mut tasks = Vec::new();
    for c in 0..SEED_CONNECTIONS {
        let endpoint = endpoint.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::open(&endpoint).await?;
            let mut rng = Rng::new(c + 11);
            let random = random_text(&mut rng, 4 * PAYLOAD_BYTES);
            // Connection c writes batches c, c + SEED_CONNECTIONS, ...
            let batches = keys.div_ceil(BATCH_SIZE as u64);
            let mut batch = c;
            while batch < batches {
                let first = batch * BATCH_SIZE as u64;
                let last = (first + BATCH_SIZE as u64).min(keys);
                let items: Vec<(String, usize)> = (first..last)
                    .map(|i| (item_key(i), (i as usize * 37) % (3 * PAYLOAD_BYTES)))
                    .collect();
                let refs: Vec<(&str, &str)> = items
                    .iter()
                    .map(|(k, at)| (k.as_str(), &random[*at..*at + PAYLOAD_BYTES]))
                    .collect();
                batch_write(&mut conn, batch_write_body(ITEMS_TABLE, &refs)).await?;
                batch += SEED_CONNECTIONS;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// BatchWriteItem, resending unprocessed items until none are left.
async fn batch_write(conn: &mut Connection, body: String) -> Result<()> {
    let mut body = body;
    for _ in 0..100 {
        let answer = conn.call_ok("BatchWriteItem", body).await?;
        match answer.get("UnprocessedItems") {
            Some(Value::Object(left)) if !left.is_empty() => {
                body = json!({ "RequestItems": left }).to_string();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return Ok(()),
        }
    }
    bail!("BatchWriteItem left items unprocessed 100 times")
}
