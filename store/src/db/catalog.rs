//! The catalog: table definitions (the keyspace `catalog`, one JSON record per table) and the
//! tables open for them, plus the tables being restored (their names are taken, their items
//! not yet visible) and the deleted tables whose point-in-time history is kept.
//!
//! A definition changes under the DDL lock, and the switch to it waits for in-flight writes
//! (the writers gate, [`Db::replace_meta`]), so no write straddles two definitions.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::table::Table;
use super::Db;
use crate::clock::{now_micros, now_millis, now_secs_f64};
use crate::error::{Result, StoreError};
use crate::schema::{
    split_table_ref, validate_billing, BillingMode, StreamChange, StreamMeta, TableInfo, TableMeta,
    TableSpec, TableUpdate,
};

/// State records of deleted tables whose point-in-time history is kept.
const DELETED_RECORD: &str = "pitr-deleted/";

/// A table being restored: its definition and how far the load has come.
pub(crate) struct Restoring {
    /// The new table's definition.
    pub(crate) meta: TableMeta,
    /// Items loaded so far.
    pub(crate) items: AtomicU64,
    /// Bytes loaded so far.
    pub(crate) bytes: AtomicU64,
}

/// A deleted table whose point-in-time history is kept (for its recovery period).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct DeletedHistory {
    /// The table's definition when it was deleted.
    pub(crate) table: TableMeta,
    /// When it was deleted, seconds since the epoch.
    pub(crate) deleted_at: f64,
}

impl Db {
    fn save_meta(&self, meta: &TableMeta) -> Result<()> {
        self.admit()?;
        let json = serde_json::to_vec(meta).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.catalog
            .insert(meta.table_ref(), json)
            .map_err(|e| self.commit.engine_error(e))?;
        self.sync()
    }

    /// Whether `name` is taken, by a table or a table being restored.
    pub(crate) fn name_taken(&self, name: &str) -> bool {
        self.tables.read().contains_key(name) || self.restoring.read().contains_key(name)
    }

    /// Creates a table. Fails with ResourceInUse when the name is taken.
    pub(crate) fn create_table(&self, spec: TableSpec) -> Result<TableMeta> {
        let meta = self.new_table_meta(spec)?;
        self.admit()?;
        let _ddl = self.ddl.lock();
        if self.name_taken(&meta.table_ref()) {
            return Err(StoreError::ResourceInUse(format!(
                "Table already exists: {}",
                meta.name
            )));
        }
        let table = Table::open(&self.fjall, &self.counts, meta.clone())?;
        self.save_meta(&meta)?;
        self.tables
            .write()
            .insert(meta.table_ref(), Arc::new(table));
        tracing::info!(table = %meta.name, region = %meta.region, id = %meta.id, "table created");
        Ok(meta)
    }

    /// The definition of a new table made from `spec` (checked), with a fresh id.
    pub(crate) fn new_table_meta(&self, spec: TableSpec) -> Result<TableMeta> {
        let mut meta = TableMeta::new(spec, self.sequencer.lock().last())?;
        let shards = self.stream_shards();
        for s in &mut meta.streams {
            s.shards = Some(shards);
        }
        Ok(meta)
    }

    /// Deletes a table and all its items.
    pub(crate) fn delete_table(&self, name: &str) -> Result<TableInfo> {
        self.admit()?;
        let _ddl = self.ddl.lock();
        if self.restoring.read().contains_key(name) {
            return Err(StoreError::ResourceInUse(format!(
                "Attempt to change a resource which is still in use: Table is being restored: {}",
                split_table_ref(name).1
            )));
        }
        let table = self.table(name)?;
        if table.meta.deletion_protection {
            return Err(StoreError::Validation(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.".into(),
            ));
        }
        let info = table.info();
        if table.meta.pitr.is_some() {
            // Its change log and bases stay for the recovery period (see backup::pitr).
            self.keep_deleted_history(&table.meta)?;
        }
        {
            // With the writers gate held no write is in flight: the enabled stream ends at the
            // last number handed out.
            let _writers = self.writers.write();
            let last_seq = self.sequencer.lock().last();
            let now = now_millis();
            let mut closed = table.meta.clone();
            for s in closed.streams.iter_mut().filter(|s| s.is_enabled()) {
                s.disabled_ms = Some(now);
                s.end_seq = Some(last_seq);
            }
            // The definition goes and, in the same atomic batch, the record that keeps the
            // table's streams readable for the retention period (as DynamoDB keeps them): a
            // crash leaves either the table or its kept streams, never both or neither.
            let mut batch = self.fjall.batch();
            batch.remove(&self.catalog, name);
            let kept = (!closed.streams.is_empty())
                .then(|| self.stage_deleted_streams(&mut batch, closed, now))
                .transpose()?;
            batch.commit().map_err(|e| self.commit.engine_error(e))?;
            self.sync()?;
            self.tables.write().remove(name);
            if let Some(kept) = kept {
                self.deleted_streams.write().push(Arc::new(kept));
            }
        }
        table.drop_data(&self.fjall, &self.counts)?;
        // Nothing reads them: a table created again under the name has another id.
        self.rows.forget_table(&table.meta.id);
        tracing::info!(table = %name, "table deleted");
        Ok(info)
    }

