//! The TTL sweeper, measured: it reads the expiry index, so its time follows the number of
//! expired items, not the size of the table.
//!
//! Three tables in one run, each item carrying an expiry (live ones in the future): 100k expired
//! among 100k live, 100k expired among 1M live, and 10k expired among 1M live. For each, the
//! time of one sweep that deletes every expired item, and, for comparison, the time of one full
//! Scan of the table (what a sweeper without an index would pay at least). Same sweep time for
//! the first two and a tenth of it for the third is what "proportional to the expired count"
//! looks like.
//!
//! Run: `cargo bench -p tarn-store --bench ttl_sweep` (add `-- --quick` for tables ten times
//! smaller).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tarn_store::ttl::TtlChange;
use tarn_store::{AttributeValue, Item, Number, PageRequest, Store};

/// The "now" of the sweep, in epoch seconds.
const NOW: i64 = 2_000_000_000;
const LOADERS: u64 = 2;

fn item(i: u64, expires: i64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::S(format!("item-{i:08}")));
    item.insert(
        "expires".into(),
        AttributeValue::N(Number::from_i64(expires)),
    );
    item.insert("payload".into(), AttributeValue::S("x".repeat(64)));
    item
}

/// A store with `live` items expiring in the future and `expired` ones already expired,
/// interleaved in key order.
fn load(live: u64, expired: u64) -> (tempfile::TempDir, Arc<Store>) {
    let (dir, store) = common::unsynced_store();
    store.create_table(common::table_spec("ttl")).unwrap();
    store
        .update_time_to_live("ttl", TtlChange::Enable("expires".into()))
        .unwrap();
    store.backfill_ttl().unwrap();
    let total = live + expired;
    let every = total / expired.max(1);
    let threads: Vec<_> = (0..LOADERS)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in (t..total).step_by(LOADERS as usize) {
                    let expires = if i % every == 0 {
                        NOW - 60
                    } else {
                        NOW + 86_400
                    };
                    store.put_item("ttl", item(i, expires), |_| Ok(())).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    (dir, store)
}

fn full_scan(store: &Store) -> (Duration, usize) {
    let start = Instant::now();
    let mut page = PageRequest::default();
    let mut seen = 0;
    loop {
        let p = store.scan("ttl", None, &page, |_| Ok(false)).unwrap();
        seen += p.scanned_count;
        match p.last_evaluated_key {
            Some(k) => page.exclusive_start_key = Some(k),
            None => return (start.elapsed(), seen),
        }
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let cases = [
        (100_000 / scale, 100_000 / scale),
        (1_000_000 / scale, 100_000 / scale),
        (1_000_000 / scale, 10_000 / scale),
    ];
    println!(
        "{:>10} {:>10} {:>12} {:>16} {:>14}",
        "live", "expired", "sweep (ms)", "µs per expired", "full scan (ms)"
    );
    let mut sweeps = Vec::new();
    for (live, expired) in cases {
        let (_dir, store) = load(live, expired);
        let (scan_time, scanned) = full_scan(&store);
        assert_eq!(scanned as u64, live + expired);
        let start = Instant::now();
        let deleted = store.sweep_expired(NOW as u64, usize::MAX).unwrap();
        let sweep = start.elapsed();
        assert_eq!(deleted as u64, expired, "every expired item deleted");
        assert_eq!(store.sweep_expired(NOW as u64, usize::MAX).unwrap(), 0);
        println!(
            "{live:>10} {expired:>10} {:>12.1} {:>16.2} {:>14.1}",
            sweep.as_secs_f64() * 1e3,
            sweep.as_secs_f64() * 1e6 / expired as f64,
            scan_time.as_secs_f64() * 1e3,
        );
        sweeps.push(sweep.as_secs_f64());
    }
    println!(
        "\nsweep time, 1M live vs 100k live (same expired count): {:.2}x (table 10x larger)",
        sweeps[1] / sweeps[0]
    );
    println!(
        "sweep time, 100k expired vs 10k expired (same table): {:.2}x (expired count 10x)",
        sweeps[1] / sweeps[2]
    );
}
