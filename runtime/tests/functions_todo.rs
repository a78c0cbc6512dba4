//! End-to-end: the todo example app. Builds the guests from source, starts
//! `tarn serve --app examples/todo/tarn.toml`, and drives its HTTP API.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use functions_common::{repo, request, Server};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todo_app_over_http() {
    // Build the guests first (the manifest names the built components).
    functions_common::guest_dir();
    let app = repo().join("examples/todo/tarn.toml");
    let app = app.to_str().unwrap();
    let server = Server::start_in(tempfile::tempdir().unwrap(), Some(app), &[]).await;
    let addr = server.addr;

    let created = request(
        addr,
        "POST",
        "/todos",
        Some(json!({"title": "buy milk"}).to_string()),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(
        created.status,
        201,
        "create: {}\n{}",
        created.body,
        server.log()
    );
    let todo = created.json();
    let id = todo["id"].as_str().expect("an id").to_string();

    let got = server.get(&format!("/todos/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.json()["title"], "buy milk");

    let version = todo["version"].as_u64().unwrap_or(1);
    let updated = request(
        addr,
        "PUT",
        &format!("/todos/{id}"),
        Some(json!({"done": true, "version": version}).to_string()),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.json()["done"], true);

    // A stale version conflicts.
    let stale = request(
        addr,
        "PUT",
        &format!("/todos/{id}"),
        Some(json!({"done": false, "version": version}).to_string()),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(stale.status, 409, "{}", stale.body);

    let list = server.get("/todos").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&id));

    let new_version = updated.json()["version"].as_u64().unwrap_or(version + 1);
    let deleted = request(
        addr,
        "DELETE",
        &format!("/todos/{id}?version={new_version}"),
        None,
        &[],
    )
    .await
    .unwrap();
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(server.get(&format!("/todos/{id}")).await.status, 404);
}
