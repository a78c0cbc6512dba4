//! Apps: the manifest, immutable versions, the live [`Runtime`] that serves the active version,
//! the two ports ([`ports`]: function routes and the admin API), and [`serve_app`], the entry
//! point `tarn serve` calls. Deploy sits above the triggers: it hands each trigger the active
//! version's functions, routes and definitions, and the triggers know nothing of it.
//!
//! In cluster mode (`tarn serve --engine`) the versions live in the engine and every node
//! follows the active one (`shared`).
//!
//! Loading a version compiles (or takes from the cache) every function, creates the manifest's
//! missing tables and builds the route table; only when all of that succeeded does the new
//! [`App`] replace the old one, atomically. Requests in flight keep the `Arc<App>` they started
//! with, so a reload, deploy or rollback never drops them.

pub mod admin;
pub mod build;
pub mod manifest;
pub mod ports;
mod shared;
pub mod versions;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::RwLock;
use serde_json::json;

use self::manifest::{Manifest, ManifestError};
use self::versions::{Bundle, VersionStore};
use crate::api::Api;
use crate::host::limits::FunctionLimits;
use crate::host::log::LogSink;
use crate::host::{FunctionKind, FunctionSpec, Host, HostConfig, HostError};
use crate::metrics::endpoint::MetricsAccess;
use crate::triggers::routes::RouteTable;
use crate::triggers::status::TriggerStatus;
use crate::triggers::Functions;

/// Errors building, storing or loading an app.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The manifest is wrong.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A function failed to compile or link.
    #[error(transparent)]
    Host(#[from] HostError),
    /// Building a function failed.
    #[error("build: {0}")]
    Build(String),
    /// File system trouble.
    #[error("{0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    /// A bad bundle or request.
    #[error("{0}")]
    Invalid(String),
    /// No such version.
    #[error("version {0} does not exist")]
    NoSuchVersion(u64),
}

/// One loaded app version: its functions ready to run and its routes.
#[derive(Debug, Default)]
pub struct App {
    /// The version number (0: nothing deployed).
    pub version: u64,
    /// The manifest.
    pub manifest: Manifest,
    /// Functions by name.
    pub functions: Functions,
    /// The HTTP routes.
    pub routes: RouteTable,
}

/// The live state of the function server.
pub struct Runtime {
    host: Host,
    versions: VersionStore,
    current: RwLock<Arc<App>>,
    token: String,
    deploy_lock: tokio::sync::Mutex<()>,
    stopping: tokio::sync::watch::Sender<bool>,
    /// The running schedule and stream-mapping tasks of the active version.
    triggers: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    status: Arc<TriggerStatus>,
    /// Who may read `GET /metrics` on the admin port.
    metrics_access: MetricsAccess,
    /// Cluster mode: versions and schedule claims in the engine.
    cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// Options of [`serve_app`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `--app`: a manifest to load (and, with `watch`, reload) at start.
    pub app: Option<PathBuf>,
    /// Where the function routes listen (127.0.0.1:8080).
    pub listen: SocketAddr,
    /// Where the admin API listens (127.0.0.1:8081).
    pub admin_listen: SocketAddr,
    /// What each listener allows a client (connections, timeouts, header size).
    pub limits: crate::server::ConnectionLimits,
    /// `--watch`: rebuild and reload when the manifest or a function source changes.
    pub watch: bool,
    /// The data directory (`./tarn-data`); functions keep `deploy/` and `cache/` in it.
    pub data_dir: PathBuf,
    /// The admin token; when None one is generated and written to `<data_dir>/admin-token`.
    pub admin_token: Option<String>,
    /// Most concurrent invocations.
    pub max_concurrent: u32,
    /// Pages the admin port serves beside the admin API (the console), if any.
    pub admin_pages: Option<Arc<dyn ports::AdminPages>>,
    /// Who may read `GET /metrics` on the admin port (`--metrics`).
    pub metrics_access: MetricsAccess,
    /// Cluster mode (`--engine`): versions and schedule claims in the engine.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl ServeOptions {
    /// Defaults: no app, routes on 127.0.0.1:8080, admin API on 127.0.0.1:8081, `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServeOptions {
            app: None,
            listen: ports::DEFAULT_LISTEN.parse().expect("valid"),
            admin_listen: ports::DEFAULT_ADMIN_LISTEN.parse().expect("valid"),
            limits: Default::default(),
            watch: false,
            data_dir: data_dir.into(),
            admin_token: None,
            max_concurrent: 256,
            admin_pages: None,
            metrics_access: MetricsAccess::default(),
            cluster: None,
        }
    }
}

