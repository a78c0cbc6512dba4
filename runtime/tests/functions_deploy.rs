//! End-to-end: `tarn deploy`, immutable versions, `tarn rollback`, `tarn invoke`, `tarn logs`,
//! `tarn functions list`, the admin token, and the compile cache surviving a restart.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use functions_common::{guest, Server};

fn manifest(route: &str, greeting: &str) -> String {
    format!(
        r#"
[[function]]
name = "hello"
source = "{hello}"
env = {{ GREETING = "{greeting}" }}

[[function]]
name = "misbehave"
source = "{misbehave}"
timeout_ms = 300

[[route]]
method = "GET"
path = "{route}"
function = "hello"

[[route]]
path = "/ok"
function = "misbehave"
"#,
        hello = guest("hello").display(),
        misbehave = guest("misbehave").display(),
    )
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "CLI failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_rollback_invoke_logs_and_restart() {
    // A server with nothing deployed.
    let server = Server::start_in(tempfile::tempdir().unwrap(), None, &[]).await;
    assert_eq!(server.get("/v1").await.status, 404);

    // Admin calls need the token.
    let r = functions_common::request(
        server.admin_addr,
        "GET",
        "/_tarn/functions",
        None,
        &[("authorization", "Bearer nope")],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 401);
    // The function port never serves the admin API, not even with the right token.
    let auth = format!("Bearer {}", functions_common::TOKEN);
    for (method, path) in [
        ("GET", "/_tarn/functions"),
        ("GET", "/_tarn/versions"),
        ("GET", "/_tarn/logs"),
        ("POST", "/_tarn/deploy"),
        ("POST", "/_tarn/rollback"),
        ("POST", "/_tarn/invoke/x"),
    ] {
        let r =
            functions_common::request(server.addr, method, path, None, &[("authorization", &auth)])
                .await
                .unwrap();
        assert_eq!(r.status, 404, "{method} {path} on the function port");
    }
    // The liveness probe stays on both ports.
    assert_eq!(server.get("/_tarn/health").await.status, 200);

    // Version 1.
    std::fs::write(server.dir.path().join("tarn.toml"), manifest("/v1", "one")).unwrap();
    let out = ok(&server.cli(&["deploy", "--app", "tarn.toml"]));
    assert!(out.contains("deployed version 1"), "{out}");
    assert_eq!(server.get("/v1").await.status, 200);

    // Version 2 moves the route.
    std::fs::write(server.dir.path().join("tarn.toml"), manifest("/v2", "two")).unwrap();
    let out = ok(&server.cli(&["deploy", "--app", "tarn.toml"]));
    assert!(out.contains("deployed version 2"), "{out}");
    assert_eq!(server.get("/v1").await.status, 404);
    assert_eq!(server.get("/v2").await.status, 200);
    assert_eq!(
        server
            .get("/v2")
            .await
            .headers
            .get("x-tarn-request-id")
            .map(|v| v.len()),
        Some(32)
    );
    // Method mismatch on a method-specific route.
    let post = functions_common::request(server.addr, "POST", "/v2", Some("{}".into()), &[])
        .await
        .unwrap();
    assert_eq!(post.status, 405);

    // Versions are immutable and listed.
    let versions = server.admin("GET", "/_tarn/versions", None).await.json();
    assert_eq!(versions["versions"].as_array().unwrap().len(), 2);
    assert_eq!(versions["active"], 2);

    // Rollback to the previous version.
    let out = ok(&server.cli(&["rollback"]));
    assert!(out.contains("active version 1"), "{out}");
    assert_eq!(server.get("/v1").await.status, 200);
    assert_eq!(server.get("/v2").await.status, 404);

    // invoke, functions list, logs.
    let out = ok(&server.cli(&["invoke", "hello", "--path", "/anything"]));
    assert!(!out.is_empty());
    let failed = server.cli(&["invoke", "misbehave", "--path", "/trap"]);
    assert!(
        !failed.status.success(),
        "invoking a trapping function must fail"
    );
    let out = ok(&server.cli(&["functions", "list"]));
    assert!(
        out.contains("hello") && out.contains("misbehave") && out.contains("/ok"),
        "{out}"
    );
    assert_eq!(server.get("/ok").await.status, 200);
    let out = ok(&server.cli(&["logs", "--function", "misbehave", "--json"]));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["function"] == "misbehave"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l["stream"] == "host" && l["level"] == "error"),
        "trap not logged: {out}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["request_id"].as_str().is_some_and(|r| r.len() == 32)),
        "{out}"
    );

    // A restart comes back on the active version, with compiled code from the disk cache.
    let dir = server.stop();
    let server = Server::start_in(dir, None, &[]).await;
    assert_eq!(server.get("/v1").await.status, 200);
    let list = server.admin("GET", "/_tarn/functions", None).await.json();
    assert_eq!(list["version"], 1);
    for f in list["functions"].as_array().unwrap() {
        assert_eq!(f["from_cache"], true, "{f}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_deploys_leave_the_active_version_alone() {
    let server = Server::start(&manifest("/a", "x")).await;
    assert_eq!(server.get("/a").await.status, 200);
    // Not a component.
    let bundle = serde_json::json!({
        "manifest": "[[function]]\nname = \"f\"\nsource = \"f.wasm\"\n[[route]]\npath = \"/f\"\nfunction = \"f\"\n",
        "files": {"f.wasm": "AGFzbQEAAAA="},
    });
    let r = server.admin("POST", "/_tarn/deploy", Some(bundle)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // A route to an unknown function.
    let bundle = serde_json::json!({"manifest": "[[route]]\npath = \"/f\"\nfunction = \"nope\"\n", "files": {}});
    assert_eq!(
        server
            .admin("POST", "/_tarn/deploy", Some(bundle))
            .await
            .status,
        400
    );
    assert_eq!(server.get("/a").await.status, 200);
    assert_eq!(
        server.admin("GET", "/_tarn/versions", None).await.json()["active"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reloads_on_change() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tarn.toml"), manifest("/before", "x")).unwrap();
    let server = Server::start_in(dir, Some("tarn.toml"), &["--watch"]).await;
    assert_eq!(server.get("/before").await.status, 200);
    std::fs::write(server.dir.path().join("tarn.toml"), manifest("/after", "y")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while server.get("/after").await.status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "no reload; log:\n{}",
            server.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(server.get("/before").await.status, 404);
    // A broken manifest keeps the running version.
    std::fs::write(
        server.dir.path().join("tarn.toml"),
        "[[route]]\npath = 'x'\n",
    )
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(server.get("/after").await.status, 200);
}
