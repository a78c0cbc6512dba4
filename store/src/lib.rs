//! tarn-store: DynamoDB's data model on an embedded fjall LSM store.
pub mod expr;
pub mod value;
pub use value::{AttributeValue, Item, Number, ValueType};

mod commit;
mod db;
mod encoding;
mod error;
pub mod key;
mod locks;
pub mod schema;
pub mod value;

pub use db::{
    Mutation, Page, PageRequest, SortCondition, Store, StoreOptions, TableInfo, TableUpdate,
    TransactAction, WriteOutcome, MAX_PAGE_BYTES,
};
pub use error::{CancellationReason, Result, StoreError};
pub use value::{AttributeValue, Item, Number, ValueType};
