//! tarn: DynamoDB-compatible tables and WebAssembly functions in one binary.
pub mod api;
