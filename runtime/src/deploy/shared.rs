//! Deployment in cluster mode: the versions live in the engine ([`crate::cluster::versions`])
//! instead of under the data directory, and every node serves the one the engine's
//! active-version record names.
//!
//! - `tarn deploy` to any node stores a new version (the bundle's files in chunks, its content
//!   hash), loads it on that node, then marks it active; the other nodes, polling the active
//!   record every [`POLL_INTERVAL`], load it within a second or so ([`follow_active`]).
//! - `tarn rollback` marks an earlier stored version active, the same way.
//! - `tarn serve --app` deploys only when the app differs from the active version, deciding
//!   by content hash: N nodes started with the same `--app` claim (hash, active version) with
//!   a conditional write, and one of them makes the version.

use std::sync::Arc;
use std::time::Duration;

use super::manifest::Manifest;
use super::versions::{Bundle, VersionMeta};
use super::{DeployError, Runtime};
use crate::cluster::versions::{StoredApp, VersionRecord};
use crate::cluster::{Cluster, ClusterError, POLL_INTERVAL};

fn engine(e: ClusterError) -> DeployError {
    DeployError::Invalid(format!("cluster: {e}"))
}

fn stored(bundle: &Bundle) -> StoredApp {
    StoredApp {
        manifest: bundle.manifest.to_toml(),
        files: bundle.files.clone(),
    }
}

/// A version read back from the engine, checked against its recorded content hash.
fn bundle_of(record: &VersionRecord, app: StoredApp) -> Result<Bundle, DeployError> {
    let bundle = Bundle {
        manifest: Manifest::parse(&app.manifest)?,
        files: app.files,
    };
    if bundle.hash() != record.hash {
        return Err(DeployError::Invalid(format!(
            "version {} read from the engine does not match its content hash",
            record.version
        )));
    }
    Ok(bundle)
}

impl From<VersionRecord> for VersionMeta {
    fn from(r: VersionRecord) -> Self {
        VersionMeta {
            version: r.version,
            created_ms: r.created_ms,
            origin: r.origin,
            hash: r.hash,
            functions: r.functions,
        }
    }
}

impl Runtime {
    /// [`Runtime::deploy`] in cluster mode (the deploy lock is held).
    pub(super) async fn deploy_shared(
        &self,
        cluster: &Cluster,
        bundle: Bundle,
        origin: &str,
        dedupe: bool,
    ) -> Result<u64, DeployError> {
        let versions = cluster.versions();
        let hash = bundle.hash();
        if !dedupe {
            let record = self.store_shared(cluster, &bundle, &hash, origin).await?;
            return self.activate_new(cluster, &bundle, &record).await;
        }
        let active = versions.active().await.map_err(engine)?;
        let made = match &active {
            Some(a) if a.hash == hash => Some(a.version),
            _ => {
                let after = active.as_ref().map_or(0, |a| a.version);
                versions
                    .claim(&hash, after, cluster.node_id())
                    .await
                    .map_err(engine)?
            }
        };
        if let Some(version) = made {
            // The same app is stored already (as `version`): serve it.
            if self.current().version != version {
                let app = self.load(version, &bundle).await?;
                self.swap(app);
            }
            return Ok(version);
        }
        let after = active.as_ref().map_or(0, |a| a.version);
        let record = self.store_shared(cluster, &bundle, &hash, origin).await?;
        // The nodes waiting on the claim can load the version while this one does.
        versions
            .claimed(&hash, after, record.version, cluster.node_id())
            .await
            .map_err(engine)?;
        self.activate_new(cluster, &bundle, &record).await
    }

    /// Stores `bundle` in the engine as a new version; nothing is activated.
    async fn store_shared(
        &self,
        cluster: &Cluster,
        bundle: &Bundle,
        hash: &str,
        origin: &str,
    ) -> Result<VersionRecord, DeployError> {
        let functions: Vec<String> = bundle
            .manifest
            .functions
            .iter()
            .map(|f| f.name.clone())
            .collect();
        let record = cluster
            .versions()
            .create(&stored(bundle), hash, origin, &functions, cluster.node_id())
            .await
            .map_err(engine)?;
        tracing::info!(
            version = record.version,
            node = cluster.node_id(),
            "stored a new version in the engine"
        );
        Ok(record)
    }

