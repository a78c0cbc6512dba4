//! Shared helpers for tarn's end-to-end tests: start a real `tarn serve` process on a
//! free loopback port with a temporary (or given) data directory, wait until it answers
//! the DynamoDB API, build an `aws-sdk-dynamodb` client for it, and kill it on drop.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;

pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `tarn serve`. Killed (SIGKILL) and reaped when dropped.
pub struct TarnServer {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    log_path: PathBuf,
    // Owns the temporary directory (data + log) unless the caller supplied the data dir.
    _tmp: Option<tempfile::TempDir>,
}

impl TarnServer {
    /// Start on a fresh temporary data directory.
    pub fn start() -> TarnServer {
        let tmp = tempfile::Builder::new()
            .prefix("tarn-e2e-")
            .tempdir()
            .expect("tempdir");
        let data_dir = tmp.path().join("data");
        let log_path = tmp.path().join("tarn.log");
        let mut s = Self::spawn(&data_dir, log_path);
        s._tmp = Some(tmp);
        s
    }

    /// Start on an existing data directory (for restart tests); the log goes next to it.
    pub fn start_on(data_dir: &Path, log_name: &str) -> TarnServer {
        let log_path = data_dir
            .parent()
            .expect("data dir has a parent")
            .join(log_name);
        Self::spawn(data_dir, log_path)
    }

    /// Start on a fresh temporary data directory with extra `tarn serve` arguments and
    /// environment variables (credentials, limits...).
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> TarnServer {
        let tmp = tempfile::Builder::new()
            .prefix("tarn-e2e-")
            .tempdir()
            .expect("tempdir");
        let data_dir = tmp.path().join("data");
        let log_path = tmp.path().join("tarn.log");
        let mut s = Self::spawn_with(&data_dir, log_path, args, env);
        s._tmp = Some(tmp);
        s
    }

    /// Start on an existing data directory with extra arguments and environment variables.
    pub fn start_on_with(
        data_dir: &Path,
        log_name: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> TarnServer {
        let log_path = data_dir
            .parent()
            .expect("data dir has a parent")
            .join(log_name);
        Self::spawn_with(data_dir, log_path, args, env)
    }

    fn spawn(data_dir: &Path, log_path: PathBuf) -> TarnServer {
        Self::spawn_with(data_dir, log_path, &[], &[])
    }

    fn spawn_with(
        data_dir: &Path,
        log_path: PathBuf,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> TarnServer {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = std::fs::File::create(&log_path).expect("create log file");
        let child = Command::new(env!("CARGO_BIN_EXE_tarn"))
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            // Any free ports for the function server: tests run side by side.
            .args(["--functions-listen", "127.0.0.1:0"])
            .args(["--admin-listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("spawn tarn serve");
        let mut s = TarnServer {
            child: Some(child),
            addr,
            data_dir: data_dir.to_path_buf(),
            log_path,
            _tmp: None,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().expect("try_wait") {
                panic!(
                    "tarn serve exited ({status}) before answering; log:\n{}",
                    self.log()
                );
            }
            match raw_post(self.addr, "DynamoDB_20120810.ListTables", b"{}") {
                Some((200, _)) => return,
                // A server requiring signatures answers too.
                Some((400, body))
                    if String::from_utf8_lossy(&body).contains("MissingAuthenticationToken") =>
                {
                    return
                }
                _ => {}
            }
            if Instant::now() > deadline {
                panic!(
                    "tarn serve did not answer within {START_TIMEOUT:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log(&self) -> String {
        let s = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let start = s.len().saturating_sub(8000);
        let start = (start..s.len())
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(s.len());
        s[start..].to_string()
    }

    /// An SDK client for this server: dummy credentials, us-east-1, no retries.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        client_for(&self.endpoint())
    }

    /// SIGKILL the process (no graceful shutdown) and reap it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process's exit status, if it has exited on its own.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut()?.try_wait().expect("try_wait")
    }

    /// Panics with the log if the process has exited.
    pub fn assert_alive(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!("tarn serve exited ({status}); log:\n{}", self.log());
            }
        }
    }
}

impl Drop for TarnServer {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn client_for(endpoint: &str) -> aws_sdk_dynamodb::Client {
    client_with_keys(endpoint, "test", "test")
}

/// An SDK client signing with the given access key pair.
pub fn client_with_keys(
    endpoint: &str,
    access_key_id: &str,
    secret: &str,
) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            access_key_id,
            secret,
            None,
            None,
            "static",
        ))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A blocking raw POST to `/` with the given X-Amz-Target; returns (status, body).
/// `None` if the connection failed.
pub fn raw_post(addr: SocketAddr, target: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: {target}\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let status: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    Some((status, buf[split..].to_vec()))
}

/// The DynamoDB error code (exception name) of an SDK error, e.g. "ResourceNotFoundException".
pub fn err_code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<no code>").to_string()
}

/// A table name unique to this test run.
pub fn unique_name(hint: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{hint}-{}", &id[..10])
}

/// Creates an on-demand table `name` keyed by a string partition key `pk` alone, and waits
/// until it is ACTIVE.
pub async fn create_hash_table(c: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    wait_active(c, name).await;
}

/// Creates an on-demand table `name` keyed by a string partition key `pk` and a number sort key
/// `sk`, and waits until it is ACTIVE.
pub async fn create_pk_sk_table(c: &aws_sdk_dynamodb::Client, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let attribute = |name: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .unwrap()
    };
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attribute("pk", ScalarAttributeType::S))
        .attribute_definitions(attribute("sk", ScalarAttributeType::N))
        .send()
        .await
        .unwrap();
    wait_active(c, name).await;
}

/// Polls DescribeTable until the table is ACTIVE (at most 20 s) and returns its description.
pub async fn wait_active(
    c: &aws_sdk_dynamodb::Client,
    name: &str,
) -> aws_sdk_dynamodb::types::TableDescription {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = c
            .describe_table()
            .table_name(name)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        if t.table_status() == Some(&aws_sdk_dynamodb::types::TableStatus::Active) {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "table {name} not ACTIVE: {:?}",
            t.table_status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The crash step of the crash tests: waits (at most 60 s) until `acked()` reaches `n` while
/// the writer `tasks` keep writing, kills `server` with SIGKILL, raises `stop` and waits for the
/// writers to notice.
pub async fn kill_after_acks(
    server: &mut TarnServer,
    n: usize,
    acked: impl Fn() -> usize,
    stop: &std::sync::atomic::AtomicBool,
    tasks: Vec<tokio::task::JoinHandle<()>>,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked() < n {
        assert!(
            Instant::now() < deadline,
            "only {} writes acknowledged in 60 s",
            acked()
        );
        server.assert_alive();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(40), t)
            .await
            .expect("writer did not stop")
            .unwrap();
    }
}
