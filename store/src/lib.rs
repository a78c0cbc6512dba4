//! tarn-store: DynamoDB's data model on an embedded fjall LSM store.
pub mod expr;
pub mod value;
pub use value::{AttributeValue, Item, Number, ValueType};

/// The database (placeholder until the engine lands).
pub struct Store;
