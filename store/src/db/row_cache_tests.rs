//! Tests of the row cache: its insertion rule against writes in flight, every kind of write
//! invalidating it, its bound, and a model the store must agree with whether the cache is on
//! or off. (The race with a sync held open is in `tests/faults.rs`, which owns failpoints.)

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::row_cache::{RowCache, SharedItem};
use crate::backup::BackupStatus;
use crate::backup::{RestoreOverrides, RestoreRequest, RestoreSource};
use crate::testutil::{delete_action, item, n, put_action, s, spec};
use crate::ttl::TtlChange;
use crate::value::{AttributeValue, Item};
use crate::{Mutation, Store, StoreError, StoreOptions, TransactAction};

fn key(k: &str) -> Item {
    item(&[("pk", s(k))])
}

fn row(k: &str, v: i64) -> Item {
    item(&[("pk", s(k)), ("v", n(v))])
}

fn open_with(dir: &std::path::Path, sync_writes: bool, row_cache_bytes: u64) -> Store {
    Store::open_with(
        dir,
        StoreOptions {
            sync_writes,
            row_cache_bytes,
            ..Default::default()
        },
    )
    .unwrap()
}

fn get(store: &Store, table: &str, k: &str) -> Option<i64> {
    store
        .get_item(table, &key(k))
        .unwrap()
        .map(|i| match &i["v"] {
            AttributeValue::N(x) => x.to_string().parse().unwrap(),
            other => panic!("v is {other:?}"),
        })
}

/// Reads `k` twice (the second read is the cache's, if the first filled it) and checks both.
fn reads(store: &Store, table: &str, k: &str, want: Option<i64>) {
    assert_eq!(get(store, table, k), want, "{k}: first read");
    assert_eq!(get(store, table, k), want, "{k}: second read");
}

fn put(store: &Store, table: &str, k: &str, v: i64) {
    store.put_item(table, row(k, v), |_| Ok(())).unwrap();
}

#[test]
fn an_offer_is_refused_while_a_write_commits_and_through_a_view_older_than_it() {
    let dir = tempfile::tempdir().unwrap();
    let fjall = fjall::Database::builder(dir.path()).open().unwrap();
    let ks = fjall
        .keyspace("tbl", fjall::KeyspaceCreateOptions::default)
        .unwrap();
    let cache = RowCache::new(1 << 20);
    let table = uuid::Uuid::new_v4();
    let k: &[u8] = b"k";
    let v = |x: i64| Some(Arc::new(SharedItem::new(row("k", x))));

    let before = fjall.visible_seqno();
    // A key's first read is only remembered (the doorkeeper); its second goes in.
    cache.offer(&table, k, before, v(0));
    assert_eq!(cache.get(&table, k), None, "kept on its first read");
    cache.offer(&table, k, before, v(0));
    assert_eq!(cache.get(&table, k), Some(v(0)));
    // Another table's key of the same bytes is another entry.
    assert_eq!(cache.get(&uuid::Uuid::new_v4(), k), None);

    // A write starts: the entry goes, and no view, however new, inserts meanwhile.
    let writing = cache.writing(&fjall, [(&table, k)].into_iter());
    assert_eq!(cache.get(&table, k), None);
    cache.offer(&table, k, u64::MAX, v(0));
    assert_eq!(cache.get(&table, k), None, "inserted while a write commits");
    let mut batch = fjall.batch();
    batch.insert(&ks, k, b"1");
    batch.commit().unwrap();
    drop(writing);

    // A reader that read through a view from before the write read the old item: refused.
    cache.offer(&table, k, before, v(0));
    assert_eq!(
        cache.get(&table, k),
        None,
        "an item older than a write was kept"
    );
    // Through a view holding the write: taken.
    cache.offer(&table, k, fjall.visible_seqno(), v(1));
    assert_eq!(cache.get(&table, k), Some(v(1)));
    // The absence of an item is cached too.
    cache.offer(&table, b"gone", fjall.visible_seqno(), None);
    cache.offer(&table, b"gone", fjall.visible_seqno(), None);
    assert_eq!(cache.get(&table, b"gone"), Some(None));
    assert_eq!(cache.len(), 2);
    cache.forget_table(&table);
    assert_eq!(cache.len(), 0);

    // Off: nothing is kept.
    let off = RowCache::new(0);
    off.offer(&table, k, u64::MAX, v(1));
    assert_eq!(off.get(&table, k), None);
}

