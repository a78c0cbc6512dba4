//! tarn: DynamoDB-compatible tables and WebAssembly functions in one binary.
pub mod api;
pub mod cli;
pub mod logging;
pub mod server;
