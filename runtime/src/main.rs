//! The `tarn` binary.
//!
//! `serve` here runs the function server only (until the lead's `tarn serve` wires in
//! [`tarn::deploy::serve_app`] next to the DynamoDB API); the function subcommands live in
//! `cli/functions.rs`.

mod cli;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "tarn", version, about = "DynamoDB-compatible tables and WebAssembly functions")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// An app manifest to load.
        #[arg(long)]
        app: Option<PathBuf>,
        /// Rebuild and reload the app when its files change.
        #[arg(long)]
        watch: bool,
        /// Where function routes and the admin API listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        functions_listen: SocketAddr,
        /// The data directory.
        #[arg(long, default_value = "tarn-data")]
        data_dir: PathBuf,
        /// The admin token (default: generated into <data-dir>/admin-token).
        #[arg(long, env = "TARN_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
    },
    #[command(flatten)]
    Functions(cli::functions::FunctionsCommand),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,cranelift=warn,wasmtime=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve { app, watch, functions_listen, data_dir, admin_token } => {
                let api = tarn::api::Api::new(Arc::new(tarn_store::Store));
                let mut opts = tarn::deploy::ServeOptions::new(data_dir);
                opts.app = app;
                opts.watch = watch;
                opts.listen = functions_listen;
                opts.admin_token = admin_token;
                tarn::deploy::serve_app(api, opts, shutdown_signal()).await?;
                Ok(())
            }
            Command::Functions(cmd) => cli::functions::run(cmd).await,
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
