//! Faults injected through the store's failpoints (the `fail` crate; the store's own tests are
//! built with its `failpoints` feature): a journal sync held open, an fsync that fails, a disk
//! that looks full.
//!
//! - While a sync is held open, a committed write is invisible to every read (GetItem,
//!   TransactGetItems, Query, Scan, an index, the stream, a whole-table read as exports do),
//!   and becomes visible once the sync completes; a condition that failed on it is not
//!   answered before it is durable either. An item the row cache holds is replaced when
//!   the write over it is durable, not before, and never shown again after.
//! - An fsync that fails is final: the write gets an error, the store reports itself failed,
//!   refuses every later write without syncing again, and reads still work.
//! - Below the free-space reserve, writes are refused with `DiskFull` and change nothing,
//!   reads go on, and writes resume by themselves once space returns.
//!
//! Failpoints are process-wide: each test holds a `FailScenario` (one at a time), and this
//! file is its own test binary, apart from the store's other tests.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fail::FailScenario;
use tarn_store::expr::KeyCondition;
use tarn_store::schema::{
    BillingMode, IndexKind, IndexProjection, IndexRead, IndexSpec, KeyAttribute, KeySchema,
    ScalarType, StreamViewType, TableSpec,
};
use tarn_store::{
    AttributeValue, Health, Item, Mutation, PageRequest, Store, StoreError, StoreOptions,
    TransactAction,
};

const HOLD: &str = "tarn_store::commit::before_sync";
const FSYNC: &str = "tarn_store::commit::fsync";
const FREE: &str = "tarn_store::space::free_bytes";

fn attr(name: &str) -> KeyAttribute {
    KeyAttribute {
        name: name.into(),
        attr_type: ScalarType::S,
    }
}

/// Table `tbl`: key `pk` (S), a stream of new images, a global index on `g`.
fn spec() -> TableSpec {
    TableSpec {
        name: "tbl".into(),
        attribute_definitions: vec![attr("pk"), attr("g")],
        key_schema: KeySchema {
            hash: attr("pk"),
            range: None,
            hash_rest: Vec::new(),
            range_rest: Vec::new(),
        },
        billing_mode: BillingMode::PayPerRequest,
        throughput: None,
        tags: BTreeMap::new(),
        deletion_protection: false,
        table_class: None,
        stream: Some(StreamViewType::NewImage),
        indexes: vec![IndexSpec {
            name: "by-g".into(),
            kind: IndexKind::Global,
            key_schema: KeySchema {
                hash: attr("g"),
                range: None,
                hash_rest: Vec::new(),
                range_rest: Vec::new(),
            },
            projection: IndexProjection::All,
            throughput: None,
        }],
    }
}

fn item(pk: &str, v: &str) -> Item {
    Item::from([
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("g".to_string(), AttributeValue::S("group".into())),
        ("v".to_string(), AttributeValue::S(v.into())),
    ])
}

fn key(pk: &str) -> Item {
    Item::from([("pk".to_string(), AttributeValue::S(pk.into()))])
}

/// A durable store with table `tbl`, and the id of its stream.
fn open(dir: &std::path::Path) -> (Store, uuid::Uuid) {
    let store = Store::open_with(
        dir,
        StoreOptions {
            min_free_space: 16 << 20,
            ..Default::default()
        },
    )
    .unwrap();
    let meta = store.create_table(spec()).unwrap();
    let stream = meta.streams[0].id;
    (store, stream)
}

/// Every place a reader can find item `pk`: (GetItem, TransactGetItems, Query, Scan, the
/// index, the stream, a whole-table read).
fn sightings(store: &Store, stream: uuid::Uuid, pk: &str) -> [bool; 7] {
    let all = PageRequest::default();
    let has = |items: &[Item]| {
        items
            .iter()
            .any(|i| i["pk"] == AttributeValue::S(pk.into()))
    };
    let get = store.get_item("tbl", &key(pk)).unwrap().is_some();
    let transact = store.get_items(&[("tbl".into(), key(pk))]).unwrap()[0].is_some();
    let query = store
        .query(
            "tbl",
            &AttributeValue::S(pk.into()),
            None,
            true,
            &all,
            |_| Ok(true),
        )
        .unwrap();
    let scan = store.scan("tbl", None, &all, |_| Ok(true)).unwrap();
    let index = store
        .query_index(
            "tbl",
            IndexRead {
                name: "by-g",
                fetch_table_items: false,
            },
            &KeyCondition::single(AttributeValue::S("group".into()), None),
            true,
            &all,
            |_| Ok(true),
        )
        .unwrap();
    let records = store.read_stream("tbl", stream, 0, 1000, 1 << 20).unwrap();
    let in_stream = records
        .records
        .iter()
        .any(|r| r.keys["pk"] == AttributeValue::S(pk.into()));
    let mut whole = Vec::new();
    store
        .read_table("tbl", None, &mut |i| {
            whole.push(i);
            Ok(())
        })
        .unwrap();
    [
        get,
        transact,
        has(&query.items),
        has(&scan.items),
        has(&index.items),
        in_stream,
        has(&whole),
    ]
}

