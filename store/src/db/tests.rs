//! Tests of the database's tables, item writes and reads (on tables and on indexes), through
//! the store.

use std::sync::Arc;

use crate::expr::{KeyCondition, RangeCondition};
use crate::schema::{IndexProjection, IndexRead, ScalarType};
use crate::testutil::{
    gsi, indexed_spec, item, lsi, message, n, open, open_unsynced, query_index, s, spec,
};
use crate::value::Number;
use crate::{AttributeValue, Mutation, Page, PageRequest, Store, StoreError, TransactAction};

#[test]
fn tables_persist_and_names_page() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        for name in ["ccc", "aaa", "bbb"] {
            store.create_table(spec(name, None)).unwrap();
        }
        assert!(matches!(
            store.create_table(spec("aaa", None)),
            Err(StoreError::ResourceInUse(_))
        ));
        store
            .put_item("aaa", item(&[("pk", s("x")), ("v", n(1))]), |_| Ok(()))
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.list_tables(None, 2),
        (
            vec!["aaa".to_string(), "bbb".to_string()],
            Some("bbb".to_string())
        )
    );
    assert_eq!(
        store.list_tables(Some("bbb"), 2),
        (vec!["ccc".to_string()], None)
    );
    let got = store
        .get_item("aaa", &item(&[("pk", s("x"))]))
        .unwrap()
        .unwrap();
    assert_eq!(got["v"], n(1));
}

#[test]
fn a_recreated_table_starts_empty() {
    let (_dir, store) = open();
    store.create_table(spec("tbl1", None)).unwrap();
    store
        .put_item("tbl1", item(&[("pk", s("x"))]), |_| Ok(()))
        .unwrap();
    store.delete_table("tbl1").unwrap();
    assert!(matches!(
        store.get_item("tbl1", &item(&[("pk", s("x"))])),
        Err(StoreError::TableNotFound(_))
    ));
    store.create_table(spec("tbl1", None)).unwrap();
    assert_eq!(
        store.get_item("tbl1", &item(&[("pk", s("x"))])).unwrap(),
        None
    );
}

#[test]
fn put_get_delete_and_conditions() {
    let (_dir, store) = open();
    store
        .create_table(spec("tbl", Some(ScalarType::N)))
        .unwrap();
    let key = item(&[("pk", s("a")), ("sk", n(1))]);
    let mut full = key.clone();
    full.insert("x".into(), s("one"));
    assert_eq!(
        store.put_item("tbl", full.clone(), |_| Ok(())).unwrap(),
        None
    );
    assert_eq!(
        store.put_item("tbl", full.clone(), |_| Ok(())).unwrap(),
        Some(full.clone())
    );
    let refused = store.delete_item("tbl", &key, |old| {
        Err(StoreError::ConditionalCheckFailed {
            item: old.cloned().map(Box::new),
        })
    });
    assert!(matches!(
        refused,
        Err(StoreError::ConditionalCheckFailed { item: Some(_) })
    ));
    assert_eq!(
        store.delete_item("tbl", &key, |_| Ok(())).unwrap(),
        Some(full)
    );
    assert_eq!(store.get_item("tbl", &key).unwrap(), None);
    // wrong key shapes
    assert!(matches!(
        store.get_item("tbl", &item(&[("pk", s("a"))])),
        Err(StoreError::Validation(_))
    ));
    assert!(matches!(
        store.put_item("tbl", item(&[("pk", s("a")), ("sk", s("1"))]), |_| Ok(())),
        Err(StoreError::Validation(_))
    ));
}

#[test]
fn query_orders_by_sort_key_and_pages() {
    let (_dir, store) = open();
    store
        .create_table(spec("qry", Some(ScalarType::N)))
        .unwrap();
    for i in [5, -3, 10, 0, 7, 100, 2] {
        store
            .put_item("qry", item(&[("pk", s("p")), ("sk", n(i))]), |_| Ok(()))
            .unwrap();
    }
    store
        .put_item("qry", item(&[("pk", s("other")), ("sk", n(1))]), |_| Ok(()))
        .unwrap();
    let sks = |page: &Page| {
        page.items
            .iter()
            .map(|i| i["sk"].clone())
            .collect::<Vec<_>>()
    };
    let all = store
        .query("qry", &s("p"), None, true, &PageRequest::default(), |_| {
            Ok(true)
        })
        .unwrap();
    assert_eq!(
        sks(&all),
        vec![n(-3), n(0), n(2), n(5), n(7), n(10), n(100)]
    );
    assert!(all.last_evaluated_key.is_none());
    let rev = store
        .query(
            "qry",
            &s("p"),
            Some(&RangeCondition::Between(n(0), n(7))),
            false,
            &PageRequest::default(),
            |_| Ok(true),
        )
        .unwrap();
    assert_eq!(sks(&rev), vec![n(7), n(5), n(2), n(0)]);
    // paging with Limit
    let mut seen = Vec::new();
    let mut req = PageRequest {
        exclusive_start_key: None,
        limit: Some(3),
    };
    loop {
        let page = store
            .query(
                "qry",
                &s("p"),
                Some(&RangeCondition::Gt(n(-3))),
                true,
                &req,
                |_| Ok(true),
            )
            .unwrap();
        seen.extend(sks(&page));
        match page.last_evaluated_key {
            Some(k) => req.exclusive_start_key = Some(k),
            None => break,
        }
    }
    assert_eq!(seen, vec![n(0), n(2), n(5), n(7), n(10), n(100)]);
}

