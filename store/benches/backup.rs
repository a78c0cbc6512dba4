//! Backup and restore of a 1 GB table, measured in MB/s of item data.
//!
//! One table of 4 KB items (1 GiB of item data by DynamoDB's size rules; `-- --quick` for
//! 128 MiB), then, in the same run:
//! - the baselines: a full Scan of the table (the store's own read rate) and a plain copy of a
//!   file as large as the backup, synced (the disk's rate);
//! - CreateBackup until AVAILABLE (a consistent snapshot, written, checksummed, synced);
//! - RestoreTableFromBackup until the table is ACTIVE (verify the checksum, load, sync);
//! - a point-in-time restore to the latest time (the base snapshot plus the change log).
//!
//! Each figure is reported as MB/s and as a ratio to the Scan baseline of the same run.
//!
//! Run: `cargo bench -p tarn-store --bench backup` (add `-- --quick` for a smaller table).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use tarn_store::backup::{
    BackupStatus, PointInTime, RestoreOverrides, RestoreRequest, RestoreSource,
};
use tarn_store::{AttributeValue, Item, PageRequest, Store};

const ITEM_BYTES: usize = 4096;
const LOADERS: u64 = 2;

fn item(i: u64) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), AttributeValue::S(format!("item-{i:010}")));
    // Not compressible to nothing: a counter mixed into the payload.
    let payload: String = (0..ITEM_BYTES - 40)
        .map(|j| (b'a' + ((i as usize * 31 + j * 7) % 26) as u8) as char)
        .collect();
    item.insert("payload".into(), AttributeValue::S(payload));
    item
}

fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(3600),
            "{what} never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn restored(store: &Store, name: &str) -> bool {
    store
        .describe_table(name)
        .is_ok_and(|i| i.meta.restore.is_some_and(|r| !r.in_progress))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let total_bytes: u64 = if quick { 128 << 20 } else { 1 << 30 };
    let items = total_bytes / ITEM_BYTES as u64;
    let (dir, store) = common::unsynced_store();
    store.create_table(common::table_spec("big")).unwrap();
    store.update_pitr("big", true, 35).unwrap();
    let start = Instant::now();
    let threads: Vec<_> = (0..LOADERS)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in (t..items).step_by(LOADERS as usize) {
                    store.put_item("big", item(i), |_| Ok(())).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mb = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    println!(
        "loaded {items} items of {ITEM_BYTES} B ({:.0} MiB) in {:.1} s",
        mb(items * ITEM_BYTES as u64),
        start.elapsed().as_secs_f64()
    );

    // Baseline 1: the store's own read rate, a full Scan.
    let start = Instant::now();
    let mut page = PageRequest::default();
    let (mut scanned, mut scanned_bytes) = (0, 0);
    loop {
        let p = store.scan("big", None, &page, |_| Ok(false)).unwrap();
        scanned += p.scanned_count;
        scanned_bytes += p.scanned_bytes as u64;
        match p.last_evaluated_key {
            Some(k) => page.exclusive_start_key = Some(k),
            None => break,
        }
    }
    let scan = start.elapsed().as_secs_f64();
    assert_eq!(scanned as u64, items);
    let data = mb(scanned_bytes);

    // CreateBackup until AVAILABLE.
    let start = Instant::now();
    let b = store.create_backup("big", "bench").unwrap();
    let mut backup = None;
    wait("backup", || {
        let d = store.describe_backup(&b.id).unwrap();
        let done = d.status != BackupStatus::Creating;
        backup = Some(d);
        done
    });
    let backup_time = start.elapsed().as_secs_f64();
    let backup = backup.unwrap();
    assert_eq!(backup.status, BackupStatus::Available);
    assert_eq!(backup.item_count, items);

    // Baseline 2: the disk, copying a file as large as the backup and syncing it.
    let copy = dir.path().join("copy.bin");
    let start = Instant::now();
    std::fs::copy(store.backup_file(&b.id), &copy).unwrap();
    std::fs::File::open(&copy).unwrap().sync_all().unwrap();
    let copy_time = start.elapsed().as_secs_f64();
    std::fs::remove_file(&copy).unwrap();

    // RestoreTableFromBackup until ACTIVE.
    let start = Instant::now();
    store
        .restore_table(RestoreRequest {
            target: "from-backup".into(),
            source: RestoreSource::Backup(b.id.clone()),
            overrides: RestoreOverrides::default(),
        })
        .unwrap();
    wait("restore", || restored(&store, "from-backup"));
    let restore_time = start.elapsed().as_secs_f64();

    // Point-in-time restore to the latest time (base snapshot + every logged change).
    wait("first base", || {
        store.pitr_status("big").unwrap().earliest.is_some()
    });
    let start = Instant::now();
    store
        .restore_table(RestoreRequest {
            target: "from-pitr".into(),
            source: RestoreSource::PointInTime {
                table: "big".into(),
                at: PointInTime::Latest,
            },
            overrides: RestoreOverrides::default(),
        })
        .unwrap();
    wait("pitr restore", || restored(&store, "from-pitr"));
    let pitr_time = start.elapsed().as_secs_f64();

    println!(
        "{:<34} {:>9} {:>9} {:>12}",
        "", "seconds", "MB/s", "÷ full Scan"
    );
    let scan_rate = data / scan;
    for (what, secs) in [
        ("full Scan (baseline)", scan),
        ("file copy + sync (disk baseline)", copy_time),
        ("CreateBackup -> AVAILABLE", backup_time),
        ("RestoreTableFromBackup -> ACTIVE", restore_time),
        ("PITR restore, latest -> ACTIVE", pitr_time),
    ] {
        println!(
            "{what:<34} {secs:>9.2} {:>9.1} {:>11.2}x",
            data / secs,
            data / secs / scan_rate
        );
    }
    println!(
        "backup file: {:.0} MiB for {:.0} MiB of item data",
        mb(backup.file_bytes),
        data
    );
}