#[test]
fn a_write_is_invisible_until_its_sync_completes() {
    let scenario = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let (store, stream) = open(dir.path());
    store
        .put_item("tbl", item("before", "1"), |_| Ok(()))
        .unwrap();
    assert_eq!(sightings(&store, stream, "before"), [true; 7]);

    // Hold every sync open, then write without waiting (as a request handler does).
    fail::cfg(HOLD, "pause").unwrap();
    let (put, durable) = store.defer_syncs(|| store.put_item("tbl", item("held", "2"), |_| Ok(())));
    put.unwrap();
    assert!(!durable.is_ready(), "nothing synced the write yet");
    assert_eq!(
        sightings(&store, stream, "held"),
        [false; 7],
        "a read saw a write whose sync has not completed"
    );
    // A write sees it (a condition is decided on the latest data) ...
    let (refused, refusal_durable) = store.defer_syncs(|| {
        store.put_item("tbl", item("held", "3"), |old| match old {
            Some(_) => Err(StoreError::ConditionalCheckFailed { item: None }),
            None => Ok(()),
        })
    });
    assert!(matches!(
        refused,
        Err(StoreError::ConditionalCheckFailed { .. })
    ));
    // ... but its refusal, which tells the item exists, waits for the same sync.
    assert!(!refusal_durable.is_ready());
    assert_eq!(sightings(&store, stream, "held"), [false; 7]);

    // Let the sync complete: the write is durable and every read sees it.
    fail::remove(HOLD);
    durable.wait().unwrap();
    refusal_durable.wait().unwrap();
    assert_eq!(sightings(&store, stream, "held"), [true; 7]);
    drop(store);
    scenario.teardown();
}

/// The attribute `v` of item `k`, as GetItem reads it.
fn cached_v(store: &Store) -> Option<AttributeValue> {
    store
        .get_item("tbl", &key("k"))
        .unwrap()
        .map(|i| i["v"].clone())
}

/// Runs `write` with its sync held open: until the sync completes, every read of `k` shows
/// `before` (and offers it to the row cache again); once it has, every read shows `after`.
fn held_write(
    store: &Store,
    write: impl FnOnce() -> tarn_store::Result<Option<Item>>,
    before: Option<AttributeValue>,
    after: Option<AttributeValue>,
    what: &str,
) {
    fail::cfg(HOLD, "pause").unwrap();
    let (written, durable) = store.defer_syncs(write);
    written.unwrap();
    for _ in 0..3 {
        assert_eq!(
            cached_v(store),
            before,
            "a read saw {what} before it was durable"
        );
    }
    fail::remove(HOLD);
    durable.wait().unwrap();
    for _ in 0..3 {
        assert_eq!(
            cached_v(store),
            after,
            "after {what} was durable, a read showed the item before it"
        );
    }
}

#[test]
fn a_cached_item_changes_when_its_write_is_durable_not_before() {
    let scenario = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(dir.path());
    let s = |v: &str| Some(AttributeValue::S(v.into()));
    store.put_item("tbl", item("k", "0"), |_| Ok(())).unwrap();
    // The second read fills the row cache (the first is only remembered), the next ones are
    // served from it.
    for _ in 0..3 {
        assert_eq!(cached_v(&store), s("0"));
    }
    held_write(
        &store,
        || store.put_item("tbl", item("k", "1"), |_| Ok(())),
        s("0"),
        s("1"),
        "a put",
    );
    held_write(
        &store,
        || store.delete_item("tbl", &key("k"), |_| Ok(())),
        s("1"),
        None,
        "a delete",
    );
    drop(store);
    scenario.teardown();
}

#[test]
fn a_store_that_does_not_sync_shows_writes_at_once() {
    let scenario = FailScenario::setup();
    fail::cfg(HOLD, "pause").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(
        dir.path(),
        StoreOptions {
            sync_writes: false,
            min_free_space: 16 << 20,
            ..Default::default()
        },
    )
    .unwrap();
    let meta = store.create_table(spec()).unwrap();
    let (put, durable) = store.defer_syncs(|| store.put_item("tbl", item("a", "1"), |_| Ok(())));
    put.unwrap();
    assert!(durable.is_ready());
    assert_eq!(sightings(&store, meta.streams[0].id, "a"), [true; 7]);
    fail::remove(HOLD);
    drop(store);
    scenario.teardown();
}

