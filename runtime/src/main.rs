//! The `tarn` binary: parses the command line, sets up logging and a tokio runtime, and runs
//! the subcommand (see `tarn::cli`). Failures print one `error: ...` line (with causes, through
//! `tarn::cli::output`, like every line the CLI prints) and exit with status 1.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

fn main() -> ExitCode {
    let cli = tarn::cli::Cli::parse();
    tarn::logging::init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tarn::cli::output::status(format_args!("error: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: tarn::cli::Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(tarn::cli::run(cli))?;
    Ok(())
}
