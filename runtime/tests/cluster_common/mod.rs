//! Shared helpers of the cluster end-to-end tests: the engine under the cluster (an embedded
//! `tarn serve`, or DynamoDB Local run by `scripts/dynamodb-local.sh`), starting nodes over it
//! with one app, and polling.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::functions_common::{self, repo, Server};

/// The keys the nodes sign with, and the test's own client (DynamoDB Local keeps tables per
/// access key, so both use the same).
pub const KEY: &str = "test";

/// The engine under the cluster.
pub enum Engine {
    Tarn(common::TarnServer),
    DynamoDbLocal { child: Child, addr: SocketAddr },
}

impl Engine {
    pub fn tarn() -> Engine {
        Engine::Tarn(common::TarnServer::start())
    }

    /// An embedded tarn whose streams have `shards` shards.
    pub fn tarn_with_shards(shards: u16) -> Engine {
        let shards = shards.to_string();
        Engine::Tarn(common::TarnServer::start_with(
            &["--stream-shards", &shards],
            &[],
        ))
    }

    /// DynamoDB Local in memory on a free port, installed and run by scripts/dynamodb-local.sh.
    pub async fn dynamodb_local() -> Engine {
        let port = common::free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = std::env::temp_dir().join(format!("tarn-ddb-local-{port}.log"));
        let log = std::fs::File::create(log).unwrap();
        let child = Command::new("bash")
            .arg(repo().join("scripts/dynamodb-local.sh"))
            .args(["run", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting DynamoDB Local");
        let engine = Engine::DynamoDbLocal { child, addr };
        // Installing (once) and starting the JVM take a while.
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if engine.client().list_tables().send().await.is_ok() {
                return engine;
            }
            assert!(Instant::now() < deadline, "DynamoDB Local did not start");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub fn url(&self) -> String {
        match self {
            Engine::Tarn(s) => s.endpoint(),
            Engine::DynamoDbLocal { addr, .. } => format!("http://{addr}"),
        }
    }

    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        common::client_with_keys(&self.url(), KEY, KEY)
    }

    /// Stops the engine (SIGKILL).
    pub fn stop(&mut self) {
        match self {
            Engine::Tarn(s) => s.kill(),
            Engine::DynamoDbLocal { child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// The `--engine*` and `--node-id` arguments of a node named `node` over `engine`, with the
/// engine's credentials written into `dir`.
pub fn engine_args(engine: &Engine, dir: &std::path::Path, node: &str) -> Vec<String> {
    let credentials = dir.join("engine-credentials");
    std::fs::write(
        &credentials,
        format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {KEY}\n"),
    )
    .unwrap();
    [
        "--engine",
        &engine.url(),
        "--engine-region",
        "us-east-1",
        "--engine-credentials-file",
        credentials.to_str().unwrap(),
        "--node-id",
        node,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Engine::DynamoDbLocal { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `count` nodes over `engine`, all with the app in `app_dir`, at once.
pub async fn start_nodes(
    engine: &Engine,
    app_dir: &std::path::Path,
    count: usize,
    more: &[&str],
) -> Vec<Server> {
    let app = app_dir.join("tarn.toml");
    let starts = (0..count).map(|i| {
        let app = app.clone();
        let more = more.to_vec();
        async move {
            let dir = tempfile::tempdir().unwrap();
            let node = format!("node-{}", (b'a' + i as u8) as char);
            let args = engine_args(engine, dir.path(), &node);
            let app = app.to_str().unwrap().to_string();
            let mut extra: Vec<&str> = args.iter().map(String::as_str).collect();
            extra.extend(["--app", app.as_str()]);
            extra.extend(more.iter().copied());
            let addr = format!("127.0.0.1:{}", functions_common::free_port())
                .parse()
                .unwrap();
            Server::start_within(dir, None, &extra, addr, Duration::from_secs(300)).await
        }
    });
    futures_util::future::join_all(starts).await
}

/// Polls `f` until it is true or `within` has passed; answers how long it took.
pub async fn within<F, Fut>(within: Duration, mut f: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < within {
        if f().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