#[test]
fn keys_read_once_are_not_kept_and_keys_read_again_are() {
    let cache = RowCache::new(64 << 20);
    let table = uuid::Uuid::new_v4();
    let item = |i: u32| {
        Some(Arc::new(SharedItem::new(row(
            &format!("k{i}"),
            i64::from(i),
        ))))
    };
    // A scan of many keys read once each (a random read over a big table) keeps nothing.
    for i in 0..100_000u32 {
        cache.offer(&table, &i.to_be_bytes(), 0, item(i));
    }
    assert_eq!(cache.len(), 0);
    // A working set read again and again is kept: most of it from its second pass on (a key
    // whose bucket-mate took its slot in between goes in on a later pass), all of it soon.
    let pass = || {
        for i in 0..10_000u32 {
            cache.offer(&table, &(1_000_000 + i).to_be_bytes(), 0, item(i));
        }
    };
    pass();
    pass();
    assert!(
        cache.len() >= 9_000,
        "{} kept after two passes",
        cache.len()
    );
    for _ in 0..3 {
        pass();
    }
    assert!(
        cache.len() >= 9_990,
        "{} kept after five passes",
        cache.len()
    );
}

/// Every kind of write leaves the cache right, on a store that syncs (reads through the
/// durable view) and on one that does not (reads the latest data).
fn every_write_kind_invalidates(sync_writes: bool) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with(dir.path(), sync_writes, 1 << 20);
    store.create_table(spec("tbl", None)).unwrap();
    put(&store, "tbl", "a", 1);
    reads(&store, "tbl", "a", Some(1));
    assert!(store.db.rows.len() > 0, "the read was cached");

    // Put over it.
    put(&store, "tbl", "a", 2);
    reads(&store, "tbl", "a", Some(2));
    // Update (read-modify-write).
    store
        .write_item("tbl", &key("a"), |_, old| {
            let mut new = old.unwrap().clone();
            new.insert("v".into(), n(3));
            Ok(Mutation::Put(new))
        })
        .unwrap();
    reads(&store, "tbl", "a", Some(3));
    // A condition that fails changes nothing, and the cache still answers right.
    let refused = store.put_item("tbl", row("a", 99), |_| {
        Err(StoreError::ConditionalCheckFailed { item: None })
    });
    assert!(matches!(
        refused,
        Err(StoreError::ConditionalCheckFailed { .. })
    ));
    reads(&store, "tbl", "a", Some(3));
    // An update that keeps the item.
    store
        .write_item("tbl", &key("a"), |_, _| Ok(Mutation::Keep))
        .unwrap();
    reads(&store, "tbl", "a", Some(3));
    // Delete; the absence is cached, then a put replaces it.
    store.delete_item("tbl", &key("a"), |_| Ok(())).unwrap();
    reads(&store, "tbl", "a", None);
    put(&store, "tbl", "a", 4);
    reads(&store, "tbl", "a", Some(4));
    // Batch writes (BatchWriteItem's path), then a transaction.
    reads(&store, "tbl", "b", None);
    store
        .write_items(vec![
            put_action("tbl", row("a", 5)),
            put_action("tbl", row("b", 1)),
        ])
        .unwrap();
    reads(&store, "tbl", "a", Some(5));
    reads(&store, "tbl", "b", Some(1));
    store
        .transact_items(vec![
            delete_action("tbl", key("a")),
            put_action("tbl", row("b", 2)),
        ])
        .unwrap();
    reads(&store, "tbl", "a", None);
    reads(&store, "tbl", "b", Some(2));
    // A canceled transaction changes nothing.
    let canceled = store.transact_items(vec![
        put_action("tbl", row("a", 6)),
        TransactAction {
            table: "tbl".into(),
            key: key("b"),
            decide: Box::new(|_, _| Err(StoreError::ConditionalCheckFailed { item: None })),
        },
    ]);
    assert!(matches!(canceled, Err(StoreError::TransactionCanceled(_))));
    reads(&store, "tbl", "a", None);
    reads(&store, "tbl", "b", Some(2));

    // TTL: the sweeper's delete.
    store
        .update_time_to_live("tbl", TtlChange::Enable("exp".into()))
        .unwrap();
    store
        .put_item(
            "tbl",
            item(&[("pk", s("old")), ("v", n(1)), ("exp", n(1_000))]),
            |_| Ok(()),
        )
        .unwrap();
    reads(&store, "tbl", "old", Some(1));
    assert_eq!(store.sweep_expired(2_000, 100).unwrap(), 1);
    reads(&store, "tbl", "old", None);

    // A table deleted and created again under its name: none of the old table's items.
    reads(&store, "tbl", "b", Some(2));
    store.delete_table("tbl").unwrap();
    store.create_table(spec("tbl", None)).unwrap();
    reads(&store, "tbl", "b", None);
    put(&store, "tbl", "b", 7);
    reads(&store, "tbl", "b", Some(7));
}

#[test]
fn every_write_kind_invalidates_on_a_synced_store() {
    every_write_kind_invalidates(true);
}

#[test]
fn every_write_kind_invalidates_on_an_unsynced_store() {
    every_write_kind_invalidates(false);
}

