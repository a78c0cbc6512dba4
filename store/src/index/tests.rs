//! Tests of the changes UpdateTable makes to global indexes and of online builds: exact
//! under concurrent writes, resumed after a restart, gone with their index.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::schema::index::{keyspace_name, KEYSPACE_PREFIX};
use crate::schema::{IndexProjection, IndexRead, IndexSpec, IndexStatus, IndexUpdate};
use crate::testutil::{
    expected_index, gsi, indexed_spec, item, lsi, n, open_unsynced as open, open_unsynced_at, s,
    scan_index_all,
};
use crate::{PageRequest, Store, StoreError};

fn wait_active(store: &Store, table: &str, index: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let meta = store.table_meta(table).unwrap();
        let ix = meta.indexes.iter().find(|i| i.name == index).unwrap();
        if ix.status == IndexStatus::Active {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "index {index} still {:?}",
            ix.status
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn create_gsi(store: &Store, table: &str, index: IndexSpec) {
    let definitions = index.key_schema.attributes().cloned().collect();
    store
        .update_global_index(
            table,
            IndexUpdate::Create {
                index,
                attribute_definitions: definitions,
            },
        )
        .unwrap();
}

#[test]
fn an_index_added_to_a_busy_table_ends_exact() {
    let (_dir, store) = open();
    store.create_table(indexed_spec("tbl", vec![])).unwrap();
    let row = |p: u64, v: u64| {
        let mut i = item(&[("pk", s(&format!("p{p}"))), ("sk", n((p % 5) as i64))]);
        // Some items have no index key, some a wrong-typed one (skipped by the build).
        match v % 7 {
            0 => {}
            1 => {
                i.insert("g".into(), n(1));
            }
            _ => {
                i.insert("g".into(), s(&format!("g{}", v % 13)));
                i.insert("gs".into(), n((v % 11) as i64));
            }
        }
        i.insert("v".into(), n(v as i64));
        i
    };
    for p in 0..3000 {
        store.put_item("tbl", row(p, p), |_| Ok(())).unwrap();
    }
    let store = Arc::new(store);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut x = w;
                while !stop.load(Ordering::Relaxed) {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let p = (x >> 33) % 3500;
                    let key = item(&[("pk", s(&format!("p{p}"))), ("sk", n((p % 5) as i64))]);
                    let v = x >> 40;
                    if v % 5 == 0 {
                        store.delete_item("tbl", &key, |_| Ok(())).unwrap();
                    } else if v % 7 == 1 {
                        // Wrong type once the index exists: refused then, accepted before.
                        let _ = store.put_item("tbl", row(p, v), |_| Ok(()));
                    } else {
                        store.put_item("tbl", row(p, v), |_| Ok(())).unwrap();
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    create_gsi(
        &store,
        "tbl",
        gsi(
            "by_g",
            "g",
            Some("gs"),
            IndexProjection::Include(vec!["v".into()]),
        ),
    );
    let meta = store.table_meta("tbl").unwrap();
    assert_eq!(meta.indexes[0].status, IndexStatus::Creating);
    let early = store.scan_index(
        "tbl",
        IndexRead {
            name: "by_g",
            fetch_table_items: false,
        },
        None,
        &PageRequest::default(),
        |_| Ok(true),
    );
    match early {
        Err(e) => assert_eq!(
            e.to_string(),
            "Cannot read from backfilling global secondary index: by_g"
        ),
        // Only if the build finished already.
        Ok(_) => assert_eq!(
            store.table_meta("tbl").unwrap().indexes[0].status,
            IndexStatus::Active
        ),
    }
    wait_active(&store, "tbl", "by_g");
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    writers.into_iter().for_each(|t| t.join().unwrap());
    let got = scan_index_all(&store, "tbl", "by_g");
    assert!(got.len() > 1000, "{}", got.len());
    assert_eq!(got, expected_index(&store, "tbl", "by_g"));
    // The exact counts of the table and of the index built under writes.
    let info = store.describe_table("tbl").unwrap();
    assert_eq!(info.indexes[0].item_count, got.len() as u64);
    let mut items = 0;
    store
        .scan("tbl", None, &PageRequest::default(), |_| {
            items += 1;
            Ok(false)
        })
        .unwrap();
    assert_eq!(info.item_count, items);
}

#[test]
fn indexes_survive_reopen_and_interrupted_builds_resume() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open_unsynced_at(dir.path());
        store
            .create_table(indexed_spec(
                "tbl",
                vec![lsi("by_l", "l", IndexProjection::All)],
            ))
            .unwrap();
        for p in 0..5000 {
            store
                .put_item(
                    "tbl",
                    item(&[
                        ("pk", s(&format!("p{p}"))),
                        ("sk", n(1)),
                        ("g", s("x")),
                        ("l", n(p)),
                    ]),
                    |_| Ok(()),
                )
                .unwrap();
        }
        // As if the process stopped: the build gives up before its first chunk.
        store.runner.stop();
        create_gsi(
            &store,
            "tbl",
            gsi("by_g", "g", None, IndexProjection::KeysOnly),
        );
    }
    let store = open_unsynced_at(dir.path());
    let status = |store: &Store| store.table_meta("tbl").unwrap().indexes[1].status;
    if status(&store) == IndexStatus::Active {
        // Resumed and finished already: the interrupted build had written nothing.
        assert_eq!(scan_index_all(&store, "tbl", "by_g").len(), 5000);
    }
    wait_active(&store, "tbl", "by_g");
    for ix in ["by_g", "by_l"] {
        let got = scan_index_all(&store, "tbl", ix);
        assert_eq!(got.len(), 5000, "{ix}");
        assert_eq!(got, expected_index(&store, "tbl", ix), "{ix}");
    }
    let info = store.describe_table("tbl").unwrap();
    assert_eq!(info.indexes.len(), 2);
    assert!(info.indexes.iter().all(|i| i.item_count >= 5000));
}

#[test]
fn deleting_an_index_drops_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_unsynced_at(dir.path());
    store
        .create_table(indexed_spec(
            "tbl",
            vec![gsi("by_g", "g", None, IndexProjection::All)],
        ))
        .unwrap();
    store
        .put_item(
            "tbl",
            item(&[("pk", s("a")), ("sk", n(1)), ("g", s("x"))]),
            |_| Ok(()),
        )
        .unwrap();
    let first_id = store.table_meta("tbl").unwrap().indexes[0].id;
    let (meta, removed) = store
        .update_global_index(
            "tbl",
            IndexUpdate::Delete {
                name: "by_g".into(),
            },
        )
        .unwrap();
    assert_eq!(removed.unwrap().name, "by_g");
    assert!(meta.indexes.is_empty());
    assert_eq!(
        meta.attribute_definitions
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        vec!["pk", "sk"]
    );
    assert!(!store.db.fjall.keyspace_exists(&keyspace_name(&first_id)));
    // Writes go on without the index; a new index of the same name starts from the items.
    store
        .put_item(
            "tbl",
            item(&[("pk", s("b")), ("sk", n(1)), ("g", s("x"))]),
            |_| Ok(()),
        )
        .unwrap();
    create_gsi(&store, "tbl", gsi("by_g", "g", None, IndexProjection::All));
    wait_active(&store, "tbl", "by_g");
    assert_eq!(scan_index_all(&store, "tbl", "by_g").len(), 2);
    let missing = store.update_global_index(
        "tbl",
        IndexUpdate::Delete {
            name: "nope".into(),
        },
    );
    assert!(matches!(missing, Err(StoreError::ResourceNotFound(_))));
    drop(store);
    let store = open_unsynced_at(dir.path());
    assert_eq!(scan_index_all(&store, "tbl", "by_g").len(), 2);
    store.delete_table("tbl").unwrap();
    assert!(!store
        .db
        .fjall
        .list_keyspace_names()
        .iter()
        .any(|k| k.starts_with(KEYSPACE_PREFIX)));
}
