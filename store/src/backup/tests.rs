//! Tests of backups, restores and point-in-time recovery against a real store on disk.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::clock::now_micros;
use crate::index::{IndexKind, IndexProjection, IndexRead, IndexSpec};
use crate::schema::{KeyAttribute, KeySchema, ScalarType};
use crate::stream::StreamViewType;
use crate::testutil::{delete_action, item, n, open, put_action, s, spec};
use crate::ttl::TtlChange;
use crate::value::AttributeValue;
use crate::{PageRequest, Store};

/// Every item of a live table, by partition key.
fn contents(store: &Store, table: &str) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    store
        .read_table(table, None, &mut |i| {
            let AttributeValue::S(k) = &i["pk"] else {
                panic!("pk is S")
            };
            out.insert(k.clone(), i);
            Ok(())
        })
        .unwrap();
    out
}

fn at(store: &Store, table: &str, t: f64) -> Result<BTreeMap<String, Item>> {
    let mut out = BTreeMap::new();
    store.read_table(table, Some(t), &mut |i| {
        let AttributeValue::S(k) = &i["pk"] else {
            panic!("pk is S")
        };
        out.insert(k.clone(), i);
        Ok(())
    })?;
    Ok(out)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_backup(store: &Store, id: &str) -> BackupMeta {
    let mut meta = None;
    wait_for("backup", || {
        let b = store.describe_backup(id).unwrap();
        let done = b.status != BackupStatus::Creating;
        meta = Some(b);
        done
    });
    meta.unwrap()
}

fn wait_restored(store: &Store, table: &str) {
    wait_for("restore", || {
        store
            .describe_table(table)
            .is_ok_and(|i| i.meta.restore.is_some_and(|r| !r.in_progress))
    });
}

fn wait_pitr(store: &Store, table: &str) -> f64 {
    let mut earliest = None;
    wait_for("first base", || {
        earliest = store.pitr_status(table).unwrap().earliest;
        earliest.is_some()
    });
    earliest.unwrap()
}

fn put(store: &Store, table: &str, k: &str, v: i64) {
    store
        .put_item(table, item(&[("pk", s(k)), ("v", n(v))]), |_| Ok(()))
        .unwrap();
}

fn restore_request(target: &str, source: RestoreSource) -> RestoreRequest {
    RestoreRequest {
        target: target.into(),
        source,
        overrides: RestoreOverrides::default(),
    }
}

#[test]
fn a_backup_restores_items_indexes_ttl_and_stream_into_a_new_table() {
    let (_dir, store) = open();
    let mut spec = spec("src", None);
    spec.attribute_definitions.push(KeyAttribute {
        name: "g".into(),
        attr_type: ScalarType::S,
    });
    spec.indexes.push(IndexSpec {
        name: "by-g".into(),
        kind: IndexKind::Global,
        key_schema: KeySchema {
            hash: KeyAttribute {
                name: "g".into(),
                attr_type: ScalarType::S,
            },
            range: None,
            hash_rest: Vec::new(),
            range_rest: Vec::new(),
        },
        projection: IndexProjection::All,
        throughput: None,
    });
    spec.stream = Some(StreamViewType::NewImage);
    store.create_table(spec).unwrap();
    store
        .update_time_to_live("src", TtlChange::Enable("exp".into()))
        .unwrap();
    for i in 0..300 {
        let g = if i % 2 == 0 { "even" } else { "odd" };
        store
            .put_item(
                "src",
                item(&[("pk", s(&format!("k{i:03}"))), ("g", s(g)), ("v", n(i))]),
                |_| Ok(()),
            )
            .unwrap();
    }
    let backup = store.create_backup("src", "b1").unwrap();
    assert_eq!(backup.status, BackupStatus::Creating);
    // Writes after the backup was asked for are not in it.
    put(&store, "src", "later", 1);
    let backup = wait_backup(&store, &backup.id);
    assert_eq!(backup.status, BackupStatus::Available);
    assert_eq!(backup.item_count, 300);
    assert_eq!(store.list_backups().unwrap().len(), 1);

    let info = store
        .restore_table(restore_request(
            "dst",
            RestoreSource::Backup(backup.id.clone()),
        ))
        .unwrap();
    assert!(info.meta.restore.as_ref().unwrap().in_progress);
    wait_restored(&store, "dst");
    let mut expected = contents(&store, "src");
    expected.remove("later");
    assert_eq!(contents(&store, "dst"), expected);
    let meta = store.table_meta("dst").unwrap();
    assert_eq!(meta.indexes.len(), 1);
    assert_eq!(meta.ttl.as_ref().unwrap().attribute, "exp");
    assert!(meta.enabled_stream().is_some());
    let read = IndexRead {
        name: "by-g",
        fetch_table_items: false,
    };
    let page = store
        .scan_index("dst", read, None, &PageRequest::default(), |i| {
            Ok(i["g"] == s("even"))
        })
        .unwrap();
    assert_eq!(page.items.len(), 150);
    let info = store.describe_table("dst").unwrap();
    assert_eq!((info.item_count, info.indexes[0].item_count), (300, 300));
    // The restore left no stream records of its own.
    let stream = meta.enabled_stream().unwrap().id;
    assert_eq!(store.stream_state("dst", stream).unwrap().last_seq, None);

    // The name is taken now; a backup in use cannot go; then it can.
    let e = store
        .restore_table(restore_request(
            "dst",
            RestoreSource::Backup(backup.id.clone()),
        ))
        .unwrap_err();
    assert!(matches!(e, StoreError::TableAlreadyExists(_)), "{e}");
    store.delete_backup(&backup.id).unwrap();
    assert!(matches!(
        store.describe_backup(&backup.id),
        Err(StoreError::BackupNotFound(_))
    ));
    assert!(!store.backup_file(&backup.id).exists());
}

#[test]
fn a_corrupt_or_missing_backup_file_is_refused_before_anything_is_restored() {
    let (_dir, store) = open();
    store.create_table(spec("src", None)).unwrap();
    for i in 0..100 {
        put(&store, "src", &format!("k{i}"), i);
    }
    let b = store.create_backup("src", "b").unwrap();
    wait_backup(&store, &b.id);
    let path = store.backup_file(&b.id);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let e = store
        .restore_table(restore_request("dst", RestoreSource::Backup(b.id.clone())))
        .unwrap_err();
    assert!(e.to_string().contains("checksum mismatch"), "{e}");
    std::fs::remove_file(&path).unwrap();
    let e = store
        .restore_table(restore_request("dst", RestoreSource::Backup(b.id.clone())))
        .unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
    assert!(matches!(
        store.describe_table("dst"),
        Err(StoreError::TableNotFound(_))
    ));
}

/// Writers keep changing pairs of items in transactions (both items of a pair always hold
/// the same value) and appending numbered items in order; a backup taken meanwhile must hold
/// a state that existed at one instant: pairs equal, and the numbered items a prefix.
#[test]
fn a_backup_taken_during_writes_holds_one_instant() {
    let (_dir, store) = open();
    let store = Arc::new(store);
    store.create_table(spec("tbl", None)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..3 {
        let (store, stop) = (store.clone(), stop.clone());
        writers.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let v = n(i);
                store
                    .write_items(vec![
                        put_action(
                            "tbl",
                            item(&[("pk", s(&format!("pair{w}a"))), ("v", v.clone())]),
                        ),
                        put_action("tbl", item(&[("pk", s(&format!("pair{w}b"))), ("v", v)])),
                    ])
                    .unwrap();
                i += 1;
            }
        }));
    }
    {
        let (store, stop) = (store.clone(), stop.clone());
        writers.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                put(&store, "tbl", &format!("seq{i:08}"), i);
                i += 1;
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(200));
    let mut backups = Vec::new();
    for k in 0..3 {
        backups.push(store.create_backup("tbl", &format!("b{k}")).unwrap().id);
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    for (k, id) in backups.iter().enumerate() {
        wait_backup(&store, id);
        let target = format!("restored{k}");
        store
            .restore_table(restore_request(&target, RestoreSource::Backup(id.clone())))
            .unwrap();
        wait_restored(&store, &target);
        let items = contents(&store, &target);
        for w in 0..3 {
            assert_eq!(
                items.get(&format!("pair{w}a")).map(|i| &i["v"]),
                items.get(&format!("pair{w}b")).map(|i| &i["v"]),
                "pair {w} torn in backup {k}"
            );
        }
        let seq: Vec<&String> = items.keys().filter(|k| k.starts_with("seq")).collect();
        assert!(!seq.is_empty());
        for (i, key) in seq.iter().enumerate() {
            assert_eq!(**key, format!("seq{i:08}"), "a gap in backup {k}");
        }
    }
}

