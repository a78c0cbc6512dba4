//! Restoring a table: from a backup file, or from point-in-time recovery, into a new table.
//!
//! [`crate::Store::restore_table`] checks the source synchronously (the backup exists, its file is
//! whole: checksum and all; the restore time is in the window) and reserves the target name;
//! the items are then loaded in the background. Until the load is done the table is CREATING:
//! DescribeTable and ListTables show it, item operations do not find it, and its name is
//! taken. Items are written through the same commit path as any write, so index entries and
//! expiry entries are built as they land; the stream (if the source had one) starts when the
//! load is done, so it carries no records of the restore itself.
//!
//! A restore interrupted by a crash leaves a `restore/<table id>` record: the next open drops
//! the half-loaded keyspaces. A table is restored whole or not at all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::file::{self, SnapshotReader};
use super::pitr::{self, Plan};
use super::BackupStatus;
use crate::db::catalog::Restoring;
use crate::db::table::Table;
use crate::db::write::Change;
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::runner::Runner;
use crate::schema::{
    check_item, BillingMode, IndexKind, IndexSpec, RestoreSummary, StreamMeta, StreamViewType,
    TableInfo, TableMeta, TableSpec, Throughput, TtlSpec, TtlStatus,
};
use crate::value::{item_size, Item};

const RESTORE_RECORD: &str = "restore/";
/// Items per commit while loading.
const LOAD_BATCH_ITEMS: usize = 1000;
const LOAD_BATCH_BYTES: usize = 4 << 20;

/// Which instant of a table to restore.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PointInTime {
    /// The latest restorable time (now, or a deleted table's deletion).
    Latest,
    /// This instant, seconds since the epoch.
    At(f64),
}

/// What to restore from.
#[derive(Clone, Debug, PartialEq)]
pub enum RestoreSource {
    /// An on-demand backup, by id.
    Backup(String),
    /// A table's point-in-time history (the table may have been deleted).
    PointInTime {
        /// The source table's name.
        table: String,
        /// The instant.
        at: PointInTime,
    },
}

/// Settings of the new table that may differ from the source's (DynamoDB's overrides).
#[derive(Clone, Debug, Default)]
pub struct RestoreOverrides {
    /// Billing mode.
    pub billing_mode: Option<BillingMode>,
    /// Provisioned throughput.
    pub throughput: Option<Throughput>,
    /// Global secondary indexes, replacing the source's.
    pub global_indexes: Option<Vec<IndexSpec>>,
    /// Local secondary indexes, replacing the source's.
    pub local_indexes: Option<Vec<IndexSpec>>,
}

/// A restore request.
#[derive(Clone, Debug)]
pub struct RestoreRequest {
    /// The new table's name.
    pub target: String,
    /// Where its items come from.
    pub source: RestoreSource,
    /// Settings that differ from the source's.
    pub overrides: RestoreOverrides,
}

/// A checked source, ready to be read.
enum Source {
    Backup { path: std::path::PathBuf },
    PointInTime(Box<Plan>),
}

