//! tarn-store: DynamoDB's data model on an embedded fjall LSM store.
//!
//! - [`value`]: items and attribute values with DynamoDB's rules.
//! - [`key`]: the order-preserving encoding of primary keys.
//! - [`schema`]: table definitions and their validation.
//! - [`index`]: secondary indexes (definitions, entries, maintenance, reads, online builds).
//! - [`expr`]: DynamoDB's expression language (conditions, updates, projections, key conditions).
//! - [`Store`]: the database itself (tables, items, Query, Scan, atomic multi-item writes).
//! - [`clock`]: the wall clock in the units tarn stores.
//! - [`crypto`]: encryption at rest (AES-256-GCM, keys derived per table).
//! - [`stream`]: the log of item changes a table with a stream keeps (DynamoDB Streams).
//! - [`ttl`]: items that expire, and the sweeper that deletes them.
//! - [`backup`]: on-demand backups, point-in-time recovery and restores.
//! - [`Store::put_state`]: tarn's own durable bookkeeping (trigger checkpoints).
//!
//! The store knows nothing of HTTP, wasm or DynamoDB JSON: the runtime maps wire formats to
//! these types at its edge.

#![forbid(unsafe_code)]

pub mod backup;
pub mod clock;
mod commit;
pub mod crypto;
mod db;
mod encoding;
mod error;
pub mod expr;
pub mod index;
pub mod key;
mod locks;
pub mod schema;
mod state;
pub mod stream;
pub mod ttl;
pub mod value;

#[cfg(test)]
mod testutil;

pub use db::{
    Mutation, Page, PageRequest, Store, StoreOptions, StreamChange, TableInfo, TableUpdate,
    TransactAction, WriteOutcome, MAX_PAGE_BYTES,
};
pub use error::{CancellationReason, Result, StoreError};
pub use value::{AttributeValue, Item, Number, ValueType};

/// The plain item record codec, for the fuzz targets (`fuzz/`); not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::encoding::{decode_item, encode_item};
}