    /// Describes a table (or a table being restored).
    pub(crate) fn describe_table(&self, name: &str) -> Result<TableInfo> {
        match self.table(name) {
            Ok(table) => Ok(table.info()),
            Err(e) => self.restoring_table(name).ok_or(e),
        }
    }

    /// Table names in ascending order, starting after `exclusive_start`, at most `limit`.
    /// Returns the names and, when more remain, the last name returned.
    pub(crate) fn list_tables(
        &self,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        let mut names: Vec<String> = self.tables.read().keys().cloned().collect();
        names.extend(self.restoring.read().keys().cloned());
        names.sort();
        let start = match exclusive_start {
            Some(s) => names.partition_point(|n| n.as_str() <= s),
            None => 0,
        };
        let page: Vec<String> = names[start..].iter().take(limit).cloned().collect();
        let more = start + page.len() < names.len();
        let last = if more { page.last().cloned() } else { None };
        (page, last)
    }

    /// The names of `region`'s tables in ascending order, starting after `exclusive_start`,
    /// at most `limit`. Returns the names and, when more remain, the last name returned.
    pub(crate) fn list_tables_in(
        &self,
        region: &str,
        exclusive_start: Option<&str>,
        limit: usize,
    ) -> (Vec<String>, Option<String>) {
        let in_region = |r: &String| {
            let (rr, name) = split_table_ref(r);
            (rr == region).then(|| name.to_string())
        };
        let mut names: Vec<String> = self.tables.read().keys().filter_map(in_region).collect();
        names.extend(self.restoring.read().keys().filter_map(in_region));
        names.sort();
        let start = match exclusive_start {
            Some(s) => names.partition_point(|n| n.as_str() <= s),
            None => 0,
        };
        let page: Vec<String> = names[start..].iter().take(limit).cloned().collect();
        let more = start + page.len() < names.len();
        let last = if more { page.last().cloned() } else { None };
        (page, last)
    }

    /// Changes a table's billing, throughput, deletion protection or class.
    pub(crate) fn update_table(&self, name: &str, update: TableUpdate) -> Result<TableMeta> {
        let _ddl = self.ddl.lock();
        let table = self.table(name)?;
        let mut meta = table.meta.clone();
        let now = now_secs_f64();
        if let Some(mode) = update.billing_mode {
            if mode != meta.billing_mode {
                meta.billing_mode_updated_at = now;
            }
            meta.billing_mode = mode;
            if mode == BillingMode::PayPerRequest {
                meta.throughput = None;
            }
        }
        if let Some(t) = update.throughput {
            if let Some(old) = meta.throughput {
                if t.read > old.read || t.write > old.write {
                    meta.last_increase_at = Some(now);
                }
                if t.read < old.read || t.write < old.write {
                    meta.last_decrease_at = Some(now);
                    meta.decreases_today += 1;
                }
            }
            meta.throughput = Some(t);
        }
        validate_billing(meta.billing_mode, meta.throughput.as_ref())?;
        if let Some(p) = update.deletion_protection {
            meta.deletion_protection = p;
        }
        if let Some(c) = update.table_class {
            meta.table_class = Some(c);
        }
        match update.stream {
            None => self.replace_meta(meta),
            Some(change) => {
                // With the writers gate held no write is in flight, so no record lands between
                // the stream's start (or end) and the new definition taking effect.
                let _writers = self.writers.write();
                let last_seq = self.sequencer.lock().last();
                let enabled = meta.streams.iter_mut().find(|s| s.is_enabled());
                match (change, enabled) {
                    (StreamChange::Enable(_), Some(_)) => {
                        return Err(StoreError::Validation(format!(
                            "Table already has an enabled stream: TableName: {}",
                            split_table_ref(name).1
                        )))
                    }
                    (StreamChange::Disable, None) => {
                        return Err(StoreError::Validation(format!(
                            "Table has no stream to disable: TableName: {}",
                            split_table_ref(name).1
                        )))
                    }
                    (StreamChange::Enable(view), None) => {
                        let stream = StreamMeta::new(view, &meta.streams, last_seq)
                            .with_shards(self.stream_shards());
                        tracing::info!(table = %name, stream = %stream.id, "stream enabled");
                        meta.streams.push(stream);
                    }
                    (StreamChange::Disable, Some(stream)) => {
                        stream.disabled_ms = Some(now_millis());
                        stream.end_seq = Some(last_seq);
                        tracing::info!(table = %name, stream = %stream.id, "stream disabled");
                    }
                }
                self.install_meta(meta)
            }
        }
    }