/// Restores a table into the new table `req.target`. Returns its description (CREATING,
/// restore in progress); the items load in the background, on `runner`.
pub(crate) fn restore_table(
    db: &Arc<Db>,
    runner: &Runner,
    req: RestoreRequest,
) -> Result<TableInfo> {
    crate::schema::validate_table_name(crate::schema::split_table_ref(&req.target).1)?;
    db.admit()?;
    let (source, source_meta, summary) = match &req.source {
        RestoreSource::Backup(id) => {
            let backup = super::describe_backup(db, id)?;
            if backup.status != BackupStatus::Available {
                return Err(StoreError::BackupInUse(format!(
                    "Backup is not available: {id} ({})",
                    backup.status.as_str()
                )));
            }
            let path = super::backup_file(db.path(), id);
            file::verify(&path)?;
            let summary = RestoreSummary {
                source_backup: Some(id.clone()),
                source_table: backup.table.name.clone(),
                source_table_id: backup.table.id,
                restore_time: backup.created_at,
                in_progress: true,
            };
            (Source::Backup { path }, backup.table, summary)
        }
        RestoreSource::PointInTime { table, at } => {
            let at = match at {
                PointInTime::Latest => None,
                PointInTime::At(t) => Some(*t),
            };
            let plan = pitr::plan_pitr(db, table, at)?;
            file::verify(plan.base_path())?;
            let meta = plan.meta.clone();
            let summary = RestoreSummary {
                source_backup: None,
                source_table: meta.name.clone(),
                source_table_id: meta.id,
                restore_time: plan.at,
                in_progress: true,
            };
            (Source::PointInTime(Box::new(plan)), meta, summary)
        }
    };
    let spec = restore_spec(&req.target, &source_meta, req.overrides);
    let mut meta = db.new_table_meta(spec)?;
    // Expiry entries are written as the items land; the stream starts after the load.
    meta.ttl = source_meta.ttl.as_ref().map(|t| TtlSpec {
        attribute: t.attribute.clone(),
        status: TtlStatus::Enabled,
    });
    meta.restore = Some(summary);
    {
        let _ddl = db.ddl.lock();
        if db.name_taken(&meta.table_ref()) {
            return Err(StoreError::TableAlreadyExists(format!(
                "Table already exists: {}",
                meta.name
            )));
        }
        let json = serde_json::to_vec(&meta).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        db.put_state(&format!("{RESTORE_RECORD}{}", meta.id.simple()), &json)?;
        db.restoring.write().insert(
            meta.table_ref(),
            Arc::new(Restoring {
                meta: meta.clone(),
                items: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
            }),
        );
    }
    tracing::info!(table = %meta.name, source = %source_meta.name, "restore started");
    let (job_db, job) = (db.clone(), runner.handle());
    let view = source_meta.enabled_stream().map(|s| s.view_type);
    let loading = meta.clone();
    runner.spawn("tarn-restore", move || {
        let name = loading.name.clone();
        match load_restore(&job_db, &job, &source, loading, view) {
            Ok(n) => tracing::info!(table = %name, items = n, "restore complete"),
            Err(e) => {
                tracing::error!(table = %name, error = %e, "restore failed; the table was dropped")
            }
        }
    });
    Ok(TableInfo {
        meta,
        item_count: 0,
        size_bytes: 0,
        indexes: Vec::new(),
    })
}

/// Loads the items, then makes the table visible (with a new stream of `view` if the source
/// had one; point-in-time recovery stays off, as on DynamoDB); on failure drops what was
/// loaded.
fn load_restore(
    db: &Db,
    runner: &Runner,
    source: &Source,
    mut meta: TableMeta,
    view: Option<StreamViewType>,
) -> Result<u64> {
    let table = Arc::new(Table::open(&db.fjall, &db.counts, meta.clone())?);
    let loaded = load_items(db, runner, source, &table);
    let outcome = loaded.and_then(|n| {
        if runner.stopping() {
            return Err(StoreError::Corrupt(
                "the store closed during a restore".into(),
            ));
        }
        db.sync()?;
        let _ddl = db.ddl.lock();
        if let Some(r) = meta.restore.as_mut() {
            r.in_progress = false;
        }
        if let Some(view) = view {
            meta.streams = vec![StreamMeta::new(view, &[], db.sequencer.lock().last())
                .with_shards(db.stream_shards())];
        }
        {
            let _writers = db.writers.write();
            db.install_meta(meta.clone())?;
        }
        db.restoring.write().remove(&meta.table_ref());
        db.delete_state(&format!("{RESTORE_RECORD}{}", meta.id.simple()))?;
        Ok(n)
    });
    if outcome.is_err() && !runner.stopping() {
        db.restoring.write().remove(&meta.table_ref());
        table.drop_data(&db.fjall, &db.counts)?;
        db.delete_state(&format!("{RESTORE_RECORD}{}", meta.id.simple()))?;
    }
    outcome
}

