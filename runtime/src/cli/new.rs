//! `tarn new NAME --template T`: scaffolds an app (its `tarn.toml`, the function's sources and a
//! README with the next commands) from one of the templates built into the binary, and
//! `tarn new --list`, which lists them.
//!
//! The templates are the folders of `runtime/templates/`, embedded at compile time, so `tarn new`
//! works wherever the binary is. Each file is copied as it is, with `{{name}}` (the only
//! placeholder) replaced by NAME in text files.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir, DirEntry};

use super::output::{note, out, OutputError};

/// The templates, one folder each (`runtime/templates/README.md` describes them).
static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The placeholder replaced by the app's name.
const PLACEHOLDER: &str = "{{name}}";

/// Arguments of `tarn new`.
#[derive(Debug, Clone, clap::Args)]
pub struct NewArgs {
    /// The app's name: its folder, and the name of its (first) function.
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// The template (`tarn new --list` shows them).
    #[arg(long, short = 't', required_unless_present = "list")]
    pub template: Option<String>,
    /// Where to create the app (default: ./NAME). It must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// List the templates and exit.
    #[arg(long, conflicts_with_all = ["name", "template", "dir"])]
    pub list: bool,
}

/// Why `tarn new` failed.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// No template of that name.
    #[error("no template named '{0}'; the templates are: {1}")]
    UnknownTemplate(String, String),
    /// The name cannot name a function, a folder and a crate.
    #[error(
        "'{0}' is not a valid app name: use lowercase letters, digits, '-' and '_', \
         starting with a letter (at most 64 characters)"
    )]
    BadName(String),
    /// The target folder already has files.
    #[error("{0} already exists and is not empty")]
    Exists(PathBuf),
    /// Writing the app failed.
    #[error("writing {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    /// The output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// One template: its name and what it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// What `--template` takes.
    pub name: String,
    /// What the app does (the opening comment of its `tarn.toml`).
    pub summary: String,
}

/// The templates built into this binary, by name.
pub fn templates() -> Vec<Template> {
    let mut out: Vec<Template> = TEMPLATES
        .dirs()
        .filter_map(|d| {
            let name = d.path().file_name()?.to_str()?.to_string();
            let manifest = d.get_file(d.path().join("tarn.toml"))?;
            // The manifest's opening comment, up to its indented list of commands.
            let header: Vec<&str> = manifest
                .contents_utf8()?
                .lines()
                .take_while(|l| l.starts_with('#') && !l.starts_with("#  "))
                .map(|l| l.trim_start_matches('#').trim())
                .collect();
            let summary = header
                .join(" ")
                .trim_start_matches(&format!("{PLACEHOLDER}:"))
                .trim()
                .to_string();
            Some(Template { name, summary })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Writes template `template` as app `name` into `dir` (which must not exist or be empty) and
/// returns the files written, relative to `dir`.
pub fn scaffold(name: &str, template: &str, dir: &Path) -> Result<Vec<PathBuf>, NewError> {
    if !valid_name(name) {
        return Err(NewError::BadName(name.to_string()));
    }
    let Some(root) = TEMPLATES
        .get_dir(template)
        .filter(|d| d.get_file(d.path().join("tarn.toml")).is_some())
    else {
        let names: Vec<String> = templates().into_iter().map(|t| t.name).collect();
        return Err(NewError::UnknownTemplate(
            template.to_string(),
            names.join(", "),
        ));
    };
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(NewError::Exists(dir.to_path_buf()));
        }
    }
    let mut written = Vec::new();
    write_dir(root, root.path(), name, dir, &mut written)?;
    written.sort();
    Ok(written)
}

fn write_dir(
    d: &Dir<'_>,
    root: &Path,
    name: &str,
    out_dir: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<(), NewError> {
    for entry in d.entries() {
        match entry {
            DirEntry::Dir(sub) => write_dir(sub, root, name, out_dir, written)?,
            DirEntry::File(f) => {
                let rel = f.path().strip_prefix(root).unwrap_or(f.path());
                let path = out_dir.join(rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| NewError::Io(parent.to_path_buf(), e))?;
                }
                let bytes = match f.contents_utf8() {
                    Some(text) => text.replace(PLACEHOLDER, name).into_bytes(),
                    None => f.contents().to_vec(),
                };
                std::fs::write(&path, bytes).map_err(|e| NewError::Io(path.clone(), e))?;
                written.push(rel.to_path_buf());
            }
        }
    }
    Ok(())
}

/// Runs `tarn new`.
pub fn run(args: NewArgs) -> Result<(), NewError> {
    if args.list {
        let all = templates();
        let width = all.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in all {
            out!("{:<width$}  {}", t.name, t.summary)?;
        }
        return Ok(());
    }
    // clap makes both present unless --list.
    let (Some(name), Some(template)) = (args.name, args.template) else {
        return Ok(());
    };
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&name));
    let files = scaffold(&name, &template, &dir)?;
    for f in &files {
        note!("  created {}", dir.join(f).display());
    }
    out!("created {} from template {template}; next:", dir.display())?;
    out!("  cd {}", dir.display())?;
    out!("  tarn build                    # builds the function(s) into WebAssembly components")?;
    out!("  tarn serve --app tarn.toml    # functions on http://127.0.0.1:8080")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_templates_with_summaries() {
        let all = templates();
        let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
        for expected in [
            "http-rust",
            "http-python",
            "http-js",
            "stream-rust",
            "schedule-rust",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert!(all
            .iter()
            .all(|t| !t.summary.is_empty() && !t.summary.contains(PLACEHOLDER)));
    }

    #[test]
    fn scaffolds_with_the_name_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shop");
        let files = scaffold("shop", "http-python", &dir).unwrap();
        assert!(files.contains(&PathBuf::from("tarn.toml")));
        let manifest = std::fs::read_to_string(dir.join("tarn.toml")).unwrap();
        assert!(manifest.contains("name = \"shop\""));
        assert!(!manifest.contains(PLACEHOLDER));
        crate::deploy::manifest::Manifest::load(&dir.join("tarn.toml")).unwrap();
        // A second time into the same, now non-empty, folder is refused.
        assert!(matches!(
            scaffold("shop", "http-python", &dir),
            Err(NewError::Exists(_))
        ));
    }

    #[test]
    fn refuses_bad_names_and_unknown_templates() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(matches!(
            scaffold("../x", "http-rust", &tmp.path().join("a")),
            Err(NewError::BadName(_))
        ));
        assert!(matches!(
            scaffold("Shop", "http-rust", &tmp.path().join("b")),
            Err(NewError::BadName(_))
        ));
        let err = scaffold("ok", "http-cobol", &tmp.path().join("c")).unwrap_err();
        assert!(err.to_string().contains("http-rust"), "{err}");
    }
}