    /// Loads the just-stored `record` (of `bundle`) here, then marks it active for every node.
    async fn activate_new(
        &self,
        cluster: &Cluster,
        bundle: &Bundle,
        record: &VersionRecord,
    ) -> Result<u64, DeployError> {
        let app = self.load(record.version, bundle).await?;
        cluster
            .versions()
            .set_active(record.version, &record.hash, cluster.node_id())
            .await
            .map_err(engine)?;
        self.swap(app);
        Ok(record.version)
    }

    /// [`Runtime::activate`] in cluster mode (the deploy lock is held).
    pub(super) async fn activate_shared(
        &self,
        cluster: &Cluster,
        version: Option<u64>,
    ) -> Result<u64, DeployError> {
        let versions = cluster.versions();
        let current = versions
            .active()
            .await
            .map_err(engine)?
            .map_or(0, |a| a.version);
        let target = match version {
            Some(v) => v,
            None => versions
                .list()
                .await
                .map_err(engine)?
                .iter()
                .rev()
                .map(|r| r.version)
                .find(|v| *v < current)
                .ok_or_else(|| DeployError::Invalid(format!("no version older than {current}")))?,
        };
        let (record, app) = versions
            .read(target)
            .await
            .map_err(engine)?
            .ok_or(DeployError::NoSuchVersion(target))?;
        let bundle = bundle_of(&record, app)?;
        let app = self.load(target, &bundle).await?;
        versions
            .set_active(target, &record.hash, cluster.node_id())
            .await
            .map_err(engine)?;
        self.swap(app);
        Ok(target)
    }

    /// Loads the version the engine marks active when this node serves another one. `Ok(None)`
    /// when there was nothing to do.
    pub(super) async fn follow_once(&self, cluster: &Cluster) -> Result<Option<u64>, DeployError> {
        let versions = cluster.versions();
        let Some(active) = versions.active().await.map_err(engine)? else {
            return Ok(None);
        };
        if active.version == self.current().version {
            return Ok(None);
        }
        // A deploy or rollback on this node is under way: it sets what is active itself.
        let Ok(_guard) = self.deploy_lock.try_lock() else {
            return Ok(None);
        };
        let (record, app) = versions
            .read(active.version)
            .await
            .map_err(engine)?
            .ok_or(DeployError::NoSuchVersion(active.version))?;
        let bundle = bundle_of(&record, app)?;
        let app = self.load(active.version, &bundle).await?;
        self.swap(app);
        Ok(Some(active.version))
    }

    /// The stored versions and the active one (`GET /_tarn/versions`): from the engine in
    /// cluster mode, from the data directory otherwise.
    pub async fn version_list(&self) -> Result<(Option<u64>, Vec<VersionMeta>), DeployError> {
        match &self.cluster {
            Some(c) => {
                let active = c.versions().active().await.map_err(engine)?;
                let list = c.versions().list().await.map_err(engine)?;
                Ok((
                    active.map(|a| a.version),
                    list.into_iter().map(VersionMeta::from).collect(),
                ))
            }
            None => Ok((self.versions.current(), self.versions.list()?)),
        }
    }
}

/// Follows the engine's active version until `stop`: every [`POLL_INTERVAL`], loads the
/// version the engine marks active if this node serves another. A version that fails to load
/// is logged once and tried again on the next change.
pub(super) async fn follow_active(
    rt: Arc<Runtime>,
    cluster: Arc<Cluster>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last_error: Option<String> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match rt.follow_once(&cluster).await {
            Ok(Some(v)) => {
                last_error = None;
                tracing::info!(
                    version = v,
                    node = cluster.node_id(),
                    "loaded the cluster's active version"
                );
            }
            Ok(None) => {}
            Err(e) => {
                let message = e.to_string();
                if last_error.as_deref() != Some(message.as_str()) {
                    tracing::error!(error = %message, "cannot load the cluster's active version; retrying");
                    last_error = Some(message);
                }
                // Do not hammer an engine that refuses.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