#[test]
fn begins_with_on_strings() {
    let (_dir, store) = open();
    store
        .create_table(spec("bw_", Some(ScalarType::S)))
        .unwrap();
    for sk in ["a", "ab", "abc", "ab\0x", "b", "aa"] {
        store
            .put_item("bw_", item(&[("pk", s("p")), ("sk", s(sk))]), |_| Ok(()))
            .unwrap();
    }
    let page = store
        .query(
            "bw_",
            &s("p"),
            Some(&RangeCondition::BeginsWith(s("ab"))),
            true,
            &PageRequest::default(),
            |_| Ok(true),
        )
        .unwrap();
    let got: Vec<_> = page.items.iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(got, vec![s("ab"), s("ab\0x"), s("abc")]);
}

#[test]
fn parallel_scan_segments_cover_the_table_once() {
    let (_dir, store) = open();
    store.create_table(spec("scn", None)).unwrap();
    for i in 0..300 {
        store
            .put_item("scn", item(&[("pk", s(&format!("k{i}")))]), |_| Ok(()))
            .unwrap();
    }
    let mut seen = Vec::new();
    for seg in 0..4 {
        let mut req = PageRequest {
            exclusive_start_key: None,
            limit: Some(50),
        };
        loop {
            let page = store
                .scan("scn", Some((seg, 4)), &req, |_| Ok(true))
                .unwrap();
            seen.extend(page.items.iter().map(|i| i["pk"].clone()));
            match page.last_evaluated_key {
                Some(k) => req.exclusive_start_key = Some(k),
                None => break,
            }
        }
    }
    seen.sort_by_key(|v| format!("{v:?}"));
    let before = seen.len();
    seen.dedup();
    assert_eq!((before, seen.len()), (300, 300));
}

#[test]
fn a_single_write_returns_its_own_error() {
    let (_dir, store) = open();
    store.create_table(spec("tbl", None)).unwrap();
    let key = item(&[("pk", s("a"))]);
    // Not a condition or validation failure: it comes back as it was raised.
    let refused = store.write_item("tbl", &key, |_, _| {
        Err(StoreError::LimitExceeded("too many".into()))
    });
    assert!(matches!(refused, Err(StoreError::LimitExceeded(m)) if m == "too many"));
    let refused = store.put_item("tbl", key.clone(), |_| {
        Err(StoreError::ResourceInUse("busy".into()))
    });
    assert!(matches!(refused, Err(StoreError::ResourceInUse(m)) if m == "busy"));
    // The item a decide function stores is checked, and its error is a validation error.
    let invalid = store.write_item("tbl", &key, |_, _| {
        Ok(Mutation::Put(item(&[("pk", s("a")), ("", n(1))])))
    });
    assert!(matches!(invalid, Err(StoreError::Validation(_))));
    assert_eq!(store.get_item("tbl", &key).unwrap(), None);
}

#[test]
fn multi_item_writes_are_all_or_nothing() {
    let (_dir, store) = open();
    store.create_table(spec("tbl", None)).unwrap();
    store
        .put_item("tbl", item(&[("pk", s("a")), ("v", n(1))]), |_| Ok(()))
        .unwrap();
    let actions = vec![
        TransactAction {
            table: "tbl".into(),
            key: item(&[("pk", s("b"))]),
            decide: Box::new(|_, _| Ok(Mutation::Put(item(&[("pk", s("b"))])))),
        },
        TransactAction {
            table: "tbl".into(),
            key: item(&[("pk", s("a"))]),
            decide: Box::new(|_, old| {
                Err(StoreError::ConditionalCheckFailed {
                    item: old.cloned().map(Box::new),
                })
            }),
        },
    ];
    match store.write_items(actions) {
        Err(StoreError::TransactionCanceled(reasons)) => {
            assert_eq!(reasons[0].code, "None");
            assert_eq!(reasons[1].code, "ConditionalCheckFailed");
        }
        other => panic!("expected cancellation, got {other:?}"),
    }
    assert_eq!(
        store.get_item("tbl", &item(&[("pk", s("b"))])).unwrap(),
        None
    );
}