/// Where the admin token is written when none is given.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin-token")
}

fn resolve_token(opts: &ServeOptions) -> Result<String, DeployError> {
    if let Some(t) = &opts.admin_token {
        return Ok(t.clone());
    }
    let path = token_path(&opts.data_dir);
    if let Ok(t) = std::fs::read_to_string(&path) {
        if !t.trim().is_empty() {
            return Ok(t.trim().to_string());
        }
    }
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    std::fs::create_dir_all(&opts.data_dir)
        .map_err(|e| DeployError::Io(opts.data_dir.clone(), e))?;
    std::fs::write(&path, &token).map_err(|e| DeployError::Io(path.clone(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(token)
}

impl Runtime {
    /// A runtime over `api` keeping its state under `data_dir`, with nothing loaded yet. Its
    /// invocations and triggers are counted in `api`'s metrics.
    pub fn new(
        api: Api,
        data_dir: &Path,
        token: String,
        max_concurrent: u32,
    ) -> Result<Self, DeployError> {
        let mut config = HostConfig::new(data_dir.join("cache").join("wasm"));
        config.max_concurrent = max_concurrent;
        config.observer = Some(api.metrics().invocation_observer());
        let status = Arc::new(TriggerStatus::default());
        api.metrics().set_trigger_source(status.clone());
        let host = Host::new(config, api, LogSink::new())?;
        Ok(Runtime {
            host,
            versions: VersionStore::open(data_dir.join("deploy"))?,
            current: RwLock::new(Arc::new(App::default())),
            token,
            deploy_lock: tokio::sync::Mutex::new(()),
            stopping: tokio::sync::watch::channel(false).0,
            triggers: parking_lot::Mutex::new(Vec::new()),
            status,
            metrics_access: MetricsAccess::default(),
            cluster: None,
        })
    }

    /// The same runtime as a node of `cluster`: versions are the engine's, schedule ticks are
    /// claimed there.
    pub fn with_cluster(mut self, cluster: Option<Arc<crate::cluster::Cluster>>) -> Self {
        self.cluster = cluster;
        self
    }

    /// The cluster this runtime is a node of, in cluster mode.
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.cluster.as_ref()
    }

    /// The same runtime serving `GET /metrics` to `access`.
    pub fn with_metrics_access(mut self, access: MetricsAccess) -> Self {
        self.metrics_access = access;
        self
    }

    /// Who may read `GET /metrics`.
    pub fn metrics_access(&self) -> MetricsAccess {
        self.metrics_access
    }

    /// What the schedules and stream mappings report.
    pub fn trigger_status(&self) -> &Arc<TriggerStatus> {
        &self.status
    }

    /// The wasm host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The version store.
    pub fn versions(&self) -> &VersionStore {
        &self.versions
    }

    /// The admin token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Flips to true when the server begins shutting down (long-lived responses end then).
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Tells long-lived responses (`logs -f`) that the server is shutting down.
    pub fn begin_shutdown(&self) {
        self.stopping.send_replace(true);
    }

    /// The active app.
    pub fn current(&self) -> Arc<App> {
        self.current.read().clone()
    }

    /// Compiles and links every function of `bundle` as `version`, creates missing tables, and
    /// builds the routes. Nothing is activated.
    async fn load(&self, version: u64, bundle: &Bundle) -> Result<App, DeployError> {
        let mut functions = BTreeMap::new();
        let mut loading = Vec::new();
        for def in &bundle.manifest.functions {
            let spec = FunctionSpec {
                name: def.name.clone(),
                version,
                wasm: bundle.wasm_of(&def.name)?,
                limits: FunctionLimits {
                    memory_bytes: (def.memory_mb as usize) << 20,
                    timeout: Duration::from_millis(def.timeout_ms),
                    max_concurrency: def.max_concurrency,
                },
                grants: def.tables.clone(),
                env: def.env.clone(),
                network: def.network,
                reuse: def.reuse.unwrap_or(0),
            };
            // Compiled side by side: a JS or Python component takes a minute or more to compile.
            let host = self.host.clone();
            loading.push((
                def.name.clone(),
                tokio::task::spawn_blocking(move || host.load(spec)),
            ));
        }
        for (name, task) in loading {
            let loaded = task
                .await
                .map_err(|e| DeployError::Invalid(format!("loading task: {e}")))??;
            functions.insert(name, Arc::new(loaded));
        }
        for s in &bundle.manifest.schedules {
            if functions[&s.function].kind != FunctionKind::Schedule {
                return Err(DeployError::Invalid(format!(
                    "schedule `{}` names {}, which is not a schedule handler",
                    s.cron, s.function
                )));
            }
        }
        for s in &bundle.manifest.streams {
            crate::triggers::stream::MappingConfig::from_def(s).map_err(DeployError::Invalid)?;
            if functions[&s.function].kind != FunctionKind::Stream {
                return Err(DeployError::Invalid(format!(
                    "stream on {} names {}, which is not a stream handler",
                    s.table, s.function
                )));
            }
        }
        for r in &bundle.manifest.routes {
            if functions[&r.function].kind != FunctionKind::Http {
                return Err(DeployError::Invalid(format!(
                    "route {} names {}, which is not an HTTP handler",
                    r.path, r.function
                )));
            }
        }
        let routes = RouteTable::new(
            bundle
                .manifest
                .routes
                .iter()
                .map(|r| (r.method.as_deref(), r.path.as_str(), r.function.as_str())),
        )
        .map_err(DeployError::Invalid)?;
        self.ensure_tables(&bundle.manifest).await?;
        Ok(App {
            version,
            manifest: bundle.manifest.clone(),
            functions,
            routes,
        })
    }

    /// Creates each `[[table]]` that does not exist yet.
    async fn ensure_tables(&self, manifest: &Manifest) -> Result<(), DeployError> {
        let api = self.host.api();
        for t in &manifest.tables {
            match api
                .call("DescribeTable", json!({"TableName": t.name}))
                .await
            {
                Ok(_) => continue,
                Err(e) if e.kind == "ResourceNotFoundException" => {}
                Err(e) => {
                    tracing::warn!(table = %t.name, error = %e, "cannot check table; not creating it");
                    continue;
                }
            }
            let request = t.create_table_request()?;
            let created = api.call("CreateTable", request).await;
            match created {
                Ok(_) => tracing::info!(table = %t.name, "created table"),
                Err(e) if e.kind == "ResourceInUseException" => {}
                Err(e) => {
                    return Err(DeployError::Invalid(format!(
                        "creating table {}: {e}",
                        t.name
                    )))
                }
            }
            if let Some(attr) = &t.ttl_attribute {
                let req = json!({"TableName": t.name, "TimeToLiveSpecification": {"Enabled": true, "AttributeName": attr}});
                if let Err(e) = api.call("UpdateTimeToLive", req).await {
                    tracing::warn!(table = %t.name, error = %e, "could not enable TTL");
                }
            }
        }
        Ok(())
    }

    fn swap(&self, app: App) {
        let version = app.version;
        let app = Arc::new(app);
        *self.current.write() = app.clone();
        let mut triggers = self.triggers.lock();
        for t in triggers.drain(..) {
            t.abort();
        }
        let m = &app.manifest;
        self.status.retain(
            &m.streams
                .iter()
                .map(|s| crate::triggers::stream::mapping_name(&s.table, &s.function))
                .collect::<Vec<_>>(),
            &m.schedules
                .iter()
                .map(|s| crate::triggers::schedule::name(&s.cron, &s.function))
                .collect::<Vec<_>>(),
        );
        let claims = self
            .cluster
            .clone()
            .map(|c| Arc::new(ClusterClaims(c)) as Arc<dyn crate::triggers::schedule::TickClaims>);
        triggers.extend(crate::triggers::schedule::start(
            &self.host,
            &m.schedules,
            &app.functions,
            &self.status,
            claims,
        ));
        if let Some(cluster) = &self.cluster {
            // The engine's streams, shard by shard, under leases shared with the other nodes.
            triggers.extend(crate::cluster::leases::start(
                cluster.leases().clone(),
                crate::triggers::stream::shard_mappings(
                    &self.host,
                    &m.streams,
                    &app.functions,
                    &self.status,
                ),
            ));
        } else {
            triggers.extend(crate::triggers::stream::start(
                &self.host,
                &m.streams,
                &app.functions,
                &self.status,
            ));
        }
        tracing::info!(version, "app version active");
    }

    /// Stores `bundle` as a new version, loads it and makes it active. With `dedupe`, a bundle
    /// identical to the active version's only reloads nothing and returns that version.
    pub async fn deploy(
        &self,
        bundle: Bundle,
        origin: &str,
        dedupe: bool,
    ) -> Result<u64, DeployError> {
        let _guard = self.deploy_lock.lock().await;
        if let Some(cluster) = self.cluster.clone() {
            return self.deploy_shared(&cluster, bundle, origin, dedupe).await;
        }
        if dedupe {
            if let Some(cur) = self.versions.current() {
                if self
                    .versions
                    .meta(cur)
                    .is_ok_and(|m| m.hash == bundle.hash())
                {
                    if self.current().version != cur {
                        let app = self.load(cur, &bundle).await?;
                        self.swap(app);
                    }
                    return Ok(cur);
                }
            }
        }
        let version = self.versions.next_version()?;
        let app = self.load(version, &bundle).await?;
        self.versions.write(version, &bundle, origin)?;
        self.versions.set_current(version)?;
        self.swap(app);
        Ok(version)
    }

    /// Makes stored version `version` active (rollback). `None`: the newest version older than
    /// the active one.
    pub async fn activate(&self, version: Option<u64>) -> Result<u64, DeployError> {
        let _guard = self.deploy_lock.lock().await;
        if let Some(cluster) = self.cluster.clone() {
            return self.activate_shared(&cluster, version).await;
        }
        let current = self.versions.current().unwrap_or(0);
        let target = match version {
            Some(v) => v,
            None => self
                .versions
                .list()?
                .iter()
                .rev()
                .map(|m| m.version)
                .find(|v| *v < current)
                .ok_or_else(|| DeployError::Invalid(format!("no version older than {current}")))?,
        };
        self.versions
            .meta(target)
            .map_err(|_| DeployError::NoSuchVersion(target))?;
        let bundle = self.versions.read(target)?;
        let app = self.load(target, &bundle).await?;
        self.versions.set_current(target)?;
        self.swap(app);
        Ok(target)
    }

    /// Loads the version marked current on disk, if any (start-up without `--app`).
    pub async fn restore(&self) -> Result<(), DeployError> {
        if let Some(cluster) = self.cluster.clone() {
            self.follow_once(&cluster).await?;
            return Ok(());
        }
        if let Some(v) = self.versions.current() {
            let bundle = self.versions.read(v)?;
            let app = self.load(v, &bundle).await?;
            self.swap(app);
        }
        Ok(())
    }
}

/// A cluster's claims table as the schedule trigger's [`crate::triggers::schedule::TickClaims`].
struct ClusterClaims(Arc<crate::cluster::Cluster>);

impl crate::triggers::schedule::TickClaims for ClusterClaims {
    fn claim<'a>(
        &'a self,
        schedule: &'a str,
        tick: &'a str,
    ) -> crate::triggers::schedule::ClaimFuture<'a> {
        crate::triggers::schedule::TickClaims::claim(self.0.claims(), schedule, tick)
    }
}

