//! `tarn serve`: open the store and serve the DynamoDB API until SIGINT or SIGTERM.
//!
//! ```text
//! tarn serve [--data-dir ./tarn-data] [--listen 127.0.0.1:8000] [--in-memory]
//!            [--credentials-file FILE] [--encrypt-key-file FILE]
//!            [--ttl-sweep-interval 1s] [--stream-retention 24h] [--export-root DIR]
//!            [--cache-size 256MiB] [--row-cache-size 64MiB] [--min-free-space 256MiB]
//!            [--no-request-metrics]
//!            [--engine URL [--engine-region R] [--node-id NAME] [--engine-credentials-file F]]
//! ```
//!
//! With `--engine` tarn is a node of a cluster ([`crate::cluster`]): the DynamoDB port forwards
//! every DynamoDB and Streams request to the engine (after its own signature check), the
//! functions' `tables` calls go there too, and deployments and schedule claims live there. The
//! node's own store is a scratch one in a temporary directory, holding nothing that matters;
//! `--data-dir` keeps only the admin token and the compiled-code cache.
//! The health checks report the engine's reachability, the console shows the engine's tables,
//! and `/metrics` counts the requests the node forwards (see [`crate::api::backend`]).
//!
//! `--cache-size` is the store's block cache (see [`tarn_store::StoreOptions::cache_bytes`]):
//! reads of a table larger than it find the blocks it does not hold on disk, or in the OS's
//! page cache.
//!
//! `--in-memory` keeps the data in a temporary directory that is removed on exit, and does not
//! sync the journal before acknowledging a write (the data does not outlive the process).
//!
//! `--export-root` is the directory S3 buckets of ExportTableToPointInTime and ImportTable map
//! to (bucket `b` is `DIR/b`; default `<data dir>/exports`); see [`crate::transfer`]. Export and
//! import jobs a previous run left unfinished are marked FAILED when the store opens.
//!
//! Credentials come from `--credentials-file` (one `ACCESS_KEY_ID:SECRET` per line, `#`
//! comments) and/or the `TARN_ACCESS_KEY_ID` + `TARN_SECRET_ACCESS_KEY` environment variables.
//! With any configured, every DynamoDB and Streams request must be SigV4-signed by one of them
//! ([`crate::server::sigv4`]) and tarn may listen on any address. Without credentials tarn
//! refuses to listen on anything but a loopback address (the DynamoDB API, the function server
//! and the admin API alike).
//!
//! `--encrypt-key-file` encrypts item values at rest with AES-256-GCM under keys derived per
//! table from the file's 32-byte key (raw, 64 hex digits or base64); see
//! [`tarn_store::crypto`]. A store encrypted once must always be opened with that key: a wrong
//! or missing key stops `tarn serve` at start with an error saying so.
//!
//! `--min-free-space` (default 256MiB, at least 16MiB) is the free-space reserve: while the
//! disk holding the data has less free, writes are refused with `DiskFullException` (HTTP 507),
//! reads go on, the health checks report the store degraded, and writes resume by themselves
//! once space is freed (see [`tarn_store::commit`]).
//!
//! If the store fails (a journal sync that failed, a storage engine that stopped), tarn logs
//! the reason and exits with status [`EXIT_STORE_FAILED`] (74) so that its supervisor restarts
//! it: every acknowledged write is on disk, and a failed sync is never retried in-process.
//!
//! On a signal the server stops accepting, finishes in-flight requests, then drops the store so
//! everything acknowledged is persisted. [`start`] / [`Running::run`] expose the same steps to
//! tests with their own shutdown future and an ephemeral port.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio::net::TcpListener;

use crate::api::Api;
use crate::maintenance::{self, Upkeep};
use crate::server::sigv4::{Credentials, CredentialsError, Verifier};
use crate::server::{self, DynamoDbService};

/// The exit status of `tarn serve` when its store failed (sysexits' EX_IOERR): a supervisor
/// should restart tarn, which then opens the store again.
pub const EXIT_STORE_FAILED: i32 = 74;

/// How often `tarn serve` looks whether its store failed.
const FAILURE_LOOK: Duration = Duration::from_millis(50);

