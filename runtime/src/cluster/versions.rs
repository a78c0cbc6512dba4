//! App versions kept in the engine, so that every node serves the same one.
//!
//! One table (`--versions-table`, default `tarn-versions`; string `pk` and `sk`) holds:
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `versions` | the version, 20 digits | a [`VersionRecord`]: hash, origin, functions, the manifest, each file's chunk count |
//! | `chunks#<n>` | `<file>#<i, 6 digits>` | `data`: bytes `i` of a file of version `n`, [`CHUNK_BYTES`] at most (under DynamoDB's 400 KB item limit) |
//! | `counter` | `-` | `last`: the last version number handed out (an atomic `ADD`) |
//! | `active` | `-` | the active version and its hash: what every node polls |
//! | `claims` | `<hash>@<active>` | which node makes the version of an app first seen over an active version (`node`, `token`, `claimed_ms`; `version` once made) |
//!
//! A version is written whole (its chunks, then its record) before anything names it active, so
//! a node that sees an active version can read all of it. `tarn serve --app` on N nodes at once
//! makes one version: each node claims `(content hash, active version)` with a conditional
//! write; the winner uploads and activates, the others wait for the version it made. If the
//! winner dies before it writes the version, a waiter takes the claim over after a timeout
//! (see [`EngineVersions::claim`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{ClusterError, RemoteEngine};

/// The largest chunk of a file stored in one item.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// How long a node waits for the version another node claimed to make, once no takeover is
/// possible (beyond the takeover timeout).
const CLAIM_WAIT: Duration = Duration::from_secs(120);
/// The default takeover timeout (`--version-claim-timeout`): a claim that has made no
/// version for this long is taken over. Between a claim and its version a node only uploads
/// the app's files (it compiles them after), so a live node is done well within it.
pub const DEFAULT_CLAIM_TAKEOVER: Duration = Duration::from_secs(30);

/// Test hook: the failpoint `tarn::cluster::versions::after_claim`, reached once this node
/// holds a version claim and before it writes anything else. `return` ends the process on
/// the spot (exit status 137, as after a `kill -9`), so that a test can leave a claim without
/// its version behind. Compiled in with the `fail` crate's `failpoints` feature only (the
/// test builds).
fn after_claim() {
    fail::fail_point!("tarn::cluster::versions::after_claim", |_| {
        std::process::exit(137)
    });
}

/// An app as the engine stores it: the manifest's text and its files' bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredApp {
    /// The manifest (tarn.toml) text.
    pub manifest: String,
    /// The files (components) by name.
    pub files: BTreeMap<String, Arc<[u8]>>,
}

/// What is recorded about one version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// The version number, from 1.
    pub version: u64,
    /// The content hash of the app (the deploy layer's `Bundle::hash`).
    pub hash: String,
    /// `serve` (from `--app`) or `deploy`.
    pub origin: String,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// The functions' names.
    pub functions: Vec<String>,
    /// The node that made it.
    pub node: String,
}

/// The active version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// Its number.
    pub version: u64,
    /// Its content hash.
    pub hash: String,
}