/// Writes the source's items into the new table through the write path, in batches.
fn load_items(db: &Db, runner: &Runner, source: &Source, table: &Arc<Table>) -> Result<u64> {
    let progress = db.restoring.read().get(&table.meta.table_ref()).cloned();
    let mut batch: Vec<Change> = Vec::with_capacity(LOAD_BATCH_ITEMS);
    let mut bytes = 0;
    let mut count = 0u64;
    let meta = &table.meta;
    let mut push = |item: Item| -> Result<()> {
        if runner.stopping() {
            return Err(StoreError::Corrupt(
                "the store closed during a restore".into(),
            ));
        }
        let key = meta.key_schema.storage_key_of_item(&item)?;
        check_item(meta, &item)?;
        bytes += item_size(&item);
        batch.push(Change {
            table: table.clone(),
            key,
            old: None,
            new: Some(item),
            by_ttl: false,
        });
        count += 1;
        if batch.len() >= LOAD_BATCH_ITEMS || bytes >= LOAD_BATCH_BYTES {
            // A full disk pauses the load until space returns.
            db.admit_waiting(&|| runner.stopping())?;
            db.commit(&batch)?;
            if let Some(p) = &progress {
                p.items.fetch_add(batch.len() as u64, Ordering::Relaxed);
                p.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
            }
            batch.clear();
            bytes = 0;
        }
        Ok(())
    };
    match source {
        Source::Backup { path } => {
            let mut reader = SnapshotReader::open(path)?;
            while let Some(item) = reader.next_item(&db.codec)? {
                push(item)?;
            }
        }
        Source::PointInTime(plan) => {
            pitr::materialize(db, plan, &mut push)?;
        }
    }
    db.commit(&batch)?;
    Ok(count)
}

/// Drops the keyspaces of restores a crash interrupted (when the store opens).
pub(crate) fn drop_interrupted(db: &Db) -> Result<()> {
    let records: Vec<(String, TableMeta)> = db.list_state_json(RESTORE_RECORD, "restore")?;
    for (key, meta) in records {
        tracing::warn!(table = %meta.name, "dropping a restore that did not finish");
        let table = Table::open(&db.fjall, &db.counts, meta)?;
        table.drop_data(&db.fjall, &db.counts)?;
        db.delete_state(&key)?;
    }
    Ok(())
}

/// Whether a restore reads backup `id` now.
pub(crate) fn restoring_from_backup(db: &Db, id: &str) -> bool {
    db.restoring.read().values().any(|r| {
        r.meta
            .restore
            .as_ref()
            .is_some_and(|r| r.source_backup.as_deref() == Some(id))
    })
}

/// The new table's specification: the source's definition with the overrides applied.
fn restore_spec(target: &str, source: &TableMeta, o: RestoreOverrides) -> TableSpec {
    let existing = |kind: IndexKind| -> Vec<IndexSpec> {
        source
            .indexes
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| IndexSpec {
                name: i.name.clone(),
                kind: i.kind,
                key_schema: i.key_schema.clone(),
                projection: i.projection.clone(),
                throughput: i.throughput,
            })
            .collect()
    };
    let mut indexes = o
        .local_indexes
        .unwrap_or_else(|| existing(IndexKind::Local));
    indexes.extend(
        o.global_indexes
            .unwrap_or_else(|| existing(IndexKind::Global)),
    );
    // Only the attributes some key still uses (an override may have dropped an index).
    let used = |name: &str| {
        source.key_schema.attributes().any(|a| a.name == name)
            || indexes
                .iter()
                .any(|i| i.key_schema.attributes().any(|a| a.name == name))
    };
    let attribute_definitions = source
        .attribute_definitions
        .iter()
        .filter(|a| used(&a.name))
        .cloned()
        .collect();
    let billing_mode = o.billing_mode.unwrap_or(source.billing_mode);
    let throughput = match billing_mode {
        BillingMode::PayPerRequest => None,
        BillingMode::Provisioned => o.throughput.or(source.throughput),
    };
    TableSpec {
        name: target.to_string(),
        key_schema: source.key_schema.clone(),
        attribute_definitions,
        billing_mode,
        throughput,
        tags: Default::default(),
        deletion_protection: false,
        table_class: source.table_class.clone(),
        stream: None,
        indexes,
    }
}