#[test]
fn concurrent_read_modify_write_loses_nothing() {
    let (_dir, store) = open();
    store.create_table(spec("ctr", None)).unwrap();
    let store = Arc::new(store);
    let key = item(&[("pk", s("counter"))]);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            std::thread::spawn(move || {
                for _ in 0..50 {
                    store
                        .write_item("ctr", &key, |_, old| {
                            let cur = old.and_then(|o| o.get("n").cloned()).unwrap_or(n(0));
                            let AttributeValue::N(cur) = cur else {
                                unreachable!()
                            };
                            let mut next = key.clone();
                            next.insert(
                                "n".into(),
                                AttributeValue::N(cur.checked_add(&Number::from_i64(1))?),
                            );
                            Ok(Mutation::Put(next))
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(store.get_item("ctr", &key).unwrap().unwrap()["n"], n(400));
}

#[test]
fn index_reads_page_with_index_and_table_keys() {
    let (_dir, store) = open_unsynced();
    store
        .create_table(indexed_spec(
            "tbl",
            vec![gsi("by_g", "g", Some("gs"), IndexProjection::KeysOnly)],
        ))
        .unwrap();
    for i in 0..25 {
        store
            .put_item(
                "tbl",
                item(&[
                    ("pk", s(&format!("p{}", i % 4))),
                    ("sk", n(i)),
                    ("g", s("same")),
                    ("gs", n(i % 3)),
                ]),
                |_| Ok(()),
            )
            .unwrap();
    }
    let cond = KeyCondition::single(s("same"), Some(RangeCondition::Ge(n(1))));
    let read = IndexRead {
        name: "by_g",
        fetch_table_items: false,
    };
    let mut req = PageRequest {
        exclusive_start_key: None,
        limit: Some(4),
    };
    let mut seen = Vec::new();
    loop {
        let page = store
            .query_index("tbl", read, &cond, true, &req, |_| Ok(true))
            .unwrap();
        if let Some(k) = &page.last_evaluated_key {
            assert_eq!(
                k.keys().cloned().collect::<Vec<_>>(),
                vec!["g", "gs", "pk", "sk"]
            );
        }
        seen.extend(page.items.iter().map(|i| i["sk"].clone()));
        match page.last_evaluated_key {
            Some(k) => req.exclusive_start_key = Some(k),
            None => break,
        }
    }
    let all = query_index(
        &store,
        "tbl",
        "by_g",
        s("same"),
        Some(RangeCondition::Ge(n(1))),
        true,
    );
    assert_eq!(seen.len(), all.len());
    assert_eq!(
        seen,
        all.iter().map(|i| i["sk"].clone()).collect::<Vec<_>>()
    );
    // A starting key with only the table key is refused.
    let bad = PageRequest {
        exclusive_start_key: Some(item(&[("pk", s("p0")), ("sk", n(0))])),
        limit: None,
    };
    assert!(
        message(store.query_index("tbl", read, &cond, true, &bad, |_| Ok(true)))
            .contains("The provided starting key is invalid")
    );
    // Unknown index.
    let missing = IndexRead {
        name: "nope",
        fetch_table_items: false,
    };
    assert_eq!(
        message(store.scan_index("tbl", missing, None, &PageRequest::default(), |_| Ok(true))),
        "The table does not have the specified index: nope"
    );
    // Parallel scan segments of an index cover it once.
    let mut count = 0;
    for seg in 0..3 {
        count += store
            .scan_index("tbl", read, Some((seg, 3)), &PageRequest::default(), |_| {
                Ok(true)
            })
            .unwrap()
            .items
            .len();
    }
    assert_eq!(count, 25);
}

#[test]
fn a_local_index_can_return_table_items() {
    let (_dir, store) = open_unsynced();
    store
        .create_table(indexed_spec(
            "tbl",
            vec![lsi("by_l", "l", IndexProjection::KeysOnly)],
        ))
        .unwrap();
    let full = item(&[
        ("pk", s("a")),
        ("sk", n(1)),
        ("l", n(7)),
        ("big", s("payload")),
    ]);
    store.put_item("tbl", full.clone(), |_| Ok(())).unwrap();
    let read = IndexRead {
        name: "by_l",
        fetch_table_items: true,
    };
    let cond = KeyCondition::single(s("a"), None);
    let page = store
        .query_index("tbl", read, &cond, true, &PageRequest::default(), |_| {
            Ok(true)
        })
        .unwrap();
    assert_eq!(page.items, vec![full]);
}
