//! Backups and point-in-time recovery: copies of a table that outlive mistakes.
//!
//! - [`mod@file`]: the snapshot file: a table's definition and its items as of one instant, framed,
//!   checksummed (SHA-256) and sealed like items in an encrypted store. On-demand backups and
//!   the base snapshots of point-in-time recovery are both such files.
//! - this module: on-demand backups ([`crate::Store::create_backup`] and friends). A backup reads the
//!   table through a fjall snapshot taken when it is asked for, so it holds the table as it was
//!   at that one instant while writes go on; the file is written in the background and the
//!   backup is AVAILABLE once it is synced. Backup records live in the state keyspace
//!   (`backup/<id>`), files in `<data dir>/backups/`.
//! - [`pitr`]: point-in-time recovery: a change log per table (written by every write, see
//!   `db::changelog`) plus occasional base snapshots.
//! - [`restore`]: building a new table from a backup or from a point in time, in the
//!   background, invisible to item operations until it is complete.
//!
//! The work runs on the store's background runner; what a table's definition records about backups
//! ([`PitrMeta`], [`RestoreSummary`]) lives in [`crate::schema::backup`]. Nothing here knows
//! DynamoDB's wire format: ARNs, JSON and paging are the runtime's.

pub mod file;
pub mod pitr;
pub mod restore;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use std::path::Path;
use std::sync::Arc;

use fjall::Readable;

use crate::clock::now_millis;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::runner::Runner;
use crate::schema::TableMeta;
use crate::value::Item;

pub use crate::schema::backup::{PitrMeta, RestoreSummary, MAX_RECOVERY_DAYS};
pub use pitr::PitrStatus;
pub use restore::{PointInTime, RestoreOverrides, RestoreRequest, RestoreSource};

const BACKUP_RECORD: &str = "backup/";
const BACKUP_DIR: &str = "backups";

/// Where a backup stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupStatus {
    /// Its file is being written.
    Creating,
    /// Complete and restorable.
    Available,
    /// Its file could not be written (the record says why).
    Failed,
}

impl BackupStatus {
    /// DynamoDB's BackupStatus (a failed backup is reported as DELETED: it cannot be used).
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Creating => "CREATING",
            BackupStatus::Available => "AVAILABLE",
            BackupStatus::Failed => "DELETED",
        }
    }
}

/// A backup, as its record keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupMeta {
    /// Unique id, DynamoDB-shaped: creation time in milliseconds (17 digits), `-`, 8 hex digits.
    pub id: String,
    /// The name given at creation.
    pub name: String,
    /// The source table's definition at the backup's instant (indexes, stream, TTL included).
    pub table: TableMeta,
    /// The instant the backup holds, seconds since the epoch.
    pub created_at: f64,
    /// Where it stands.
    pub status: BackupStatus,
    /// Items in the backup (known once AVAILABLE).
    pub item_count: u64,
    /// Bytes of item data in the backup, by DynamoDB's item-size rules (known once AVAILABLE).
    pub size_bytes: u64,
    /// Size of the backup file (known once AVAILABLE).
    pub file_bytes: u64,
    /// Why the file could not be written, for a failed backup.
    #[serde(default)]
    pub error: Option<String>,
}

/// Progress of long work (a backup, a restore, an export), as items and bytes done so far.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// The directory holding backup files in the store at `path`.
fn backup_dir(path: &Path) -> PathBuf {
    path.join(BACKUP_DIR)
}

/// The file of backup `id` in the store at `path`.
pub(crate) fn backup_file(path: &Path, id: &str) -> PathBuf {
    backup_dir(path).join(format!("{id}.tbk"))
}

