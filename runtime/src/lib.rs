//! tarn: DynamoDB-compatible tables and WebAssembly functions in one binary.
pub mod api;
pub mod cli;
pub mod cluster;
pub mod console;
pub mod deploy;
pub mod engine;
pub mod host;
pub mod logging;
pub mod maintenance;
pub mod metrics;
pub mod server;
pub mod signing;
pub mod transfer;
pub mod triggers;
