//! The stream trigger, measured: records per second through a `[[stream]]` mapping whose
//! handler writes one item per record, and the delay from a write to the invocation that gets
//! its record (p50, p99).
//!
//! Two runs of `tarn serve` (the binary cargo built, each on a fresh data directory) with the
//! `todo-events` guest mapped to the `todos` table's stream (it adds one to a counter item per
//! record):
//!
//! - **throughput**: N records written as fast as two writers can (BatchWriteItem, 25 each);
//!   the time until the mapping has processed all of them gives records/s through the trigger,
//!   reported beside the write rate measured in the same run (the baseline);
//! - **backlog**: the same N records written by a tarn without the mapping, then a tarn with
//!   it started on the same data: records/s through the trigger alone, nothing else running
//!   (the trigger's own cost per record, free of the writers' share of the CPU);
//! - **latency**: 2,000 PutItems a second for 5 s (16 threads, each on its own schedule), a
//!   rate the trigger keeps up with; the mapping's own figures (`GET /_tarn/status`: delay
//!   from a record's commit to the start of its invocation) give p50 and p99.
//!
//! Run: `scripts/build-guests.sh`, then
//! `cargo bench -p tarn --bench stream_trigger [-- --records 20000]`. `TARN_BENCH_GUESTS` names
//! a directory of prebuilt guests (default `functions/target/wasm32-wasip2/release`);
//! `TARN_BIN` a tarn binary to run instead of the one cargo built (A/B against a kept build).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const TOKEN: &str = "bench-token";
/// Writes per second of the latency run.
const LATENCY_RATE: u64 = 2_000;
/// Seconds the latency run writes for.
const LATENCY_SECONDS: u64 = 5;
/// Threads sending the latency run's writes (a durable PutItem on a fresh connection takes a
/// few milliseconds, so one thread alone could not keep the rate).
const LATENCY_WRITERS: u64 = 16;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request on a fresh connection; returns (status, body).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let status = String::from_utf8_lossy(&buf)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    Some((status, buf[split..].to_vec()))
}

