//! CLI subcommands for functions: `tarn build`, `deploy`, `rollback`, `invoke`, `logs`,
//! `functions list` / `functions versions`, `status`, `console` (a new one-time sign-in link to
//! the console), and the function-server options of `tarn serve`
//! ([`FunctionServeArgs`], [`serve_functions`]). Everything but `build` talks to a running
//! server's admin API (`/_tarn/...` on the admin port, 127.0.0.1:8081 by default).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::output::{note, out, OutputError};
use crate::api::Api;
use crate::deploy::{self, build, DeployError};

/// Why a functions subcommand failed.
#[derive(Debug, thiserror::Error)]
pub enum FunctionsCliError {
    /// Building, bundling or serving the app failed.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// The manifest is wrong.
    #[error(transparent)]
    Manifest(#[from] crate::deploy::manifest::ManifestError),
    /// Talking to the server failed.
    #[error("{0}")]
    Client(String),
    /// The server answered with an error.
    #[error("server answered {status}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The error it gave.
        message: String,
    },
    /// The output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// `tarn invoke`: the function failed (its answer was printed).
    #[error("the invocation failed")]
    InvocationFailed,
    /// `--functions-listen` or `--admin-listen` is not a loopback address.
    #[error(
        "refusing to serve functions on {0}: without credentials tarn listens on loopback only \
         (configure --credentials-file, or TARN_ACCESS_KEY_ID and TARN_SECRET_ACCESS_KEY)"
    )]
    NotLoopback(SocketAddr),
}

type Result<T, E = FunctionsCliError> = std::result::Result<T, E>;

fn client<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> FunctionsCliError + '_ {
    move |e| FunctionsCliError::Client(format!("{what}: {e}"))
}

/// The function-server options of `tarn serve` (flatten them into its arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct FunctionServeArgs {
    /// An app manifest (tarn.toml) to build and serve; without it the last deployed version is
    /// served (if any).
    #[arg(long, value_name = "TARN_TOML")]
    pub app: Option<PathBuf>,
    /// Rebuild and reload the app when its manifest or sources change.
    #[arg(long, requires = "app")]
    pub watch: bool,
    /// Address of the function routes.
    #[arg(long, value_name = "ADDR", default_value = crate::deploy::ports::DEFAULT_LISTEN, env = "TARN_FUNCTIONS_LISTEN")]
    pub functions_listen: SocketAddr,
    /// Address of the admin API (deploy, rollback, invoke, logs), never served on the function
    /// port.
    #[arg(long, value_name = "ADDR", default_value = crate::deploy::ports::DEFAULT_ADMIN_LISTEN, env = "TARN_ADMIN_LISTEN")]
    pub admin_listen: SocketAddr,
    /// Admin API token (default: generated into <data-dir>/admin-token).
    #[arg(long, env = "TARN_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Most function invocations running at once.
    #[arg(long, default_value_t = 256)]
    pub max_concurrent: u32,
    /// Who may read GET /metrics on the admin listener: anyone who reaches it (public), only
    /// with the admin token (token), or nobody (off).
    #[arg(
        long,
        value_enum,
        value_name = "ACCESS",
        default_value = "public",
        env = "TARN_METRICS"
    )]
    pub metrics: crate::metrics::endpoint::MetricsAccess,
    /// Cluster mode: the cluster `tarn serve --engine` joined (not an option: set by `serve`).
    #[arg(skip)]
    pub cluster: Option<std::sync::Arc<crate::cluster::Cluster>>,
}

