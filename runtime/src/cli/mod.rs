//! The `tarn` command line: clap definitions and dispatch to one module per subcommand.
//!
//! Each subcommand lives in `cli/<name>.rs` with an `Args` struct (clap derive) and an async
//! `run(args)`; add a variant to [`Command`] and an arm to [`run`] for a new one. Commands print
//! through [`output`] only (`out!` for output, `note!` for status), never `println!`; its error
//! goes into the command's own error enum, and a closed stdout ends the command with success.

pub mod backup;
pub mod client;
pub mod functions;
pub mod new;
pub mod output;
pub mod serve;
pub mod transfer;

use clap::{Parser, Subcommand};

/// tarn: DynamoDB-compatible tables and WebAssembly functions in one binary.
#[derive(Debug, Parser)]
#[command(name = "tarn", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// `Serve` carries every option of `tarn serve`: the enum is built once per process, so its
// size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the DynamoDB API over an embedded store, and the function server.
    Serve(serve::ServeArgs),
    /// Export a table of a running server to a directory (DynamoDB's S3 export layout).
    Export(transfer::ExportArgs),
    /// Import a directory or file (DynamoDB JSON or CSV) into a new table of a running server.
    Import(transfer::ImportArgs),
    /// Scaffold a new app from a template (`tarn new --list` shows them).
    New(new::NewArgs),
    /// Functions: build, deploy, rollback, invoke, logs, list.
    #[command(flatten)]
    Functions(functions::FunctionsCommand),
    /// On-demand backups of a running server's tables: create, list, restore, delete.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Point-in-time recovery: enable, disable, status, restore.
    #[command(subcommand)]
    Pitr(backup::PitrCommand),
}

/// Why a subcommand failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `tarn serve` failed.
    #[error(transparent)]
    Serve(#[from] serve::ServeError),
    /// A functions subcommand failed.
    #[error(transparent)]
    Functions(#[from] functions::FunctionsCliError),
    /// A backup or pitr subcommand failed.
    #[error(transparent)]
    Backup(#[from] backup::BackupCliError),
    /// `tarn new` failed.
    #[error(transparent)]
    New(#[from] new::NewError),
    /// `tarn export` or `tarn import` failed.
    #[error(transparent)]
    Transfer(#[from] transfer::TransferCliError),
}

impl CliError {
    /// Whether the command stopped because its stdout was closed (`tarn ... | head -1`).
    pub fn is_stdout_closed(&self) -> bool {
        use output::OutputError::Closed;
        matches!(
            self,
            CliError::Functions(functions::FunctionsCliError::Output(Closed))
                | CliError::Backup(backup::BackupCliError::Output(Closed))
                | CliError::Transfer(transfer::TransferCliError::Output(Closed))
                | CliError::New(new::NewError::Output(Closed))
        )
    }
}

/// Runs the parsed command line to completion. A command whose stdout was closed under it
/// stops there and succeeds, as `ls | head -1` does.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match dispatch(cli).await {
        Err(e) if e.is_stdout_closed() => Ok(()),
        other => other,
    }
}

async fn dispatch(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await?,
        Command::New(args) => new::run(args)?,
        Command::Export(args) => transfer::export(args).await?,
        Command::Import(args) => transfer::import(args).await?,
        Command::Functions(cmd) => functions::run(cmd).await?,
        Command::Backup(cmd) => backup::run_backup(cmd).await?,
        Command::Pitr(cmd) => backup::run_pitr(cmd).await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
