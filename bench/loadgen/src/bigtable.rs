//! The big-table bench: GetItem and Query on a table of millions of 1 KB items against the
//! same on a small one, in one run against one server, and the server's memory.
//!
//! Two wide tables ([`crate::workload`]: `pk` S, `sk` N, partitions of 10 items of 1 KB) are
//! loaded through BatchWriteItem (each once per server: a marker item records a finished load,
//! so an interrupted run resumes by loading again, and a finished one is not reloaded). The
//! bench then waits for the server to go idle (its flushes and compactions done). Then,
//! round after round, the closed-loop load ([`crate::load`]) runs `wide-get` and `wide-query`
//! on the small table and on the big one in turn. The server's resident memory is read from
//! `/proc/<pid>/status` after the load and after every run (`VmRSS`, and the peak `VmHWM`).
//! The report is Markdown: per workload and table the median of the rounds, the big table's
//! p99 and ops/s over the small one's, and the memory.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::client::{Connection, Endpoint};
use crate::load::{self, LoadSpec};
use crate::report::Measurement;
use crate::workload::{
    create_wide_table_body, random_text, wide_load_body, Rng, Workload, BATCH_SIZE, PAYLOAD_BYTES,
    WIDE_PARTITION,
};

/// The partition key of the marker item that records a finished load.
const MARKER: &str = "loaded";

/// What a big-table run does.
pub struct BigTableSpec {
    /// Items of the small table.
    pub small: u64,
    /// Items of the big table.
    pub big: u64,
    /// Connections of the measured load.
    pub connections: usize,
    /// Connections loading the tables.
    pub load_connections: u64,
    /// Warm-up before each measured run.
    pub warmup: Duration,
    /// Measured time of each run.
    pub duration: Duration,
    /// Rounds of runs.
    pub rounds: usize,
    /// The server's process (CPU per request and memory).
    pub server_pid: Option<u32>,
    /// How long to wait at most, after loading, for the server to go idle.
    pub settle: Duration,
}

/// The name of the wide table of `items` items.
fn table_name(items: u64) -> String {
    format!("loadgen_wide_{items}")
}

/// A figure of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`).
fn proc_status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The server's memory now: (resident, peak resident), bytes.
fn memory(pid: Option<u32>) -> (Option<u64>, Option<u64>) {
    match pid {
        Some(pid) => (
            proc_status_bytes(pid, "VmRSS:"),
            proc_status_bytes(pid, "VmHWM:"),
        ),
        None => (None, None),
    }
}

/// Waits until the server is idle (under 5% of a core over a second), at most `limit`: a load
/// of millions of items leaves the store flushing and compacting for a while, and the
/// measured runs are of reads on a settled store, not of reads beside that work.
async fn settle(pid: u32, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        let Some(before) = load::process_cpu(pid) else {
            return;
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Some(after) = load::process_cpu(pid) else {
            return;
        };
        if after.saturating_sub(before) <= Duration::from_millis(50) {
            if started.elapsed() > Duration::from_secs(2) {
                eprintln!(
                    "loadgen: waited {:.0} s for the server's background work to finish",
                    started.elapsed().as_secs_f64()
                );
            }
            return;
        }
    }
    eprintln!(
        "loadgen: the server was still busy after {} s; measuring anyway",
        limit.as_secs()
    );
}