fn dynamodb(addr: SocketAddr, op: &str, body: Value) -> Value {
    let target = format!("DynamoDB_20120810.{op}");
    let (status, bytes) = http(
        addr,
        "POST",
        "/",
        &[
            ("X-Amz-Target", &target),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
        body.to_string().as_bytes(),
    )
    .expect("DynamoDB API answers");
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(status, 200, "{op}: {v}");
    v
}

struct Server {
    child: Child,
    api: SocketAddr,
    admin: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `tarn serve` on the data directory in `dir`; with `mapping`, the `[[stream]]` mapping
    /// runs (without, the stream only fills).
    fn start(dir: &Path, guests: &Path, mapping: bool) -> Server {
        let manifest = dir.join("tarn.toml");
        let stream = if mapping {
            "[[stream]]\ntable = \"todos\"\nfunction = \"todo-events\"\nbatch_size = 100\n"
        } else {
            ""
        };
        std::fs::write(
            &manifest,
            format!(
                r#"
[[function]]
name = "todo-events"
source = "{}"
memory_mb = 32
timeout_ms = 5000
tables = {{ todo-stats = "read-write" }}

{stream}

[[table]]
name = "todos"
hash_key = "id:S"
stream = "NEW_AND_OLD_IMAGES"

[[table]]
name = "todo-stats"
hash_key = "id:S"
"#,
                guests.join("todo_events.wasm").display()
            ),
        )
        .unwrap();
        let (api, functions, admin) = (free_port(), free_port(), free_port());
        // `TARN_BIN` runs another build (an A/B comparison against a kept binary).
        let bin = std::env::var_os("TARN_BIN")
            .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tarn")), PathBuf::from);
        let child = Command::new(bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{api}")])
            .args(["--functions-listen", &format!("127.0.0.1:{functions}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .args(["--admin-token", TOKEN, "--app"])
            .arg(&manifest)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .env("TARN_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tarn");
        let server = Server {
            child,
            api: SocketAddr::from(([127, 0, 0, 1], api)),
            admin: SocketAddr::from(([127, 0, 0, 1], admin)),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = http(
                server.api,
                "POST",
                "/",
                &[
                    ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
                    ("Content-Type", "application/x-amz-json-1.0"),
                ],
                b"{}",
            )
            .and_then(|(_, b)| serde_json::from_slice::<Value>(&b).ok())
            .is_some_and(|v| v["TableNames"].as_array().is_some_and(|t| t.len() == 2));
            if ready && (!mapping || server.status().is_some()) {
                return server;
            }
            assert!(Instant::now() < deadline, "tarn did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The mapping's status, once it exists.
    fn status(&self) -> Option<Value> {
        let auth = format!("Bearer {TOKEN}");
        let (status, body) = http(
            self.admin,
            "GET",
            "/_tarn/status",
            &[("Authorization", &auth)],
            b"",
        )?;
        let v: Value = serde_json::from_slice(&body).ok()?;
        (status == 200)
            .then(|| v["streams"]["todos -> todo-events"].clone())
            .filter(|m| !m.is_null())
    }

    /// The CPU time tarn has used so far (user and system, from /proc; zero where there is
    /// no /proc).
    fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The fields after the command's closing parenthesis; utime and stime are the 12th
        // and 13th of them, in clock ticks (100 a second on Linux).
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .map(|f| f.parse().unwrap_or(0))
                    .collect()
            })
            .unwrap_or_default();
        let ticks = fields.get(11).unwrap_or(&0) + fields.get(12).unwrap_or(&0);
        Duration::from_millis(ticks * 10)
    }

    fn processed(&self) -> u64 {
        self.status()
            .and_then(|s| s["processed"].as_u64())
            .unwrap_or(0)
    }

    fn wait_processed(&self, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(600);
        while self.processed() < n {
            assert!(Instant::now() < deadline, "the mapping fell silent");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn todo(i: u64) -> Value {
    json!({"id": {"S": format!("todo-{i}")}, "title": {"S": "benchmark"}, "done": {"BOOL": false}})
}

/// Writes `records` new todos as fast as two writers can (BatchWriteItem, 25 each).
fn write_todos(addr: SocketAddr, records: u64) {
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            std::thread::spawn(move || {
                let mine: Vec<u64> = (0..records).filter(|i| i % 2 == w).collect();
                for chunk in mine.chunks(25) {
                    let puts: Vec<Value> = chunk
                        .iter()
                        .map(|&i| json!({"PutRequest": {"Item": todo(i)}}))
                        .collect();
                    let r = dynamodb(
                        addr,
                        "BatchWriteItem",
                        json!({"RequestItems": {"todos": puts}}),
                    );
                    assert!(r["UnprocessedItems"]
                        .as_object()
                        .is_none_or(|u| u.is_empty()));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
}

fn main() {
    let mut records: u64 = 20_000;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--records") {
        records = args[i + 1].parse().expect("--records N");
    }
    let guests = std::env::var_os("TARN_BENCH_GUESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/target/wasm32-wasip2/release")
        });
    assert!(
        guests.join("todo_events.wasm").exists(),
        "build the guests first: scripts/build-guests.sh"
    );

    // Throughput: write as fast as possible, then wait for the trigger to catch up.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &guests, true);
    let (start, cpu0) = (Instant::now(), server.cpu());
    write_todos(server.api, records);
    let written = start.elapsed();
    server.wait_processed(records);
    let processed = start.elapsed();
    let both_cpu = (server.cpu() - cpu0).as_secs_f64() * 1e6 / records as f64;
    drop(server);
    drop(dir);

    // Backlog: the records are in the stream before the mapping starts (written by a tarn
    // without it); the trigger drains them alone, with nothing else running.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &guests, false);
    write_todos(server.api, records);
    drop(server);
    let server = Server::start(dir.path(), &guests, true);
    let (t0, before, cpu0) = (Instant::now(), server.processed(), server.cpu());
    server.wait_processed(records);
    let drained = (records - before) as f64 / t0.elapsed().as_secs_f64();
    let drain_cpu = (server.cpu() - cpu0).as_secs_f64() * 1e6 / (records - before) as f64;
    drop(server);
    drop(dir);

    // Latency: a steady stream of single PutItems at LATENCY_RATE writes/s (open loop: each
    // of LATENCY_WRITERS threads sends on its own schedule), which the trigger keeps up with.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &guests, true);
    let per_writer = LATENCY_RATE * LATENCY_SECONDS / LATENCY_WRITERS;
    let interval = Duration::from_secs_f64(LATENCY_WRITERS as f64 / LATENCY_RATE as f64);
    let t0 = Instant::now();
    let writers: Vec<_> = (0..LATENCY_WRITERS)
        .map(|w| {
            let addr = server.api;
            std::thread::spawn(move || {
                // Writers start spread over one interval.
                let offset = interval.mul_f64(w as f64 / LATENCY_WRITERS as f64);
                for i in 0..per_writer {
                    let due = t0 + offset + interval * i as u32;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    dynamodb(
                        addr,
                        "PutItem",
                        json!({"TableName": "todos", "Item": todo(w * per_writer + i)}),
                    );
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let trickle = per_writer * LATENCY_WRITERS;
    let achieved = trickle as f64 / t0.elapsed().as_secs_f64();
    server.wait_processed(trickle);
    let status = server.status().unwrap();

    let write_rate = records as f64 / written.as_secs_f64();
    let trigger_rate = records as f64 / processed.as_secs_f64();
    println!("stream trigger, {records} records, handler writes one item per record");
    println!("  written through the API:     {write_rate:>9.0} records/s (baseline)");
    println!(
        "  processed through the trigger: {trigger_rate:>7.0} records/s ({:.2}x the write rate; all done {:.1} s after the first write)",
        trigger_rate / write_rate,
        processed.as_secs_f64()
    );
    println!("  tarn's CPU per record, writes and trigger together: {both_cpu:.0} µs");
    println!(
        "  backlog drained by the trigger alone: {drained:>5.0} records/s, {drain_cpu:.0} µs of tarn's CPU per record"
    );
    println!(
        "  delay write -> invocation at {LATENCY_RATE} writes/s ({achieved:.0} achieved, {trickle} writes): p50 {} ms, p99 {} ms",
        status["delay_ms_p50"], status["delay_ms_p99"]
    );
}
