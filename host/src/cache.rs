//! The on-disk cache of compiled components, keyed by content hash.
//!
//! The key is SHA-256 over the component's bytes and the engine's
//! `precompile_compatibility_hash` (wasmtime version, target, and every codegen setting), so a
//! different wasmtime or engine configuration never loads stale machine code. An entry is the
//! output of `Engine::precompile_component`, written to a temporary file and renamed into place
//! (readers never see a partial file), and loaded with `Component::deserialize_file`, which maps
//! it into memory instead of compiling: a restart does not recompile.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

use crate::error::HostError;

/// A directory of precompiled components.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: PathBuf,
}

/// Feeds `std::hash::Hash` output into SHA-256.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The hex SHA-256 of `bytes`: the content hash a function version is known by.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CompileCache {
    /// A cache in `dir` (created if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, HostError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| HostError::Io(dir.clone(), e))?;
        Ok(CompileCache { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn key(&self, engine: &Engine, wasm: &[u8]) -> String {
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        h.0.update(b"\0tarn-component\0");
        h.0.update(wasm);
        hex(&h.0.finalize())
    }

    /// The compiled form of `wasm`: from the cache when present, else compiled and stored.
    /// Returns the component and whether it came from the cache.
    #[allow(unsafe_code)] // wasmtime's deserialize_file; see the SAFETY notes below
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> Result<(Component, bool), HostError> {
        let path = self.dir.join(format!("{}.cwasm", self.key(engine, wasm)));
        if path.exists() {
            // SAFETY: the file was written by `precompile_component` of an engine with the same
            // compatibility hash (it is in the file name), in a directory only tarn writes, and
            // is never modified after the rename that published it.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, true)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "dropping unusable cache entry");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let compiled = engine
            .precompile_component(wasm)
            .map_err(HostError::Compile)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|e| HostError::Io(self.dir.clone(), e))?;
        tmp.write_all(&compiled)
            .map_err(|e| HostError::Io(path.clone(), e))?;
        tmp.persist(&path)
            .map_err(|e| HostError::Io(path.clone(), e.error))?;
        // SAFETY: as above; this process just wrote the file.
        let component =
            unsafe { Component::deserialize_file(engine, &path) }.map_err(HostError::Compile)?;
        Ok((component, false))
    }
}
