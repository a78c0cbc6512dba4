//! Crash durability: several writers put items concurrently; once N puts have been
//! acknowledged the server is killed with SIGKILL while writes are still in flight,
//! restarted on the same data directory, and every acknowledged item must be there
//! with its exact content. An item whose put was in flight when the process died may
//! be present or absent, but never half-written; DescribeTable's exact ItemCount matches a
//! full scan after the restart.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, TableStatus};
use aws_sdk_dynamodb::Client;
use common::{create_pk_sk_table, unique_name, TarnServer};

const WRITERS: usize = 8;
const ACKED_BEFORE_KILL: usize = 1000;

type Item = HashMap<String, AttributeValue>;

/// Deterministic, varied content for item (writer, seq): sizes from ~100 B to ~6 KB,
/// nested maps and lists, a number, a set and binary data.
fn expected_item(writer: usize, seq: usize) -> Item {
    let pk = format!("w{writer}");
    let len = 100 + (seq * 7919 + writer * 104_729) % 6000;
    let payload: String = (0..len)
        .map(|i| (b'a' + ((i + seq + writer) % 26) as u8) as char)
        .collect();
    let mut m = HashMap::new();
    m.insert("writer".to_string(), AttributeValue::N(writer.to_string()));
    m.insert(
        "list".to_string(),
        AttributeValue::L(
            (0..(seq % 5))
                .map(|i| AttributeValue::N(format!("{}.5", i * seq)))
                .collect(),
        ),
    );
    let mut it = HashMap::new();
    it.insert("pk".to_string(), AttributeValue::S(pk));
    it.insert("sk".to_string(), AttributeValue::N(seq.to_string()));
    it.insert("payload".to_string(), AttributeValue::S(payload));
    it.insert("m".to_string(), AttributeValue::M(m));
    it.insert(
        "ss".to_string(),
        AttributeValue::Ss(vec![format!("a{seq}"), format!("b{writer}")]),
    );
    it.insert(
        "bin".to_string(),
        AttributeValue::B(Blob::new(vec![(seq % 256) as u8; 1 + seq % 64])),
    );
    it
}

fn sorted_sets(mut i: Item) -> Item {
    for v in i.values_mut() {
        if let AttributeValue::Ss(x) = v {
            x.sort();
        }
    }
    i
}

async fn get(c: &Client, table: &str, writer: usize, seq: usize) -> Option<Item> {
    c.get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("w{writer}")))
        .key("sk", AttributeValue::N(seq.to_string()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem after restart")
        .item
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_puts_survive_sigkill() {
    let tmp = tempfile::Builder::new()
        .prefix("tarn-crash-")
        .tempdir()
        .unwrap();
    let data_dir = tmp.path().join("data");
    let mut server = TarnServer::start_on(&data_dir, "tarn-1.log");
    let table = unique_name("crash");
    let c = server.client();
    create_pk_sk_table(&c, &table).await;
    let table_id = c
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .table_id
        .unwrap();

    let acked: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    let in_flight: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let c = server.client();
        let (table, acked, in_flight, stop) = (
            table.clone(),
            acked.clone(),
            in_flight.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for seq in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                in_flight.lock().unwrap().push((writer, seq));
                let r = c
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(expected_item(writer, seq)))
                    .send()
                    .await;
                match r {
                    Ok(_) => acked.lock().unwrap().push((writer, seq)),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }

    // Kill the server while the writers are still writing.
    common::kill_after_acks(
        &mut server,
        ACKED_BEFORE_KILL,
        || acked.lock().unwrap().len(),
        &stop,
        tasks,
    )
    .await;
    let acked = acked.lock().unwrap().clone();
    let attempted = in_flight.lock().unwrap().clone();
    assert!(acked.len() >= ACKED_BEFORE_KILL);

    // Restart on the same data directory.
    let server2 = TarnServer::start_on(&data_dir, "tarn-2.log");
    let c = server2.client();
    let t = c
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("table survives restart")
        .table
        .unwrap();
    assert_eq!(
        t.table_id(),
        Some(table_id.as_str()),
        "same table after restart"
    );
    assert_eq!(t.table_status(), Some(&TableStatus::Active));

    let mut missing = Vec::new();
    for &(w, s) in &acked {
        match get(&c, &table, w, s).await {
            Some(got) => assert_eq!(
                sorted_sets(got),
                sorted_sets(expected_item(w, s)),
                "acknowledged item (w{w}, {s}) differs after restart"
            ),
            None => missing.push((w, s)),
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged puts lost after SIGKILL, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(10)]
    );
    // Puts that were in flight at the kill: all or nothing.
    let acked_set: std::collections::HashSet<_> = acked.iter().copied().collect();
    for &(w, s) in attempted.iter().filter(|k| !acked_set.contains(k)) {
        if let Some(got) = get(&c, &table, w, s).await {
            assert_eq!(
                sorted_sets(got),
                sorted_sets(expected_item(w, s)),
                "half-written item (w{w}, {s})"
            );
        }
    }
    // Nothing beyond what was attempted exists: one past the last attempt of each writer.
    for w in 0..WRITERS {
        let next = attempted
            .iter()
            .filter(|(x, _)| *x == w)
            .map(|(_, s)| s + 1)
            .max()
            .unwrap_or(0);
        assert!(get(&c, &table, w, next).await.is_none());
    }

    // The restarted server accepts writes.
    c.put_item()
        .table_name(&table)
        .set_item(Some(expected_item(99, 0)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sorted_sets(get(&c, &table, 99, 0).await.unwrap()),
        sorted_sets(expected_item(99, 0))
    );

    // The exact item count survived the kill with the items: it is what a full scan counts.
    let mut scanned = 0i64;
    let mut start = None;
    loop {
        let page = c
            .scan()
            .table_name(&table)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        scanned += i64::from(page.count());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    let t = c.describe_table().table_name(&table).send().await.unwrap();
    assert_eq!(t.table.unwrap().item_count(), Some(scanned));
}
