//! Transaction conflicts as DynamoDB has them, forced deterministically: the failpoint
//! `tarn_store::transact::ongoing` pauses a write transaction once its items are marked
//! ongoing, and while it is held open
//!
//! - a single-item write (put, update, delete) to one of its items fails with
//!   `TransactionConflict` (DynamoDB's TransactionConflictException) and changes nothing;
//! - another transaction naming one of its items is cancelled at once, with a
//!   `TransactionConflict` reason for that item and `None` for the others, and writes nothing;
//! - writes to other items go on;
//! - once released, the held transaction commits, and its items take writes again.
//!
//! Failpoints are process-wide: this file is its own test binary and holds a `FailScenario`.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fail::FailScenario;
use tarn_store::schema::{BillingMode, KeyAttribute, KeySchema, ScalarType, TableSpec};
use tarn_store::{AttributeValue, Item, Mutation, Store, StoreError, TransactAction};

const ONGOING: &str = "tarn_store::transact::ongoing";

fn spec() -> TableSpec {
    let pk = KeyAttribute {
        name: "pk".into(),
        attr_type: ScalarType::S,
    };
    TableSpec {
        name: "tbl".into(),
        attribute_definitions: vec![pk.clone()],
        key_schema: KeySchema::new(pk, None),
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        tags: BTreeMap::new(),
        deletion_protection: false,
        table_class: None,
        stream: None,
        indexes: vec![],
    }
}

fn item(pk: &str, v: &str) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("v".to_string(), AttributeValue::S(v.into())),
    ])
}

fn key(pk: &str) -> Item {
    Item::from([("pk".to_string(), AttributeValue::S(pk.into()))])
}

fn put(pk: &str, v: &str) -> TransactAction<'static> {
    let new = item(pk, v);
    TransactAction {
        table: "tbl".into(),
        key: key(pk),
        decide: Box::new(move |_, _| Ok(Mutation::Put(new))),
    }
}

fn value(store: &Store, pk: &str) -> Option<String> {
    store
        .get_item("tbl", &key(pk))
        .unwrap()
        .map(|i| match &i["v"] {
            AttributeValue::S(s) => s.clone(),
            other => panic!("{other:?}"),
        })
}

#[test]
fn an_ongoing_transaction_refuses_conflicting_writes_and_cancels_conflicting_transactions() {
    let scenario = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    store.create_table(spec()).unwrap();
    for pk in ["a", "b", "c"] {
        store.put_item("tbl", item(pk, "0"), |_| Ok(())).unwrap();
    }

    fail::cfg(ONGOING, "pause").unwrap();
    let held = {
        let store = store.clone();
        std::thread::spawn(move || store.transact_items(vec![put("a", "tx"), put("b", "tx")]))
    };
    // Wait until the transaction has marked its items: a write that keeps the item as it is
    // is refused from then on (and changes nothing before).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match store.write_item("tbl", &key("a"), |_, _| Ok(Mutation::Keep)) {
            Err(StoreError::TransactionConflict) => break,
            Ok(_) => {}
            Err(e) => panic!("{e:?}"),
        }
        assert!(Instant::now() < deadline, "the transaction never started");
        std::thread::sleep(Duration::from_millis(5));
    }

    // Single-item writes to its items are refused, each with DynamoDB's message.
    let put_a = store.put_item("tbl", item("a", "single"), |_| Ok(()));
    assert!(
        matches!(put_a, Err(StoreError::TransactionConflict)),
        "{put_a:?}"
    );
    assert_eq!(
        put_a.unwrap_err().to_string(),
        "Transaction is ongoing for the item"
    );
    let update_b = store.write_item("tbl", &key("b"), |_, _| Ok(Mutation::Put(item("b", "u"))));
    assert!(matches!(update_b, Err(StoreError::TransactionConflict)));
    let delete_a = store.delete_item("tbl", &key("a"), |_| Ok(()));
    assert!(matches!(delete_a, Err(StoreError::TransactionConflict)));

    // Another transaction on one of its items is cancelled without waiting.
    match store.transact_items(vec![put("c", "other"), put("b", "other")]) {
        Err(StoreError::TransactionCanceled(reasons)) => {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            assert_eq!(codes, ["None", "TransactionConflict"]);
            assert_eq!(
                reasons[1].message.as_deref(),
                Some("Transaction is ongoing for the item")
            );
        }
        other => panic!("{other:?}"),
    }
    // Writes to other items go on, and the cancelled transaction wrote nothing.
    store
        .put_item("tbl", item("c", "single"), |_| Ok(()))
        .unwrap();
    assert_eq!(value(&store, "c").as_deref(), Some("single"));
    assert_eq!(value(&store, "a").as_deref(), Some("0"));
    assert_eq!(value(&store, "b").as_deref(), Some("0"));

    // Released, the held transaction commits; its items take writes again.
    fail::cfg(ONGOING, "off").unwrap();
    held.join().unwrap().unwrap();
    assert_eq!(value(&store, "a").as_deref(), Some("tx"));
    assert_eq!(value(&store, "b").as_deref(), Some("tx"));
    store
        .put_item("tbl", item("a", "after"), |_| Ok(()))
        .unwrap();
    store
        .transact_items(vec![put("b", "after"), put("c", "after")])
        .unwrap();
    assert_eq!(value(&store, "a").as_deref(), Some("after"));
    assert_eq!(value(&store, "b").as_deref(), Some("after"));
    scenario.teardown();
}

#[test]
fn concurrent_transactions_lose_no_update() {
    // Many threads increment one counter through transactions that also touch a second item,
    // retrying when cancelled by a conflict as the SDKs' callers do: the counter ends at the
    // number of committed transactions.
    let scenario = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    store.create_table(spec()).unwrap();
    let (threads, per_thread) = (6, 40);
    let conflicts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let store = store.clone();
            let conflicts = conflicts.clone();
            std::thread::spawn(move || {
                let mut done = 0;
                while done < per_thread {
                    let increment = TransactAction {
                        table: "tbl".into(),
                        key: key("counter"),
                        decide: Box::new(|_, old| {
                            let n: u64 = old
                                .and_then(|i| match i.get("v") {
                                    Some(AttributeValue::S(s)) => s.parse().ok(),
                                    _ => None,
                                })
                                .unwrap_or(0);
                            Ok(Mutation::Put(item("counter", &(n + 1).to_string())))
                        }),
                    };
                    let mine = put(&format!("t{t}"), &done.to_string());
                    match store.transact_items(vec![increment, mine]) {
                        Ok(_) => done += 1,
                        Err(StoreError::TransactionCanceled(r))
                            if r.iter().any(|r| r.code == "TransactionConflict") =>
                        {
                            conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(e) => panic!("{e:?}"),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(
        value(&store, "counter"),
        Some((threads * per_thread).to_string())
    );
    scenario.teardown();
}
