//! End-to-end: the host accepts components built against any semver-compatible `wasi:*@0.2.x`.
//!
//! The host's WASI and wasi-http are one 0.2.x release (wasmtime's); guests are built against
//! others: the `wasi-0-2-0` guest imports and exports everything at 0.2.0 (the oldest), the
//! `raw-http` guest at 0.2.12 (newer than the host's), and the Rust standard library's own
//! imports are 0.2.0 in every Rust guest. Each must load and answer.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use functions_common::{guest, Server};

/// The versions of `wasi:http/incoming-handler@0.2.N` a component's binary names.
fn wasi_names(wasm: &std::path::Path) -> Vec<String> {
    const PREFIX: &str = "wasi:http/incoming-handler@0.2.";
    let bytes = std::fs::read(wasm).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let mut names: Vec<String> = text
        .match_indices(PREFIX)
        .map(|(i, _)| {
            let patch: String = text[i + PREFIX.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            format!("{PREFIX}{patch}")
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn components_built_against_older_and_newer_wasi_0_2_x_run() {
    let old = guest("wasi-0-2-0");
    let new = guest("raw-http");
    // What each was built against, read off the binaries: the test means what it says.
    assert_eq!(
        wasi_names(&old),
        ["wasi:http/incoming-handler@0.2.0"],
        "wasi-0-2-0 exports another version"
    );
    assert_eq!(wasi_names(&new), ["wasi:http/incoming-handler@0.2.12"]);

    let server = Server::start(&format!(
        r#"
[[function]]
name = "old"
source = "{old}"

[[function]]
name = "new"
source = "{new}"

[[route]]
path = "/old/*"
function = "old"

[[route]]
path = "/new/*"
function = "new"
"#,
        old = old.display(),
        new = new.display(),
    ))
    .await;
    let r = server.get("/old/hi").await;
    assert_eq!(r.status, 200, "{}\n{}", r.body, server.log());
    assert_eq!(r.body, "wasi 0.2.0 component: GET /old/hi\n");
    let r = server.get("/new/hi").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.starts_with("raw wasi:http component: GET /new/hi"),
        "{}",
        r.body
    );
}