/// Options of `tarn serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Directory holding the store (created if missing).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "./tarn-data",
        env = "TARN_DATA_DIR"
    )]
    pub data_dir: PathBuf,

    /// Address of the DynamoDB API (loopback only unless credentials are configured).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000", value_parser = parse_listen, env = "TARN_LISTEN")]
    pub listen: SocketAddr,

    /// Encrypt item values at rest with the 32-byte key in FILE (raw, 64 hex digits or base64).
    /// Only for a new store; an encrypted store always needs its key.
    #[arg(long, value_name = "FILE", env = "TARN_ENCRYPT_KEY_FILE")]
    pub encrypt_key_file: Option<PathBuf>,

    /// Access keys clients must sign with (SigV4): one `ACCESS_KEY_ID:SECRET` per line. Also
    /// read: $TARN_ACCESS_KEY_ID with $TARN_SECRET_ACCESS_KEY.
    #[arg(long, value_name = "FILE", env = "TARN_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,

    /// The region of requests that name none (unsigned requests), of functions' table calls
    /// and of the console. A signed request is in its credential scope's region; each region
    /// has its own tables, as in DynamoDB.
    #[arg(long, value_name = "REGION", default_value = "us-east-1", value_parser = parse_region, env = "TARN_REGION")]
    pub region: String,

    /// Keep the data in a temporary directory removed on exit (writes are not synced to disk).
    #[arg(long, conflicts_with = "data_dir")]
    pub in_memory: bool,

    /// How often expired items (TTL) are looked for and deleted ("1s", "500ms", "1m").
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, env = "TARN_TTL_SWEEP_INTERVAL")]
    pub ttl_sweep_interval: Duration,

    /// How long stream records are kept ("24h", the default, as DynamoDB; "90s", "7d").
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration, env = "TARN_STREAM_RETENTION")]
    pub stream_retention: Duration,

    /// Directory that exports' and imports' S3 buckets map to (bucket `b` is DIR/b); default
    /// <data-dir>/exports. A bucket given as file:///abs/path is that directory instead.
    #[arg(long, value_name = "DIR", env = "TARN_EXPORT_ROOT")]
    pub export_root: Option<PathBuf>,

    /// Memory for the block cache: blocks of table files (items, their index and filter
    /// blocks) kept in memory, shared by every table ("256MiB", the default; "1GiB", "64MB").
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size, env = "TARN_CACHE_SIZE")]
    pub cache_size: u64,
    /// Memory for the row cache: items GetItem and BatchGetItem read recently, served again
    /// without reading the table files ("64MiB", the default; "0" turns it off).
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size, env = "TARN_ROW_CACHE_SIZE")]
    pub row_cache_size: u64,
    /// Refuse writes while the disk holding the data has less than this free ("256MiB",
    /// "1GiB", "500MB"; at least 16MiB). Reads go on; writes resume once space is freed.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size, env = "TARN_MIN_FREE_SPACE")]
    pub min_free_space: u64,
    /// Shards a new table stream's records are split into, by partition-key hash (1 to 1024;
    /// 4, the default, is what DynamoDB gives a new small table). Streams made earlier keep
    /// theirs.
    #[arg(long, value_name = "N", default_value_t = tarn_store::DEFAULT_STREAM_SHARDS,
          value_parser = clap::value_parser!(u16).range(1..=tarn_store::MAX_STREAM_SHARDS as i64),
          env = "TARN_STREAM_SHARDS")]
    pub stream_shards: u16,

    /// Do not record DynamoDB requests in the metrics (request counts, latencies, consumed
    /// capacity on /metrics and the console stay empty): for measuring what recording costs.
    #[arg(long)]
    pub no_request_metrics: bool,

    /// Most client connections open at once, per listener.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Seconds after which a connection with nothing in flight and no traffic is closed.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,

    /// The function server (routes and admin API).
    #[command(flatten)]
    pub functions: crate::cli::functions::FunctionServeArgs,

    /// Cluster mode: the remote engine and what nodes share in it.
    #[command(flatten)]
    pub cluster: crate::cluster::ClusterArgs,
}

