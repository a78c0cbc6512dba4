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
//! cargo bench -p tarn --bench functions -- [--seconds 5] [--connections 32] [--rounds 3]
//! ```
//! Each row gets `seconds` under load in all, in `rounds` turns: the rows take turns, so load
//! from elsewhere on the machine falls on all of them alike. The goals' ratios (tarn hello with
//! reuse and fresh against `wasmtime serve`, the Python and JS hellos with reuse against fresh)
//! are printed after the table.
//! Environment: `TARN_BENCH_GUESTS` (a directory with hello.wasm and get_one.wasm; default:
//! build them with scripts/build-guests.sh, which builds the Python and JS hellos too), `WASMTIME`
//! (the wasmtime binary; default: target/wasmtime-cli/bin/wasmtime if present, else `wasmtime` on
//! PATH; the row is skipped without it), `TARN_BENCH_GET_PATH` (default `/get/bench-1`),
//! `TARN_BENCH_BASELINE` (another tarn binary, say the previous commit's: its hello rows are
//! measured in the same run, for before/after ratios).
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
    rounds: u32,
}

fn parse_args() -> (Args, Option<(u16, PathBuf)>) {
    let mut args = Args {
        seconds: 5,
        connections: 32,
        rounds: 3,
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
            "--rounds" => {
                args.rounds = argv[i + 1].parse::<u32>().expect("--rounds N").max(1);
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
    // Where build-guests.sh puts them: under $CARGO_TARGET_DIR when that is set (relative to the
    // repository, where the script ran), else functions/target.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| repo().join(d))
        .unwrap_or_else(|| repo().join("functions/target"));
    target.join("wasm32-wasip2/release")
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
    tokio::time::timeout(REQUEST_TIMEOUT, get_once(addr, path))
        .await
        .ok()
        .flatten()
}

async fn get_once(addr: SocketAddr, path: &str) -> Option<(u16, Bytes)> {
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

/// What a row measured over all its rounds.
#[derive(Default)]
struct Run {
    /// Every answered request's latency, microseconds.
    latencies: Vec<u64>,
    /// Time spent under load, seconds.
    seconds: f64,
    errors: u64,
}

impl Run {
    fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds.max(f64::EPSILON)
    }

    /// The `p` quantile of the latencies (sorted by [`Run::finish`]).
    fn pct(&self, p: f64) -> u64 {
        let all = &self.latencies;
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    }

    fn finish(&mut self) {
        self.latencies.sort_unstable();
    }
}

/// Warms `path` up (fills pools and caches; compiles nothing).
async fn warm_up(addr: SocketAddr, path: &str) {
    for _ in 0..200 {
        if get(addr, path).await.is_none() {
            break; // no answer: the row's own run counts the errors
        }
    }
}

/// How long one request may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One round of load on `path`: `connections` keep-alive connections for `seconds`, each
/// sending its next request when the previous answer arrived. Adds to `run`.
async fn load(
    addr: SocketAddr,
    path: &str,
    seconds: f64,
    args: &Args,
    ok: fn(u16) -> bool,
    run: &mut Run,
) {
    let path: Arc<str> = path.into();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
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
                // A server that never answers counts as an error and ends this connection,
                // instead of holding the whole run.
                let answer = tokio::time::timeout(REQUEST_TIMEOUT, async {
                    let resp = tx.send_request(req).await?;
                    let status = resp.status().as_u16();
                    let body = resp.into_body().collect().await;
                    Ok::<_, hyper::Error>(body.is_ok() && ok(status))
                })
                .await;
                match answer {
                    Ok(Ok(good)) => {
                        if !good {
                            errors += 1;
                        }
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    Ok(Err(_)) | Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (lat, errors)
        }));
    }
    for t in tasks {
        let (lat, e) = t.await.unwrap();
        run.latencies.extend(lat);
        run.errors += e;
    }
    run.seconds += started.elapsed().as_secs_f64();
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
    let (_tarn, tarn_addr, admin_addr) =
        start_tarn(Path::new(env!("CARGO_BIN_EXE_tarn")), work.path()).await;
    // A baseline build of tarn (say, the previous commit's), measured in the same run.
    let baseline = match std::env::var_os("TARN_BENCH_BASELINE") {
        Some(bin) => {
            let dir = work.path().join("baseline");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(work.path().join("tarn.toml"), dir.join("tarn.toml")).unwrap();
            Some(start_tarn(Path::new(&bin), &dir).await)
        }
        None => None,
    };
    let (_, hello_body) = get(tarn_addr, "/").await.expect("hello answers");
    let body_file = work.path().join("body");
    std::fs::write(&body_file, &hello_body).unwrap();

    // Every server is up before any row is measured; then the rows take turns, `rounds`
    // times, so a neighbour's load landing on the machine for a while spreads over all of
    // them instead of sinking one.
    let peer = start_peer(&hello).await;
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

    let ok200: fn(u16) -> bool = |s| s == 200;
    // A missing item is still one GetItem; 200 or 404 both count as answered.
    let ok_get: fn(u16) -> bool = |s| s == 200 || s == 404;
    let mut rows: Vec<Row> = vec![
        Row::new("tarn: hello", tarn_addr, "/", ok200),
        Row::new(
            &format!("tarn: hello, reuse = {REUSE}"),
            tarn_addr,
            "/hello-reuse/",
            ok200,
        ),
    ];
    for (name, _) in variants.iter().skip(1) {
        rows.push(Row::new(
            &format!("tarn: {name}"),
            tarn_addr,
            &format!("/{name}/"),
            ok200,
        ));
        rows.push(Row::new(
            &format!("tarn: {name}, reuse = {REUSE}"),
            tarn_addr,
            &format!("/{name}-reuse/"),
            ok200,
        ));
    }
    rows.push(Row::new("tarn: one GetItem", tarn_addr, &get_path, ok_get));
    if let Some((_, base_addr, _)) = &baseline {
        rows.push(Row::new("baseline tarn: hello", *base_addr, "/", ok200));
        rows.push(Row::new(
            &format!("baseline tarn: hello, reuse = {REUSE}"),
            *base_addr,
            "/hello-reuse/",
            ok200,
        ));
        for (name, _) in variants.iter().skip(1) {
            rows.push(Row::new(
                &format!("baseline tarn: {name}"),
                *base_addr,
                &format!("/{name}/"),
                ok200,
            ));
        }
    }
    let peer_name = "wasmtime serve: hello";
    if let Some((addr, _)) = &peer {
        rows.push(Row::new(peer_name, *addr, "/", ok200));
    }
    rows.push(Row::new("hyper (ceiling)", c_addr, "/", ok200));
    for row in &rows {
        warm_up(row.addr, &row.path).await;
    }
    let slice = args.seconds as f64 / f64::from(args.rounds);
    for _ in 0..args.rounds {
        for row in rows.iter_mut() {
            load(row.addr, &row.path, slice, &args, row.ok, &mut row.run).await;
        }
    }
    for row in rows.iter_mut() {
        row.run.finish();
    }
    let peer_started = peer.is_some();
    drop(peer);

    // Instantiation time, from tarn's counters.
    let funcs = function_metrics(admin_addr).await;
    let base_funcs = match &baseline {
        Some((_, _, admin)) => Some(function_metrics(*admin).await),
        None => None,
    };

    println!(
        "\nfunctions benchmark: {} connections, {} s per row in {} rounds, {} cores\n",
        args.connections,
        args.seconds,
        args.rounds,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("| server | req/s | p50 µs | p99 µs | errors | req/s vs hyper |");
    println!("|---|---:|---:|---:|---:|---:|");
    let rps = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.run.rps());
    let ceiling_rps = rps("hyper (ceiling)").unwrap_or(f64::NAN);
    for row in &rows {
        let r = &row.run;
        println!(
            "| {} | {:.0} | {} | {} | {} | {:.2} |",
            row.name,
            r.rps(),
            r.pct(0.50),
            r.pct(0.99),
            r.errors,
            r.rps() / ceiling_rps
        );
    }
    if !peer_started {
        println!("| {peer_name} | skipped: did not start (set WASMTIME) | | | | |");
    }
    for name in &missing {
        println!(
            "| tarn: {name} | skipped: not built (its toolchain is missing; scripts/build-guests.sh) | | | | |"
        );
    }

    // The goals of the benchmark, each a ratio of two rows of this run.
    println!("\n| goal | ratio | target | met |\n|---|---:|---:|---|");
    let reuse = format!("tarn: hello, reuse = {REUSE}");
    let mut goals: Vec<(String, Option<f64>, f64)> = vec![
        (
            "tarn hello, reuse / wasmtime serve hello".into(),
            rps(&reuse).zip(rps(peer_name)).map(|(a, b)| a / b),
            3.0,
        ),
        (
            "tarn hello, fresh / wasmtime serve hello".into(),
            rps("tarn: hello").zip(rps(peer_name)).map(|(a, b)| a / b),
            1.2,
        ),
    ];
    for name in ["hello-python", "hello-js"] {
        goals.push((
            format!("tarn {name}, reuse / fresh"),
            rps(&format!("tarn: {name}, reuse = {REUSE}"))
                .zip(rps(&format!("tarn: {name}")))
                .map(|(a, b)| a / b),
            10.0,
        ));
    }
    if baseline.is_some() {
        for name in ["hello", "hello-python", "hello-js"] {
            goals.push((
                format!("tarn {name}, fresh / baseline tarn {name}, fresh"),
                rps(&format!("tarn: {name}"))
                    .zip(rps(&format!("baseline tarn: {name}")))
                    .map(|(a, b)| a / b),
                1.0,
            ));
        }
    }
    for (goal, ratio, target) in goals {
        match ratio {
            Some(r) => println!(
                "| {goal} | {r:.2}x | {target}x | {} |",
                if r >= target { "yes" } else { "no" }
            ),
            None => println!("| {goal} | (a row is missing) | {target}x | no |"),
        }
    }
    println!();
    let listed = [("", Some(&funcs)), ("baseline ", base_funcs.as_ref())];
    for (prefix, funcs) in listed {
        for f in funcs
            .and_then(|f| f["functions"].as_array())
            .into_iter()
            .flatten()
        {
            println!(
                "{prefix}instantiation, {}: mean {:.1} µs over {} invocations (mean invocation {:.1} µs)",
                f["name"].as_str().unwrap_or(""),
                f["metrics"]["mean_instantiate_us"].as_f64().unwrap_or(0.0),
                f["metrics"]["invocations"],
                f["metrics"]["mean_duration_us"].as_f64().unwrap_or(0.0),
            );
        }
    }
}

