//! Cluster mode: what the nodes of one cluster share, kept in the remote engine
//! (`tarn serve --engine URL`; the engine itself is [`crate::engine`]).
//!
//! A node keeps nothing that matters on its own disk: the tables are the engine's, and so is
//! what the nodes agree on:
//!
//! - [`versions`]: the deployed app versions (records, the wasm bytes in chunks, a content hash)
//!   and which one is active; every node polls the active-version record and loads a new
//!   version within about a second ([`POLL_INTERVAL`]);
//! - [`claims`]: each schedule tick, claimed by one node with a conditional write, so that a
//!   tick runs once across the cluster.
//!
//! [`ClusterArgs`] are the `--engine*` options of `tarn serve`; [`Cluster::join`] sets the
//! engine up and creates the shared tables that are missing.

pub mod claims;
pub mod leases;
pub mod versions;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{Endpoint, EngineConfig, EngineError, RemoteEngine};

/// How often a node looks at the active-version record.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The default name of the versions table.
pub const DEFAULT_VERSIONS_TABLE: &str = "tarn-versions";
/// The default name of the schedule-claims table.
pub const DEFAULT_CLAIMS_TABLE: &str = "tarn-schedule-claims";

/// The cluster options of `tarn serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterArgs {
    /// Run as a cluster node over this DynamoDB-compatible engine: `http://host:port`
    /// (DynamoDB Local, ScyllaDB Alternator, another tarn) or `aws` (AWS DynamoDB in the
    /// region). Tables, deployments and schedule claims live in the engine.
    #[arg(long, value_name = "URL", value_parser = parse_endpoint, env = "TARN_ENGINE")]
    pub engine: Option<Endpoint>,
    /// The engine's region (default: $AWS_REGION or the AWS profile's, else us-east-1 for a
    /// URL).
    #[arg(
        long,
        value_name = "REGION",
        requires = "engine",
        env = "TARN_ENGINE_REGION"
    )]
    pub engine_region: Option<String>,
    /// An AWS shared-credentials file whose [default] profile signs requests to the engine
    /// (default: the standard AWS credential chain).
    #[arg(
        long,
        value_name = "FILE",
        requires = "engine",
        env = "TARN_ENGINE_CREDENTIALS_FILE"
    )]
    pub engine_credentials_file: Option<PathBuf>,
    /// This node's name in logs, claims, leases and the console (default: the host name and the process id).
    /// Nodes sharing a host need distinct names.
    #[arg(long, value_name = "NAME", requires = "engine", env = "TARN_NODE_ID")]
    pub node_id: Option<String>,
    /// The engine table holding app versions (created if missing).
    #[arg(long, value_name = "TABLE", default_value = DEFAULT_VERSIONS_TABLE, env = "TARN_VERSIONS_TABLE")]
    pub versions_table: String,
    /// Seconds after which a version claim whose node made no version (it died meanwhile)
    /// is taken over by another node (default 30).
    #[arg(long, value_name = "SECS", requires = "engine", env = "TARN_VERSION_CLAIM_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..))]
    pub version_claim_timeout: Option<u64>,
    /// The engine table holding schedule-tick claims (created if missing, with TTL on
    /// `expires`).
    #[arg(long, value_name = "TABLE", default_value = DEFAULT_CLAIMS_TABLE, env = "TARN_CLAIMS_TABLE")]
    pub claims_table: String,
    /// The engine table holding stream-shard leases (created if missing).
    #[arg(long, value_name = "TABLE", default_value = leases::DEFAULT_LEASE_TABLE, env = "TARN_LEASE_TABLE")]
    pub lease_table: String,
    /// How long a shard lease lasts without renewal (renewed every third of it); a dead
    /// node's shards are taken over after about this long.
    #[arg(long, value_name = "MS", default_value_t = leases::DEFAULT_LEASE_DURATION_MS, env = "TARN_LEASE_DURATION_MS")]
    pub lease_duration_ms: u64,
}

/// The default node name: the host name (the kernel's, else `$HOSTNAME`, else `node`) and the
/// process id, e.g. `web-3-41822`. The process id keeps two nodes on one host apart: leases and
/// claims are owned by node name, so two processes sharing one would take each other's.
pub fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_string());
    format!("{host}-{}", std::process::id())
}

fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    Endpoint::parse(s)
}

/// Why a node could not join its cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The engine could not be set up or refused a request.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The engine answered something tarn did not expect.
    #[error("engine: {0}")]
    Unexpected(String),
}

