//! The journal on disk under durable writes: the part of its file a sync covers has its blocks
//! allocated (written zeros ahead of the writes, see `third_party/fjall-journal-sync.patch`), so
//! a journal sync writes the data alone and no file-system metadata; and a store reopened from
//! such a journal has every acknowledged write.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tarn_store::schema::{BillingMode, KeyAttribute, KeySchema, ScalarType, TableSpec};
use tarn_store::{AttributeValue, Item, Store};

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
        indexes: Vec::new(),
    }
}

fn item(i: usize) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::S(format!("k{i}"))),
        ("v".to_string(), AttributeValue::S("x".repeat(1000))),
    ])
}

fn key(i: usize) -> Item {
    Item::from([("pk".to_string(), AttributeValue::S(format!("k{i}")))])
}

/// Every journal file under `dir`.
fn journals(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(journals(&path));
        } else if path.extension().is_some_and(|e| e == "jnl") {
            out.push(path);
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn synced_journal_blocks_are_allocated_ahead_and_recovery_reads_them() {
    use std::os::unix::fs::MetadataExt;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.syncs_writes());
    store.create_table(spec()).unwrap();
    for i in 0..50 {
        // Each put waits for its sync.
        store.put_item("tbl", item(i), |_| Ok(())).unwrap();
    }
    let files = journals(dir.path());
    assert!(
        !files.is_empty(),
        "no journal under {}",
        dir.path().display()
    );
    // 50 items of 1 KB are about 55 KB of journal; a sparse journal would have about that
    // much allocated, one zeroed ahead at least the 1 MiB of a zero fill.
    let allocated: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().blocks() * 512)
        .max()
        .unwrap();
    assert!(
        allocated >= 1 << 20,
        "the active journal has only {allocated} bytes allocated: syncs allocate blocks"
    );
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    for i in 0..50 {
        assert_eq!(
            store.get_item("tbl", &key(i)).unwrap(),
            Some(item(i)),
            "k{i}"
        );
    }
    // The reopened journal is appended to (no zeros ahead of an append); writes go on.
    store.put_item("tbl", item(50), |_| Ok(())).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.get_item("tbl", &key(50)).unwrap(), Some(item(50)));
}
