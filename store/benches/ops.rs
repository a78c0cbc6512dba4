//! The store's own operations per second, without HTTP or JSON: the limit the DynamoDB API
//! can approach (`bench/compare.sh` puts these figures next to the HTTP ones).
//!
//! - `get_hit`: GetItem of a random one of 10,000 seeded 1 KB items, one thread;
//! - `get_hit_after_writes`: the same after 150,000 more distinct 1 KB items were put (the
//!   seeded items flushed out of the memtable into table files: the read a server makes after
//!   a burst of writes);
//! - `get_hit_reopened`, `get_hit_durable`: the same after a reopen, on a store that does not
//!   sync (the latest data) and on one that does (the durable view);
//! - `get_hit_no_row_cache`, `put_no_sync_no_row_cache`, `get_hit_after_writes_no_row_cache`:
//!   `get_hit`, `put_no_sync` and `get_hit_after_writes` on a store whose row cache is off
//!   (`row_cache_bytes: 0`; the cases above have the default row cache);
//! - `put_no_sync`: PutItem of distinct 1 KB items, journal not synced (`sync_writes: false`);
//! - `put_durable_1_writer`: the same, synced before each put returns (one fsync per put);
//! - `put_durable_16_writers`: 16 threads putting at once, sharing syncs (group commit), as
//!   16 HTTP connections do.
//!
//! Run: `cargo bench -p tarn-store --bench ops` (criterion writes `target/criterion/store_ops`).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use tarn_store::{AttributeValue, Item, Store, StoreOptions};

const TABLE: &str = "bench";
const SEEDED: u64 = 10_000;
/// Items put before `get_hit_after_writes` (about 150 MB).
const AFTER_WRITES: u64 = 150_000;
const WRITERS: u64 = 16;
const PUTS_PER_WRITER: u64 = 16;

fn open(dir: &std::path::Path, sync_writes: bool) -> Arc<Store> {
    open_with(
        dir,
        StoreOptions {
            sync_writes,
            ..Default::default()
        },
    )
}

fn open_with(dir: &std::path::Path, options: StoreOptions) -> Arc<Store> {
    let store = Store::open_with(dir, options).unwrap();
    store.create_table(common::table_spec(TABLE)).unwrap();
    Arc::new(store)
}

/// 4 KB of hex digits that 1 KB payloads are sliced from, so items differ from key to key and
/// do not compress to nothing, without spending the measured time on generating them.
fn random_buffer() -> String {
    let mut out = String::with_capacity(4096);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while out.len() < 4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!("{x:016x}"));
    }
    out
}

/// A 1 KB item: key `key`, payload the `n`th slice of `buffer`.
fn item(buffer: &str, key: String, n: u64) -> Item {
    let start = (n as usize * 7919) % (buffer.len() - 1000);
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::S(key));
    item.insert(
        "payload".into(),
        AttributeValue::S(buffer[start..start + 1000].to_string()),
    );
    item
}

fn key(k: String) -> Item {
    let mut key = Item::new();
    key.insert("pk".into(), AttributeValue::S(k));
    key
}

/// Benchmarks `name`: GetItem of a random one of the seeded items of `store`.
fn get_seeded(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, store: &Store) {
    let mut n = 0u64;
    group.bench_function(name, |b| {
        b.iter(|| {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let got = store
                .get_item(TABLE, &key(format!("item-{}", (n >> 33) % SEEDED)))
                .unwrap();
            assert!(got.is_some());
        })
    });
}

/// `get_hit{suffix}`, `put_no_sync{suffix}` and `get_hit_after_writes{suffix}` on a store
/// opened in `dir` with `options`, which is closed after.
fn seeded_reads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    suffix: &str,
    dir: &std::path::Path,
    options: StoreOptions,
    buffer: &str,
) {
    let store = open_with(dir, options);
    for i in 0..SEEDED {
        store
            .put_item(TABLE, item(buffer, format!("item-{i}"), i), |_| Ok(()))
            .unwrap();
    }
    group.throughput(Throughput::Elements(1));
    get_seeded(group, &format!("get_hit{suffix}"), &store);

    let mut next = SEEDED;
    group.bench_function(format!("put_no_sync{suffix}"), |b| {
        b.iter(|| {
            next += 1;
            store
                .put_item(TABLE, item(buffer, format!("p-{next}"), next), |_| Ok(()))
                .unwrap();
        })
    });

    // A burst of writes, then the same reads: the seeded items are now in table files behind
    // a memtable full of other items. Given a moment for fjall's flushes and compactions.
    for _ in 0..AFTER_WRITES {
        next += 1;
        store
            .put_item(TABLE, item(buffer, format!("p-{next}"), next), |_| Ok(()))
            .unwrap();
    }
    std::thread::sleep(Duration::from_secs(2));
    get_seeded(group, &format!("get_hit_after_writes{suffix}"), &store);
}

fn store_ops(c: &mut Criterion) {
    let mut group = c.benchmark_group("store_ops");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let buffer: Arc<str> = random_buffer().into();

    // Reads: seeded without syncs, then read back; writes; the reads again. With the row
    // cache off first, then with the default one (whose store the reopen cases use next).
    let off = tempfile::tempdir().unwrap();
    seeded_reads(
        &mut group,
        "_no_row_cache",
        off.path(),
        StoreOptions {
            sync_writes: false,
            row_cache_bytes: 0,
            ..Default::default()
        },
        &buffer,
    );
    drop(off);
    let dir = tempfile::tempdir().unwrap();
    seeded_reads(
        &mut group,
        "",
        dir.path(),
        StoreOptions {
            sync_writes: false,
            ..Default::default()
        },
        &buffer,
    );

    // The same reads after a reopen (the seeded items now where a reopen puts them), on a
    // store that does not sync (reads the latest data), then on one that does (reads the
    // durable view): the pair is the cost of durable-only reads.
    let store = Arc::new(
        Store::open_with(
            dir.path(),
            StoreOptions {
                sync_writes: false,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    get_seeded(&mut group, "get_hit_reopened", &store);
    drop(store);
    let store = Arc::new(
        Store::open_with(
            dir.path(),
            StoreOptions {
                sync_writes: true,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    group.throughput(Throughput::Elements(1));
    get_seeded(&mut group, "get_hit_durable", &store);
    drop(store);

    // Durable writes: one writer (an fsync per put), then 16 sharing syncs.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), true);
    let mut next = 0u64;
    group.bench_function("put_durable_1_writer", |b| {
        b.iter(|| {
            next += 1;
            store
                .put_item(TABLE, item(&buffer, format!("d-{next}"), next), |_| Ok(()))
                .unwrap();
        })
    });

    group.throughput(Throughput::Elements(WRITERS * PUTS_PER_WRITER));
    let counter = Arc::new(AtomicU64::new(0));
    group.bench_function(format!("put_durable_{WRITERS}_writers"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let threads: Vec<_> = (0..WRITERS)
                    .map(|_| {
                        let store = store.clone();
                        let counter = counter.clone();
                        let buffer = buffer.clone();
                        std::thread::spawn(move || {
                            for _ in 0..PUTS_PER_WRITER {
                                let n = counter.fetch_add(1, Ordering::Relaxed);
                                store
                                    .put_item(TABLE, item(&buffer, format!("w-{n}"), n), |_| Ok(()))
                                    .unwrap();
                            }
                        })
                    })
                    .collect();
                threads.into_iter().for_each(|t| t.join().unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, store_ops);
criterion_main!(benches);
