//! The `tarn` binary: parses the command line, sets up logging and a tokio runtime, and runs
//! the subcommand (see `tarn::cli`).

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = tarn::cli::Cli::parse();
    tarn::logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(tarn::cli::run(cli))?;
    Ok(())
}
