//! Building an app: each function's `source` is built by its language, and the app becomes a
//! [`Bundle`].
//!
//! A `source` names a `.wasm` component (used as it is), a Rust crate (its folder or its
//! `Cargo.toml`), a Python file (`.py`, componentize-py) or a JavaScript file (`.js`/`.mjs`,
//! componentize-js). Every build goes through `scripts/build-guest.sh LANG SRC OUT` of a tarn
//! checkout, the one place the toolchains are set up (on first use) and called; its output lands
//! in `<manifest dir>/target/tarn/<function>.wasm`. The checkout is found by [`tarn_home`]:
//! `$TARN_HOME`, else a folder above the running binary, else the checkout the binary was built
//! from. Without one, Rust crates are still built with the `cargo` on `PATH`; Python and JS
//! sources fail with what to set.

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

/// The language of a function's `source`, which picks its toolchain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A built component, used as it is.
    Wasm,
    /// A Rust crate (a folder with a `Cargo.toml`, or the `Cargo.toml` itself).
    Rust,
    /// A Python file.
    Python,
    /// A JavaScript file.
    Js,
}

impl Language {
    /// The language of the source at `path`, by what it is: a folder or `Cargo.toml` is a
    /// crate, else the file's extension decides.
    pub fn of(path: &Path) -> Result<Language, DeployError> {
        if path.is_dir() || path.file_name().is_some_and(|n| n == "Cargo.toml") {
            return Ok(Language::Rust);
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => Ok(Language::Wasm),
            Some("py") => Ok(Language::Python),
            Some("js" | "mjs") => Ok(Language::Js),
            _ => Err(DeployError::Build(format!(
                "{}: a function's source must be a .wasm component, a Rust crate, a .py or a \
                 .js file",
                path.display()
            ))),
        }
    }

    /// The name `scripts/build-guest.sh` takes.
    fn script_name(self) -> &'static str {
        match self {
            Language::Wasm => "wasm",
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "js",
        }
    }
}

/// The tarn checkout whose `scripts/build-guest.sh` and `guest-sdk/` build Python, JS and Rust
/// functions: `$TARN_HOME` when set, else the nearest folder above the running binary that has
/// the script (a binary in `<checkout>/target/...`), else the checkout this binary was built
/// from if it is still there.
pub fn tarn_home() -> Option<PathBuf> {
    let has_script = |d: &Path| d.join("scripts/build-guest.sh").is_file();
    if let Some(home) = std::env::var_os("TARN_HOME") {
        let home = PathBuf::from(home);
        return has_script(&home).then_some(home);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(d) = exe.ancestors().skip(1).find(|d| has_script(d)) {
            return Some(d.to_path_buf());
        }
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    has_script(built_from).then(|| built_from.to_path_buf())
}

/// Builds `src` (of language `lang`) into the component `out` with `scripts/build-guest.sh`.
fn build_with_script(
    home: &Path,
    lang: Language,
    src: &Path,
    out: &Path,
) -> Result<(), DeployError> {
    let script = home.join("scripts/build-guest.sh");
    tracing::info!(source = %src.display(), lang = lang.script_name(), "building function");
    let status = Command::new("bash")
        .arg(&script)
        .arg(lang.script_name())
        .arg(src)
        .arg(out)
        .stdin(Stdio::null())
        // The toolchains' chatter is progress, not output: stdout stays `tarn build`'s own.
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| DeployError::Build(format!("running {}: {e}", script.display())))?;
    if !status.success() {
        return Err(DeployError::Build(format!(
            "building {} failed (its toolchain's message is above; \
             `{} setup {}` sets the toolchain up alone)",
            src.display(),
            script.display(),
            lang.script_name()
        )));
    }
    Ok(())
}

/// Where `tarn build` puts function `function`'s component.
pub fn output_path(manifest_dir: &Path, function: &str) -> PathBuf {
    manifest_dir
        .join("target")
        .join("tarn")
        .join(format!("{function}.wasm"))
}

