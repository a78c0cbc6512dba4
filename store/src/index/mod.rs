//! Secondary indexes: their definitions (re-exported from [`crate::schema::index`]), the
//! changes UpdateTable makes to a table's global indexes, and the online build of an index
//! added to a table that holds data (`build`).
//!
//! Where the rest lives: an index's entries, kept in step with the items inside every write's
//! own batch, in the database's write path (`db::index_entries`); Query and Scan on an index
//! in its read path (`db::read`).
//!
//! A global secondary index created by UpdateTable starts CREATING. From the moment it is in
//! the catalog every write maintains it; a background job then walks the table and writes the
//! entries of the items already there (see `build`). When the walk ends the index becomes
//! ACTIVE. Deleting an index removes it from the catalog and drops its keyspace.

mod build;
#[cfg(test)]
mod multi_key_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::runner::Runner;
use crate::schema::index::{check_global_throughput, check_index_keys, invalid};
use crate::schema::{BillingMode, TableMeta};

pub use crate::db::index_entries::index_writes;
pub use crate::schema::index::{
    check_item, IndexInfo, IndexKind, IndexMeta, IndexProjection, IndexRead, IndexSpec,
    IndexStatus, IndexUpdate, MAX_GLOBAL_INDEXES, MAX_LOCAL_INDEXES,
};

pub(crate) use build::resume;

/// Applies one change to a table's global secondary indexes. Creating one adds it CREATING
/// and builds it in the background (on `runner`); deleting one drops it at once. Returns the
/// table's new definition and, for a deletion, the index that was removed.
pub(crate) fn update_global_index(
    db: &Arc<Db>,
    runner: &Runner,
    table: &str,
    update: IndexUpdate,
) -> Result<(TableMeta, Option<IndexMeta>)> {
    let _ddl = db.ddl.lock();
    let t = db.table(table)?;
    let mut meta = t.meta.clone();
    match update {
        IndexUpdate::Create {
            index,
            attribute_definitions,
        } => {
            let mut definitions = meta.attribute_definitions.clone();
            for d in attribute_definitions {
                match definitions.iter().find(|x| x.name == d.name) {
                    Some(x) if x.attr_type != d.attr_type => {
                        return invalid(format!(
                            "Cannot change the type of attribute {} in AttributeDefinitions: it is {} in the table",
                            d.name,
                            x.attr_type.as_str()
                        ))
                    }
                    Some(_) => {}
                    None => definitions.push(d),
                }
            }
            if index.kind != IndexKind::Global {
                return Err(StoreError::Validation(
                    "Local secondary indexes can only be created with the table (CreateTable)"
                        .into(),
                ));
            }
            check_index_keys(&index, &definitions)?;
            check_global_throughput(&index, meta.billing_mode)?;
            if meta.indexes.iter().any(|i| i.name == index.name) {
                return invalid(format!("Duplicate index name: {}", index.name));
            }
            let globals = meta
                .indexes
                .iter()
                .filter(|i| i.kind == IndexKind::Global)
                .count();
            if globals >= MAX_GLOBAL_INDEXES {
                return Err(StoreError::LimitExceeded(format!(
                    "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GLOBAL_INDEXES}"
                )));
            }
            meta.attribute_definitions = definitions;
            let ix = IndexMeta::new(index, IndexStatus::Creating, true);
            let (table_id, index_id) = (meta.id, ix.id);
            tracing::info!(table, index = %ix.name, "creating a global secondary index");
            meta.indexes.push(ix);
            db.replace_meta(meta.clone())?;
            build::spawn(db, runner, table.to_string(), table_id, index_id);
            Ok((meta, None))
        }
        IndexUpdate::Delete { name } => {
            let Some(pos) = meta.indexes.iter().position(|i| i.name == name) else {
                return Err(StoreError::ResourceNotFound(format!(
                    "Requested resource not found: Index: {name} not found"
                )));
            };
            if meta.indexes[pos].kind == IndexKind::Local {
                return Err(StoreError::Validation(format!(
                    "Local secondary index {name} cannot be deleted: local secondary indexes live as long as their table"
                )));
            }
            let removed = meta.indexes.remove(pos);
            let used: BTreeSet<&str> = meta
                .key_schema
                .attributes()
                .chain(meta.indexes.iter().flat_map(|i| i.key_schema.attributes()))
                .map(|a| a.name.as_str())
                .collect();
            let definitions = meta
                .attribute_definitions
                .iter()
                .filter(|d| used.contains(d.name.as_str()))
                .cloned()
                .collect();
            meta.attribute_definitions = definitions;
            db.replace_meta(meta.clone())?;
            if let Some(open) = t.indexes.iter().find(|i| i.meta.id == removed.id) {
                db.fjall.delete_keyspace(open.keyspace.clone())?;
                db.counts.forget(&open.meta.keyspace())?;
            }
            tracing::info!(table, index = %removed.name, "deleted a global secondary index");
            Ok((meta, Some(removed)))
        }
        IndexUpdate::Throughput { name, throughput } => {
            let Some(ix) = meta.indexes.iter_mut().find(|i| i.name == name) else {
                return Err(StoreError::ResourceNotFound(format!(
                    "Requested resource not found: Index: {name} not found"
                )));
            };
            if meta.billing_mode == BillingMode::PayPerRequest {
                return invalid(format!(
                    "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
                ));
            }
            if throughput.read == 0 || throughput.write == 0 {
                return invalid("Provisioned throughput values must be greater than 0");
            }
            ix.throughput = Some(throughput);
            let meta = db.replace_meta(meta)?;
            Ok((meta, None))
        }
    }
}
