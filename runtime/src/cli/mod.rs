//! Command-line subcommands of the `tarn` binary.
pub mod functions;