impl ClusterError {
    /// From an SDK call's error, with its sources (the SDK's own message says little).
    pub(crate) fn sdk<E, R>(what: &str, e: aws_sdk_dynamodb::error::SdkError<E, R>) -> ClusterError
    where
        E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
        R: std::fmt::Debug + 'static,
    {
        match e.as_service_error() {
            Some(s) => ClusterError::Engine(EngineError::Service {
                kind: s.code().unwrap_or("Unknown").to_string(),
                message: format!("{what}: {}", s.message().unwrap_or_default()),
            }),
            None => ClusterError::Engine(EngineError::Transport(format!(
                "{what}: {e}: {}",
                crate::engine::source_chain(&e)
            ))),
        }
    }

    /// The engine's exception name, when it answered with one.
    pub fn kind(&self) -> Option<&str> {
        match self {
            ClusterError::Engine(EngineError::Service { kind, .. }) => Some(kind),
            _ => None,
        }
    }
}

/// This node's membership: the engine, its name, and the shared tables.
#[derive(Debug)]
pub struct Cluster {
    engine: Arc<RemoteEngine>,
    node_id: String,
    versions: versions::EngineVersions,
    claims: claims::Claims,
    leases: leases::LeaseTable,
}

impl Cluster {
    /// Connects to the engine of `args` and creates the versions and claims tables when they
    /// are missing. None without `--engine`.
    pub async fn join(args: &ClusterArgs) -> Result<Option<Arc<Cluster>>, ClusterError> {
        let Some(endpoint) = args.engine.clone() else {
            return Ok(None);
        };
        let engine = RemoteEngine::connect(&EngineConfig {
            endpoint,
            region: args.engine_region.clone(),
            credentials_file: args.engine_credentials_file.clone(),
        })
        .await?;
        let node_id = args.node_id.clone().unwrap_or_else(default_node_id);
        let versions = versions::EngineVersions::new(engine.clone(), &args.versions_table)
            .with_takeover(
                args.version_claim_timeout
                    .map_or(versions::DEFAULT_CLAIM_TAKEOVER, Duration::from_secs),
            );
        versions.ensure_table().await?;
        let claims = claims::Claims::new(engine.clone(), &args.claims_table, &node_id);
        claims.ensure_table().await?;
        let leases = leases::LeaseTable::new(
            engine.clone(),
            &args.lease_table,
            &node_id,
            std::time::Duration::from_millis(args.lease_duration_ms.max(100)),
        );
        leases.ensure_table().await?;
        tracing::info!(
            engine = engine.url(),
            region = engine.region(),
            node = %node_id,
            "cluster node: tables, deployments and schedule claims are the engine's"
        );
        Ok(Some(Arc::new(Cluster {
            engine,
            node_id,
            versions,
            claims,
            leases,
        })))
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<RemoteEngine> {
        &self.engine
    }

    /// This node's name.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The app versions in the engine.
    pub fn versions(&self) -> &versions::EngineVersions {
        &self.versions
    }

    /// The schedule-tick claims.
    pub fn claims(&self) -> &claims::Claims {
        &self.claims
    }

    /// The stream-shard leases.
    pub fn leases(&self) -> &leases::LeaseTable {
        &self.leases
    }
}

/// Creates `table` in the engine when it does not exist (on-demand capacity, a string `pk`
/// hash key and, with `sort_key`, a string `sk` range key) and waits until it is ACTIVE.
/// Several nodes may do this at once: a table another node is creating is waited for.
pub(crate) async fn ensure_table(
    engine: &RemoteEngine,
    table: &str,
    sort_key: bool,
) -> Result<(), ClusterError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TableStatus,
    };
    let client = engine.client();
    let describe = client.describe_table().table_name(table).send().await;
    match describe {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            let attr = |name: &str| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
            };
            let key = |name: &str, kind| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
            };
            let mut create = client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attr("pk").map_err(builder)?)
                .key_schema(key("pk", KeyType::Hash).map_err(builder)?);
            if sort_key {
                create = create
                    .attribute_definitions(attr("sk").map_err(builder)?)
                    .key_schema(key("sk", KeyType::Range).map_err(builder)?);
            }
            match create.send().await {
                Ok(_) => tracing::info!(table, "created the table in the engine"),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception()) => {}
                Err(e) => return Err(ClusterError::sdk(&format!("creating {table}"), e)),
            }
        }
        Err(e) => return Err(ClusterError::sdk(&format!("describing {table}"), e)),
    }
    // AWS takes seconds to make a table ACTIVE; DynamoDB Local and tarn are at once.
    for _ in 0..120 {
        let d = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| ClusterError::sdk(&format!("describing {table}"), e))?;
        if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(ClusterError::Unexpected(format!(
        "table {table} did not become ACTIVE within a minute"
    )))
}

fn builder(e: aws_sdk_dynamodb::error::BuildError) -> ClusterError {
    ClusterError::Unexpected(format!("building a request: {e}"))
}
