//! DynamoDB operations: one handler per operation, each decoding its request (through the
//! `tarn-wire` crate), calling the store, and encoding the answer. Handlers are synchronous: the
//! store blocks on disk, so [`super::Api::call`] runs them on tokio's blocking pool.
//!
//! A module per family of operations (tables, items, read, batch, transact, partiql, ttl,
//! backups, streams, indexes, exports, imports), and beside them what several families share: [`arn`]
//! (table ARNs), [`schema`] (AttributeDefinitions, KeySchema, ProvisionedThroughput),
//! [`expressions`], [`capacity`], and [`jobs`] (what exports and imports share). The shared
//! modules import no family, so the families form no cycle. [`partiql`] sits above the item,
//! read and transaction families: it runs each statement through their handlers.

pub(crate) mod arn;
pub(crate) mod backups;
pub(crate) mod batch;
pub(crate) mod capacity;
pub(crate) mod exports;
pub(crate) mod expressions;
pub(crate) mod imports;
pub(crate) mod indexes;
pub(crate) mod items;
pub(crate) mod jobs;
pub(crate) mod partiql;
pub(crate) mod read;
pub(crate) mod schema;
pub(crate) mod streams;
pub(crate) mod tables;
pub(crate) mod transact;
pub(crate) mod ttl;

use serde_json::Value;

use super::{Api, ApiError};

/// A handler: the API, the request body; the response body or an error.
pub(crate) type Handler = fn(&Api, &Value) -> Result<Value, ApiError>;

/// A handler that answers with the response body's bytes, written without a JSON tree.
pub(crate) type BytesHandler = fn(&Api, &Value) -> Result<Vec<u8>, ApiError>;

/// The bytes handler of the operations that have one (the hot paths of the HTTP server):
/// it answers exactly the bytes the operation's [`handler`]'s JSON serializes to.
pub(crate) fn bytes_handler(operation: &str) -> Option<BytesHandler> {
    Some(match operation {
        "GetItem" => items::get_item_bytes,
        _ => return None,
    })
}

/// A handler for the common shape of an operation's request, decoded straight from the body's
/// bytes (no JSON tree): `None` for a body in any other shape, which the operation's
/// [`BytesHandler`] then takes (it answers what this one would have, and words the errors).
pub(crate) type RawHandler = for<'a> fn(&Api, &'a [u8]) -> Option<items::RawAnswer<'a>>;

/// The raw handler of the operations that have one (GetItem, the HTTP server's hottest path).
pub(crate) fn raw_handler(operation: &str) -> Option<RawHandler> {
    Some(match operation {
        "GetItem" => items::get_item_raw,
        _ => return None,
    })
}

/// The handler for a DynamoDB operation name, if tarn implements it.
pub(crate) fn handler(operation: &str) -> Option<Handler> {
    dispatch(operation)
}

/// Declares the operations tarn serves, once: `dispatch` (operation name to handler) and
/// [`OPERATIONS`] (every name, for the compatibility page's test) come from one table.
macro_rules! operations {
    ($($name:literal => $handler:expr,)*) => {
        /// Every operation name tarn serves, as `X-Amz-Target` names it (the Streams API's
        /// with their `Streams.` prefix).
        #[cfg(test)]
        pub(crate) const OPERATIONS: &[&str] = &[$($name),*];

        fn dispatch(operation: &str) -> Option<Handler> {
            Some(match operation {
                $($name => $handler,)*
                _ => return None,
            })
        }
    };
}

operations! {
    "CreateTable" => tables::create_table,
    "DeleteTable" => tables::delete_table,
    "DescribeTable" => tables::describe_table,
    "ListTables" => tables::list_tables,
    "UpdateTable" => tables::update_table,
    "TagResource" => tables::tag_resource,
    "UntagResource" => tables::untag_resource,
    "ListTagsOfResource" => tables::list_tags_of_resource,
    "DescribeLimits" => tables::describe_limits,
    "DescribeEndpoints" => tables::describe_endpoints,
    "PutItem" => items::put_item,
    "GetItem" => items::get_item,
    "DeleteItem" => items::delete_item,
    "UpdateItem" => items::update_item,
    "Query" => read::query,
    "Scan" => read::scan,
    "BatchGetItem" => batch::batch_get_item,
    "BatchWriteItem" => batch::batch_write_item,
    "TransactWriteItems" => transact::transact_write_items,
    "TransactGetItems" => transact::transact_get_items,
    "ExecuteStatement" => partiql::execute_statement,
    "BatchExecuteStatement" => partiql::batch_execute_statement,
    "ExecuteTransaction" => partiql::execute_transaction,
    "UpdateTimeToLive" => ttl::update_time_to_live,
    "DescribeTimeToLive" => ttl::describe_time_to_live,
    "CreateBackup" => backups::create_backup,
    "DescribeBackup" => backups::describe_backup,
    "ListBackups" => backups::list_backups,
    "DeleteBackup" => backups::delete_backup,
    "RestoreTableFromBackup" => backups::restore_table_from_backup,
    "UpdateContinuousBackups" => backups::update_continuous_backups,
    "DescribeContinuousBackups" => backups::describe_continuous_backups,
    "RestoreTableToPointInTime" => backups::restore_table_to_point_in_time,
    "ExportTableToPointInTime" => exports::export_table_to_point_in_time,
    "DescribeExport" => jobs::describe::<exports::Exports>,
    "ListExports" => exports::list_exports,
    "ImportTable" => imports::import_table,
    "DescribeImport" => jobs::describe::<imports::Imports>,
    "ListImports" => imports::list_imports,
    "Streams.ListStreams" => streams::list_streams,
    "Streams.DescribeStream" => streams::describe_stream,
    "Streams.GetShardIterator" => streams::get_shard_iterator,
    "Streams.GetRecords" => streams::get_records,
}

#[cfg(test)]
mod tests {
    use super::{handler, OPERATIONS};

    /// docs/compatibility.md lists every operation tarn serves: adding one to the table above
    /// without its line there fails here.
    #[test]
    fn the_compatibility_page_lists_every_operation() {
        let page = include_str!("../../../../docs/compatibility.md");
        for op in OPERATIONS {
            assert!(handler(op).is_some(), "{op}");
            let name = op.trim_start_matches("Streams.");
            assert!(
                page.lines()
                    .any(|l| l.starts_with('|') && l.contains(&format!("`{name}`"))),
                "docs/compatibility.md has no table row for {op}"
            );
        }
        assert!(handler("NoSuchOperation").is_none());
    }
}