/// Builds the app at `manifest` (functions that are crates get built) on a blocking thread.
async fn bundle_from(manifest: &Path) -> Result<Bundle, DeployError> {
    let path = manifest.to_path_buf();
    tokio::task::spawn_blocking(move || build::bundle_app(&path, true))
        .await
        .map_err(|e| DeployError::Invalid(format!("build task: {e}")))?
}

fn fingerprint(manifest: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    build::watched_files(manifest)
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let t = m.as_ref().and_then(|m| m.modified().ok());
            let len = m.map_or(0, |m| m.len());
            (p, t, len)
        })
        .collect()
}

/// Runs the function side of `tarn serve` until `shutdown` resolves: loads `--app` (or the
/// last deployed version), serves routes on `opts.listen` and the admin API on
/// `opts.admin_listen`, and with `--watch`
/// rebuilds and reloads on change. After `shutdown`, stops accepting, finishes in-flight
/// requests and returns.
pub async fn serve_app(
    api: Api,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), DeployError> {
    let token = resolve_token(&opts)?;
    let rt = Arc::new(
        Runtime::new(api, &opts.data_dir, token, opts.max_concurrent)?
            .with_metrics_access(opts.metrics_access)
            .with_cluster(opts.cluster.clone()),
    );
    match &opts.app {
        Some(path) => {
            let bundle = bundle_from(path).await?;
            let v = rt.deploy(bundle, "serve", true).await?;
            tracing::info!(version = v, app = %path.display(), "app loaded");
        }
        None => rt.restore().await?,
    }
    let bind = |addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| DeployError::Io(PathBuf::from(addr.to_string()), e))
    };
    // Without an app there is nothing to serve on the function port: a busy one is a warning,
    // and the port is bound once an app is deployed.
    let listener = match bind(opts.listen).await {
        Ok(l) => Some(l),
        Err(e) if rt.current().functions.is_empty() => {
            tracing::warn!(
                addr = %opts.listen,
                error = %e,
                "the function port is busy; no app is deployed, so tarn goes on without it and \
                 binds it when an app is deployed (or choose another with --functions-listen)"
            );
            None
        }
        Err(e) => return Err(e),
    };
    let admin_listener = bind(opts.admin_listen).await?;
    let local =
        |l: &tokio::net::TcpListener| l.local_addr().map(|a| a.to_string()).unwrap_or_default();
    if let Some(l) = &listener {
        tracing::info!(addr = %local(l), "listening: functions on http://{}", local(l));
    }
    tracing::info!(
        addr = %local(&admin_listener),
        "listening: admin API on http://{}",
        local(&admin_listener)
    );
    if let (Some(pages), Ok(addr)) = (&opts.admin_pages, admin_listener.local_addr()) {
        pages.listening(&rt, addr);
    }

    // In-flight requests finish on shutdown (each is bounded by its function's timeout); give
    // up after 60 s.
    let grace = Duration::from_secs(60);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = match listener {
        Some(listener) => tokio::spawn(ports::serve(
            listener,
            rt.clone(),
            ports::Port::Functions,
            None,
            opts.limits,
            stop_rx.clone(),
            grace,
        )),
        None => tokio::spawn(bind_when_deployed(
            rt.clone(),
            opts.listen,
            opts.limits,
            stop_rx.clone(),
            grace,
        )),
    };
    let admin = tokio::spawn(ports::serve(
        admin_listener,
        rt.clone(),
        ports::Port::Admin,
        opts.admin_pages.clone(),
        opts.limits,
        stop_rx.clone(),
        grace,
    ));
    let follower = opts
        .cluster
        .clone()
        .map(|cluster| tokio::spawn(shared::follow_active(rt.clone(), cluster, stop_rx.clone())));
    let watcher = match (&opts.app, opts.watch) {
        (Some(path), true) => Some(tokio::spawn(watch_app(rt.clone(), path.clone(), stop_rx))),
        _ => None,
    };
    shutdown.await;
    tracing::info!("function server shutting down; finishing in-flight requests");
    rt.begin_shutdown();
    for t in rt.triggers.lock().drain(..) {
        t.abort();
    }
    if let Some(cluster) = &opts.cluster {
        // This node's shard leases go back now, for the other nodes to take at once.
        cluster.leases().released(Duration::from_secs(2)).await;
    }
    let _ = stop_tx.send(true);
    let _ = tokio::join!(server, admin);
    if let Some(w) = watcher {
        let _ = w.await;
    }
    if let Some(f) = follower {
        let _ = f.await;
    }
    Ok(())
}

