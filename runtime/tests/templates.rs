//! End-to-end: every template `tarn new --list` shows runs `tarn new` → `tarn build` →
//! `tarn serve --app` → an HTTP request to its first GET route, which must answer 200.
//!
//! One test per language, so the three run side by side. A Python or JS template whose toolchain
//! cannot be set up here (`scripts/build-guest.sh setup LANG` fails: no python3-venv, no npm, no
//! registry) is skipped with a message saying so; Rust's toolchain is required.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use functions_common::{repo, Server};

/// The templates `tarn new --list` shows.
fn listed_templates() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .args(["new", "--list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "tarn new --list failed: {out:?}");
    let names: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(!names.is_empty(), "tarn new --list listed nothing");
    names
}

const LANGUAGES: [&str; 3] = ["rust", "python", "js"];

#[test]
fn every_listed_template_is_covered_by_a_language_test() {
    for t in listed_templates() {
        assert!(
            LANGUAGES.iter().any(|l| t.ends_with(&format!("-{l}"))),
            "template {t} is in no language's test: add one"
        );
    }
}

/// Whether `lang`'s toolchain is there or can be set up (it is, on first use).
fn toolchain_ready(lang: &str) -> Result<(), String> {
    let out = Command::new("bash")
        .arg(repo().join("scripts/build-guest.sh"))
        .args(["setup", lang])
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The path of the first GET route of the manifest at `app`, with `x` for each parameter.
fn first_get_path(app: &Path) -> String {
    let manifest: toml::Value = toml::from_str(&std::fs::read_to_string(app).unwrap()).unwrap();
    let route = manifest["route"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"].as_str() == Some("GET"))
        .unwrap_or_else(|| panic!("{} has no GET route", app.display()));
    route["path"]
        .as_str()
        .unwrap()
        .split('/')
        .map(|seg| if seg.starts_with(':') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// `tarn serve --app app/tarn.toml` in `dir`: compiling a JS or Python component takes a minute
/// or more on a loaded machine, so it gets ten to come up.
async fn start(dir: tempfile::TempDir, extra: &[&str]) -> Server {
    let addr = format!("127.0.0.1:{}", functions_common::free_port())
        .parse()
        .unwrap();
    Server::start_within(
        dir,
        Some("app/tarn.toml"),
        extra,
        addr,
        Duration::from_secs(600),
    )
    .await
}

async fn run_template(template: &str) {
    let dir = tempfile::tempdir().unwrap();
    // Every Rust template shares one cargo target folder across runs (a cold build of the SDK
    // and its dependencies takes minutes); cargo reads this from the folder it runs in.
    let shared = repo().join("target/template-guests");
    std::fs::create_dir_all(dir.path().join(".cargo")).unwrap();
    std::fs::write(
        dir.path().join(".cargo/config.toml"),
        format!("[build]\ntarget-dir = {:?}\n", shared.to_str().unwrap()),
    )
    .unwrap();

    let tarn = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tarn"))
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tarn {args:?} failed for {template}:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = tarn(&["new", "app", "--template", template]);
    assert!(said.contains("tarn build"), "{said}");
    let built = tarn(&["build", "--app", "app/tarn.toml"]);
    let manifest = dir.path().join("app/tarn.toml");
    let functions = std::fs::read_to_string(&manifest)
        .unwrap()
        .matches("[[function]]")
        .count();
    assert_eq!(built.lines().count(), functions, "{built}");
    let path = first_get_path(&manifest);

    let server = start(dir, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let reply = functions_common::request(server.addr, "GET", &path, None, &[]).await;
        match reply {
            Ok(r) if r.status == 200 => {
                eprintln!("{template}: GET {path} -> 200 {}", r.body.trim());
                return;
            }
            other => assert!(
                Instant::now() < deadline,
                "{template}: GET {path} never answered 200 (last: {other:?}); log:\n{}",
                server.log()
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn run_language(lang: &str) {
    let templates: Vec<String> = listed_templates()
        .into_iter()
        .filter(|t| t.ends_with(&format!("-{lang}")))
        .collect();
    assert!(!templates.is_empty(), "no {lang} template listed");
    if lang != "rust" {
        if let Err(why) = toolchain_ready(lang) {
            eprintln!(
                "SKIPPED: the {lang} templates {templates:?}: no {lang} toolchain here:\n{why}"
            );
            return;
        }
    }
    for t in &templates {
        run_template(t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_templates_build_serve_and_answer() {
    run_language("rust").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_templates_build_serve_and_answer() {
    run_language("python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_templates_build_serve_and_answer() {
    run_language("js").await;
}

/// `serve --watch` rebuilds a Python or JS function when its source changes.
async fn watch_rebuilds(template: &str, source: &str, says: &str) {
    let lang = template.trim_start_matches("http-");
    if let Err(why) = toolchain_ready(lang) {
        eprintln!("SKIPPED: --watch on {template}: no {lang} toolchain here:\n{why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let new = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .current_dir(dir.path())
        .args(["new", "app", "--template", template])
        .output()
        .unwrap();
    assert!(new.status.success(), "{new:?}");
    // Built first, so the server is up within its start-up wait.
    let built = Command::new(env!("CARGO_BIN_EXE_tarn"))
        .current_dir(dir.path())
        .args(["build", "--app", "app/tarn.toml"])
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let server = start(dir, &["--watch"]).await;
    let answer = |server: &Server| {
        let addr = server.addr;
        async move {
            functions_common::request(addr, "GET", "/hello/x", None, &[])
                .await
                .map(|r| r.body)
                .unwrap_or_default()
        }
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    while !answer(&server).await.contains(says) {
        assert!(Instant::now() < deadline, "never served:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let path = server.dir.path().join("app").join(source);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(says, "edited and rebuilt")).unwrap();
    while !answer(&server).await.contains("edited and rebuilt") {
        assert!(
            Instant::now() < deadline,
            "--watch never served the edit:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_rebuilds_python_and_js_functions() {
    watch_rebuilds("http-python", "app.py", "from Python").await;
    watch_rebuilds("http-js", "app.js", "from JavaScript").await;
}
