//! Function-serving benchmark, every number from one run on one machine:
//!
//! * `tarn hello`: requests/s and p50/p99 latency of a hello-world HTTP function under `tarn serve`;
//! * `tarn GetItem`: the same for a handler doing one GetItem through the `tables` import (the
//!   `get-one` guest's `/get/:id`);
//! * `wasmtime serve`: the same `hello.wasm` under `wasmtime serve` (wasmtime-cli 48), the peer
//!   (`hello` is a plain wasi:http component: no tarn import);
//! * `tarn hello, reuse = 1000`: the same `hello.wasm` as a function with instance reuse;
//! * `tarn hello-python` / `hello-js`, fresh and with `reuse = 1000` (skipped, with a line
//!   saying so, when their toolchains could not build them);
//! * `hyper`: a plain hyper server answering the same bytes, the ceiling;
//! * per-invocation instantiation time (mean, microseconds), from tarn's own counters.
//!
//! ```text
//! cargo bench -p tarn --bench functions -- [--seconds 5] [--connections 32]
//! ```
//! Environment: `TARN_BENCH_GUESTS` (a directory with hello.wasm and get_one.wasm; default:
//! build them with scripts/build-guests.sh), `WASMTIME` (the wasmtime binary; default: `wasmtime`
//! on PATH; the row is skipped without it), `TARN_BENCH_GET_PATH` (default `/get/bench-1`).
//! Every server is a separate process; the load generator (keep-alive HTTP/1.1 connections, each
//! sending its next request when the previous answer arrived) runs in this one.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

struct Args {
    seconds: u64,
    connections: usize,
}

fn parse_args() -> (Args, Option<(u16, PathBuf)>) {
    let mut args = Args {
        seconds: 5,
        connections: 32,
    };
    let mut ceiling = None;
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "--seconds" => {
                args.seconds = argv[i + 1].parse().expect("--seconds N");
                i += 1;
            }
            "--connections" => {
                args.connections = argv[i + 1].parse().expect("--connections N");
                i += 1;
            }
            "--ceiling-server" => {
                ceiling = Some((
                    argv[i + 1].parse().expect("port"),
                    PathBuf::from(&argv[i + 2]),
                ));
                i += 2;
            }
            _ => {} // `--bench` and friends from cargo
        }
        i += 1;
    }
    (args, ceiling)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Requests one instance serves in the `reuse` rows.
const REUSE: u32 = 1000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn guest_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TARN_BENCH_GUESTS") {
        return PathBuf::from(d);
    }
    let status = Command::new("bash")
        .arg(repo().join("scripts/build-guests.sh"))
        .current_dir(repo())
        .status()
        .expect("running scripts/build-guests.sh");
    assert!(status.success(), "building guests failed");
    repo().join("functions/target/wasm32-wasip2/release")
}

fn guest(dir: &Path, name: &str) -> Option<PathBuf> {
    [name.to_string(), name.replace('-', "_")]
        .into_iter()
        .map(|n| dir.join(format!("{n}.wasm")))
        .find(|p| p.exists())
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn get(addr: SocketAddr, path: &str) -> Option<(u16, Bytes)> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .ok()?;
    let resp = tx.send_request(req).await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.into_body().collect().await.ok()?.to_bytes()))
}