/// The function port of a server that started without an app while the port was busy: waits
/// until an app with functions is active, then binds the port (retrying while it stays busy)
/// and serves it until `stop`.
async fn bind_when_deployed(
    rt: Arc<Runtime>,
    addr: SocketAddr,
    limits: crate::server::ConnectionLimits,
    mut stop: tokio::sync::watch::Receiver<bool>,
    grace: Duration,
) {
    let mut warned = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if rt.current().functions.is_empty() {
            continue;
        }
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                tracing::info!(%addr, "listening: functions on http://{addr}");
                ports::serve(
                    listener,
                    rt,
                    ports::Port::Functions,
                    None,
                    limits,
                    stop,
                    grace,
                )
                .await;
                return;
            }
            Err(e) if !warned => {
                warned = true;
                tracing::error!(%addr, error = %e, "an app is deployed but the function port is still busy; retrying");
            }
            Err(_) => {}
        }
    }
}

/// Polls the app's files; on a change, rebuilds and reloads (the old version keeps serving if
/// the build or load fails).
async fn watch_app(
    rt: Arc<Runtime>,
    manifest: PathBuf,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last = fingerprint(&manifest);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let now = fingerprint(&manifest);
        if now == last {
            continue;
        }
        // Let a burst of writes (an editor save, a cargo build) settle.
        tokio::time::sleep(Duration::from_millis(300)).await;
        tracing::info!(app = %manifest.display(), "change detected; rebuilding");
        match bundle_from(&manifest).await {
            Ok(bundle) => match rt.deploy(bundle, "serve", true).await {
                Ok(v) => tracing::info!(version = v, "reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "reload failed; previous version keeps serving")
                }
            },
            Err(e) => tracing::error!(error = %e, "rebuild failed; previous version keeps serving"),
        }
        // Whatever the build touched is the new baseline.
        last = fingerprint(&manifest);
    }
}