#[test]
fn a_restore_into_a_deleted_tables_name_reads_the_restored_items() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with(dir.path(), true, 1 << 20);
    store.create_table(spec("tbl", None)).unwrap();
    put(&store, "tbl", "a", 1);
    let backup = store.create_backup("tbl", "b").unwrap();
    let start = Instant::now();
    while store.describe_backup(&backup.id).unwrap().status == BackupStatus::Creating {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "backup timed out"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Newer than the backup, and cached.
    put(&store, "tbl", "a", 2);
    reads(&store, "tbl", "a", Some(2));
    store.delete_table("tbl").unwrap();
    store
        .restore_table(RestoreRequest {
            target: "tbl".into(),
            source: RestoreSource::Backup(backup.id),
            overrides: RestoreOverrides::default(),
        })
        .unwrap();
    let start = Instant::now();
    while !store
        .describe_table("tbl")
        .is_ok_and(|i| i.meta.restore.is_some_and(|r| !r.in_progress))
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "restore timed out"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    reads(&store, "tbl", "a", Some(1));
}

#[test]
fn the_cache_holds_no_more_than_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let bound = 64 * 1024;
    let store = open_with(dir.path(), false, bound);
    store.create_table(spec("tbl", None)).unwrap();
    let payload = "x".repeat(1000);
    for i in 0..1000 {
        let k = format!("k{i}");
        store
            .put_item(
                "tbl",
                item(&[("pk", s(&k)), ("p", s(&payload))]),
                |_| Ok(()),
            )
            .unwrap();
        // Twice: a key goes in on its second read.
        for _ in 0..2 {
            assert!(store.get_item("tbl", &key(&k)).unwrap().is_some());
        }
        assert!(store.db.rows.weight() <= bound, "over the bound");
    }
    let held = store.db.rows.len();
    assert!(held > 10 && held < 64, "{held} entries of about 1 KB");
}

#[test]
fn a_cached_item_is_shared_with_its_rendering_and_a_write_starts_a_new_copy() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with(dir.path(), true, 1 << 20);
    store.create_table(spec("tbl", None)).unwrap();
    put(&store, "tbl", "a", 1);
    let renders = std::cell::Cell::new(0);
    let render = |item: &SharedItem| {
        renders.set(renders.get() + 1);
        format!("{item:?}").into_bytes()
    };
    let read = || store.get_item_shared("tbl", &key("a")).unwrap().unwrap();
    // The first read only tells the doorkeeper; the second is cached, and later reads share it.
    let first = read();
    let cached = read();
    let again = read();
    assert!(!Arc::ptr_eq(&first, &cached));
    assert!(Arc::ptr_eq(&cached, &again), "a hit shares the cached copy");
    assert_eq!(cached.size(), crate::value::item_size(&row("a", 1)));
    let rendered = cached.rendering(render).to_vec();
    assert_eq!(again.rendering(render), &rendered[..]);
    assert_eq!(read().rendering(render), &rendered[..]);
    assert_eq!(
        renders.get(),
        1,
        "rendered once for every reader of the copy"
    );

    // A write drops the copy: the next reads make a new one, with its own rendering.
    put(&store, "tbl", "a", 2);
    let _ = read();
    let after = read();
    assert!(!Arc::ptr_eq(&after, &cached));
    assert_eq!(**after, row("a", 2));
    assert_ne!(after.rendering(render), &rendered[..]);
    assert_eq!(renders.get(), 2);
    // The old copy, still held by its reader, is unchanged.
    assert_eq!(**cached, row("a", 1));
}

/// A put returns once it is durable (or, on a store that does not sync, committed), and from
/// then on every read shows it (or a later one), whatever readers put in the cache meanwhile.
fn a_read_never_goes_back_behind_an_acknowledged_write(sync_writes: bool) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open_with(dir.path(), sync_writes, 1 << 20));
    store.create_table(spec("tbl", None)).unwrap();
    put(&store, "tbl", "k", 0);
    let acked = Arc::new(AtomicI64::new(0));
    let reads_made = Arc::new(AtomicU64::new(0));
    const LAST: i64 = 300;
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (store, acked, reads_made) = (store.clone(), acked.clone(), reads_made.clone());
            std::thread::spawn(move || loop {
                let floor = acked.load(Ordering::Acquire);
                let got = get(&store, "tbl", "k").unwrap();
                assert!(got >= floor, "read {got} after {floor} was acknowledged");
                reads_made.fetch_add(1, Ordering::Relaxed);
                if floor == LAST {
                    return;
                }
            })
        })
        .collect();
    let start = Instant::now();
    for v in 1..=LAST {
        put(&store, "tbl", "k", v);
        acked.store(v, Ordering::Release);
        // Reads between every two writes (fast writes could otherwise all land before the
        // readers start); a reader that failed stops reading, and its join says why.
        let before = reads_made.load(Ordering::Relaxed);
        while reads_made.load(Ordering::Relaxed) < before + 3
            && start.elapsed() < Duration::from_secs(60)
            && readers.iter().all(|r| !r.is_finished())
        {
            std::thread::yield_now();
        }
    }
    readers.into_iter().for_each(|r| r.join().unwrap());
    assert!(reads_made.load(Ordering::Relaxed) > LAST as u64);
    reads(&store, "tbl", "k", Some(LAST));
}

