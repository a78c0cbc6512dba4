//! GetItem's answer writer against serde's: one item of the shape `tarn-loadgen` reads (a
//! string key `pk` and a 1 KB string `payload`), written by
//! [`tarn_wire::json_out::write_item`] and by `serde_json::to_writer(&ItemJson(item))`, into a
//! buffer sized for it.
//!
//! `cargo bench -p tarn-wire --bench json_out`

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tarn_store::{AttributeValue, Item};
use tarn_wire::ItemJson;

fn item() -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::S("user#00042".into()));
    let payload: String = (0..1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    item.insert("payload".into(), AttributeValue::S(payload));
    item
}

fn bench(c: &mut Criterion) {
    let item = item();
    let mut group = c.benchmark_group("get_item_answer_1kb");
    group.bench_function("json_out", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(1200);
            tarn_wire::json_out::write_item(&mut out, black_box(&item));
            out
        })
    });
    group.bench_function("serde_item_json", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(1200);
            serde_json::to_writer(&mut out, &ItemJson(black_box(&item))).unwrap();
            out
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