/// Creates the wide table of `items` items unless it exists, and loads it unless an earlier
/// run finished loading it.
async fn ensure_loaded(endpoint: &Endpoint, items: u64, connections: u64) -> Result<()> {
    let table = table_name(items);
    let mut conn = Connection::open(endpoint).await?;
    let describe = json!({ "TableName": table }).to_string();
    let (status, body) = conn.call("DescribeTable", describe.clone()).await?;
    if status != 200 {
        let text = String::from_utf8_lossy(&body);
        if !text.contains("ResourceNotFoundException") {
            bail!("DescribeTable {table} answered {status}: {text}");
        }
        conn.call_ok("CreateTable", create_wide_table_body(&table))
            .await
            .with_context(|| format!("creating {table}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while conn.call_ok("DescribeTable", describe.clone()).await?["Table"]["TableStatus"] != "ACTIVE"
    {
        if Instant::now() > deadline {
            bail!("{table} is not ACTIVE after 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let marker_key = json!({"pk": {"S": MARKER}, "sk": {"N": "0"}});
    let marker = conn
        .call_ok(
            "GetItem",
            json!({"TableName": table, "Key": marker_key, "ConsistentRead": true}).to_string(),
        )
        .await?;
    if marker["Item"]["items"]["N"].as_str() == Some(&items.to_string()) {
        eprintln!("loadgen: {table} already holds {items} items");
        return Ok(());
    }
    let started = Instant::now();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (endpoint, table, done) = (endpoint.clone(), table.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::open(&endpoint).await?;
            let random = random_text(&mut Rng::new(c + 101), 4 * PAYLOAD_BYTES);
            let batches = items.div_ceil(BATCH_SIZE as u64);
            let mut batch = c;
            while batch < batches {
                let first = batch * BATCH_SIZE as u64;
                let count = (BATCH_SIZE as u64).min(items - first);
                batch_write(&mut conn, wide_load_body(&table, first, count, &random)).await?;
                done.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
                batch += connections;
            }
            anyhow::Ok(())
        }));
    }
    let progress = {
        let done = done.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let n = done.load(std::sync::atomic::Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "loadgen: loading: {n} of {items} items in {secs:.0} s ({:.0} items/s)",
                    n as f64 / secs
                );
            }
        })
    };
    let outcome = async {
        for t in tasks {
            t.await??;
        }
        anyhow::Ok(())
    }
    .await;
    progress.abort();
    outcome?;
    // A fresh connection: the first one sat idle through the load, longer than a server's
    // idle timeout (tarn closes a connection after 60 s without traffic).
    let mut conn = Connection::open(endpoint).await?;
    conn.call_ok(
        "PutItem",
        json!({"TableName": table, "Item": {"pk": {"S": MARKER}, "sk": {"N": "0"}, "items": {"N": items.to_string()}}})
            .to_string(),
    )
    .await?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "loadgen: loaded {items} items into {table} in {secs:.0} s ({:.0} items/s)",
        items as f64 / secs
    );
    Ok(())
}

