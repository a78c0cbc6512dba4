//! Point-in-time recovery: a table's change log plus occasional base snapshots.
//!
//! While PITR is on, every change to the table's items also writes a log record (the item's
//! storage key and its new state, or a tombstone) into the keyspace `p-<table id>`, in the
//! change's own batch, keyed by the store's sequence number (the write path does it: see
//! `db::changelog`). Numbers follow the commit order and are never below the commit time in
//! microseconds, so a record's number is also its time.
//!
//! A base snapshot ([`super::file`]) is the table at one instant plus the log position it
//! includes. Enabling PITR takes the first one while no write is in flight; the server's upkeep
//! ([`crate::Store::pitr_upkeep`]) takes a new one once the log since the last base has grown past the
//! base's own size, so storage grows with the changes, not with a full copy per day. Restoring
//! to time `t` reads the newest base taken at or before `t` and applies the log records after
//! its position up to `t`. Upkeep drops bases and log records no restore in the recovery window
//! can need. A deleted table's history is kept for the recovery period, so it can be restored
//! (the catalog keeps its definition: `db::catalog`).
//!
//! Bases live in `<data dir>/pitr/<table id>/<position>-<time>.tbk`; they are written on the
//! store's background runner.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fjall::{Keyspace, Readable};
use parking_lot::Mutex;
use uuid::Uuid;

use super::file::{self, SnapshotHeader, SnapshotReader};
use crate::clock::now_micros;
use crate::db::changelog::{self, decode_log_record, seq_of};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::runner::Runner;
use crate::schema::TableMeta;
use crate::value::Item;

pub use crate::schema::backup::{PitrMeta, MAX_RECOVERY_DAYS};

const PITR_DIR: &str = "pitr";
/// A new base is not worth taking for less log than this.
const MIN_LOG_FOR_BASE: u64 = 1 << 20;

/// What DescribeContinuousBackups reports.
#[derive(Clone, Debug, PartialEq)]
pub struct PitrStatus {
    /// PITR is on.
    pub enabled: bool,
    /// The earliest instant a restore may ask for (seconds since the epoch); `None` until the
    /// first base snapshot is written.
    pub earliest: Option<f64>,
    /// The latest instant a restore may ask for (now, or the table's deletion).
    pub latest: Option<f64>,
    /// The recovery period in days.
    pub recovery_period_days: u32,
}

/// The base snapshots being written, by table id (at most one per table at a time).
#[derive(Default)]
pub(crate) struct BaseWrites(Mutex<HashSet<Uuid>>);

/// One base snapshot file.
#[derive(Clone, Debug)]
struct Base {
    path: PathBuf,
    position: u64,
    taken_at: u64,
}

/// Everything a read of the table at one instant needs.
pub(crate) struct Plan {
    /// The table's definition (its latest, or as it was deleted).
    pub(crate) meta: TableMeta,
    base: Base,
    log: Keyspace,
    until: u64,
    /// The instant restored, seconds since the epoch.
    pub(crate) at: f64,
}

fn micros(secs: f64) -> u64 {
    (secs * 1e6).max(0.0) as u64
}

fn secs(micros: u64) -> f64 {
    micros as f64 / 1e6
}

impl Plan {
    /// The base snapshot the plan starts from.
    pub(crate) fn base_path(&self) -> &Path {
        &self.base.path
    }
}

fn pitr_dir(db: &Db, id: &Uuid) -> PathBuf {
    db.path().join(PITR_DIR).join(id.simple().to_string())
}

/// The base snapshots of table `id`, oldest first.
fn bases(db: &Db, id: &Uuid) -> Result<Vec<Base>> {
    let dir = pitr_dir(db, id);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut bases = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("tbk") {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if let Some((p, t)) = stem.split_once('-') {
            if let (Ok(position), Ok(taken_at)) = (p.parse(), t.parse()) {
                bases.push(Base {
                    path,
                    position,
                    taken_at,
                });
            }
        }
    }
    bases.sort_by_key(|b| b.taken_at);
    Ok(bases)
}

