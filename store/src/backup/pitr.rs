//! Point-in-time recovery: a table's change log plus occasional base snapshots.
//!
//! While PITR is on, every change to the table's items also writes a log record (the item's
//! storage key and its new state, or a tombstone) into the keyspace `p-<table id>`, in the
//! change's own batch, keyed by the store's sequence number: numbers follow the commit order
//! and are never below the commit time in microseconds, so a record's number is also its time.
//!
//! A base snapshot ([`super::file`]) is the table at one instant plus the log position it
//! includes. Enabling PITR takes the first one while no write is in flight; the server's upkeep
//! ([`Store::pitr_upkeep`]) takes a new one once the log since the last base has grown past the
//! base's own size, so storage grows with the changes, not with a full copy per day. Restoring
//! to time `t` reads the newest base taken at or before `t` and applies the log records after
//! its position up to `t`. Upkeep drops bases and log records no restore in the recovery window
//! can need. A deleted table's history is kept for the recovery period, so it can be restored.
//!
//! Bases live in `<data dir>/pitr/<table id>/<position>-<time>.tbk`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use fjall::{Keyspace, KeyspaceCreateOptions, Readable};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::file::{self, SnapshotHeader, SnapshotReader};
use crate::clock::now_micros;
use crate::db::{Change, Store};
use crate::encoding::{decode_item, encode_item, ItemCodec};
use crate::error::{Result, StoreError};
use crate::schema::TableMeta;
use crate::stream::SequenceGuard;
use crate::value::Item;

const DELETED_RECORD: &str = "pitr-deleted/";
const PITR_DIR: &str = "pitr";
const LOG_FORMAT_V1: u8 = 1;
/// DynamoDB's longest recovery period.
pub const MAX_RECOVERY_DAYS: u32 = 35;
/// A new base is not worth taking for less log than this.
const MIN_LOG_FOR_BASE: u64 = 1 << 20;

/// PITR settings of a table (in its definition while enabled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PitrMeta {
    /// When it was enabled, seconds since the epoch.
    pub enabled_at: f64,
    /// How many days back a restore may go (1..=35).
    pub recovery_period_days: u32,
}

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

/// A deleted table whose history is kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct DeletedHistory {
    table: TableMeta,
    deleted_at: f64,
}

/// The store's bookkeeping for PITR: log bytes since the last base, bases being written.
#[derive(Default)]
pub(crate) struct PitrRuntime {
    logged: Mutex<HashMap<Uuid, u64>>,
    writing: Mutex<HashSet<Uuid>>,
}

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

/// The keyspace name of table `id`'s change log.
pub(crate) fn log_keyspace(id: &Uuid) -> String {
    format!("p-{}", id.simple())
}

/// Opens the change log of a table.
pub(crate) fn open_log(db: &fjall::Database, id: &Uuid) -> Result<Keyspace> {
    Ok(db.keyspace(&log_keyspace(id), KeyspaceCreateOptions::default)?)
}

/// Adds the log record of one change to `batch`, under the commit order.
pub(crate) fn stage_log_record(
    batch: &mut fjall::OwnedWriteBatch,
    seq: &mut SequenceGuard<'_>,
    codec: &ItemCodec,
    table_id: &Uuid,
    log: &Keyspace,
    key: &[u8],
    new: Option<&Item>,
) -> u64 {
    let mut plain = Vec::with_capacity(16 + key.len());
    plain.push(LOG_FORMAT_V1);
    plain.extend_from_slice(&(key.len() as u32).to_be_bytes());
    plain.extend_from_slice(key);
    if let Some(item) = new {
        plain.extend_from_slice(&encode_item(item));
    }
    let k = seq.next().to_be_bytes();
    let value = codec.seal(table_id, &k, plain);
    let n = value.len() as u64;
    batch.insert(log, k, value);
    n
}

/// Reads one log record: the item's storage key and its new state.
fn decode_log_record(
    codec: &ItemCodec,
    table_id: &Uuid,
    k: &[u8],
    v: &[u8],
) -> Result<(Vec<u8>, Option<Item>)> {
    let plain = codec.open(table_id, k, v)?;
    let bad = || StoreError::Corrupt("unreadable point-in-time log record".into());
    let (&version, rest) = plain.split_first().ok_or_else(bad)?;
    if version != LOG_FORMAT_V1 || rest.len() < 4 {
        return Err(bad());
    }
    let n = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
    let key = rest.get(4..4 + n).ok_or_else(bad)?.to_vec();
    let item = &rest[4 + n..];
    let item = if item.is_empty() {
        None
    } else {
        Some(decode_item(item)?)
    };
    Ok((key, item))
}