/// BatchWriteItem, resending unprocessed items until none are left.
async fn batch_write(conn: &mut Connection, body: String) -> Result<()> {
    let mut body = body;
    for _ in 0..100 {
        let answer = conn.call_ok("BatchWriteItem", body).await?;
        match answer.get("UnprocessedItems") {
            Some(Value::Object(left)) if !left.is_empty() => {
                body = json!({ "RequestItems": left }).to_string();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return Ok(()),
        }
    }
    bail!("BatchWriteItem left items unprocessed 100 times")
}

/// Checks one request of each wide workload on the table of `items` items answers as it must.
async fn check(endpoint: &Endpoint, items: u64) -> Result<()> {
    let table = table_name(items);
    let mut conn = Connection::open(endpoint).await?;
    let last = items - 1;
    let get = json!({"TableName": table, "Key": {"pk": {"S": format!("p-{}", last / WIDE_PARTITION)},
                     "sk": {"N": (last % WIDE_PARTITION).to_string()}}});
    if !conn.call_ok("GetItem", get.to_string()).await?["Item"].is_object() {
        bail!("GetItem of the last item of {table} missed");
    }
    let query = json!({"TableName": table, "KeyConditionExpression": "pk = :p",
                       "ExpressionAttributeValues": {":p": {"S": "p-0"}}});
    let count = conn.call_ok("Query", query.to_string()).await?["Count"].clone();
    if count != WIDE_PARTITION.min(items) {
        bail!("Query of {table}'s first partition answered {count} items");
    }
    Ok(())
}

/// One measured run and the memory after it.
struct Run {
    items: u64,
    m: Measurement,
}

/// Loads both tables, runs the rounds, and returns the Markdown report.
pub async fn run(endpoint: &Endpoint, spec: &BigTableSpec) -> Result<String> {
    let mut out = String::new();
    for items in [spec.small, spec.big] {
        ensure_loaded(endpoint, items, spec.load_connections).await?;
        check(endpoint, items).await?;
    }
    let (rss_loaded, peak_loaded) = memory(spec.server_pid);
    if let Some(pid) = spec.server_pid {
        settle(pid, spec.settle).await;
    }
    let mut runs = Vec::new();
    let mut rss_runs = Vec::new();
    for round in 1..=spec.rounds {
        for workload in [Workload::WideGet, Workload::WideQuery] {
            for items in [spec.small, spec.big] {
                let load = LoadSpec {
                    workload,
                    connections: spec.connections,
                    warmup: spec.warmup,
                    duration: spec.duration,
                    keys: items,
                    label: format!("{items} items"),
                    server_pid: spec.server_pid,
                    table: Some(table_name(items)),
                };
                let m = load::run(endpoint, &load).await?;
                eprintln!("loadgen: round {round}: {}", m.summary());
                rss_runs.extend(memory(spec.server_pid).0);
                runs.push(Run { items, m });
            }
        }
    }
    let (_, peak) = memory(spec.server_pid);

    let mb = |b: Option<u64>| b.map_or("—".into(), |b| format!("{:.0} MB", b as f64 / 1e6));
    let ms = |us: f64| format!("{:.2} ms", us / 1000.0);
    let _ = writeln!(
        out,
        "| workload | table | ops/s | p50 | p99 | errors | server CPU/request |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
    let mut ratios = Vec::new();
    for workload in [Workload::WideGet, Workload::WideQuery] {
        let mut cells = Vec::new();
        for items in [spec.small, spec.big] {
            let these: Vec<&Measurement> = runs
                .iter()
                .filter(|r| r.items == items && r.m.workload == workload)
                .map(|r| &r.m)
                .collect();
            let median = |f: &dyn Fn(&Measurement) -> f64| {
                let mut v: Vec<f64> = these.iter().map(|m| f(m)).collect();
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2).copied().unwrap_or(0.0)
            };
            let ops = median(&|m| m.ops_per_sec);
            let p50 = median(&|m| m.p50_us as f64);
            let p99 = median(&|m| m.p99_us as f64);
            let cpu = these
                .iter()
                .filter_map(|m| m.server_cpu_us_per_request)
                .collect::<Vec<_>>();
            let cpu = if cpu.is_empty() {
                "—".to_string()
            } else {
                let mut cpu = cpu;
                cpu.sort_by(f64::total_cmp);
                format!("{:.0} µs", cpu[cpu.len() / 2])
            };
            let errors: u64 = these.iter().map(|m| m.errors).sum();
            let _ = writeln!(
                out,
                "| {} | {items} items | {ops:.0} | {} | {} | {errors} | {cpu} |",
                workload.name(),
                ms(p50),
                ms(p99)
            );
            cells.push((ops, p99));
        }
        if let [(small_ops, small_p99), (big_ops, big_p99)] = cells[..] {
            ratios.push((workload, big_p99 / small_p99, big_ops / small_ops));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "| workload | p99, big ÷ small | ops/s, big ÷ small |");
    let _ = writeln!(out, "|---|---:|---:|");
    for (w, p99, ops) in ratios {
        let _ = writeln!(out, "| {} | {p99:.2}x | {ops:.2}x |", w.name());
    }
    let _ = writeln!(out);
    let rss_max = rss_runs.iter().copied().max();
    let _ = writeln!(
        out,
        "Server memory: resident {} after loading (peak {} while loading), at most {} \
         after a measured run, peak {} over the whole run.",
        mb(rss_loaded),
        mb(peak_loaded),
        mb(rss_max),
        mb(peak)
    );
    Ok(out)
}