/// Runs the function server of `tarn serve` over `api` until `shutdown`: what `tarn serve`
/// calls next to the DynamoDB API, with the same data directory, limits and shutdown signal.
/// Without `any_address` (no credentials configured) both ports must be loopback addresses.
/// `admin_pages` (the console) are served on the admin port beside the admin API; with
/// `args.cluster` it is a node of a cluster (`--engine`).
pub async fn serve_functions(
    api: Api,
    data_dir: PathBuf,
    args: FunctionServeArgs,
    any_address: bool,
    limits: crate::server::ConnectionLimits,
    admin_pages: Option<std::sync::Arc<dyn deploy::ports::AdminPages>>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    for addr in [args.functions_listen, args.admin_listen] {
        if !any_address && !addr.ip().is_loopback() {
            return Err(FunctionsCliError::NotLoopback(addr));
        }
    }
    let mut opts = deploy::ServeOptions::new(data_dir);
    opts.app = args.app;
    opts.watch = args.watch;
    opts.listen = args.functions_listen;
    opts.admin_listen = args.admin_listen;
    opts.limits = limits;
    opts.admin_token = args.admin_token;
    opts.max_concurrent = args.max_concurrent;
    opts.admin_pages = admin_pages;
    opts.metrics_access = args.metrics;
    opts.cluster = args.cluster;
    deploy::serve_app(api, opts, shutdown).await?;
    Ok(())
}

/// Where to reach the admin API and how to authenticate.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// The admin API's URL (`tarn serve --admin-listen`).
    #[arg(long, env = "TARN_SERVER", default_value = "http://127.0.0.1:8081")]
    pub server: String,
    /// Admin token; default: $TARN_ADMIN_TOKEN, else <data-dir>/admin-token.
    #[arg(long, env = "TARN_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The data directory holding the admin token of a local server.
    #[arg(long, default_value = "./tarn-data", env = "TARN_DATA_DIR")]
    pub data_dir: PathBuf,
}