/// Why `tarn serve` could not start or stopped with an error. The underlying error is the
/// [`std::error::Error::source`]; print with `{:#}` (anyhow) to see the chain.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `--listen` is not a loopback address and no credentials are configured.
    #[error(
        "refusing to listen on {0}: no credentials are configured, so tarn serves loopback addresses only \
         (127.0.0.1, ::1); use --listen 127.0.0.1:{port}, or configure credentials \
         (--credentials-file, or TARN_ACCESS_KEY_ID and TARN_SECRET_ACCESS_KEY)",
        port = .0.port()
    )]
    NotLoopback(SocketAddr),
    /// The credentials could not be loaded.
    #[error("credentials")]
    Credentials(#[source] CredentialsError),
    /// The data directory could not be created.
    #[error("cannot use data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error("cannot open the store in {path}")]
    Store {
        /// The data directory.
        path: PathBuf,
        /// The failure.
        #[source]
        source: tarn_store::StoreError,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server error")]
    Serve(#[source] std::io::Error),
    /// The function server failed.
    #[error("function server: {0}")]
    Functions(#[from] crate::cli::functions::FunctionsCliError),
    /// The console could not be set up.
    #[error(transparent)]
    Console(#[from] crate::console::ConsoleError),
    /// Cluster mode: the engine could not be reached or set up.
    #[error("cluster")]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// Parses `--listen`: a socket address (`127.0.0.1:8000`, `[::1]:8000`) or `localhost:PORT`.
fn parse_region(s: &str) -> Result<String, String> {
    if tarn_store::schema::region::is_valid_region(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a region name (lowercase letters, digits and dashes, such as us-east-1)"
        ))
    }
}

fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| format!("invalid port in {s:?}"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse()
        .map_err(|_| format!("{s:?} is not an address like 127.0.0.1:8000"))
}

/// Parses a duration written for people: `500ms`, `1s`, `24h`, `7d`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e} (try 1s, 500ms, 24h)"))?;
    if d.is_zero() {
        return Err(format!("{s:?}: must be more than zero"));
    }
    Ok(d)
}

/// Parses a size written for people: `256MiB`, `1GiB`, `500MB`, `1048576`.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("{s:?}: {e} (try 256MiB, 1GiB, 500MB)"))
}

/// A bound, ready server: the store is open and the listener accepts connections.
pub struct Running {
    listener: TcpListener,
    local_addr: SocketAddr,
    api: Api,
    verifier: Option<Arc<Verifier>>,
    limits: server::ConnectionLimits,
    data_dir: PathBuf,
    upkeep: Upkeep,
    /// Removed after the store is dropped (`--in-memory`); see [`Running::take_temp_dir`].
    temp_dir: Option<tempfile::TempDir>,
    /// Cluster mode: the engine and what the nodes share.
    cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl Running {
    /// The address the DynamoDB API listens on (the real port when `--listen` used port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The data directory in use.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The API the server answers with.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The cluster this server is a node of (`--engine`).
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.cluster.as_ref()
    }

    /// What each listener allows a client.
    pub fn limits(&self) -> server::ConnectionLimits {
        self.limits
    }

    /// Whether requests must be signed (credentials are configured); also what allows
    /// non-loopback addresses.
    pub fn authenticated(&self) -> bool {
        self.verifier.is_some()
    }

    /// Serves until `shutdown` completes, finishes in-flight requests, then closes the store
    /// (and removes the temporary directory of `--in-memory`).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Running {
            listener,
            api,
            verifier,
            limits,
            temp_dir,
            upkeep,
            ..
        } = self;
        // The store's own upkeep; the tables' sizes for the metrics, through the seam.
        let store = api.store().clone();
        let metrics = api.metrics().clone();
        let tables = crate::api::backend::Tables::of(&api);
        // On a cluster node the port is a proxy in front of the engine the tables' seam holds:
        // a client's request goes there byte for byte (`TableBackend::on_arrival`).
        let mut service = DynamoDbService::new(api);
        if let Some(v) = verifier {
            service = service.with_verifier(v);
        }
        let service = Arc::new(service);
        // Upkeep (TTL sweeps, stream trimming) runs as long as the server does.
        let (stop_upkeep, upkeep_stopped) = tokio::sync::oneshot::channel::<()>();
        let upkeep = tokio::spawn(maintenance::run(store, metrics.clone(), upkeep, async {
            let _ = upkeep_stopped.await;
        }));
        // The metrics history closes a step every ten seconds as long as the server runs.
        let (stop_sampler, sampler_stopped) = tokio::sync::oneshot::channel::<()>();
        let sizes = move || {
            let tables = tables.clone();
            async move { tables.sizes().await }
        };
        let sampler = tokio::spawn(crate::metrics::run_sampler(metrics, sizes, async {
            let _ = sampler_stopped.await;
        }));
        let served =
            server::serve_with(listener, service, limits, shutdown, server::SHUTDOWN_GRACE).await;
        let _ = stop_upkeep.send(());
        let _ = stop_sampler.send(());
        let _ = upkeep.await;
        let _ = sampler.await;
        // `serve` has waited for the connections and dropped its handle on the store; the store
        // closes when the last handle (the function server's, if any) is dropped, and only then
        // may its directory go.
        drop(temp_dir);
        served.map_err(ServeError::Serve)
    }

    /// Takes the temporary data directory (`--in-memory`) out, so the caller removes it after
    /// every other holder of the store has finished.
    pub fn take_temp_dir(&mut self) -> Option<tempfile::TempDir> {
        self.temp_dir.take()
    }
}

