//! App bundles and their immutable, numbered versions on disk.
//!
//! A [`Bundle`] is a manifest whose function sources have been replaced by component files
//! (`<function>.wasm`) carried alongside. Each deploy (and each distinct app loaded by
//! `tarn serve --app`) is written once as `versions/<n>/` (`tarn.toml`, `meta.json`, the `.wasm`
//! files) under the deploy directory, through a temporary directory and a rename, and never
//! modified afterwards. The file `current` names the active version; rollback rewrites only it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::manifest::Manifest;
use super::DeployError;

/// A manifest plus the components it names.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The manifest; each function's `source` is a key of `files`.
    pub manifest: Manifest,
    /// Component bytes by file name.
    pub files: BTreeMap<String, Arc<[u8]>>,
}

impl Bundle {
    /// A content hash over the manifest and every file.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.manifest.to_toml().as_bytes());
        for (name, bytes) in &self.files {
            h.update(name.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The component bytes of function `name`.
    pub fn wasm_of(&self, name: &str) -> Result<Arc<[u8]>, DeployError> {
        let f = self
            .manifest
            .function(name)
            .ok_or_else(|| DeployError::Invalid(format!("no function {name}")))?;
        self.files
            .get(&f.source)
            .cloned()
            .ok_or_else(|| DeployError::Invalid(format!("bundle lacks {} for {name}", f.source)))
    }

    /// The JSON the admin API takes: `{"manifest": toml, "files": {name: base64}}`.
    pub fn to_wire(&self) -> serde_json::Value {
        let b64 = base64::engine::general_purpose::STANDARD;
        serde_json::json!({
            "manifest": self.manifest.to_toml(),
            "files": self.files.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(b64.encode(v)))).collect::<serde_json::Map<_, _>>(),
        })
    }

    /// Reads [`Bundle::to_wire`]'s form, checking that every function's file is there.
    pub fn from_wire(v: &serde_json::Value) -> Result<Bundle, DeployError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let text = v
            .get("manifest")
            .and_then(|m| m.as_str())
            .ok_or_else(|| DeployError::Invalid("bundle: missing manifest".into()))?;
        let manifest = Manifest::parse(text)?;
        let mut files = BTreeMap::new();
        for (name, data) in v
            .get("files")
            .and_then(|f| f.as_object())
            .into_iter()
            .flatten()
        {
            check_file_name(name)?;
            let bytes = b64
                .decode(data.as_str().unwrap_or_default())
                .map_err(|e| DeployError::Invalid(format!("bundle file {name}: {e}")))?;
            files.insert(name.clone(), Arc::from(bytes));
        }
        let bundle = Bundle { manifest, files };
        for f in &bundle.manifest.functions {
            bundle.wasm_of(&f.name)?;
        }
        Ok(bundle)
    }
}

fn check_file_name(name: &str) -> Result<(), DeployError> {
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(DeployError::Invalid(format!(
            "bundle file name `{name}` not allowed"
        )));
    }
    Ok(())
}

/// What is recorded about one version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionMeta {
    /// The version number, from 1.
    pub version: u64,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: i64,
    /// `serve` (loaded from `--app`) or `deploy`.
    pub origin: String,
    /// [`Bundle::hash`].
    pub hash: String,
    /// Function names.
    pub functions: Vec<String>,
}

/// The `versions/` directory and the `current` pointer.
#[derive(Debug, Clone)]
pub struct VersionStore {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DeployError + '_ {
    move |e| DeployError::Io(path.to_path_buf(), e)
}

impl VersionStore {
    /// The store under `root` (created if missing).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, DeployError> {
        let root = root.into();
        let versions = root.join("versions");
        std::fs::create_dir_all(&versions).map_err(io(&versions))?;
        Ok(VersionStore { root })
    }

    fn dir_of(&self, version: u64) -> PathBuf {
        self.root.join("versions").join(version.to_string())
    }

    /// Every version, oldest first.
    pub fn list(&self) -> Result<Vec<VersionMeta>, DeployError> {
        let dir = self.root.join("versions");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let Some(n) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            if let Ok(meta) = self.meta(n) {
                out.push(meta);
            }
        }
        out.sort_by_key(|m| m.version);
        Ok(out)
    }

    /// The metadata of `version`.
    pub fn meta(&self, version: u64) -> Result<VersionMeta, DeployError> {
        let path = self.dir_of(version).join("meta.json");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        serde_json::from_str(&text)
            .map_err(|e| DeployError::Invalid(format!("{}: {e}", path.display())))
    }

    /// The active version, if any.
    pub fn current(&self) -> Option<u64> {
        std::fs::read_to_string(self.root.join("current"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Makes `version` the active one.
    pub fn set_current(&self, version: u64) -> Result<(), DeployError> {
        let path = self.root.join("current");
        let tmp = self
            .root
            .join(format!(".current-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&tmp, format!("{version}\n")).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// The number the next version gets.
    pub fn next_version(&self) -> Result<u64, DeployError> {
        Ok(self.list()?.last().map_or(1, |m| m.version + 1))
    }

    /// Writes `bundle` as `version` (which must not exist yet).
    pub fn write(
        &self,
        version: u64,
        bundle: &Bundle,
        origin: &str,
    ) -> Result<VersionMeta, DeployError> {
        let dest = self.dir_of(version);
        if dest.exists() {
            return Err(DeployError::Invalid(format!(
                "version {version} already exists"
            )));
        }
        let tmp = self
            .root
            .join("versions")
            .join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        std::fs::write(tmp.join("tarn.toml"), bundle.manifest.to_toml()).map_err(io(&tmp))?;
        for (name, bytes) in &bundle.files {
            std::fs::write(tmp.join(name), bytes).map_err(io(&tmp))?;
        }
        let meta = VersionMeta {
            version,
            created_ms: chrono::Utc::now().timestamp_millis(),
            origin: origin.to_string(),
            hash: bundle.hash(),
            functions: bundle
                .manifest
                .functions
                .iter()
                .map(|f| f.name.clone())
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&meta).expect("meta serializes");
        std::fs::write(tmp.join("meta.json"), json).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
        Ok(meta)
    }

    /// Reads version `version` back.
    pub fn read(&self, version: u64) -> Result<Bundle, DeployError> {
        let dir = self.dir_of(version);
        let manifest = Manifest::load(&dir.join("tarn.toml"))?;
        let mut files = BTreeMap::new();
        for f in &manifest.functions {
            let path = dir.join(&f.source);
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            files.insert(f.source.clone(), Arc::from(bytes));
        }
        Ok(Bundle { manifest, files })
    }
}