#[test]
fn a_read_never_goes_back_behind_a_durable_write() {
    a_read_never_goes_back_behind_an_acknowledged_write(true);
}

#[test]
fn a_read_never_goes_back_behind_a_committed_write_when_nothing_syncs() {
    a_read_never_goes_back_behind_an_acknowledged_write(false);
}

/// An operation of the model test.
#[derive(Debug, Clone)]
enum Op {
    Put(u8, i64),
    Delete(u8),
    /// Put only if the item is absent.
    PutIfAbsent(u8, i64),
    /// Add to `v` if the item exists.
    Add(u8, i64),
    /// Put the first, delete the second, atomically (a no-op when they are the same key).
    Transact(u8, i64, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..4;
    prop_oneof![
        (k.clone(), 0i64..100).prop_map(|(k, v)| Op::Put(k, v)),
        k.clone().prop_map(Op::Delete),
        (k.clone(), 0i64..100).prop_map(|(k, v)| Op::PutIfAbsent(k, v)),
        (k.clone(), 1i64..5).prop_map(|(k, v)| Op::Add(k, v)),
        (k.clone(), 0i64..100, k).prop_map(|(a, v, b)| Op::Transact(a, v, b)),
    ]
}

fn apply(store: &Store, op: &Op) {
    let name = |k: u8| format!("k{k}");
    match op {
        Op::Put(k, v) => put(store, "tbl", &name(*k), *v),
        Op::Delete(k) => {
            store
                .delete_item("tbl", &key(&name(*k)), |_| Ok(()))
                .unwrap();
        }
        Op::PutIfAbsent(k, v) => {
            let _ = store.put_item("tbl", row(&name(*k), *v), |old| match old {
                Some(_) => Err(StoreError::ConditionalCheckFailed { item: None }),
                None => Ok(()),
            });
        }
        Op::Add(k, d) => {
            let d = *d;
            store
                .write_item("tbl", &key(&name(*k)), move |_, old| {
                    Ok(match old {
                        None => Mutation::Keep,
                        Some(i) => {
                            let AttributeValue::N(x) = &i["v"] else {
                                unreachable!()
                            };
                            let x: i64 = x.to_string().parse().unwrap();
                            Mutation::Put(row(&name(*k), x + d))
                        }
                    })
                })
                .unwrap();
        }
        Op::Transact(a, v, b) if a != b => {
            store
                .transact_items(vec![
                    put_action("tbl", row(&name(*a), *v)),
                    delete_action("tbl", key(&name(*b))),
                ])
                .unwrap();
        }
        Op::Transact(..) => {}
    }
}

fn model_apply(model: &mut [Option<i64>; 4], op: &Op) {
    match *op {
        Op::Put(k, v) => model[k as usize] = Some(v),
        Op::Delete(k) => model[k as usize] = None,
        Op::PutIfAbsent(k, v) => {
            model[k as usize].get_or_insert(v);
        }
        Op::Add(k, d) => {
            if let Some(x) = &mut model[k as usize] {
                *x += d;
            }
        }
        Op::Transact(a, v, b) if a != b => {
            model[a as usize] = Some(v);
            model[b as usize] = None;
        }
        Op::Transact(..) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn reads_agree_with_a_model_cache_on_or_off(
        ops in proptest::collection::vec(op(), 1..60),
        synced in any::<bool>(),
    ) {
        let (on_dir, off_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let on = open_with(on_dir.path(), synced, 1 << 20);
        let off = open_with(off_dir.path(), synced, 0);
        for store in [&on, &off] {
            store.create_table(spec("tbl", None)).unwrap();
        }
        let mut model = [None; 4];
        for op in &ops {
            apply(&on, op);
            apply(&off, op);
            model_apply(&mut model, op);
            for k in 0..4u8 {
                let name = format!("k{k}");
                let (a, b) = (get(&on, "tbl", &name), get(&off, "tbl", &name));
                prop_assert_eq!(a, b, "cache on and off differ on {} after {:?}", name, op);
                prop_assert_eq!(a, model[k as usize], "{} after {:?}", name, op);
            }
        }
        prop_assert_eq!(off.db.rows.len(), 0);
    }
}