/// The versions table of one cluster.
#[derive(Debug)]
pub struct EngineVersions {
    engine: Arc<RemoteEngine>,
    table: String,
    /// How long a claim without its version stands before another node takes it over.
    takeover: Duration,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s(item: &Item, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn version_key(version: u64) -> String {
    format!("{version:020}")
}

fn unexpected(what: String) -> ClusterError {
    ClusterError::Unexpected(what)
}

impl EngineVersions {
    /// The versions in `table` of `engine`.
    pub fn new(engine: Arc<RemoteEngine>, table: &str) -> Self {
        EngineVersions {
            engine,
            table: table.to_string(),
            takeover: DEFAULT_CLAIM_TAKEOVER,
        }
    }

    /// The same table, taking over claims left without a version for `timeout`.
    pub fn with_takeover(mut self, timeout: Duration) -> Self {
        self.takeover = timeout;
        self
    }

    /// Creates the table when missing.
    pub async fn ensure_table(&self) -> Result<(), ClusterError> {
        super::ensure_table(&self.engine, &self.table, true).await
    }

    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, ClusterError> {
        let out = self
            .engine
            .client()
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ClusterError::sdk("reading the versions table", e))?;
        Ok(out.item)
    }

    /// Every item under `pk`, in `sk` order.
    async fn query(&self, pk: &str) -> Result<Vec<Item>, ClusterError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .engine
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| ClusterError::sdk("reading the versions table", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    async fn put(&self, item: Item) -> Result<(), ClusterError> {
        self.engine
            .client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| ClusterError::sdk("writing the versions table", e))?;
        Ok(())
    }

    /// The active version, if any.
    pub async fn active(&self) -> Result<Option<Active>, ClusterError> {
        let Some(item) = self.get("active", "-").await? else {
            return Ok(None);
        };
        let version = get_n(&item, "version")
            .ok_or_else(|| unexpected("the active-version record has no version".into()))?;
        Ok(Some(Active {
            version: version as u64,
            hash: get_s(&item, "hash").unwrap_or_default(),
        }))
    }

    /// Makes `version` (whose hash is `hash`) the active version, for every node.
    pub async fn set_active(
        &self,
        version: u64,
        hash: &str,
        node: &str,
    ) -> Result<(), ClusterError> {
        let item = Item::from([
            ("pk".into(), s("active")),
            ("sk".into(), s("-")),
            ("version".into(), n(version)),
            ("hash".into(), s(hash)),
            ("node".into(), s(node)),
            (
                "updated_ms".into(),
                n(chrono::Utc::now().timestamp_millis()),
            ),
        ]);
        self.put(item).await
    }

    fn record_of(item: &Item) -> Option<VersionRecord> {
        let functions = item
            .get("functions")
            .and_then(|f| f.as_l().ok())
            .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
            .unwrap_or_default();
        Some(VersionRecord {
            version: get_n(item, "version")? as u64,
            hash: get_s(item, "hash")?,
            origin: get_s(item, "origin").unwrap_or_default(),
            created_ms: get_n(item, "created_ms").unwrap_or_default(),
            functions,
            node: get_s(item, "node").unwrap_or_default(),
        })
    }

    /// Every version, oldest first.
    pub async fn list(&self) -> Result<Vec<VersionRecord>, ClusterError> {
        Ok(self
            .query("versions")
            .await?
            .iter()
            .filter_map(Self::record_of)
            .collect())
    }

    /// The record of `version`, if it exists.
    pub async fn record(&self, version: u64) -> Result<Option<VersionRecord>, ClusterError> {
        Ok(self
            .get("versions", &version_key(version))
            .await?
            .as_ref()
            .and_then(Self::record_of))
    }

    /// Stores `app` as a new version (its number from the table's counter); nothing is
    /// activated.
    pub async fn create(
        &self,
        app: &StoredApp,
        hash: &str,
        origin: &str,
        functions: &[String],
        node: &str,
    ) -> Result<VersionRecord, ClusterError> {
        let counter = self
            .engine
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s("counter"))
            .key("sk", s("-"))
            .update_expression("ADD #last :one")
            .expression_attribute_names("#last", "last")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| ClusterError::sdk("numbering a version", e))?;
        let version = counter
            .attributes
            .as_ref()
            .and_then(|a| get_n(a, "last"))
            .ok_or_else(|| unexpected("the version counter answered no number".into()))?
            as u64;
        let mut chunk_counts = HashMap::new();
        for (name, bytes) in &app.files {
            let chunks: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES).collect();
            chunk_counts.insert(name.clone(), n(chunks.len()));
            for (i, chunk) in chunks.into_iter().enumerate() {
                let item = Item::from([
                    ("pk".into(), s(format!("chunks#{version}"))),
                    ("sk".into(), s(format!("{name}#{i:06}"))),
                    ("data".into(), AttributeValue::B(Blob::new(chunk))),
                ]);
                self.put(item).await?;
            }
        }
        let record = VersionRecord {
            version,
            hash: hash.to_string(),
            origin: origin.to_string(),
            created_ms: chrono::Utc::now().timestamp_millis(),
            functions: functions.to_vec(),
            node: node.to_string(),
        };
        let item = Item::from([
            ("pk".into(), s("versions")),
            ("sk".into(), s(version_key(version))),
            ("version".into(), n(version)),
            ("hash".into(), s(hash)),
            ("origin".into(), s(origin)),
            ("created_ms".into(), n(record.created_ms)),
            (
                "functions".into(),
                AttributeValue::L(functions.iter().map(|f| s(f.as_str())).collect()),
            ),
            ("node".into(), s(node)),
            ("manifest".into(), s(app.manifest.as_str())),
            ("files".into(), AttributeValue::M(chunk_counts)),
        ]);
        self.put(item).await?;
        Ok(record)
    }

    /// Reads version `version` back: its manifest and every file, whole. None when there is
    /// no such version.
    pub async fn read(
        &self,
        version: u64,
    ) -> Result<Option<(VersionRecord, StoredApp)>, ClusterError> {
        let Some(item) = self.get("versions", &version_key(version)).await? else {
            return Ok(None);
        };
        let record = Self::record_of(&item)
            .ok_or_else(|| unexpected(format!("the record of version {version} is incomplete")))?;
        let manifest = get_s(&item, "manifest")
            .ok_or_else(|| unexpected(format!("version {version} has no manifest")))?;
        let counts: BTreeMap<String, usize> = item
            .get("files")
            .and_then(|f| f.as_m().ok())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_n().ok()?.parse().ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        let mut parts: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for chunk in self.query(&format!("chunks#{version}")).await? {
            let (Some(sk), Some(AttributeValue::B(data))) =
                (get_s(&chunk, "sk"), chunk.get("data"))
            else {
                continue;
            };
            let Some((name, _)) = sk.rsplit_once('#') else {
                continue;
            };
            // Chunks come in `sk` order: each file's in sequence.
            parts
                .entry(name.to_string())
                .or_default()
                .extend_from_slice(data.as_ref());
            *seen.entry(name.to_string()).or_default() += 1;
        }
        if seen != counts {
            return Err(unexpected(format!(
                "version {version}: the stored chunks ({seen:?}) are not the ones its record lists ({counts:?})"
            )));
        }
        let files = parts.into_iter().map(|(k, v)| (k, Arc::from(v))).collect();
        Ok(Some((record, StoredApp { manifest, files })))
    }

    /// Claims the making of the version of the app with content hash `hash` over active
    /// version `after` (0: none). Ok(None): this node won and makes it; Ok(Some(v)): another
    /// node did and made version `v` (waited for, up to two minutes).
    ///
    /// A claim whose node died before making its version is taken over: a waiter that has
    /// seen the same claim (its `token`, fresh at each claim) without a version for the
    /// takeover timeout (`--version-claim-timeout`, measured on its own clock, so the nodes'
    /// clocks need not agree) replaces it with its own by a conditional write on that token,
    /// and makes the version itself. Of several waiters one wins; the others wait again.
    pub async fn claim(
        &self,
        hash: &str,
        after: u64,
        node: &str,
    ) -> Result<Option<u64>, ClusterError> {
        let sk = format!("{hash}@{after}");
        if self.put_claim(&sk, node, None).await? {
            after_claim();
            return Ok(None);
        }
        let mut deadline = tokio::time::Instant::now() + self.takeover + CLAIM_WAIT;
        // The claim as first seen (its token, or None for a claim without one) and when.
        let mut seen: Option<(Option<String>, tokio::time::Instant)> = None;
        loop {
            let item = self.get("claims", &sk).await?;
            if let Some(v) = item.as_ref().and_then(|item| get_n(item, "version")) {
                return Ok(Some(v as u64));
            }
            let token = item.as_ref().and_then(|i| get_s(i, "token"));
            let now = tokio::time::Instant::now();
            match &seen {
                Some((t, since)) if *t == token => {
                    if now.duration_since(*since) >= self.takeover {
                        let owner = item
                            .as_ref()
                            .and_then(|i| get_s(i, "node"))
                            .unwrap_or_default();
                        if self.put_claim(&sk, node, Some(token.as_deref())).await? {
                            tracing::warn!(
                                app = hash,
                                owner = %owner,
                                waited_s = self.takeover.as_secs_f64(),
                                "took over the claim of a node that made no version"
                            );
                            after_claim();
                            return Ok(None);
                        }
                        // Another waiter took it over first: wait for that one.
                        seen = None;
                        deadline = now + self.takeover + CLAIM_WAIT;
                    }
                }
                _ => seen = Some((token, now)),
            }
            if now > deadline {
                return Err(unexpected(format!(
                    "another node claimed app {hash} but made no version within {} s",
                    CLAIM_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Writes this node's claim on `sk` with a fresh token: a new claim where there is none
    /// (`replacing` None), or one replacing the claim whose token is `replacing` (`Some(None)`:
    /// a claim without a token) that has no version yet. Whether this node now holds it.
    async fn put_claim(
        &self,
        sk: &str,
        node: &str,
        replacing: Option<Option<&str>>,
    ) -> Result<bool, ClusterError> {
        let mut put = self
            .engine
            .client()
            .put_item()
            .table_name(&self.table)
            .item("pk", s("claims"))
            .item("sk", s(sk))
            .item("node", s(node))
            .item("token", s(uuid::Uuid::new_v4().to_string()))
            .item("claimed_ms", n(chrono::Utc::now().timestamp_millis()));
        put = match replacing {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(Some(token)) => put
                .condition_expression("#token = :token AND attribute_not_exists(#version)")
                .expression_attribute_names("#token", "token")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":token", s(token)),
            Some(None) => put
                .condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(#token) AND attribute_not_exists(#version)",
                )
                .expression_attribute_names("#token", "token")
                .expression_attribute_names("#version", "version"),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(ClusterError::sdk("claiming a version", e)),
        }
    }

    /// Records that the claim of (`hash`, `after`) made `version`.
    pub async fn claimed(
        &self,
        hash: &str,
        after: u64,
        version: u64,
        node: &str,
    ) -> Result<(), ClusterError> {
        let item = Item::from([
            ("pk".into(), s("claims")),
            ("sk".into(), s(format!("{hash}@{after}"))),
            ("node".into(), s(node)),
            ("version".into(), n(version)),
        ]);
        self.put(item).await
    }
}
