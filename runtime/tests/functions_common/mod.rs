//! Shared helpers of the functions end-to-end tests: building the guests, running `tarn serve`
//! on free loopback ports, and a small HTTP client.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The directory holding the built guest components (`<name>.wasm`), building them once per
/// test process with `scripts/build-guests.sh`. `TARN_TEST_GUEST_DIR` points at prebuilt ones.
pub fn guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("TARN_TEST_GUEST_DIR") {
            return PathBuf::from(dir);
        }
        let repo = repo();
        let script = repo.join("scripts/build-guests.sh");
        assert!(script.exists(), "scripts/build-guests.sh is missing");
        let status = Command::new("bash")
            .arg(&script)
            .current_dir(&repo)
            .status()
            .expect("running build-guests.sh");
        assert!(status.success(), "building the guests failed");
        repo.join("functions/target/wasm32-wasip2/release")
    })
}

/// The path of guest component `name` (crate name; `-` becomes `_` in file names).
pub fn guest(name: &str) -> PathBuf {
    let dir = guest_dir();
    for candidate in [name.to_string(), name.replace('-', "_")] {
        let p = dir.join(format!("{candidate}.wasm"));
        if p.exists() {
            return p;
        }
    }
    panic!("guest {name} not built in {}", dir.display());
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The admin token the test servers use.
pub const TOKEN: &str = "test-admin-token";

/// A running `tarn serve`, killed on drop.
pub struct Server {
    pub child: Child,
    /// The function routes.
    pub addr: SocketAddr,
    /// The admin API.
    pub admin_addr: SocketAddr,
    /// The DynamoDB API.
    pub dynamodb: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Writes `manifest` into a fresh directory and starts `tarn serve --app` on it.
    pub async fn start(manifest: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tarn.toml"), manifest).unwrap();
        Self::start_in(dir, Some("tarn.toml"), &[]).await
    }

    /// Starts `tarn serve` in `dir` (with `--app <app>` when given) plus `extra` arguments.
    pub async fn start_in(dir: tempfile::TempDir, app: Option<&str>, extra: &[&str]) -> Server {
        Self::start_attempts(dir, app, extra, None, Duration::from_secs(180)).await
    }

    /// As [`Server::start_in`], with the function routes on `addr`.
    pub async fn start_on(
        dir: tempfile::TempDir,
        app: Option<&str>,
        extra: &[&str],
        addr: SocketAddr,
    ) -> Server {
        Self::start_within(dir, app, extra, addr, Duration::from_secs(180)).await
    }

    /// As [`Server::start_on`], waiting up to `wait` for the server to come up (an app of big
    /// Python or JS components takes minutes to compile on a loaded machine).
    pub async fn start_within(
        dir: tempfile::TempDir,
        app: Option<&str>,
        extra: &[&str],
        addr: SocketAddr,
        wait: Duration,
    ) -> Server {
        Self::start_attempts(dir, app, extra, Some(addr), wait).await
    }

    /// Starts the server on fresh ports (the function routes on `addr` when given). A port
    /// [`free_port`] found free can be taken by another process before tarn binds it; tarn then
    /// exits at once, saying so, and is started again on other ports (up to three times).
    async fn start_attempts(
        mut dir: tempfile::TempDir,
        app: Option<&str>,
        extra: &[&str],
        addr: Option<SocketAddr>,
        wait: Duration,
    ) -> Server {
        let port = || -> SocketAddr { format!("127.0.0.1:{}", free_port()).parse().unwrap() };
        for attempt in 1.. {
            let mut server =
                Self::spawn(dir, app, extra, addr.unwrap_or_else(port), port(), port());
            match server.wait_ready(wait).await {
                Ok(()) => return server,
                Err(log) if attempt < 3 && log.contains("Address already in use") => {
                    dir = server.stop();
                }
                Err(log) => panic!("tarn did not come up; log:\n{log}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// Spawns `tarn serve` in `dir` on the given ports, without waiting for it.
    fn spawn(
        dir: tempfile::TempDir,
        app: Option<&str>,
        extra: &[&str],
        addr: SocketAddr,
        admin_addr: SocketAddr,
        dynamodb: SocketAddr,
    ) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("server.log"))
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tarn"));
        cmd.current_dir(dir.path())
            .arg("serve")
            .args(["--functions-listen", &addr.to_string()])
            .args(["--admin-listen", &admin_addr.to_string()])
            .args(["--listen", &dynamodb.to_string()])
            .args(["--data-dir", "data"])
            .args(["--admin-token", TOKEN])
            .args(extra)
            .env("RUST_LOG", "info,cranelift=warn,wasmtime=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        if let Some(app) = app {
            cmd.args(["--app", app]);
        }
        let child = cmd.spawn().expect("starting tarn");
        Server {
            child,
            addr,
            admin_addr,
            dynamodb,
            dir,
        }
    }

    /// Stops the server (SIGKILL) and returns its directory for a restart.
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// Waits until the server answers its health check; `Err` with its log if it exits first
    /// or does not answer within `wait`.
    async fn wait_ready(&mut self, wait: Duration) -> Result<(), String> {
        let deadline = Instant::now() + wait;
        loop {
            if let Ok(r) = request(self.admin_addr, "GET", "/_tarn/health", None, &[]).await {
                if r.status == 200 {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline || matches!(self.child.try_wait(), Ok(Some(_))) {
                return Err(self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `http://addr` of the function routes.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://addr` of the admin API.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// Runs the tarn CLI against this server.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_tarn"))
            .current_dir(self.dir.path())
            .args(args)
            .args(["--server", &self.admin_url(), "--token", TOKEN])
            .output()
            .expect("running the tarn CLI")
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> Reply {
        request(self.addr, "GET", path, None, &[]).await.unwrap()
    }

    /// An admin API call with the token.
    pub async fn admin(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Reply {
        let auth = format!("Bearer {TOKEN}");
        request(
            self.admin_addr,
            method,
            path,
            body.map(|b| b.to_string()),
            &[("authorization", &auth)],
        )
        .await
        .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}