#[test]
fn pitr_must_be_enabled_and_the_time_within_the_window() {
    let (_dir, store) = open();
    store.create_table(spec("tbl", None)).unwrap();
    put(&store, "tbl", "a", 1);
    let now = now_micros() as f64 / 1e6;
    assert!(matches!(
        at(&store, "tbl", now),
        Err(StoreError::PointInTimeRecoveryUnavailable(_))
    ));
    assert!(!store.pitr_status("tbl").unwrap().enabled);
    store.update_pitr("tbl", true, 35).unwrap();
    let earliest = wait_pitr(&store, "tbl");
    assert!(matches!(
        at(&store, "tbl", earliest - 10.0),
        Err(StoreError::InvalidRestoreTime(_))
    ));
    assert!(matches!(
        at(&store, "tbl", now_micros() as f64 / 1e6 + 3600.0),
        Err(StoreError::InvalidRestoreTime(_))
    ));
    // The state when PITR was enabled is restorable: it is the first base.
    assert_eq!(at(&store, "tbl", earliest).unwrap().len(), 1);
    assert!(matches!(
        store.update_pitr("tbl", true, 36),
        Err(StoreError::Validation(_))
    ));
    store.update_pitr("tbl", false, 35).unwrap();
    assert!(!store.pitr_status("tbl").unwrap().enabled);
    assert!(matches!(
        at(&store, "tbl", now_micros() as f64 / 1e6),
        Err(StoreError::PointInTimeRecoveryUnavailable(_))
    ));
}