/// The configured credentials: `--credentials-file` plus the environment pair. None when there
/// are none.
pub fn load_credentials(file: Option<&std::path::Path>) -> Result<Option<Credentials>, ServeError> {
    let mut creds = match file {
        Some(path) => Credentials::from_file(path).map_err(ServeError::Credentials)?,
        None => Credentials::new(),
    };
    creds.add_env().map_err(ServeError::Credentials)?;
    Ok((!creds.is_empty()).then_some(creds))
}

/// Binds the listener and opens the store, refusing a non-loopback address unless credentials
/// are configured.
pub async fn start(args: ServeArgs) -> Result<Running, ServeError> {
    let credentials = load_credentials(args.credentials_file.as_deref())?;
    if credentials.is_none() && !args.listen.ip().is_loopback() {
        return Err(ServeError::NotLoopback(args.listen));
    }
    if let Some(c) = &credentials {
        tracing::info!(
            keys = c.len(),
            "SigV4 authentication on: requests must be signed"
        );
    }
    let verifier = credentials.map(|c| Arc::new(Verifier::new(c)));
    let limits = server::ConnectionLimits {
        max_connections: args.max_connections as usize,
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
        header_read_timeout: std::time::Duration::from_secs(args.idle_timeout.min(30)),
        ..Default::default()
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: args.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: args.listen,
        source,
    })?;
    let (data_dir, temp_dir) = if args.in_memory {
        let dir = tempfile::Builder::new()
            .prefix("tarn-")
            .tempdir()
            .map_err(|source| ServeError::DataDir {
                path: std::env::temp_dir(),
                source,
            })?;
        (dir.path().to_path_buf(), Some(dir))
    } else {
        std::fs::create_dir_all(&args.data_dir).map_err(|source| ServeError::DataDir {
            path: args.data_dir.clone(),
            source,
        })?;
        (args.data_dir.clone(), None)
    };
    let cluster = crate::cluster::Cluster::join(&args.cluster).await?;
    // A cluster node's own store is scratch: its tables are the engine's.
    let (store_dir, temp_dir) = match (&cluster, temp_dir) {
        (Some(_), None) => {
            let dir = tempfile::Builder::new()
                .prefix("tarn-scratch-")
                .tempdir()
                .map_err(|source| ServeError::DataDir {
                    path: std::env::temp_dir(),
                    source,
                })?;
            (dir.path().to_path_buf(), Some(dir))
        }
        (_, temp_dir) => (data_dir.clone(), temp_dir),
    };
    let store_error = |source| ServeError::Store {
        path: store_dir.clone(),
        source,
    };
    let encryption_key = args
        .encrypt_key_file
        .as_deref()
        .map(tarn_store::crypto::EncryptionKey::from_file)
        .transpose()
        .map_err(store_error)?;
    // An --in-memory store is deleted on exit, so syncing its journal would buy nothing: writes
    // are acknowledged once they are in the journal's OS buffers.
    if args.min_free_space < tarn_store::commit::MIN_FREE_SPACE_FLOOR {
        tracing::warn!(
            given = args.min_free_space,
            floor = tarn_store::commit::MIN_FREE_SPACE_FLOOR,
            "--min-free-space is below the floor the store needs; using the floor"
        );
    }
    let options = tarn_store::StoreOptions {
        sync_writes: !args.in_memory && cluster.is_none(),
        encryption_key,
        cache_bytes: args.cache_size,
        min_free_space: args.min_free_space,
        stream_shards: args.stream_shards,
        row_cache_bytes: args.row_cache_size,
    };
    let store = tarn_store::Store::open_with(&store_dir, options).map_err(store_error)?;
    // Jobs still marked running were stopped with the previous process.
    if let Err(e) = crate::transfer::jobs::fail_interrupted(&store) {
        tracing::warn!(error = %e, "cannot mark interrupted export and import jobs as failed");
    }
    let mut api = Api::new(Arc::new(store)).with_region(&args.region);
    api.metrics()
        .set_request_recording(!args.no_request_metrics);
    if let Some(c) = &cluster {
        api = api.with_engine(c.engine().clone());
    }
    if let Some(root) = &args.export_root {
        let root = std::path::absolute(root).map_err(|source| ServeError::DataDir {
            path: root.clone(),
            source,
        })?;
        api = api.with_export_root(root);
    }
    Ok(Running {
        listener,
        local_addr,
        api,
        verifier,
        limits,
        data_dir,
        upkeep: Upkeep {
            interval: args.ttl_sweep_interval,
            stream_retention: args.stream_retention,
        },
        temp_dir,
        cluster,
    })
}