/// Starts an on-demand backup of `table`: the table as it is now, written to a file in the
/// background. Returns the backup's record (CREATING).
pub(crate) fn create_backup(
    db: &Arc<Db>,
    runner: &Runner,
    table: &str,
    name: &str,
) -> Result<BackupMeta> {
    db.admit()?;
    let t = db.table(table)?;
    // The table as durable now: a backup holds no write a crash could still lose.
    let snapshot = db.read_snapshot();
    let now = now_millis();
    let meta = BackupMeta {
        id: format!("{now:017}-{}", &Uuid::new_v4().simple().to_string()[..8]),
        name: name.to_string(),
        table: t.meta.clone(),
        created_at: now as f64 / 1000.0,
        status: BackupStatus::Creating,
        item_count: 0,
        size_bytes: 0,
        file_bytes: 0,
        error: None,
    };
    save_backup(db, &meta)?;
    let db = db.clone();
    let mut record = meta.clone();
    runner.spawn("tarn-backup", move || {
            let path = backup_file(db.path(), &record.id);
            let written = std::fs::create_dir_all(backup_dir(db.path()))
                .map_err(StoreError::from)
                .and_then(|()| {
                    file::write_snapshot(
                        &db.codec,
                        &path,
                        &record.table,
                        snapshot.iter(&t.items),
                        &|_, _| {},
                    )
                });
            match written {
                Ok(summary) => {
                    record.status = BackupStatus::Available;
                    record.item_count = summary.item_count;
                    record.size_bytes = summary.item_bytes;
                    record.file_bytes = summary.file_bytes;
                    tracing::info!(backup = %record.id, table = %record.table.name, items = summary.item_count, "backup available");
                }
                Err(e) => {
                    tracing::error!(backup = %record.id, error = %e, "backup failed");
                    let _ = std::fs::remove_file(&path);
                    record.status = BackupStatus::Failed;
                    record.error = Some(e.to_string());
                }
            }
            // A backup deleted while it was written stays deleted.
            if backup_record(&db, &record.id).ok().flatten().is_some() {
                if let Err(e) = save_backup(&db, &record) {
                    tracing::error!(backup = %record.id, error = %e, "cannot save a backup record");
                }
            } else {
                let _ = std::fs::remove_file(&path);
            }
        });
    Ok(meta)
}

fn save_backup(db: &Db, meta: &BackupMeta) -> Result<()> {
    let json = serde_json::to_vec(meta).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    db.put_state(&format!("{BACKUP_RECORD}{}", meta.id), &json)
}

fn backup_record(db: &Db, id: &str) -> Result<Option<BackupMeta>> {
    db.get_state(&format!("{BACKUP_RECORD}{id}"))?
        .map(|json| {
            serde_json::from_slice(&json)
                .map_err(|e| StoreError::Corrupt(format!("unreadable backup record: {e}")))
        })
        .transpose()
}

/// The backup `id`, or BackupNotFound.
pub(crate) fn describe_backup(db: &Db, id: &str) -> Result<BackupMeta> {
    backup_record(db, id)?
        .ok_or_else(|| StoreError::BackupNotFound(format!("Backup not found: {id}")))
}

/// Every backup, oldest first.
pub(crate) fn list_backups(db: &Db) -> Result<Vec<BackupMeta>> {
    Ok(db
        .list_state_json(BACKUP_RECORD, "backup")?
        .into_iter()
        .map(|(_, b)| b)
        .collect())
}

/// Deletes backup `id` (its record and its file). A backup still being written or being
/// restored from is in use.
pub(crate) fn delete_backup(db: &Db, id: &str) -> Result<BackupMeta> {
    let meta = describe_backup(db, id)?;
    if meta.status == BackupStatus::Creating {
        return Err(StoreError::BackupInUse(format!(
            "Backup is being created: {id}"
        )));
    }
    if restore::restoring_from_backup(db, id) {
        return Err(StoreError::BackupInUse(format!(
            "Backup is being restored: {id}"
        )));
    }
    db.delete_state(&format!("{BACKUP_RECORD}{id}"))?;
    match std::fs::remove_file(backup_file(db.path(), id)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    tracing::info!(backup = %id, "backup deleted");
    Ok(meta)
}

/// Marks backups a crash interrupted as failed (when the store opens).
pub(crate) fn fail_interrupted(db: &Db) -> Result<()> {
    for mut b in list_backups(db)? {
        if b.status == BackupStatus::Creating {
            tracing::warn!(backup = %b.id, "a backup was interrupted");
            let _ = std::fs::remove_file(backup_file(db.path(), &b.id).with_extension("tmp"));
            b.status = BackupStatus::Failed;
            b.error = Some("interrupted: the server stopped while the backup was written".into());
            save_backup(db, &b)?;
        }
    }
    Ok(())
}

/// Reads every item of `table` as it was at `at` (seconds since the epoch; `None`: now, at
/// one instant), handing each to `each`. A past instant needs point-in-time recovery on
/// the table (and may name a deleted table). Returns the table's definition then.
pub(crate) fn read_table(
    db: &Db,
    table: &str,
    at: Option<f64>,
    each: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<TableMeta> {
    match at {
        None => {
            let t = db.table(table)?;
            let snapshot = db.read_snapshot();
            for guard in snapshot.iter(&t.items) {
                let (k, v) = guard.into_inner()?;
                each(db.codec.decode(&t.meta.id, &k, &v)?)?;
            }
            Ok(t.meta.clone())
        }
        Some(at) => pitr::read_table_at(db, table, at, each),
    }
}