    /// Saves a table's new definition and switches to it, waiting for in-flight writes (the
    /// writers gate): no write straddles the switch.
    pub(crate) fn replace_meta(&self, meta: TableMeta) -> Result<TableMeta> {
        let _writers = self.writers.write();
        self.install_meta(meta)
    }

    /// [`Store::replace_meta`] for a caller that holds the writers gate already.
    pub(crate) fn install_meta(&self, meta: TableMeta) -> Result<TableMeta> {
        self.save_meta(&meta)?;
        let table = Table::open(&self.fjall, &self.counts, meta.clone())?;
        self.tables
            .write()
            .insert(meta.table_ref(), Arc::new(table));
        Ok(meta)
    }

    /// Removes closed streams from a table's definition and drops their records.
    pub(crate) fn forget_streams(&self, name: &str, id: Uuid, streams: &[Uuid]) -> Result<()> {
        let _ddl = self.ddl.lock();
        let table = self.table(name)?;
        if table.meta.id != id {
            return Ok(());
        }
        let mut meta = table.meta.clone();
        meta.streams.retain(|s| !streams.contains(&s.id));
        self.replace_meta(meta)?;
        for s in streams {
            if let Some(log) = table.stream_logs.get(s) {
                self.fjall.delete_keyspace(log.clone())?;
            }
        }
        Ok(())
    }

    /// Adds or replaces tags on a table.
    pub(crate) fn tag_table(&self, name: &str, tags: BTreeMap<String, String>) -> Result<()> {
        let _ddl = self.ddl.lock();
        let table = self.table(name)?;
        let mut meta = table.meta.clone();
        meta.tags.extend(tags);
        if meta.tags.len() > 50 {
            return Err(StoreError::LimitExceeded(
                "The number of tags on the resource exceeds the limit of 50".into(),
            ));
        }
        self.replace_meta(meta).map(|_| ())
    }

    /// Removes tags from a table by key.
    pub(crate) fn untag_table(&self, name: &str, keys: &[String]) -> Result<()> {
        let _ddl = self.ddl.lock();
        let table = self.table(name)?;
        let mut meta = table.meta.clone();
        for k in keys {
            meta.tags.remove(k);
        }
        self.replace_meta(meta).map(|_| ())
    }

    /// The definition of a table.
    pub(crate) fn table_meta(&self, name: &str) -> Result<TableMeta> {
        Ok(self.table(name)?.meta.clone())
    }

    // ---- tables being restored ----

    /// The table `name` while it is being restored, with the items loaded so far.
    pub(crate) fn restoring_table(&self, name: &str) -> Option<TableInfo> {
        let r = self.restoring.read().get(name).cloned()?;
        Some(TableInfo {
            meta: r.meta.clone(),
            item_count: r.items.load(std::sync::atomic::Ordering::Relaxed),
            size_bytes: r.bytes.load(std::sync::atomic::Ordering::Relaxed),
            indexes: Vec::new(),
        })
    }

    // ---- deleted tables whose history is kept ----

    /// Keeps a deleted table's history (called by DeleteTable while its keyspaces go).
    fn keep_deleted_history(&self, meta: &TableMeta) -> Result<()> {
        let h = DeletedHistory {
            table: meta.clone(),
            deleted_at: now_micros() as f64 / 1e6,
        };
        let json = serde_json::to_vec(&h).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.put_state(&format!("{DELETED_RECORD}{}", meta.id.simple()), &json)
    }

    /// The deleted tables whose history is kept, with the keys of their records.
    pub(crate) fn deleted_histories(&self) -> Result<Vec<(String, DeletedHistory)>> {
        self.list_state_json(DELETED_RECORD, "point-in-time history")
    }

    /// The newest deleted table named `name` whose history is kept.
    pub(crate) fn deleted_history(&self, name: &str) -> Result<Option<DeletedHistory>> {
        Ok(self
            .deleted_histories()?
            .into_iter()
            .map(|(_, h)| h)
            .filter(|h| h.table.table_ref() == name)
            .max_by(|a, b| a.deleted_at.total_cmp(&b.deleted_at)))
    }
}