/// Function subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum FunctionsCommand {
    /// Build the functions of an app: Rust crates, Python and JS files, each by its toolchain
    /// (set up on first use).
    Build {
        /// The app manifest.
        #[arg(long, default_value = "tarn.toml")]
        app: PathBuf,
    },
    /// Build an app and upload it to a running server as a new immutable version.
    Deploy {
        /// The app manifest.
        #[arg(long, default_value = "tarn.toml")]
        app: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Make an earlier version active again (default: the one before the active one).
    Rollback {
        /// The version to activate.
        #[arg(long)]
        to: Option<u64>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Invoke a function once and print its answer.
    Invoke {
        /// The function.
        function: String,
        /// HTTP functions: method.
        #[arg(long, short = 'X', default_value = "GET")]
        method: String,
        /// HTTP functions: path (with query).
        #[arg(long, default_value = "/")]
        path: String,
        /// Body (HTTP), records JSON array (stream) or time (schedule); `@file` reads a file.
        #[arg(long, short = 'd')]
        data: Option<String>,
        /// HTTP functions: extra header `name: value` (repeatable).
        #[arg(long, short = 'H')]
        header: Vec<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print function logs.
    Logs {
        /// Keep printing new lines.
        #[arg(long, short = 'f')]
        follow: bool,
        /// Only this function.
        #[arg(long)]
        function: Option<String>,
        /// How many past lines.
        #[arg(long, default_value_t = 100)]
        tail: usize,
        /// Print raw JSON lines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List the active version's functions, or the stored versions.
    #[command(subcommand)]
    Functions(FunctionsSub),
    /// Print a new one-time sign-in link to the console of a running server (the admin port's
    /// `/console/`); it works once, within an hour.
    Console {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show the stream mappings (processed, failed, checkpoint, iterator age, delays) and the
    /// schedules (last and next run) of a running server.
    Status {
        #[command(flatten)]
        server: ServerArgs,
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `tarn functions ...`.
#[derive(Debug, clap::Subcommand)]
pub enum FunctionsSub {
    /// Functions of the active version, with their counters.
    List {
        #[command(flatten)]
        server: ServerArgs,
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stored versions.
    Versions {
        #[command(flatten)]
        server: ServerArgs,
    },
}

impl ServerArgs {
    fn token(&self) -> Result<String> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let path = deploy::token_path(&self.data_dir);
        let t = std::fs::read_to_string(&path).map_err(|e| {
            FunctionsCliError::Client(format!(
                "no --token, no TARN_ADMIN_TOKEN, and cannot read {}: {e}",
                path.display()
            ))
        })?;
        Ok(t.trim().to_string())
    }
}

/// Where a streamed response's chunks go as they arrive.
type OnChunk<'a> = &'a mut dyn FnMut(&[u8]) -> Result<()>;

/// One admin API call; returns the status and the response (streamed to `on_chunk` when given).
async fn call(
    server: &ServerArgs,
    method: &str,
    path: &str,
    body: Option<Value>,
    mut on_chunk: Option<OnChunk<'_>>,
) -> Result<(u16, Vec<u8>)> {
    let token = server.token()?;
    let uri: http::Uri = server.server.parse().map_err(client("bad --server URL"))?;
    let host = uri
        .host()
        .ok_or_else(|| FunctionsCliError::Client("--server has no host".into()))?
        .to_string();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(client(&format!("connecting to {}", server.server)))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(client("HTTP handshake"))?;
    tokio::spawn(conn);
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("{host}:{port}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(payload)))
        .map_err(client("building the request"))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(client("sending the request"))?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(client("reading the answer"))?.into_data() {
            match on_chunk.as_mut() {
                Some(f) => f(&data)?,
                None => out.extend_from_slice(&data),
            }
        }
    }
    Ok((status, out))
}

fn json_or_bail(status: u16, body: &[u8]) -> Result<Value> {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(body)}));
    if !(200..300).contains(&status) {
        let message = v
            .get("error")
            .and_then(Value::as_str)
            .map_or_else(|| v.to_string(), str::to_owned);
        return Err(FunctionsCliError::Server { status, message });
    }
    Ok(v)
}

fn read_data(data: &Option<String>) -> Result<Option<String>> {
    match data {
        Some(d) if d.starts_with('@') => Ok(Some(
            std::fs::read_to_string(&d[1..]).map_err(client(&format!("reading {}", &d[1..])))?,
        )),
        other => Ok(other.clone()),
    }
}

fn print_log_line(line: &str, raw: bool) -> Result<()> {
    if raw {
        return Ok(out!("{line}")?);
    }
    let Ok(l) = serde_json::from_str::<crate::host::log::LogLine>(line) else {
        return Ok(out!("{line}")?);
    };
    let time = chrono::DateTime::from_timestamp_millis(l.time_ms)
        .map(|t| t.format("%H:%M:%S%.3f").to_string())
        .unwrap_or_default();
    let stream = serde_json::to_value(l.stream)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    out!(
        "{time} {} v{} {} [{}/{}] {}",
        l.function,
        l.version,
        &l.request_id,
        stream,
        l.level,
        l.message
    )?;
    Ok(())
}

fn build_app(app: &Path) -> Result<crate::deploy::versions::Bundle> {
    Ok(build::bundle_app(app, true)?)
}

/// Runs one functions subcommand.
pub async fn run(cmd: FunctionsCommand) -> Result<()> {
    match cmd {
        FunctionsCommand::Build { app } => {
            let manifest = crate::deploy::manifest::Manifest::load(&app)?;
            let dir = app.parent().map(Path::to_path_buf).unwrap_or_default();
            for f in &manifest.functions {
                let path = build::component_of(&dir, &f.name, &f.source, true)?;
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                out!("{}: {} ({} KB)", f.name, path.display(), size / 1024)?;
            }
        }
        FunctionsCommand::Deploy { app, server } => {
            let bundle = tokio::task::spawn_blocking(move || build_app(&app))
                .await
                .map_err(client("build task"))??;
            let (status, body) = call(
                &server,
                "POST",
                "/_tarn/deploy",
                Some(bundle.to_wire()),
                None,
            )
            .await?;
            let v = json_or_bail(status, &body)?;
            out!("deployed version {}", v["version"])?;
        }
        FunctionsCommand::Rollback { to, server } => {
            let body = match to {
                Some(v) => json!({"version": v}),
                None => json!({}),
            };
            let (status, body) = call(&server, "POST", "/_tarn/rollback", Some(body), None).await?;
            let v = json_or_bail(status, &body)?;
            out!("active version {}", v["version"])?;
        }
        FunctionsCommand::Invoke {
            function,
            method,
            path,
            data,
            header,
            server,
        } => {
            let data = read_data(&data)?;
            let mut headers = serde_json::Map::new();
            for h in &header {
                let (k, v) = h.split_once(':').ok_or_else(|| {
                    FunctionsCliError::Client("--header takes `name: value`".into())
                })?;
                headers.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
            }
            let records = data
                .as_deref()
                .and_then(|d| serde_json::from_str::<Value>(d).ok());
            let body = json!({
                "method": method, "path": path, "headers": headers,
                "body": data, "records": records, "time": data,
            });
            let (status, body) = call(
                &server,
                "POST",
                &format!("/_tarn/invoke/{function}"),
                Some(body),
                None,
            )
            .await?;
            let v = json_or_bail(status, &body)?;
            let printed = if let Some(s) = v.get("status") {
                note!(
                    "status {s}  request {}",
                    v["requestId"].as_str().unwrap_or("")
                );
                out!("{}", v["body"].as_str().unwrap_or(""))
            } else {
                out!("{}", serde_json::to_string_pretty(&v).unwrap_or_default())
            };
            // A failed invocation fails the command even when its answer could not be printed.
            if v.get("error").is_some()
                || v.get("status")
                    .and_then(Value::as_u64)
                    .is_some_and(|s| s >= 500)
            {
                return Err(FunctionsCliError::InvocationFailed);
            }
            printed?;
        }
        FunctionsCommand::Logs {
            follow,
            function,
            tail,
            json,
            server,
        } => {
            let mut path = format!(
                "/_tarn/logs?tail={tail}&follow={}",
                if follow { 1 } else { 0 }
            );
            if let Some(f) = &function {
                path.push_str(&format!("&function={f}"));
            }
            // Logs are per node: on a cluster node, say which one these are (on stderr, so
            // that the lines themselves stay pipeable).
            if let Ok((200, health)) = call(&server, "GET", "/_tarn/health", None, None).await {
                let v: Value = serde_json::from_slice(&health).unwrap_or(Value::Null);
                if let Some(node) = v["node"].as_str() {
                    note!("tarn logs: node {node} ({})", server.server);
                }
            }
            let mut pending = Vec::new();
            let mut print = |chunk: &[u8]| {
                pending.extend_from_slice(chunk);
                while let Some(i) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    print_log_line(String::from_utf8_lossy(&line).trim_end(), json)?;
                }
                Ok(())
            };
            let (status, _) = call(&server, "GET", &path, None, Some(&mut print)).await?;
            if status != 200 {
                return Err(FunctionsCliError::Server {
                    status,
                    message: "logs".into(),
                });
            }
        }
        FunctionsCommand::Console { server } => {
            let (status, body) =
                call(&server, "POST", "/console/api/login-link", None, None).await?;
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            match v["path"].as_str() {
                Some(path) if status == 200 => {
                    out!("{}{path}", server.server.trim_end_matches('/'))?;
                }
                _ => {
                    return Err(FunctionsCliError::Server {
                        status,
                        message: v["message"].as_str().map_or_else(
                            || String::from_utf8_lossy(&body).into_owned(),
                            str::to_owned,
                        ),
                    })
                }
            }
        }
        FunctionsCommand::Status { server, json } => {
            let (status, body) = call(&server, "GET", "/_tarn/status", None, None).await?;
            let v = json_or_bail(status, &body)?;
            if json {
                out!("{}", serde_json::to_string_pretty(&v).unwrap_or_default())?;
                return Ok(());
            }
            let text = |v: &Value| match v {
                Value::Null => "-".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            for (name, m) in v["streams"].as_object().into_iter().flatten() {
                out!("stream   {name}")?;
                out!(
                    "         processed {}  failed {}  retries {}  iterator age {} ms  delay p50 {} ms p99 {} ms",
                    text(&m["processed"]),
                    text(&m["failed"]),
                    text(&m["retries"]),
                    text(&m["iterator_age_ms"]),
                    text(&m["delay_ms_p50"]),
                    text(&m["delay_ms_p99"])
                )?;
                out!(
                    "         checkpoint {}  last error {}",
                    text(&m["checkpoint"]),
                    text(&m["last_error"])
                )?;
                for (shard, c) in m["shards"].as_object().into_iter().flatten() {
                    out!(
                        "         shard {shard} held by {}  checkpoint {}",
                        text(&m["node"]),
                        text(&c["checkpoint"])
                    )?;
                }
            }
            for (name, s) in v["schedules"].as_object().into_iter().flatten() {
                out!("schedule {name}")?;
                out!(
                    "         runs {}  failures {}  skipped {}  last {}  next {}  last error {}",
                    text(&s["runs"]),
                    text(&s["failures"]),
                    text(&s["skipped"]),
                    text(&s["last_run"]),
                    text(&s["next_run"]),
                    text(&s["last_error"])
                )?;
            }
        }
        FunctionsCommand::Functions(FunctionsSub::List { server, json }) => {
            let (status, body) = call(&server, "GET", "/_tarn/functions", None, None).await?;
            let v = json_or_bail(status, &body)?;
            if json {
                out!("{}", serde_json::to_string_pretty(&v).unwrap_or_default())?;
                return Ok(());
            }
            out!("version {}", v["version"])?;
            out!(
                "{:<20} {:<9} {:>7} {:>9} {:>8} {:>7}  tables",
                "NAME",
                "KIND",
                "MEM MB",
                "TIMEOUT",
                "CALLS",
                "ERRORS"
            )?;
            for f in v["functions"].as_array().into_iter().flatten() {
                let tables: Vec<String> = f["tables"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(t, a)| format!("{t}={}", a.as_str().unwrap_or("")))
                    .collect();
                let num = |v: &Value| {
                    v.as_u64()
                        .map_or_else(|| "-".to_string(), |n| n.to_string())
                };
                out!(
                    "{:<20} {:<9} {:>7} {:>7}ms {:>8} {:>7}  {}",
                    f["name"].as_str().unwrap_or(""),
                    f["kind"].as_str().unwrap_or(""),
                    num(&f["memory_mb"]),
                    num(&f["timeout_ms"]),
                    num(&f["metrics"]["invocations"]),
                    num(&f["metrics"]["errors"]),
                    tables.join(",")
                )?;
            }
            for r in v["routes"].as_array().into_iter().flatten() {
                out!(
                    "route {:<7} {:<30} -> {}",
                    r["method"].as_str().unwrap_or("*"),
                    r["path"].as_str().unwrap_or(""),
                    r["function"].as_str().unwrap_or("")
                )?;
            }
        }
        FunctionsCommand::Functions(FunctionsSub::Versions { server }) => {
            let (status, body) = call(&server, "GET", "/_tarn/versions", None, None).await?;
            let v = json_or_bail(status, &body)?;
            let current = v["active"].as_u64();
            for m in v["versions"].as_array().into_iter().flatten() {
                let mark = if m["version"].as_u64() == current {
                    "*"
                } else {
                    " "
                };
                let when =
                    chrono::DateTime::from_timestamp_millis(m["created_ms"].as_i64().unwrap_or(0))
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default();
                out!(
                    "{mark} {:>4}  {when}  {:<7} {}",
                    m["version"],
                    m["origin"].as_str().unwrap_or(""),
                    &m["hash"].as_str().unwrap_or("")
                        [..12.min(m["hash"].as_str().unwrap_or("").len())]
                )?;
            }
        }
    }
    Ok(())
}
