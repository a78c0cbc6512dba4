//! tarn-store: DynamoDB's data model on an embedded fjall LSM store.
//!
//! The store knows nothing of HTTP, wasm or DynamoDB JSON: the runtime maps wire formats to
//! these types at its edge.
//!
//! # Layers
//!
//! Modules are stacked; each uses only the layers below it, never one above (a module's
//! `use` lines and paths point down, and `scripts/check-cycles.py` checks there is no cycle):
//!
//! 1. **Foundations**, which know no table: `error` (the error type, [`StoreError`]), [`clock`] (the wall
//!    clock in the units tarn stores), [`value`] (items and attribute values with DynamoDB's
//!    rules), [`key`] (the order-preserving encoding of keys), [`expr`] (DynamoDB's expression
//!    language), [`crypto`] and `encoding` (item records, sealed at rest when a key is given),
//!    `runner` (the background threads a store owns, and their shutdown), and [`commit`] (the
//!    durability of writes: group commit, the durable view reads read through, the free-space
//!    reserve, the store's health).
//! 2. **Definitions**: [`schema`], the vocabulary every layer above shares: tables and keys,
//!    indexes, streams, TTL, PITR settings and restore summaries, with DynamoDB's rules for
//!    them, and regions (a table is named by its region and name: [`schema::region`]). It
//!    imports none of the machinery.
//! 3. **The database**: `db`, the open fjall database and what every request goes through: the
//!    catalog of tables, the item write path (lock, decide, one atomic batch, settle with group
//!    commit) and the read paths (GetItem, Query and Scan on tables and indexes; the row cache
//!    GetItem reads first). Inside it, the records a write derives from an item change (index
//!    entries, expiry entries, stream records, the point-in-time change log) are functions of
//!    keyspaces, definitions and a batch, below the write path that stages them.
//! 4. **Operations of a concern**, each a set of functions over the database (and the runner,
//!    when they start background work): [`index`] (UpdateTable's index changes, online
//!    builds), [`stream`] (reading and trimming streams), [`ttl`] (enabling TTL, the sweeper),
//!    [`backup`] (on-demand backups, point-in-time recovery, restores), [`stats`] (read-only
//!    figures for monitoring).
//! 5. **The facade**: [`Store`], whose methods delegate to the layers below; it owns the
//!    database and the runner, and starts the work a crash may have left when it opens.
//!
//! The types callers use most are re-exported here; each concern's module re-exports its
//! definitions, so `tarn_store::index::IndexSpec` and `tarn_store::schema::IndexSpec` name the
//! same type.

#![forbid(unsafe_code)]

pub mod backup;
pub mod clock;
pub mod commit;
pub mod crypto;
mod db;
mod encoding;
mod error;
pub mod expr;
pub mod index;
pub mod key;
mod runner;
pub mod schema;
pub mod stats;
mod store;
pub mod stream;
pub mod ttl;
pub mod value;

#[cfg(test)]
mod testutil;

pub use commit::{Durability, Health, StoreHealth};
pub use db::read::{Page, PageRequest, MAX_PAGE_BYTES};
pub use db::row_cache::SharedItem;
pub use db::write::{Decide, Mutation, TransactAction, WriteOutcome};
pub use db::{
    StoreOptions, DEFAULT_CACHE_BYTES, DEFAULT_ROW_CACHE_BYTES, DEFAULT_STREAM_SHARDS,
    MAX_STREAM_SHARDS,
};
pub use error::{CancellationReason, Result, StoreError};
pub use schema::{StreamChange, TableInfo, TableUpdate};
pub use store::Store;
pub use value::{AttributeValue, Item, Number, ValueType};

/// Configures the store's failpoints from the environment variable `FAILPOINTS` (the `fail`
/// crate's syntax: `name=action;name=action`, such as
/// `tarn_store::commit::fsync=3*off->return`) when the store is built with the `failpoints`
/// feature, and says whether it was; does nothing otherwise. For tests that run the server as
/// a process. The failpoints:
///
/// - `tarn_store::commit::before_sync`: before each journal sync (`pause` holds syncs open);
/// - `tarn_store::commit::fsync`: `return` makes the sync fail with EIO (`return(28)` with
///   the OS error 28, ENOSPC);
/// - `tarn_store::space::free_bytes`: `return(N)` makes the disk look as if N bytes were free;
/// - `tarn_store::transact::ongoing`: in a write transaction, once its items are marked ongoing
///   and before it locks them (`sleep(ms)` holds it open, so conflicts can be provoked).
pub fn failpoints_from_env() -> bool {
    #[cfg(feature = "failpoints")]
    {
        if std::env::var_os("FAILPOINTS").is_some() {
            // Keeps the configuration for the life of the process.
            std::mem::forget(fail::FailScenario::setup());
            return true;
        }
    }
    false
}

/// The plain item record codec, for the fuzz targets (`fuzz/`); not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::encoding::{decode_item, encode_item};
}