/// `tarn serve`: start, announce, serve until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    let in_memory = args.in_memory;
    let mut functions_args = args.functions.clone();
    if tarn_store::failpoints_from_env() {
        tracing::warn!("failpoints from $FAILPOINTS are active: this build injects faults");
    }
    let mut running = start(args).await?;
    tokio::spawn(exit_on_store_failure(running.api().store().health_handle()));
    let temp_dir = running.take_temp_dir();
    functions_args.cluster = running.cluster().cloned();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        address = %running.local_addr(),
        data_dir = %running.data_dir().display(),
        in_memory,
        "listening: DynamoDB API on http://{}",
        running.local_addr()
    );
    // One signal stops both servers; each finishes its in-flight requests.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // The console, on the admin port: its one-time sign-in link goes to stdout (never to the
    // logs) once that port listens.
    let console = crate::console::Console::new(Some(running.local_addr().to_string()))?
        .announce_with(Box::new(|url| {
            let _ = crate::cli::output::out!("tarn console: {url}");
        }));
    let functions = crate::cli::functions::serve_functions(
        running.api().clone(),
        running.data_dir().to_path_buf(),
        functions_args,
        running.authenticated(),
        running.limits(),
        Some(Arc::new(console)),
        stopped(stop_rx.clone()),
    );
    let failed = stopped(stop_rx.clone());
    let signal = async {
        tokio::select! {
            () = shutdown_signal() => {
                // A second signal while in-flight requests finish: stop now. Acknowledged
                // writes are already in the store's synced journal.
                tokio::spawn(async {
                    shutdown_signal().await;
                    tracing::warn!("second signal: exiting without waiting for in-flight requests");
                    std::process::exit(130);
                });
            }
            () = failed => {}
        }
        stop_tx.send_replace(true);
    };
    let functions = async {
        let r = functions.await;
        // A function server that cannot start stops tarn.
        stop_tx.send_replace(true);
        r
    };
    let (_, dynamodb, functions) = tokio::join!(signal, running.run(stopped(stop_rx)), functions);
    // Both servers are done and have dropped their handles on the store: it is closed, and an
    // in-memory data directory can go.
    drop(temp_dir);
    dynamodb?;
    functions?;
    tracing::info!("tarn stopped");
    Ok(())
}

