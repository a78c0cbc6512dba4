//! The `tarn` binary: parses the command line, sets up logging and a tokio runtime, and runs
//! the subcommand (see `tarn::cli`). Failures print one `error: ...` line (with causes, through
//! `tarn::cli::output`, like every line the CLI prints) and exit with status 1.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

/// mimalloc rather than the system allocator: a request allocates and frees a few dozen small
/// buffers (the request body, its JSON tree, the item, the answer), and glibc's malloc and free
/// showed in the server's profile (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    quiet_library_backtraces();
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

/// `RUST_BACKTRACE=1` also makes every error a library creates capture a backtrace, and
/// wasmtime creates one in the normal course of dropping each invocation's store (it ends the
/// store's idle worker fiber with an error): a stack walk per request. Panics keep their
/// backtraces (they follow `RUST_BACKTRACE`); library errors capture one only when
/// `RUST_LIB_BACKTRACE` asks for it. Called first thing, before any thread starts.
fn quiet_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
}