#[test]
fn a_failed_fsync_is_final_and_reads_go_on() {
    let scenario = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let (store, stream) = open(dir.path());
    store
        .put_item("tbl", item("kept", "1"), |_| Ok(()))
        .unwrap();
    assert_eq!(store.health(), Health::Healthy);

    // The next sync fails with EIO; any later one would succeed, if it were tried.
    fail::cfg(FSYNC, "1*return->off").unwrap();
    let e = store
        .put_item("tbl", item("lost", "2"), |_| Ok(()))
        .unwrap_err();
    assert!(matches!(e, StoreError::Failed(_)), "{e}");
    let Health::Failed { reason } = store.health() else {
        panic!(
            "the store should report itself failed: {:?}",
            store.health()
        )
    };
    assert!(reason.contains("syncing the journal failed"), "{reason}");
    assert!(reason.contains("os error 5"), "{reason}");

    // Never retried: every later write is refused at once, item writes, transactions,
    // table changes and tarn's own records alike, though a sync would now succeed.
    for attempt in [
        store
            .put_item("tbl", item("later", "3"), |_| Ok(()))
            .map(|_| ()),
        store
            .delete_item("tbl", &key("kept"), |_| Ok(()))
            .map(|_| ()),
        store
            .write_items(vec![TransactAction {
                table: "tbl".into(),
                key: key("later"),
                decide: Box::new(|_, _| Ok(Mutation::Put(item("later", "4")))),
            }])
            .map(|_| ()),
        store.put_state("checkpoint", b"1"),
        store
            .create_table(TableSpec {
                name: "other".into(),
                ..spec()
            })
            .map(|_| ()),
    ] {
        assert!(matches!(attempt, Err(StoreError::Failed(_))), "{attempt:?}");
    }
    let (refused, durable) =
        store.defer_syncs(|| store.put_item("tbl", item("later", "5"), |_| Ok(())));
    assert!(matches!(refused, Err(StoreError::Failed(_))));
    assert!(durable.is_ready(), "a refused write waits for nothing");

    // Reads go on, and show what was durable.
    assert_eq!(sightings(&store, stream, "kept"), [true; 7]);
    assert_eq!(sightings(&store, stream, "later"), [false; 7]);
    drop(store);

    // Reopened, the store takes writes again and has lost nothing acknowledged.
    fail::remove(FSYNC);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.health(), Health::Healthy);
    assert!(store.get_item("tbl", &key("kept")).unwrap().is_some());
    store
        .put_item("tbl", item("after", "6"), |_| Ok(()))
        .unwrap();
    assert!(store.get_item("tbl", &key("after")).unwrap().is_some());
    drop(store);
    scenario.teardown();
}

/// Waits (up to 5 s) for the store's health to turn `want`.
fn health_turns(store: &Store, want: impl Fn(&Health) -> bool) -> Health {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let h = store.health();
        if want(&h) || Instant::now() > deadline {
            return h;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn below_the_reserve_writes_are_refused_until_space_returns() {
    let scenario = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let (store, stream) = open(dir.path());
    store
        .put_item("tbl", item("kept", "1"), |_| Ok(()))
        .unwrap();

    // 1 MiB free, below the 16 MiB reserve: the watcher notices on its own.
    fail::cfg(FREE, "return(1048576)").unwrap();
    let h = health_turns(&store, |h| !h.is_healthy());
    assert_eq!(
        h,
        Health::DiskFull {
            free_bytes: 1 << 20,
            reserve_bytes: 16 << 20
        }
    );
    let e = store
        .put_item("tbl", item("refused", "2"), |_| Ok(()))
        .unwrap_err();
    assert!(matches!(e, StoreError::DiskFull { .. }), "{e}");
    assert!(e.to_string().contains("1.0 MiB free"), "{e}");
    assert!(e.to_string().contains("reads still work"), "{e}");
    assert!(matches!(
        store.write_items(vec![TransactAction {
            table: "tbl".into(),
            key: key("refused"),
            decide: Box::new(|_, _| Ok(Mutation::Put(item("refused", "3")))),
        }]),
        Err(StoreError::DiskFull { .. })
    ));
    assert!(matches!(
        store.put_state("checkpoint", b"1"),
        Err(StoreError::DiskFull { .. })
    ));
    // Reads go on; the refused writes changed nothing.
    assert_eq!(sightings(&store, stream, "kept"), [true; 7]);
    assert_eq!(sightings(&store, stream, "refused"), [false; 7]);

    // Space returns: writes resume without a reopen.
    fail::remove(FREE);
    let h = health_turns(&store, Health::is_healthy);
    assert_eq!(h, Health::Healthy);
    store
        .put_item("tbl", item("resumed", "4"), |_| Ok(()))
        .unwrap();
    assert_eq!(sightings(&store, stream, "resumed"), [true; 7]);

    // A look on demand sees a full disk at once.
    fail::cfg(FREE, "return(0)").unwrap();
    store.check_free_space();
    assert!(matches!(
        store.put_item("tbl", item("refused", "5"), |_| Ok(())),
        Err(StoreError::DiskFull { free_bytes: 0, .. })
    ));
    fail::remove(FREE);
    store.check_free_space();
    store
        .put_item("tbl", item("resumed2", "6"), |_| Ok(()))
        .unwrap();
    drop(store);
    scenario.teardown();
}
