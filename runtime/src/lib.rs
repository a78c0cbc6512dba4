//! tarn: DynamoDB-compatible tables and WebAssembly functions in one binary.
pub mod api;
pub mod deploy;
pub mod host;
pub mod triggers;