/// The highest sequence number in these change logs (when the store opens).
pub(crate) fn highest_seq<'a>(logs: impl IntoIterator<Item = &'a Keyspace>) -> Result<u64> {
    let mut high = 0;
    for log in logs {
        if let Some(g) = log.last_key_value() {
            high = high.max(seq_of(&g.key()?));
        }
    }
    Ok(high)
}

fn seq_of(k: &[u8]) -> u64 {
    k.try_into().map(u64::from_be_bytes).unwrap_or(0)
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

impl Store {
    fn pitr_dir(&self, id: &Uuid) -> PathBuf {
        self.path().join(PITR_DIR).join(id.simple().to_string())
    }

    /// The base snapshots of table `id`, oldest first.
    fn bases(&self, id: &Uuid) -> Result<Vec<Base>> {
        let dir = self.pitr_dir(id);
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
    pub fn update_pitr(
        &self,
        table: &str,
        enabled: bool,
        recovery_period_days: u32,
    ) -> Result<PitrStatus> {
        if !(1..=MAX_RECOVERY_DAYS).contains(&recovery_period_days) {
            return Err(StoreError::Validation(format!(
                "RecoveryPeriodInDays must be between 1 and {MAX_RECOVERY_DAYS}"
            )));
        }
        let _ddl = self.ddl.lock();
        let t = self.table(table)?;
        let mut meta = t.meta.clone();
        match (&meta.pitr, enabled) {
            (Some(p), true) if p.recovery_period_days == recovery_period_days => {}
            (Some(_), true) => {
                meta.pitr.as_mut().expect("enabled").recovery_period_days = recovery_period_days;
                self.replace_meta(meta)?;
            }
            (None, true) => {
                meta.pitr = Some(PitrMeta {
                    enabled_at: now_micros() as f64 / 1e6,
                    recovery_period_days,
                });
                // Switch with no write in flight, and snapshot right then: the first base holds
                // the table as it was when logging began.
                let writers = self.writers.write();
                let meta = self.install_meta(meta)?;
                let snapshot = self.db.snapshot();
                let taken_at = now_micros();
                drop(writers);
                self.pitr.logged.lock().insert(meta.id, 0);
                tracing::info!(table = %meta.name, "point-in-time recovery enabled");
                self.spawn_base(meta, snapshot, taken_at);
            }
            (Some(_), false) => {
                let id = meta.id;
                meta.pitr = None;
                self.replace_meta(meta)?;
                self.forget_history(&id)?;
                tracing::info!(%table, "point-in-time recovery disabled");
            }
            (None, false) => {}
        }
        self.pitr_status(table)
    }

    /// Drops a table's change log and bases.
    fn forget_history(&self, id: &Uuid) -> Result<()> {
        let log = open_log(&self.db, id)?;
        self.db.delete_keyspace(log)?;
        match std::fs::remove_dir_all(self.pitr_dir(id)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        self.pitr.logged.lock().remove(id);
        Ok(())
    }

    /// PITR status of `table` (DescribeContinuousBackups).
    pub fn pitr_status(&self, table: &str) -> Result<PitrStatus> {
        let t = self.table(table)?;
        let Some(p) = &t.meta.pitr else {
            return Ok(PitrStatus {
                enabled: false,
                earliest: None,
                latest: None,
                recovery_period_days: MAX_RECOVERY_DAYS,
            });
        };
        let now = now_micros();
        let earliest = self.earliest(&t.meta.id, p.recovery_period_days, now)?;
        Ok(PitrStatus {
            enabled: true,
            earliest: earliest.map(secs),
            latest: earliest.map(|_| secs(now)),
            recovery_period_days: p.recovery_period_days,
        })
    }

    fn earliest(&self, id: &Uuid, days: u32, until: u64) -> Result<Option<u64>> {
        let window = until.saturating_sub(u64::from(days) * 86_400_000_000);
        Ok(self.bases(id)?.first().map(|b| b.taken_at.max(window)))
    }

    /// Writes a base snapshot from `snapshot` in the background.
    fn spawn_base(&self, meta: TableMeta, snapshot: fjall::Snapshot, taken_at: u64) {
        if !self.pitr.writing.lock().insert(meta.id) {
            return;
        }
        let store = self.handle();
        self.background.spawn("tarn-pitr-base", move || {
            let id = meta.id;
            if let Err(e) = store.write_base(&meta, &snapshot, taken_at) {
                tracing::error!(table = %meta.name, error = %e, "cannot write a point-in-time base snapshot");
            }
            store.pitr.writing.lock().remove(&id);
        });
    }

    fn write_base(
        &self,
        meta: &TableMeta,
        snapshot: &fjall::Snapshot,
        taken_at: u64,
    ) -> Result<()> {
        let t = self.table(&meta.name)?;
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
        let dir = self.pitr_dir(&meta.id);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{position:020}-{taken_at:020}.tbk"));
        let header = SnapshotHeader {
            table: meta.clone(),
            position,
            taken_at_micros: taken_at,
            sealed: false,
        };
        let summary =
            file::write_entries(self, &path, header, snapshot.iter(&t.items), &|_, _| {})?;
        // Only the log written after this base counts toward the next one.
        let since: u64 = log
            .range((position + 1).to_be_bytes()..)
            .map(|g| g.size().map(u64::from).unwrap_or(0))
            .sum();
        self.pitr.logged.lock().insert(meta.id, since);
        tracing::info!(table = %meta.name, items = summary.item_count, position, "point-in-time base snapshot written");
        Ok(())
    }

    /// Takes a base snapshot of `table` now, waiting for it (tests; upkeep does it in the
    /// background).
    #[cfg(test)]
    pub(crate) fn pitr_base_now(&self, table: &str) -> Result<()> {
        let t = self.table(table)?;
        let snapshot = self.db.snapshot();
        self.write_base(&t.meta, &snapshot, now_micros())
    }

    /// Counts log bytes written for table `id` (under the commit order).
    pub(crate) fn pitr_logged(&self, id: Uuid, bytes: u64) {
        *self.pitr.logged.lock().entry(id).or_insert(0) += bytes;
    }

    /// PITR housekeeping, run by the server now and then: takes missing or due base
    /// snapshots, drops bases and log records older than any restore may need, and forgets
    /// deleted tables past their recovery period.
    pub fn pitr_upkeep(&self) -> Result<()> {
        let now = now_micros();
        for t in self.tables_snapshot() {
            let (Some(p), Some(log)) = (&t.meta.pitr, &t.pitr_log) else {
                continue;
            };
            if t.meta.restore.as_ref().is_some_and(|r| r.in_progress) {
                continue;
            }
            let bases = self.bases(&t.meta.id)?;
            let due = match bases.last() {
                None => true,
                Some(last) => {
                    let size = std::fs::metadata(&last.path).map(|m| m.len()).unwrap_or(0);
                    let logged = self.pitr.logged.lock().get(&t.meta.id).copied();
                    let logged = match logged {
                        Some(n) => n,
                        None => {
                            // First look since the store opened: measure the log since the base.
                            let n = log
                                .range((last.position + 1).to_be_bytes()..)
                                .map(|g| g.size().map(u64::from).unwrap_or(0))
                                .sum();
                            self.pitr.logged.lock().insert(t.meta.id, n);
                            n
                        }
                    };
                    logged > size.max(MIN_LOG_FOR_BASE)
                }
            };
            if due && !self.pitr.writing.lock().contains(&t.meta.id) {
                self.spawn_base(t.meta.clone(), self.db.snapshot(), now);
            }
            self.trim_history(&t.meta.id, log, p.recovery_period_days, now)?;
        }
        for (key, h) in self.deleted_histories()? {
            let days = h
                .table
                .pitr
                .as_ref()
                .map_or(MAX_RECOVERY_DAYS, |p| p.recovery_period_days);
            if h.deleted_at + f64::from(days) * 86_400.0 < secs(now) {
                self.forget_history(&h.table.id)?;
                self.delete_state(&key)?;
                tracing::info!(table = %h.table.name, "point-in-time history of a deleted table expired");
            }
        }
        Ok(())
    }

    /// Drops the bases and log records no restore within the window can need: everything
    /// before the newest base taken at or before the window's start.
    fn trim_history(&self, id: &Uuid, log: &Keyspace, days: u32, now: u64) -> Result<()> {
        let window = now.saturating_sub(u64::from(days) * 86_400_000_000);
        let bases = self.bases(id)?;
        let Some(keep) = bases.iter().rposition(|b| b.taken_at <= window) else {
            return Ok(());
        };
        for old in &bases[..keep] {
            std::fs::remove_file(&old.path)?;
        }
        let upto = bases[keep].position;
        let mut batch = self.db.batch();
        let mut n = 0;
        for g in log.range(..=upto.to_be_bytes()) {
            batch.remove(log, g.key()?);
            n += 1;
            if n % 10_000 == 0 {
                std::mem::replace(&mut batch, self.db.batch()).commit()?;
            }
        }
        batch.commit()?;
        Ok(())
    }

    /// Keeps a deleted table's history (called by DeleteTable while its keyspaces go).
    pub(crate) fn keep_deleted_history(&self, meta: &TableMeta) -> Result<()> {
        let h = DeletedHistory {
            table: meta.clone(),
            deleted_at: secs(now_micros()),
        };
        let json = serde_json::to_vec(&h).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.put_state(&format!("{DELETED_RECORD}{}", meta.id.simple()), &json)
    }

    fn deleted_histories(&self) -> Result<Vec<(String, DeletedHistory)>> {
        self.list_state_json(DELETED_RECORD, "point-in-time history")
    }

    /// The definition of the table a point-in-time restore of `table` reads: the live table,
    /// or the newest deleted one of that name whose history is kept.
    pub fn pitr_source(&self, table: &str) -> Result<TableMeta> {
        match self.table(table) {
            Ok(t) => Ok(t.meta.clone()),
            Err(StoreError::TableNotFound(_)) => self
                .deleted_histories()?
                .into_iter()
                .map(|(_, h)| h)
                .filter(|h| h.table.name == table)
                .max_by(|a, b| a.deleted_at.total_cmp(&b.deleted_at))
                .map(|h| h.table)
                .ok_or_else(|| StoreError::TableNotFound(table.to_string())),
            Err(e) => Err(e),
        }
    }

    /// Plans a read of `table` at `at` (`None`: the latest restorable time). The table may
    /// have been deleted since, within its recovery period (the newest such table by name).
    pub(crate) fn plan_pitr(&self, table: &str, at: Option<f64>) -> Result<Plan> {
        let now = now_micros();
        let (meta, log, latest) = match self.table(table) {
            Ok(t) => {
                let log = match (&t.meta.pitr, &t.pitr_log) {
                    (Some(_), Some(log)) => log.clone(),
                    _ => {
                        return Err(StoreError::PointInTimeRecoveryUnavailable(format!(
                            "Point in time recovery is not enabled for table '{table}'"
                        )))
                    }
                };
                (t.meta.clone(), log, now)
            }
            Err(StoreError::TableNotFound(_)) => {
                let h = self
                    .deleted_histories()?
                    .into_iter()
                    .map(|(_, h)| h)
                    .filter(|h| h.table.name == table)
                    .max_by(|a, b| a.deleted_at.total_cmp(&b.deleted_at))
                    .ok_or_else(|| StoreError::TableNotFound(table.to_string()))?;
                let log = open_log(&self.db, &h.table.id)?;
                (h.table, log, micros(h.deleted_at))
            }
            Err(e) => return Err(e),
        };
        let days = meta
            .pitr
            .as_ref()
            .map_or(MAX_RECOVERY_DAYS, |p| p.recovery_period_days);
        let earliest = self.earliest(&meta.id, days, now)?.ok_or_else(|| {
            StoreError::PointInTimeRecoveryUnavailable(format!(
                "Point in time recovery is not yet available for table '{table}': its first snapshot is being taken"
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
        let base = self
            .bases(&meta.id)?
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
        &self,
        plan: &Plan,
        each: &mut dyn FnMut(Item) -> Result<()>,
    ) -> Result<u64> {
        let id = plan.meta.id;
        // The log after the base, up to the instant: each key's last state wins.
        let mut changed: BTreeMap<Vec<u8>, Option<Item>> = BTreeMap::new();
        let range = (plan.base.position + 1).to_be_bytes()..=plan.until.to_be_bytes();
        for g in plan.log.range(range) {
            let (k, v) = g.into_inner()?;
            let (key, item) = decode_log_record(&self.codec, &id, &k, &v)?;
            changed.insert(key, item);
        }
        file::verify(&plan.base.path)?;
        let mut reader = SnapshotReader::open(&plan.base.path)?;
        let mut count = 0;
        while let Some(item) = reader.next_item(&self.codec)? {
            let key = plan.meta.key_schema.key_of_item(&item)?;
            let k = Self::storage_key(&plan.meta, &key)?;
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

    /// [`Store::read_table`] at a past instant.
    pub(crate) fn read_table_at(
        &self,
        table: &str,
        at: f64,
        each: &mut dyn FnMut(Item) -> Result<()>,
    ) -> Result<TableMeta> {
        let plan = self.plan_pitr(table, Some(at))?;
        self.materialize(&plan, each)?;
        Ok(plan.meta)
    }
}

/// The path of a table's bases (for tests that damage them).
#[cfg(test)]
pub(crate) fn base_paths(store: &Store, id: &Uuid) -> Vec<PathBuf> {
    store
        .bases(id)
        .unwrap()
        .into_iter()
        .map(|b| b.path)
        .collect()
}

/// Log records for `changes` of tables with PITR, staged under the commit order.
pub(crate) fn stage_changes(
    store: &Store,
    batch: &mut fjall::OwnedWriteBatch,
    seq: &mut SequenceGuard<'_>,
    changes: &[&Change],
) {
    for c in changes {
        if let Some(log) = &c.table.pitr_log {
            let n = stage_log_record(
                batch,
                seq,
                &store.codec,
                &c.table.meta.id,
                log,
                &c.key,
                c.new.as_ref(),
            );
            store.pitr_logged(c.table.meta.id, n);
        }
    }
}