/// Turns PITR on or off for `table` (UpdateContinuousBackups). Turning it off forgets the
/// table's history. `recovery_period_days` must be 1..=35.
pub(crate) fn update_pitr(
    db: &Arc<Db>,
    runner: &Runner,
    writes: &Arc<BaseWrites>,
    table: &str,
    enabled: bool,
    recovery_period_days: u32,
) -> Result<PitrStatus> {
    if !(1..=MAX_RECOVERY_DAYS).contains(&recovery_period_days) {
        return Err(StoreError::Validation(format!(
            "RecoveryPeriodInDays must be between 1 and {MAX_RECOVERY_DAYS}"
        )));
    }
    let _ddl = db.ddl.lock();
    let t = db.table(table)?;
    let mut meta = t.meta.clone();
    match (&meta.pitr, enabled) {
        (Some(p), true) if p.recovery_period_days == recovery_period_days => {}
        (Some(_), true) => {
            meta.pitr.as_mut().expect("enabled").recovery_period_days = recovery_period_days;
            db.replace_meta(meta)?;
        }
        (None, true) => {
            meta.pitr = Some(PitrMeta {
                enabled_at: now_micros() as f64 / 1e6,
                recovery_period_days,
            });
            // Switch with no write in flight, and snapshot right then: the first base holds
            // the table as it was when logging began.
            let writers = db.writers.write();
            let meta = db.install_meta(meta)?;
            let snapshot = db.fjall.snapshot();
            let taken_at = now_micros();
            drop(writers);
            db.log_sizes.set(meta.id, 0);
            tracing::info!(table = %meta.name, "point-in-time recovery enabled");
            spawn_base(db, runner, writes, meta, snapshot, taken_at);
        }
        (Some(_), false) => {
            let id = meta.id;
            meta.pitr = None;
            db.replace_meta(meta)?;
            forget_history(db, &id)?;
            tracing::info!(%table, "point-in-time recovery disabled");
        }
        (None, false) => {}
    }
    pitr_status(db, table)
}

