//! End-to-end: a first start that cannot fail for nothing. `tarn serve` without an app, its
//! function port taken by another process, starts anyway with a warning, prints each listener,
//! and binds the function port once an app is deployed and the port is free.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod functions_common;

use std::time::{Duration, Instant};

use functions_common::{guest, request, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_function_port_without_an_app_is_a_warning() {
    // Another process holds the function port.
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap();
    let server = Server::start_on(tempfile::tempdir().unwrap(), None, &[], port).await;
    let log = server.log();
    assert!(log.contains("function port is busy"), "no warning:\n{log}");
    assert!(
        log.contains(&format!(
            "listening: DynamoDB API on http://{}",
            server.dynamodb
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "listening: admin API on http://{}",
            server.admin_addr
        )),
        "{log}"
    );

    // The port frees up and an app is deployed: the function port is bound and serves it.
    drop(squatter);
    std::fs::write(
        server.dir.path().join("tarn.toml"),
        format!(
            "[[function]]\nname = \"raw\"\nsource = \"{}\"\n\n[[route]]\npath = \"/*\"\nfunction = \"raw\"\n",
            guest("raw-http").display()
        ),
    )
    .unwrap();
    let out = server.cli(&["deploy", "--app", "tarn.toml"]);
    assert!(out.status.success(), "deploy failed: {out:?}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match request(port, "GET", "/hi", None, &[]).await {
            Ok(r) if r.status == 200 => break,
            other => assert!(
                Instant::now() < deadline,
                "the function port was never bound: {other:?}\n{}",
                server.log()
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(server
        .log()
        .contains(&format!("listening: functions on http://{port}")));
}