/// Starts `tarn serve` (binary `bin`) on the app in `dir`/tarn.toml; returns the process and
/// the function and admin addresses once it answers.
async fn start_tarn(bin: &Path, dir: &Path) -> (Proc, SocketAddr, SocketAddr) {
    let tarn_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let admin_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let proc = Proc(
        Command::new(bin)
            .current_dir(dir)
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
            // Both servers run as a service usually does: without RUST_BACKTRACE.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdout(Stdio::null())
            .spawn()
            .expect("starting tarn"),
    );
    assert!(
        wait_up(tarn_addr, "/_tarn/health").await,
        "tarn did not start"
    );
    (proc, tarn_addr, admin_addr)
}

/// `GET /_tarn/functions` of the admin API at `admin`.
async fn function_metrics(admin: SocketAddr) -> serde_json::Value {
    let stream = tokio::net::TcpStream::connect(admin).await.unwrap();
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::get("/_tarn/functions")
        .header("host", "bench")
        .header("authorization", "Bearer bench")
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
    serde_json::from_slice(&body).unwrap()
}

/// One row of the table: a server and path under load, and what it measured.
struct Row {
    name: String,
    addr: SocketAddr,
    path: String,
    ok: fn(u16) -> bool,
    run: Run,
}

impl Row {
    fn new(name: &str, addr: SocketAddr, path: &str, ok: fn(u16) -> bool) -> Row {
        Row {
            name: name.into(),
            addr,
            path: path.into(),
            ok,
            run: Run::default(),
        }
    }
}

/// The wasmtime binary: `$WASMTIME`, else the one `cargo install --root target/wasmtime-cli`
/// put in this repository's target directory, else `wasmtime` on PATH.
fn wasmtime_bin() -> PathBuf {
    if let Some(w) = std::env::var_os("WASMTIME") {
        return PathBuf::from(w);
    }
    let local = repo().join("target/wasmtime-cli/bin/wasmtime");
    if local.exists() {
        local
    } else {
        PathBuf::from("wasmtime")
    }
}

/// The peer: `wasmtime serve` on the same component (`-S cli=y`: hello's std links wasi:cli),
/// with its defaults (a fresh instance per request for a wasip2 component, the pooling
/// allocator). None when it does not start.
async fn start_peer(hello: &Path) -> Option<(SocketAddr, Proc)> {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new(wasmtime_bin())
        .args(["serve", "-S", "cli=y", "--addr", &addr.to_string()])
        .arg(hello)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
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
    up.then_some((addr, child))
}