/// Drops a table's change log and bases.
fn forget_history(db: &Db, id: &Uuid) -> Result<()> {
    let log = changelog::open_log(&db.fjall, id)?;
    db.fjall.delete_keyspace(log)?;
    match std::fs::remove_dir_all(pitr_dir(db, id)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    db.log_sizes.forget(id);
    Ok(())
}

/// PITR status of `table` (DescribeContinuousBackups).
pub(crate) fn pitr_status(db: &Db, table: &str) -> Result<PitrStatus> {
    let t = db.table(table)?;
    let Some(p) = &t.meta.pitr else {
        return Ok(PitrStatus {
            enabled: false,
            earliest: None,
            latest: None,
            recovery_period_days: MAX_RECOVERY_DAYS,
        });
    };
    let now = now_micros();
    let earliest = earliest(db, &t.meta.id, p.recovery_period_days, now)?;
    Ok(PitrStatus {
        enabled: true,
        earliest: earliest.map(secs),
        latest: earliest.map(|_| secs(now)),
        recovery_period_days: p.recovery_period_days,
    })
}

fn earliest(db: &Db, id: &Uuid, days: u32, until: u64) -> Result<Option<u64>> {
    let window = until.saturating_sub(u64::from(days) * 86_400_000_000);
    Ok(bases(db, id)?.first().map(|b| b.taken_at.max(window)))
}

/// Writes a base snapshot from `snapshot` in the background.
fn spawn_base(
    db: &Arc<Db>,
    runner: &Runner,
    writes: &Arc<BaseWrites>,
    meta: TableMeta,
    snapshot: fjall::Snapshot,
    taken_at: u64,
) {
    if !writes.0.lock().insert(meta.id) {
        return;
    }
    let (db, writes) = (db.clone(), writes.clone());
    runner.spawn("tarn-pitr-base", move || {
        let id = meta.id;
        if let Err(e) = write_base(&db, &meta, &snapshot, taken_at) {
            tracing::error!(table = %meta.name, error = %e, "cannot write a point-in-time base snapshot");
        }
        writes.0.lock().remove(&id);
    });
}

fn write_base(db: &Db, meta: &TableMeta, snapshot: &fjall::Snapshot, taken_at: u64) -> Result<()> {
    let t = db.table(&meta.table_ref())?;
    if t.meta.id != meta.id {
        return Ok(());
    }
    let Some(log) = &t.pitr_log else {
        return Ok(());
    };
    let position = match snapshot.last_key_value(log) {
        Some(g) => seq_of(&g.key()?),
        None => 0,
    };
    let dir = pitr_dir(db, &meta.id);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{position:020}-{taken_at:020}.tbk"));
    let header = SnapshotHeader {
        table: meta.clone(),
        position,
        taken_at_micros: taken_at,
        sealed: false,
    };
    let summary = file::write_entries(
        &db.codec,
        &path,
        header,
        snapshot.iter(&t.items),
        &|_, _| {},
    )?;
    // Only the log written after this base counts toward the next one.
    let since: u64 = log
        .range((position + 1).to_be_bytes()..)
        .map(|g| g.size().map(u64::from).unwrap_or(0))
        .sum();
    db.log_sizes.set(meta.id, since);
    tracing::info!(table = %meta.name, items = summary.item_count, position, "point-in-time base snapshot written");
    Ok(())
}

/// Takes a base snapshot of `table` now, waiting for it (tests; upkeep does it in the
/// background).
#[cfg(test)]
pub(crate) fn base_now(db: &Db, table: &str) -> Result<()> {
    let t = db.table(table)?;
    let snapshot = db.fjall.snapshot();
    write_base(db, &t.meta, &snapshot, now_micros())
}

/// PITR housekeeping, run by the server now and then: takes missing or due base
/// snapshots, drops bases and log records older than any restore may need, and forgets
/// deleted tables past their recovery period.
pub(crate) fn pitr_upkeep(db: &Arc<Db>, runner: &Runner, writes: &Arc<BaseWrites>) -> Result<()> {
    let now = now_micros();
    for t in db.tables_snapshot() {
        let (Some(p), Some(log)) = (&t.meta.pitr, &t.pitr_log) else {
            continue;
        };
        if t.meta.restore.as_ref().is_some_and(|r| r.in_progress) {
            continue;
        }
        let bases = bases(db, &t.meta.id)?;
        let due = match bases.last() {
            None => true,
            Some(last) => {
                let size = std::fs::metadata(&last.path).map(|m| m.len()).unwrap_or(0);
                let logged = match db.log_sizes.get(&t.meta.id) {
                    Some(n) => n,
                    None => {
                        // First look since the store opened: measure the log since the base.
                        let n = log
                            .range((last.position + 1).to_be_bytes()..)
                            .map(|g| g.size().map(u64::from).unwrap_or(0))
                            .sum();
                        db.log_sizes.set(t.meta.id, n);
                        n
                    }
                };
                logged > size.max(MIN_LOG_FOR_BASE)
            }
        };
        if due && !writes.0.lock().contains(&t.meta.id) {
            spawn_base(db, runner, writes, t.meta.clone(), db.fjall.snapshot(), now);
        }
        trim_history(db, &t.meta.id, log, p.recovery_period_days, now)?;
    }
    for (key, h) in db.deleted_histories()? {
        let days = h
            .table
            .pitr
            .as_ref()
            .map_or(MAX_RECOVERY_DAYS, |p| p.recovery_period_days);
        if h.deleted_at + f64::from(days) * 86_400.0 < secs(now) {
            forget_history(db, &h.table.id)?;
            db.delete_state(&key)?;
            tracing::info!(table = %h.table.name, "point-in-time history of a deleted table expired");
        }
    }
    Ok(())
}

/// Drops the bases and log records no restore within the window can need: everything
/// before the newest base taken at or before the window's start.
fn trim_history(db: &Db, id: &Uuid, log: &Keyspace, days: u32, now: u64) -> Result<()> {
    let window = now.saturating_sub(u64::from(days) * 86_400_000_000);
    let bases = bases(db, id)?;
    let Some(keep) = bases.iter().rposition(|b| b.taken_at <= window) else {
        return Ok(());
    };
    for old in &bases[..keep] {
        std::fs::remove_file(&old.path)?;
    }
    let upto = bases[keep].position;
    let mut batch = db.fjall.batch();
    let mut n = 0;
    for g in log.range(..=upto.to_be_bytes()) {
        batch.remove(log, g.key()?);
        n += 1;
        if n % 10_000 == 0 {
            std::mem::replace(&mut batch, db.fjall.batch()).commit()?;
        }
    }
    batch.commit()?;
    Ok(())
}

/// The definition of the table a point-in-time restore of `table` reads: the live table,
/// or the newest deleted one of that name whose history is kept.
pub(crate) fn pitr_source(db: &Db, table: &str) -> Result<TableMeta> {
    match db.table(table) {
        Ok(t) => Ok(t.meta.clone()),
        Err(StoreError::TableNotFound(_)) => {
            db.deleted_history(table)?.map(|h| h.table).ok_or_else(|| {
                StoreError::TableNotFound(crate::schema::split_table_ref(table).1.to_string())
            })
        }
        Err(e) => Err(e),
    }
}

/// Plans a read of `table` at `at` (`None`: the latest restorable time). The table may
/// have been deleted since, within its recovery period (the newest such table by name).
pub(crate) fn plan_pitr(db: &Db, table: &str, at: Option<f64>) -> Result<Plan> {
    let now = now_micros();
    let (meta, log, latest) = match db.table(table) {
        Ok(t) => {
            let log = match (&t.meta.pitr, &t.pitr_log) {
                (Some(_), Some(log)) => log.clone(),
                _ => {
                    return Err(StoreError::PointInTimeRecoveryUnavailable(format!(
                        "Point in time recovery is not enabled for table '{}'",
                        crate::schema::split_table_ref(table).1
                    )))
                }
            };
            (t.meta.clone(), log, now)
        }
        Err(StoreError::TableNotFound(_)) => {
            let h = db.deleted_history(table)?.ok_or_else(|| {
                StoreError::TableNotFound(crate::schema::split_table_ref(table).1.to_string())
            })?;
            let log = changelog::open_log(&db.fjall, &h.table.id)?;
            (h.table, log, micros(h.deleted_at))
        }
        Err(e) => return Err(e),
    };
    let days = meta
        .pitr
        .as_ref()
        .map_or(MAX_RECOVERY_DAYS, |p| p.recovery_period_days);
    let earliest = earliest(db, &meta.id, days, now)?.ok_or_else(|| {
        StoreError::PointInTimeRecoveryUnavailable(format!(
            "Point in time recovery is not yet available for table '{}': its first snapshot is being taken",
            crate::schema::split_table_ref(table).1
        ))
    })?;
    let until = match at {
        None => latest,
        Some(at) => micros(at),
    };
    if until < earliest || until > latest {
        return Err(StoreError::InvalidRestoreTime(format!(
            "Invalid restore time: {}. Restore time must be between the earliest ({}) and the latest ({}) restorable date time",
            secs(until), secs(earliest), secs(latest)
        )));
    }
    let base = bases(db, &meta.id)?
        .into_iter()
        .rfind(|b| b.taken_at <= until)
        .ok_or_else(|| {
            StoreError::InvalidRestoreTime("No snapshot covers the restore time".into())
        })?;
    Ok(Plan {
        meta,
        base,
        log,
        until,
        at: secs(until),
    })
}

/// Hands every item of the table as it was at the plan's instant to `each`.
pub(crate) fn materialize(
    db: &Db,
    plan: &Plan,
    each: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<u64> {
    let id = plan.meta.id;
    // The log after the base, up to the instant: each key's last state wins.
    let mut changed: BTreeMap<Vec<u8>, Option<Item>> = BTreeMap::new();
    let range = (plan.base.position + 1).to_be_bytes()..=plan.until.to_be_bytes();
    for g in plan.log.range(range) {
        let (k, v) = g.into_inner()?;
        let (key, item) = decode_log_record(&db.codec, &id, &k, &v)?;
        changed.insert(key, item);
    }
    file::verify(&plan.base.path)?;
    let mut reader = SnapshotReader::open(&plan.base.path)?;
    let mut count = 0;
    while let Some(item) = reader.next_item(&db.codec)? {
        let k = plan.meta.key_schema.storage_key_of_item(&item)?;
        let item = match changed.remove(&k) {
            Some(now) => now,
            None => Some(item),
        };
        if let Some(item) = item {
            each(item)?;
            count += 1;
        }
    }
    for item in changed.into_values().flatten() {
        each(item)?;
        count += 1;
    }
    Ok(count)
}

/// [`super::read_table`] at a past instant.
pub(crate) fn read_table_at(
    db: &Db,
    table: &str,
    at: f64,
    each: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<TableMeta> {
    let plan = plan_pitr(db, table, Some(at))?;
    materialize(db, &plan, each)?;
    Ok(plan.meta)
}

/// The path of a table's bases (for tests that damage them).
#[cfg(test)]
pub(crate) fn base_paths(db: &Db, id: &Uuid) -> Vec<PathBuf> {
    bases(db, id).unwrap().into_iter().map(|b| b.path).collect()
}