/// One operation of the PITR property test.
#[derive(Clone, Debug)]
enum Op {
    Put(u8, i64),
    Delete(u8),
    /// Two keys in one transaction.
    Pair(u8, u8, i64),
    /// Take a new base snapshot here.
    Base,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..12, any::<i64>()).prop_map(|(k, v)| Op::Put(k, v)),
        2 => (0u8..12).prop_map(Op::Delete),
        1 => (0u8..12, 0u8..12, any::<i64>())
            .prop_filter("distinct keys", |(a, b, _)| a != b)
            .prop_map(|(a, b, v)| Op::Pair(a, b, v)),
        1 => Just(Op::Base),
    ]
}

fn key(k: u8) -> Item {
    item(&[("pk", s(&format!("k{k:02}")))])
}

fn full(k: u8, v: i64) -> Item {
    item(&[("pk", s(&format!("k{k:02}"))), ("v", n(v))])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// Random writes and deletes; after each, the time is noted. A read at any noted instant
    /// (between one operation's end and the next one's start) equals a model of the table
    /// at that instant, exactly, across base snapshots taken in between, and also after the
    /// table is deleted.
    #[test]
    fn pitr_reads_equal_the_model_at_every_instant(
        initial in proptest::collection::vec((0u8..12, any::<i64>()), 0..6),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let (_dir, store) = open();
        store.create_table(spec("tbl", None)).unwrap();
        let mut model: BTreeMap<String, Item> = BTreeMap::new();
        for (k, v) in initial {
            store.put_item("tbl", full(k, v), |_| Ok(())).unwrap();
            model.insert(format!("k{k:02}"), full(k, v));
        }
        store.update_pitr("tbl", true, 35).unwrap();
        wait_pitr(&store, "tbl");
        let mut checkpoints = Vec::new();
        let mut after = now_micros();
        for op in ops {
            std::thread::sleep(Duration::from_micros(200));
            let before = now_micros();
            // The instant between the previous operation and this one.
            checkpoints.push(((after + before) / 2, model.clone()));
            match op {
                Op::Put(k, v) => {
                    store.put_item("tbl", full(k, v), |_| Ok(())).unwrap();
                    model.insert(format!("k{k:02}"), full(k, v));
                }
                Op::Delete(k) => {
                    store.delete_item("tbl", &key(k), |_| Ok(())).unwrap();
                    model.remove(&format!("k{k:02}"));
                }
                Op::Pair(a, b, v) => {
                    store
                        .write_items(vec![put_action("tbl", full(a, v)), delete_action("tbl", key(b))])
                        .unwrap();
                    model.insert(format!("k{a:02}"), full(a, v));
                    model.remove(&format!("k{b:02}"));
                }
                Op::Base => pitr::base_now(&store.db, "tbl").unwrap(),
            }
            after = now_micros();
        }
        std::thread::sleep(Duration::from_micros(200));
        checkpoints.push(((after + now_micros()) / 2, model.clone()));
        for (t, expected) in &checkpoints {
            prop_assert_eq!(&at(&store, "tbl", *t as f64 / 1e6).unwrap(), expected);
        }
        // A deleted table's history is still there.
        store.delete_table("tbl").unwrap();
        for (t, expected) in checkpoints.iter().step_by(5) {
            prop_assert_eq!(&at(&store, "tbl", *t as f64 / 1e6).unwrap(), expected);
        }
    }
}

