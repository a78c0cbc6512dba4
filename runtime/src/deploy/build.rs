//! Building an app: every function whose `source` is a crate directory is built with
//! `cargo build --release --target wasm32-wasip2`, and the app becomes a [`Bundle`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::manifest::Manifest;
use super::versions::Bundle;
use super::DeployError;

/// Where function `source` lives, relative to the manifest's directory.
pub fn source_path(manifest_dir: &Path, source: &str) -> PathBuf {
    let p = Path::new(source);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        manifest_dir.join(p)
    }
}

/// Builds the crate at `dir` for wasm32-wasip2 (release) and returns the component's path.
pub fn build_crate(dir: &Path) -> Result<PathBuf, DeployError> {
    let manifest_path = dir.join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    tracing::info!(crate_dir = %dir.display(), "building function");
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(&manifest_path)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| DeployError::Build(format!("running cargo for {}: {e}", dir.display())))?;
    if !output.status.success() {
        return Err(DeployError::Build(format!(
            "cargo build failed for {}",
            dir.display()
        )));
    }
    let canonical = std::fs::canonicalize(&manifest_path).unwrap_or(manifest_path);
    let mut found = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let same_crate = msg["manifest_path"]
            .as_str()
            .is_some_and(|p| std::fs::canonicalize(p).is_ok_and(|p| p == canonical));
        if !same_crate {
            continue;
        }
        for file in msg["filenames"].as_array().into_iter().flatten() {
            if let Some(f) = file.as_str().filter(|f| f.ends_with(".wasm")) {
                found = Some(PathBuf::from(f));
            }
        }
    }
    found.ok_or_else(|| {
        DeployError::Build(format!(
            "cargo built no .wasm for {} (a bin or cdylib crate?)",
            dir.display()
        ))
    })
}

/// The component file of one function source: the file itself, or the crate built (when
/// `build`) or its already-built output.
pub fn component_of(
    manifest_dir: &Path,
    source: &str,
    build: bool,
) -> Result<PathBuf, DeployError> {
    let path = source_path(manifest_dir, source);
    if path.is_dir() {
        if !build {
            return Err(DeployError::Build(format!(
                "{} is a crate; run `tarn build` or pass a .wasm",
                path.display()
            )));
        }
        return build_crate(&path);
    }
    if !path.exists() {
        return Err(DeployError::Build(format!(
            "{} does not exist (build the function first: `tarn build`)",
            path.display()
        )));
    }
    Ok(path)
}

/// Reads the manifest at `path`, builds or reads each function's component and returns the
/// bundle (sources renamed `<function>.wasm`).
pub fn bundle_app(path: &Path, build: bool) -> Result<Bundle, DeployError> {
    let mut manifest = Manifest::load(path)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut files = BTreeMap::new();
    for f in &mut manifest.functions {
        let wasm_path = component_of(&dir, &f.source, build)?;
        let bytes = std::fs::read(&wasm_path).map_err(|e| DeployError::Io(wasm_path.clone(), e))?;
        let name = format!("{}.wasm", f.name);
        files.insert(name.clone(), Arc::<[u8]>::from(bytes));
        f.source = name;
    }
    Ok(Bundle { manifest, files })
}

/// Files whose change means the app must be rebuilt: the manifest, each `.wasm` source, and
/// each crate source's `Cargo.toml` and `src/`.
pub fn watched_files(path: &Path) -> Vec<PathBuf> {
    let mut out = vec![path.to_path_buf()];
    let Ok(manifest) = Manifest::load(path) else {
        return out;
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for f in &manifest.functions {
        let p = source_path(&dir, &f.source);
        if p.is_dir() {
            out.push(p.join("Cargo.toml"));
            walk(&p.join("src"), &mut out);
        } else {
            out.push(p);
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}
