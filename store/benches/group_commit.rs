//! Group commit, measured: durable PutItem throughput with one writer versus many.
//!
//! Every put is acknowledged only after the journal is synced. With one writer that is one sync
//! per put; with many, each sync covers every put committed before it started. The ratio of the
//! two throughputs, measured in the same run, is what group commit buys on this disk.
//!
//! Run: `cargo bench -p tarn-store --bench group_commit`
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tarn_store::{AttributeValue, Item, Store};

fn table(store: &Store) {
    store.create_table(common::table_spec("bench")).unwrap();
}

fn item(writer: usize, i: u64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::S(format!("w{writer}-{i}")));
    item.insert("payload".into(), AttributeValue::S("x".repeat(1000)));
    item
}

/// Runs `writers` threads putting `per_writer` items each; returns the elapsed time.
fn run(store: &Arc<Store>, writers: usize, per_writer: u64, round: u64) -> Duration {
    let start = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..per_writer {
                    store
                        .put_item("bench", item(w, round * per_writer + i), |_| Ok(()))
                        .unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    start.elapsed()
}

fn group_commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    table(&store);
    let mut group = c.benchmark_group("durable_puts");
    group.sample_size(10);
    const PUTS: u64 = 256;
    group.throughput(Throughput::Elements(PUTS));
    for writers in [1usize, 4, 16, 64] {
        group.bench_function(format!("{writers}_writers"), |b| {
            let mut round = 0;
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    total += run(
                        &store,
                        writers,
                        PUTS / writers as u64,
                        round * 1000 + writers as u64,
                    );
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, group_commit);
criterion_main!(benches);
