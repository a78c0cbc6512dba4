//! An fsync that fails (EIO, injected with the store's failpoint `tarn_store::commit::fsync`;
//! the `tarn` binary the tests run is built with the store's `failpoints` feature): tarn never
//! retries it and never goes on answering while it looks healthy. It exits with status 74 and
//! the reason in its log, so that a supervisor restarts it; restarted, it has every write it
//! acknowledged, and takes writes again.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use common::{create_hash_table, TarnServer};

const TABLE: &str = "eio";
/// The sync that fails: the first ones succeed (creating the table, the first puts).
const FAILPOINTS: &str = "tarn_store::commit::fsync=40*off->return";

fn item(n: u64) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("item-{n}"))),
        ("v".to_string(), AttributeValue::N(n.to_string())),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_fsync_makes_tarn_exit_and_a_restart_loses_nothing_acknowledged() {
    let tmp = tempfile::Builder::new()
        .prefix("tarn-eio-")
        .tempdir()
        .unwrap();
    let data = tmp.path().join("data");
    let mut server =
        TarnServer::start_on_with(&data, "tarn-1.log", &[], &[("FAILPOINTS", FAILPOINTS)]);
    let c = server.client();
    create_hash_table(&c, TABLE).await;

    // Put one after another until a put fails: its sync was the one that failed.
    let mut acked = Vec::new();
    let mut failure = None;
    for n in 0..1000 {
        match c
            .put_item()
            .table_name(TABLE)
            .set_item(Some(item(n)))
            .send()
            .await
        {
            Ok(_) => acked.push(n),
            Err(e) => {
                failure = Some(format!("{:?}", e.into_service_error()));
                break;
            }
        }
    }
    let failure = failure.expect("the injected fsync error failed a put");
    assert!(
        failure.contains("InternalServerError") || failure.contains("Unhandled"),
        "{failure}"
    );
    assert!(!acked.is_empty());

    // tarn exits on its own, with status 74 and the reason in its log.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.try_wait() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "tarn still runs with a failed store"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(74), "log:\n{}", server.log());
    let log = server.log();
    assert!(log.contains("syncing the journal failed"), "{log}");
    assert!(log.contains("os error 5"), "{log}");

    // Restarted (without the fault): every acknowledged put is there; writes work.
    let server = TarnServer::start_on(&data, "tarn-2.log");
    let c = server.client();
    for &n in &acked {
        let got = c
            .get_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S(format!("item-{n}")))
            .send()
            .await
            .unwrap()
            .item;
        assert_eq!(got, Some(item(n)), "acknowledged item-{n}");
    }
    c.put_item()
        .table_name(TABLE)
        .set_item(Some(item(5000)))
        .send()
        .await
        .unwrap();
}