/// The component file of function `function` whose source is `source`: the file itself for a
/// `.wasm`, else the source built by its language (when `build`) or its earlier build.
pub fn component_of(
    manifest_dir: &Path,
    function: &str,
    source: &str,
    build: bool,
) -> Result<PathBuf, DeployError> {
    let path = source_path(manifest_dir, source);
    if !path.exists() {
        return Err(DeployError::Build(format!(
            "{} does not exist (a function's source is a .wasm, a Rust crate, a .py or a .js file)",
            path.display()
        )));
    }
    let lang = Language::of(&path)?;
    if lang == Language::Wasm {
        return Ok(path);
    }
    let out = output_path(manifest_dir, function);
    if !build {
        return if out.exists() {
            Ok(out)
        } else {
            Err(DeployError::Build(format!(
                "{} is not built yet: run `tarn build`",
                path.display()
            )))
        };
    }
    // componentize-py and componentize-js take a minute; a Python or JS build newer than its
    // sources is reused (Rust's cargo knows better what its crate reads, and is quick to say
    // it has nothing to do).
    if matches!(lang, Language::Python | Language::Js) && up_to_date(&out, &sources_of(&path)) {
        tracing::info!(function, "up to date: {}", out.display());
        return Ok(out);
    }
    match (tarn_home(), lang) {
        (Some(home), _) => {
            // Built aside and moved in place, so a failed build never leaves a file that looks
            // up to date.
            let partial = out.with_extension("partial.wasm");
            build_with_script(&home, lang, &path, &partial)?;
            std::fs::rename(&partial, &out).map_err(|e| DeployError::Io(out.clone(), e))?;
            Ok(out)
        }
        (None, Language::Rust) => {
            let dir = if path.is_dir() {
                path
            } else {
                path.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            build_crate(&dir)
        }
        (None, _) => Err(DeployError::Build(format!(
            "building {} needs a tarn checkout (its scripts/build-guest.sh and guest-sdk/): \
             set TARN_HOME to one",
            path.display()
        ))),
    }
}

/// Reads the manifest at `path`, builds or reads each function's component and returns the
/// bundle (sources renamed `<function>.wasm`).
pub fn bundle_app(path: &Path, build: bool) -> Result<Bundle, DeployError> {
    let mut manifest = Manifest::load(path)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut files = BTreeMap::new();
    for f in &mut manifest.functions {
        let wasm_path = component_of(&dir, &f.name, &f.source, build)?;
        let bytes = std::fs::read(&wasm_path).map_err(|e| DeployError::Io(wasm_path.clone(), e))?;
        let name = format!("{}.wasm", f.name);
        files.insert(name.clone(), Arc::<[u8]>::from(bytes));
        f.source = name;
    }
    Ok(Bundle { manifest, files })
}

/// Files whose change means the app must be rebuilt: the manifest, each `.wasm` source, each
/// crate source's `Cargo.toml` and `src/`, and every `.py`, `.js` and `.mjs` file in the folder
/// of a Python or JS source (a function imports its neighbours).
pub fn watched_files(path: &Path) -> Vec<PathBuf> {
    let mut out = vec![path.to_path_buf()];
    let Ok(manifest) = Manifest::load(path) else {
        return out;
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for f in &manifest.functions {
        let p = source_path(&dir, &f.source);
        out.extend(sources_of(&p));
    }
    out
}

/// The files a function's build reads, at least: a crate's `Cargo.toml` and `src/`; every
/// `.py`, `.js` and `.mjs` file next to a Python or JS source (a function imports its
/// neighbours); the file itself otherwise.
fn sources_of(p: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    match Language::of(p) {
        Ok(Language::Rust) => {
            let crate_dir = if p.is_dir() {
                p.to_path_buf()
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            };
            out.push(crate_dir.join("Cargo.toml"));
            walk(&crate_dir.join("src"), &mut out);
        }
        Ok(Language::Python | Language::Js) => {
            let folder = p.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut near = Vec::new();
            walk_shallow(&folder, &mut near);
            out.extend(near.into_iter().filter(|f| {
                f != p
                    && matches!(
                        f.extension().and_then(|e| e.to_str()),
                        Some("py" | "js" | "mjs")
                    )
            }));
            out.push(p.to_path_buf());
        }
        _ => out.push(p.to_path_buf()),
    }
    out
}

/// Whether `out` was built after the last change of every file in `sources`.
fn up_to_date(out: &Path, sources: &[PathBuf]) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(built) = modified(out) else {
        return false;
    };
    sources
        .iter()
        .all(|s| modified(s).is_some_and(|m| m <= built))
}

fn walk_shallow(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    out.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
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
