//! Transaction conflicts through the Rust SDK, as DynamoDB answers them. The store's failpoint
//! `tarn_store::transact::ongoing` (the `tarn` binary the tests run is built with the store's
//! `failpoints` feature) holds the first write transaction open for a few seconds once its
//! items are marked ongoing. Meanwhile:
//!
//! - PutItem, UpdateItem and DeleteItem on one of its items answer TransactionConflictException
//!   ("Transaction is ongoing for the item") and change nothing;
//! - a TransactWriteItems naming one of its items is cancelled: TransactionCanceledException with
//!   `[None, TransactionConflict]`;
//! - then the held transaction commits.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use common::{create_hash_table, err_code, TarnServer};

const TABLE: &str = "conflicts";
/// The first write transaction sleeps 5 s with its items marked ongoing.
const FAILPOINTS: &str = "tarn_store::transact::ongoing=1*sleep(5000)";

fn item(pk: &str, v: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("v".to_string(), AttributeValue::S(v.into())),
    ])
}

fn put(pk: &str, v: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(TABLE)
                .set_item(Some(item(pk, v)))
                .build()
                .unwrap(),
        )
        .build()
}

async fn value(c: &aws_sdk_dynamodb::Client, pk: &str) -> String {
    let out = c
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item().unwrap()["v"].as_s().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_to_an_item_in_an_ongoing_transaction_conflict() {
    let server = TarnServer::start_with(&[], &[("FAILPOINTS", FAILPOINTS)]);
    let c = server.client();
    create_hash_table(&c, TABLE).await;
    for pk in ["a", "b", "c"] {
        c.put_item()
            .table_name(TABLE)
            .set_item(Some(item(pk, "0")))
            .send()
            .await
            .unwrap();
    }

    let held = {
        let c = c.clone();
        tokio::spawn(async move {
            c.transact_write_items()
                .transact_items(put("a", "tx"))
                .transact_items(put("b", "tx"))
                .send()
                .await
        })
    };
    // Until the transaction has marked its items, this update's condition fails and it
    // changes nothing; from then on it is refused as a conflict.
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let e = c
            .update_item()
            .table_name(TABLE)
            .key("pk", AttributeValue::S("a".into()))
            .update_expression("SET v = :v")
            .condition_expression("attribute_not_exists(pk)")
            .expression_attribute_values(":v", AttributeValue::S("update".into()))
            .send()
            .await
            .unwrap_err();
        let code = err_code(&e);
        if code == "TransactionConflictException" {
            assert_eq!(e.message(), Some("Transaction is ongoing for the item"));
            break;
        }
        assert_eq!(code, "ConditionalCheckFailedException");
        assert!(Instant::now() < deadline, "the transaction never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!held.is_finished(), "the transaction is held open");

    let e = c
        .put_item()
        .table_name(TABLE)
        .set_item(Some(item("b", "single")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "TransactionConflictException");
    let e = c
        .delete_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S("a".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "TransactionConflictException");

    let e = c
        .transact_write_items()
        .transact_items(put("c", "other"))
        .transact_items(put("b", "other"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), "TransactionCanceledException");
    assert_eq!(
        e.message(),
        Some(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]"
        )
    );
    let Some(TransactWriteItemsError::TransactionCanceledException(canceled)) =
        e.as_service_error()
    else {
        panic!("{e:?}");
    };
    let reasons = canceled.cancellation_reasons().to_vec();
    let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap()).collect();
    assert_eq!(codes, ["None", "TransactionConflict"]);
    assert!(!held.is_finished(), "the transaction is still held open");

    held.await.unwrap().unwrap();
    assert_eq!(value(&c, "a").await, "tx");
    assert_eq!(value(&c, "b").await, "tx");
    assert_eq!(value(&c, "c").await, "0");
}