#[test]
fn a_deleted_table_restores_to_a_point_in_time_into_a_new_table() {
    let (_dir, store) = open();
    store.create_table(spec("tbl", None)).unwrap();
    store.update_pitr("tbl", true, 7).unwrap();
    wait_pitr(&store, "tbl");
    for i in 0..50 {
        put(&store, "tbl", &format!("k{i:02}"), i);
    }
    std::thread::sleep(Duration::from_millis(2));
    let good = now_micros() as f64 / 1e6;
    std::thread::sleep(Duration::from_millis(2));
    for i in 0..50 {
        store
            .delete_item("tbl", &item(&[("pk", s(&format!("k{i:02}")))]), |_| Ok(()))
            .unwrap();
    }
    let expected = at(&store, "tbl", good).unwrap();
    assert_eq!(expected.len(), 50);
    store.delete_table("tbl").unwrap();
    store
        .restore_table(restore_request(
            "back",
            RestoreSource::PointInTime {
                table: "tbl".into(),
                at: PointInTime::At(good),
            },
        ))
        .unwrap();
    wait_restored(&store, "back");
    assert_eq!(contents(&store, "back"), expected);
    // Latest: the table as it was deleted (empty).
    store
        .restore_table(restore_request(
            "latest",
            RestoreSource::PointInTime {
                table: "tbl".into(),
                at: PointInTime::Latest,
            },
        ))
        .unwrap();
    wait_restored(&store, "latest");
    assert!(contents(&store, "latest").is_empty());
}