/// Exits the process with [`EXIT_STORE_FAILED`] as soon as the store fails. Nothing is
/// dropped on the way out: closing the store would sync its journal again, and a failed sync
/// is never retried.
async fn exit_on_store_failure(health: tarn_store::StoreHealth) {
    let mut tick = tokio::time::interval(FAILURE_LOOK);
    loop {
        tick.tick().await;
        if let tarn_store::Health::Failed { reason } = health.get() {
            tracing::error!(
                %reason,
                status = EXIT_STORE_FAILED,
                "the store failed: exiting so that a supervisor restarts tarn (every acknowledged write is on disk)"
            );
            std::process::exit(EXIT_STORE_FAILED);
        }
    }
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    #[allow(irrefutable_let_patterns)]
    fn serve_args(argv: &[&str]) -> ServeArgs {
        let mut full = vec!["tarn", "serve"];
        full.extend_from_slice(argv);
        let Command::Serve(a) = Cli::try_parse_from(full).unwrap().command else {
            panic!("not serve")
        };
        a
    }

    #[test]
    fn defaults() {
        let a = serve_args(&[]);
        assert_eq!(a.listen, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(a.data_dir, PathBuf::from("./tarn-data"));
        assert!(!a.in_memory);
        assert!(!a.no_request_metrics);
        assert!(serve_args(&["--no-request-metrics"]).no_request_metrics);
        assert_eq!(a.ttl_sweep_interval, Duration::from_secs(1));
        assert_eq!(a.stream_retention, Duration::from_secs(86_400));
        assert_eq!(a.min_free_space, 256 << 20);
        assert_eq!(
            serve_args(&["--min-free-space", "1GiB"]).min_free_space,
            1 << 30
        );
        assert_eq!(
            serve_args(&["--min-free-space", "500MB"]).min_free_space,
            500_000_000
        );
        assert!(Cli::try_parse_from(["tarn", "serve", "--min-free-space", "lots"]).is_err());
        let a = serve_args(&["--stream-retention", "90s", "--ttl-sweep-interval", "250ms"]);
        assert_eq!(a.stream_retention, Duration::from_secs(90));
        assert_eq!(a.ttl_sweep_interval, Duration::from_millis(250));
        assert!(Cli::try_parse_from(["tarn", "serve", "--stream-retention", "0s"]).is_err());
        assert!(Cli::try_parse_from(["tarn", "serve", "--ttl-sweep-interval", "soon"]).is_err());
        let a = serve_args(&["--listen", "localhost:9000", "--in-memory"]);
        assert_eq!(a.listen, "127.0.0.1:9000".parse().unwrap());
        assert!(a.in_memory);
        assert_eq!(
            serve_args(&["--listen", "[::1]:1"]).listen,
            "[::1]:1".parse().unwrap()
        );
        assert!(Cli::try_parse_from(["tarn", "serve", "--in-memory", "--data-dir", "x"]).is_err());
        assert_eq!(a.cache_size, tarn_store::DEFAULT_CACHE_BYTES);
        assert_eq!(a.row_cache_size, tarn_store::DEFAULT_ROW_CACHE_BYTES);
        assert_eq!(serve_args(&["--row-cache-size", "0"]).row_cache_size, 0);
        assert_eq!(a.stream_shards, 4);
        assert_eq!(serve_args(&["--stream-shards", "16"]).stream_shards, 16);
        for bad in ["0", "1025", "x"] {
            assert!(Cli::try_parse_from(["tarn", "serve", "--stream-shards", bad]).is_err());
        }
        assert_eq!(
            serve_args(&["--cache-size", "1GiB"]).cache_size,
            1024 * 1024 * 1024
        );
        assert_eq!(serve_args(&["--cache-size", "64MB"]).cache_size, 64_000_000);
        assert!(Cli::try_parse_from(["tarn", "serve", "--cache-size", "lots"]).is_err());
        assert!(Cli::try_parse_from(["tarn", "serve", "--listen", "nowhere"]).is_err());
    }

    #[tokio::test]
    async fn refuses_non_loopback() {
        let a = serve_args(&["--listen", "0.0.0.0:8000", "--in-memory"]);
        let e = start(a).await.err().expect("refused");
        assert!(matches!(e, ServeError::NotLoopback(_)));
        assert!(e.to_string().contains("loopback"), "{e}");
    }
}