async fn wait_up(addr: SocketAddr, path: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if get(addr, path).await.is_some() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// What one load run measured.
struct Run {
    rps: f64,
    p50_us: u64,
    p99_us: u64,
    errors: u64,
}

async fn load(addr: SocketAddr, path: &str, args: &Args, ok: fn(u16) -> bool) -> Run {
    let path: Arc<str> = path.into();
    // Warm up (compiles nothing, fills pools and caches).
    for _ in 0..200 {
        let _ = get(addr, &path).await;
    }
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).ok();
            let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(conn);
            while Instant::now() < deadline {
                let req = hyper::Request::get(&*path)
                    .header("host", "bench")
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let t = Instant::now();
                match tx.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let body = resp.into_body().collect().await;
                        if body.is_err() || !ok(status) {
                            errors += 1;
                        }
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.unwrap();
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Run {
        rps: all.len() as f64 / elapsed,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        errors,
    }
}

fn ceiling_server(port: u16, body_file: &Path) {
    let body = Bytes::from(std::fs::read(body_file).expect("body file"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).ok();
            let body = body.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "text/plain")
                                .body(Full::new(body))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}

fn main() {
    let (args, ceiling) = parse_args();
    if let Some((port, body)) = ceiling {
        return ceiling_server(port, &body);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let guests = guest_dir();
    let hello = guest(&guests, "hello").expect("hello.wasm");
    let get_one = guest(&guests, "get-one").expect("get_one.wasm");
    let get_path = std::env::var("TARN_BENCH_GET_PATH").unwrap_or_else(|_| "/get/bench-1".into());
    let work = tempfile::tempdir().unwrap();

    // tarn serve: hello answers a fixed body on `/`; get-one does one GetItem on `/get/:id`.
    // Each hello (Rust, and Python and JS when built) also runs as a second function with
    // `reuse`, on `/<name>-reuse/`; the Python and JS ones fresh on `/<name>/`.
    let mut manifest = format!(
        "[[function]]\nname = \"hello\"\nsource = \"{}\"\n\n\
         [[function]]\nname = \"get-one\"\nsource = \"{}\"\ntables = {{ bench = \"read\" }}\n\n\
         [[route]]\npath = \"/get/*\"\nfunction = \"get-one\"\n\n\
         [[table]]\nname = \"bench\"\nhash_key = \"id\"\n\n",
        hello.display(),
        get_one.display()
    );
    let mut variants = vec![("hello", hello.clone())];
    let mut missing = Vec::new();
    for name in ["hello-python", "hello-js"] {
        match guest(&guests, name) {
            Some(p) => variants.push((name, p)),
            None => missing.push(name),
        }
    }
    for (name, path) in &variants {
        if *name != "hello" {
            manifest.push_str(&format!(
                "[[function]]\nname = \"{name}\"\nsource = \"{}\"\n\n\
                 [[route]]\npath = \"/{name}/*\"\nfunction = \"{name}\"\n\n",
                path.display()
            ));
        }
        manifest.push_str(&format!(
            "[[function]]\nname = \"{name}-reuse\"\nsource = \"{}\"\nreuse = {REUSE}\n\n\
             [[route]]\npath = \"/{name}-reuse/*\"\nfunction = \"{name}-reuse\"\n\n",
            path.display()
        ));
    }
    manifest.push_str("[[route]]\npath = \"/*\"\nfunction = \"hello\"\n");
    std::fs::write(work.path().join("tarn.toml"), manifest).unwrap();
    let tarn_port = free_port();
    let tarn_addr: SocketAddr = format!("127.0.0.1:{tarn_port}").parse().unwrap();
    let admin_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _tarn = Proc(
        Command::new(env!("CARGO_BIN_EXE_tarn"))
            .current_dir(work.path())
            .args([
                "serve",
                "--app",
                "tarn.toml",
                "--data-dir",
                "data",
                "--admin-token",
                "bench",
            ])
            .args(["--functions-listen", &tarn_addr.to_string()])
            .args(["--admin-listen", &admin_addr.to_string()])
            .args(["--listen", &format!("127.0.0.1:{}", free_port())])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("starting tarn"),
    );
    assert!(
        wait_up(tarn_addr, "/_tarn/health").await,
        "tarn did not start"
    );
    let (_, hello_body) = get(tarn_addr, "/").await.expect("hello answers");
    let body_file = work.path().join("body");
    std::fs::write(&body_file, &hello_body).unwrap();

    let mut rows: Vec<(String, Option<Run>)> = Vec::new();
    let ok200 = |s: u16| s == 200;
    rows.push((
        "tarn: hello".into(),
        Some(load(tarn_addr, "/", &args, ok200).await),
    ));
    rows.push((
        format!("tarn: hello, reuse = {REUSE}"),
        Some(load(tarn_addr, "/hello-reuse/", &args, ok200).await),
    ));
    for (name, _) in variants.iter().skip(1) {
        rows.push((
            format!("tarn: {name}"),
            Some(load(tarn_addr, &format!("/{name}/"), &args, ok200).await),
        ));
        rows.push((
            format!("tarn: {name}, reuse = {REUSE}"),
            Some(load(tarn_addr, &format!("/{name}-reuse/"), &args, ok200).await),
        ));
    }
    for name in &missing {
        rows.push((
            format!("tarn: {name} (not built: its toolchain is missing; scripts/build-guests.sh)"),
            None,
        ));
    }
    // A missing item is still one GetItem; 200 or 404 both count as answered.
    let r = load(tarn_addr, &get_path, &args, |s| s == 200 || s == 404).await;
    rows.push(("tarn: one GetItem".into(), Some(r)));

    // Peer: wasmtime serve on the same component (`-S cli=y`: hello's std links wasi:cli).
    let wasmtime = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let peer = match Command::new(&wasmtime)
        .args(["serve", "-S", "cli=y", "--addr", &addr.to_string()])
        .arg(&hello)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => {
            let mut child = Proc(child);
            let up = tokio::time::timeout(Duration::from_secs(60), async {
                loop {
                    if let Ok(Some(_)) = child.0.try_wait() {
                        return false;
                    }
                    if get(addr, "/").await.is_some_and(|(s, _)| s == 200) {
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
            .await
            .unwrap_or(false);
            if up {
                Some(load(addr, "/", &args, ok200).await)
            } else {
                None
            }
        }
        Err(_) => None,
    };
    match peer {
        Some(r) => rows.push(("wasmtime serve: hello".into(), Some(r))),
        None => rows.push((
            "wasmtime serve: hello (did not start: set WASMTIME)".into(),
            None,
        )),
    }

    // Ceiling: plain hyper, same bytes.
    let c_port = free_port();
    let c_addr: SocketAddr = format!("127.0.0.1:{c_port}").parse().unwrap();
    let _ceiling = Proc(
        Command::new(std::env::current_exe().unwrap())
            .args(["--ceiling-server", &c_port.to_string()])
            .arg(&body_file)
            .spawn()
            .expect("starting the hyper server"),
    );
    assert!(wait_up(c_addr, "/").await);
    let ceiling = load(c_addr, "/", &args, ok200).await;

    // Instantiation time, from tarn's counters.
    let auth = "Bearer bench";
    let stream = tokio::net::TcpStream::connect(admin_addr).await.unwrap();
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get("/_tarn/functions")
        .header("host", "bench")
        .header("authorization", auth)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let body = tx
        .send_request(req)
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let funcs: serde_json::Value = serde_json::from_slice(&body).unwrap();

    println!(
        "\nfunctions benchmark: {} connections, {} s per row, {} cores\n",
        args.connections,
        args.seconds,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("| server | req/s | p50 µs | p99 µs | errors | req/s vs hyper |");
    println!("|---|---:|---:|---:|---:|---:|");
    rows.push(("hyper (ceiling)".into(), Some(ceiling)));
    let ceiling_rps = rows.last().unwrap().1.as_ref().unwrap().rps;
    for (name, run) in &rows {
        match run {
            Some(r) => println!(
                "| {name} | {:.0} | {} | {} | {} | {:.2} |",
                r.rps,
                r.p50_us,
                r.p99_us,
                r.errors,
                r.rps / ceiling_rps
            ),
            None => println!("| {name} | skipped | | | | |"),
        }
    }
    println!();
    for f in funcs["functions"].as_array().into_iter().flatten() {
        println!(
            "instantiation, {}: mean {:.1} µs over {} invocations (mean invocation {:.1} µs)",
            f["name"].as_str().unwrap_or(""),
            f["metrics"]["mean_instantiate_us"].as_f64().unwrap_or(0.0),
            f["metrics"]["invocations"],
            f["metrics"]["mean_duration_us"].as_f64().unwrap_or(0.0),
        );
    }
}
