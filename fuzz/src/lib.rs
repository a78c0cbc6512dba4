//! Code shared by tarn's fuzz targets.
//!
//! The DynamoDB JSON codec lives in the `tarn` crate, next to wasmtime; building all of that
//! with coverage instrumentation would take most of a CI run. The codec's two files depend on
//! nothing of the runtime but `tarn-store` (and each other, as siblings), so they are compiled
//! here directly.

#![allow(dead_code, missing_docs)]

/// `runtime/src/api/codec.rs`, compiled as it is.
#[path = "../../runtime/src/api/codec.rs"]
pub mod codec;
/// `runtime/src/api/error.rs`, compiled as it is.
#[path = "../../runtime/src/api/error.rs"]
pub mod error;

/// The codec under the path it has in `tarn`.
pub mod api {
    pub use super::{codec, error};
}