#[test]
fn history_survives_a_reopen_and_upkeep_takes_bases_as_the_log_grows() {
    let dir = tempfile::tempdir().unwrap();
    let (id, good, expected) = {
        let store = Store::open(dir.path()).unwrap();
        let meta = store.create_table(spec("tbl", None)).unwrap();
        store.update_pitr("tbl", true, 35).unwrap();
        wait_pitr(&store, "tbl");
        let big = "x".repeat(4000);
        for i in 0..400 {
            store
                .put_item(
                    "tbl",
                    item(&[
                        ("pk", s(&format!("k{}", i % 100))),
                        ("v", s(&big)),
                        ("i", n(i)),
                    ]),
                    |_| Ok(()),
                )
                .unwrap();
        }
        let good = now_micros() as f64 / 1e6;
        std::thread::sleep(Duration::from_millis(2));
        put(&store, "tbl", "after", 1);
        let expected = at(&store, "tbl", good).unwrap();
        (meta.id, good, expected)
    };
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(at(&store, "tbl", good).unwrap(), expected);
    // 1.6 MB of log against a base of an empty table: upkeep takes a new base.
    assert_eq!(pitr::base_paths(&store.db, &id).len(), 1);
    store.pitr_upkeep().unwrap();
    wait_for("second base", || {
        pitr::base_paths(&store.db, &id).len() == 2
    });
    assert_eq!(at(&store, "tbl", good).unwrap(), expected);
    let latest = at(&store, "tbl", now_micros() as f64 / 1e6).unwrap();
    assert!(latest.contains_key("after"));
}

#[test]
fn an_encrypted_store_seals_its_backups_and_bases() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(
        dir.path(),
        crate::StoreOptions {
            encryption_key: Some(crate::crypto::EncryptionKey::from_bytes(&[9; 32]).unwrap()),
            ..Default::default()
        },
    )
    .unwrap();
    let meta = store.create_table(spec("tbl", None)).unwrap();
    store.update_pitr("tbl", true, 35).unwrap();
    for i in 0..20 {
        store
            .put_item(
                "tbl",
                item(&[
                    ("pk", s(&format!("k{i}"))),
                    ("secret", s("hunter2-hunter2")),
                ]),
                |_| Ok(()),
            )
            .unwrap();
    }
    wait_pitr(&store, "tbl");
    pitr::base_now(&store.db, "tbl").unwrap();
    let b = store.create_backup("tbl", "sealed").unwrap();
    wait_backup(&store, &b.id);
    let mut files = vec![store.backup_file(&b.id)];
    files.extend(pitr::base_paths(&store.db, &meta.id));
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !bytes.windows(7).any(|w| w == b"hunter2"),
            "{} holds plaintext",
            f.display()
        );
    }
    store
        .restore_table(restore_request(
            "plain",
            RestoreSource::Backup(b.id.clone()),
        ))
        .unwrap();
    wait_restored(&store, "plain");
    assert_eq!(contents(&store, "plain"), contents(&store, "tbl"));
    let now = now_micros() as f64 / 1e6;
    assert_eq!(at(&store, "tbl", now).unwrap(), contents(&store, "tbl"));
}

#[test]
fn a_restore_cut_short_by_a_closing_store_is_dropped_when_it_opens_again() {
    let dir = tempfile::tempdir().unwrap();
    let backup = {
        let store = Store::open(dir.path()).unwrap();
        store.create_table(spec("src", None)).unwrap();
        let big = "y".repeat(2000);
        for i in 0..3000 {
            store
                .put_item(
                    "src",
                    item(&[("pk", s(&format!("k{i:05}"))), ("v", s(&big))]),
                    |_| Ok(()),
                )
                .unwrap();
        }
        let b = store.create_backup("src", "bk").unwrap();
        wait_backup(&store, &b.id);
        store
            .restore_table(restore_request("half", RestoreSource::Backup(b.id.clone())))
            .unwrap();
        // Dropping the store now stops the load wherever it is (like a crash: the restore
        // record stays behind).
        b.id
    };
    let store = Store::open(dir.path()).unwrap();
    let half = store.describe_table("half");
    match half {
        // The load may have finished before the store closed: then it is whole.
        Ok(info) => assert_eq!(
            contents(&store, "half").len(),
            3000,
            "{:?}",
            info.meta.restore
        ),
        Err(e) => {
            assert!(matches!(e, StoreError::TableNotFound(_)));
            // The name is free, and a restore now is whole.
            store
                .restore_table(restore_request("half", RestoreSource::Backup(backup)))
                .unwrap();
            wait_restored(&store, "half");
            assert_eq!(contents(&store, "half").len(), 3000);
        }
    }
    assert!(store.list_state("restore/").unwrap().is_empty());
}
