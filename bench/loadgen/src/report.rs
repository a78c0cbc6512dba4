//! Results: one [`Measurement`] per run (a JSON line), and the Markdown report built from many:
//! a table of ops/s, p50 and p99 per workload and server, tarn's ratio to each peer, and the
//! store's own ops/s without HTTP (read from criterion's output).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::workload::Workload;

/// The label of the ceiling server in results: a row, but never a peer.
pub const CEILING: &str = "hyper ceiling";

/// What one run of one workload against one server measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The server's name.
    pub server: String,
    /// The workload.
    pub workload: Workload,
    /// Connections (requests in flight).
    pub connections: usize,
    /// The measured window, seconds.
    pub seconds: f64,
    /// Requests answered 200 or not, within the window.
    pub requests: u64,
    /// Requests answered with anything but 200, or not at all.
    pub errors: u64,
    /// Requests per second.
    pub ops_per_sec: f64,
    /// Median latency, microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, microseconds.
    pub p99_us: u64,
    /// 99.9th percentile latency, microseconds.
    pub p999_us: u64,
    /// Slowest request, microseconds.
    pub max_us: u64,
    /// CPU time the server process spent per request over the window (user + system, every
    /// thread), microseconds; measured when the server's pid is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpu_us_per_request: Option<f64>,
    /// CPU time the generator itself spent per request over the window, microseconds: on a
    /// machine where it shares the cores with the server, what each request costs the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loadgen_cpu_us_per_request: Option<f64>,
}

impl Measurement {
    /// Summarizes a run's latency histogram (microseconds).
    pub fn from_histogram(
        server: &str,
        workload: Workload,
        connections: usize,
        seconds: f64,
        latencies: &Histogram<u64>,
        errors: u64,
    ) -> Self {
        let requests = latencies.len();
        Measurement {
            server: server.to_string(),
            workload,
            connections,
            seconds,
            requests,
            errors,
            ops_per_sec: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            },
            p50_us: latencies.value_at_quantile(0.50),
            p99_us: latencies.value_at_quantile(0.99),
            p999_us: latencies.value_at_quantile(0.999),
            max_us: latencies.max(),
            server_cpu_us_per_request: None,
            loadgen_cpu_us_per_request: None,
        }
    }

    /// The human one-liner printed after a run.
    pub fn summary(&self) -> String {
        let cpu = self
            .server_cpu_us_per_request
            .map(|us| format!(", server CPU {us:.0} µs/request"))
            .unwrap_or_default()
            + &self
                .loadgen_cpu_us_per_request
                .map(|us| format!(", loadgen CPU {us:.0} µs/request"))
                .unwrap_or_default();
        format!(
            "{} {}: {:.0} ops/s, p50 {}, p99 {}, {} errors ({} requests, {} connections, {:.1} s){cpu}",
            self.server,
            self.workload.name(),
            self.ops_per_sec,
            millis(self.p50_us),
            millis(self.p99_us),
            self.errors,
            self.requests,
            self.connections,
            self.seconds
        )
    }
}

/// Reads JSON lines of measurements (blank lines skipped).
pub fn read_measurements(text: &str) -> Result<Vec<Measurement>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("results line {}", i + 1)))
        .collect()
}

/// Microseconds as milliseconds with two decimals.
fn millis(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

/// An optional figure in microseconds, `—` when absent.
fn micros(us: Option<f64>) -> String {
    us.map_or("—".to_string(), |us| format!("{us:.0} µs"))
}

/// The median of `values` (the upper one of an even count), 0 for none.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// The median of an optional figure over the runs that have it (`None` if none has).
fn median_of(runs: &[&Measurement], figure: impl Fn(&Measurement) -> Option<f64>) -> Option<f64> {
    let values: Vec<f64> = runs.iter().filter_map(|m| figure(m)).collect();
    (!values.is_empty()).then(|| median(values))
}

/// One cell of the report: the rounds of one workload on one server, merged by median.
#[derive(Clone, Debug)]
struct Cell {
    ops_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    errors: u64,
    rounds: usize,
    /// Server CPU per request (µs), when measured.
    cpu_us: Option<f64>,
    /// The generator's CPU per request (µs), when measured.
    loadgen_cpu_us: Option<f64>,
}

/// Merges rounds: for each workload, the servers in the order they first appear in `results`
/// (the same order in every workload, whatever order the runs alternated in).
fn cells(results: &[Measurement]) -> Vec<(Workload, Vec<(String, Cell)>)> {
    let mut order: Vec<&str> = Vec::new();
    for m in results {
        if !order.contains(&m.server.as_str()) {
            order.push(&m.server);
        }
    }
    let mut out: Vec<(Workload, Vec<(String, Cell)>)> = Vec::new();
    for w in Workload::ALL {
        let servers: Vec<String> = order
            .iter()
            .filter(|s| results.iter().any(|m| m.workload == w && m.server == **s))
            .map(|s| s.to_string())
            .collect();
        if servers.is_empty() {
            continue;
        }
        let row = servers
            .into_iter()
            .map(|s| {
                let runs: Vec<&Measurement> = results
                    .iter()
                    .filter(|m| m.workload == w && m.server == s)
                    .collect();
                let cell = Cell {
                    ops_per_sec: median(runs.iter().map(|m| m.ops_per_sec).collect()),
                    p50_us: median(runs.iter().map(|m| m.p50_us as f64).collect()),
                    p99_us: median(runs.iter().map(|m| m.p99_us as f64).collect()),
                    errors: runs.iter().map(|m| m.errors).sum(),
                    rounds: runs.len(),
                    cpu_us: median_of(&runs, |m| m.server_cpu_us_per_request),
                    loadgen_cpu_us: median_of(&runs, |m| m.loadgen_cpu_us_per_request),
                };
                (s, cell)
            })
            .collect();
        out.push((w, row));
    }
    out
}

/// The store's own throughput without HTTP: one criterion benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreBench {
    /// Criterion's id, e.g. `store_ops/get_hit`.
    pub id: String,
    /// Operations per second (time per iteration and the declared element throughput).
    pub ops_per_sec: f64,
}

/// Reads every benchmark of criterion `group` under `criterion_dir` (`target/criterion`).
pub fn read_criterion(criterion_dir: &Path, group: &str) -> Result<Vec<StoreBench>> {
    let dir = criterion_dir.join(group);
    let mut out = Vec::new();
    let entries = std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("new/estimates.json").exists())
        .map(|e| e.path())
        .collect();
    names.sort();
    for bench in names {
        let read = |f: &str| -> Result<serde_json::Value> {
            let p = bench.join("new").join(f);
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            Ok(serde_json::from_str(&text)?)
        };
        let estimates = read("estimates.json")?;
        let meta = read("benchmark.json")?;
        // Criterion's headline figure: the slope of time over iterations when it sampled
        // linearly, else the mean.
        let nanos = estimates["slope"]["point_estimate"]
            .as_f64()
            .or_else(|| estimates["mean"]["point_estimate"].as_f64())
            .unwrap_or(0.0);
        let elements = meta["throughput"]["Elements"].as_f64().unwrap_or(1.0);
        out.push(StoreBench {
            id: meta["full_id"].as_str().unwrap_or_default().to_string(),
            ops_per_sec: if nanos > 0.0 {
                elements * 1e9 / nanos
            } else {
                0.0
            },
        });
    }
    Ok(out)
}

/// Whether `server` is one of ours (its label starts with `ours`, e.g. `tarn`).
fn is_ours(server: &str, ours: &str) -> bool {
    server.starts_with(ours)
}

/// Renders the report: per-workload results, tarn's ratios to each peer and to the ceiling,
/// and the store's own ops/s when `store` is not empty.
pub fn markdown(results: &[Measurement], ours: &str, store: &[StoreBench]) -> String {
    let cells = cells(results);
    let mut out = String::new();
    let rounds: Vec<usize> = cells
        .iter()
        .flat_map(|(_, row)| row.iter().map(|(_, c)| c.rounds))
        .collect();
    match (rounds.iter().min(), rounds.iter().max()) {
        (Some(&min), Some(&max)) if max > 1 && min == max => {
            let _ = writeln!(out, "Each cell: the median of {max} rounds.\n");
        }
        (Some(&min), Some(&max)) if max > 1 => {
            let _ = writeln!(out, "Each cell: the median of {min} to {max} rounds.\n");
        }
        _ => {}
    }
    let _ = writeln!(
        out,
        "| workload | server | ops/s | items/s | p50 | p99 | errors | server CPU/request \
         | loadgen CPU/request |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (w, row) in &cells {
        for (server, c) in row {
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.0} | {} | {} | {} | {} | {} |",
                w.name(),
                server,
                c.ops_per_sec,
                c.ops_per_sec * w.items_per_request() as f64,
                millis(c.p50_us as u64),
                millis(c.p99_us as u64),
                c.errors,
                micros(c.cpu_us),
                micros(c.loadgen_cpu_us)
            );
        }
    }

    // Ratios: rows are (workload, one of ours), columns every peer, then the ceiling.
    let mut peers: Vec<&str> = Vec::new();
    let mut has_ceiling = false;
    for (_, row) in &cells {
        for (s, _) in row {
            if s == CEILING {
                has_ceiling = true;
            } else if !is_ours(s, ours) && !peers.contains(&s.as_str()) {
                peers.push(s);
            }
        }
    }
    if !peers.is_empty() || has_ceiling {
        let _ = writeln!(out);
        let _ = write!(out, "| workload | server | ops/s |");
        for p in &peers {
            let _ = write!(out, " ÷ {p} |");
        }
        if has_ceiling {
            let _ = write!(out, " ÷ {CEILING} |");
        }
        let _ = writeln!(out);
        let _ = write!(out, "|---|---|---:|");
        for _ in 0..peers.len() + usize::from(has_ceiling) {
            let _ = write!(out, "---:|");
        }
        let _ = writeln!(out);
        for (w, row) in &cells {
            let ops = |name: &str| {
                row.iter()
                    .find(|(s, _)| s == name)
                    .map(|(_, c)| c.ops_per_sec)
            };
            for (server, c) in row.iter().filter(|(s, _)| is_ours(s, ours)) {
                let _ = write!(out, "| {} | {} | {:.0} |", w.name(), server, c.ops_per_sec);
                for p in peers.iter().copied().chain(has_ceiling.then_some(CEILING)) {
                    match ops(p) {
                        Some(theirs) if theirs > 0.0 => {
                            let _ = write!(out, " {:.2}x |", c.ops_per_sec / theirs);
                        }
                        _ => {
                            let _ = write!(out, " — |");
                        }
                    }
                }
                let _ = writeln!(out);
            }
        }
    }

    if !store.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "| store, no HTTP (criterion) | ops/s | µs/op |");
        let _ = writeln!(out, "|---|---:|---:|");
        for b in store {
            let _ = writeln!(
                out,
                "| {} | {:.0} | {:.1} |",
                b.id,
                b.ops_per_sec,
                if b.ops_per_sec > 0.0 {
                    1e6 / b.ops_per_sec
                } else {
                    0.0
                }
            );
        }
    }
    out
}

/// Workload descriptions, for the legend under the tables.
pub fn legend() -> String {
    let mut out = String::new();
    for w in Workload::ALL {
        let _ = writeln!(out, "- `{}`: {}", w.name(), w.describe());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(server: &str, workload: Workload, ops: f64) -> Measurement {
        Measurement {
            server: server.into(),
            workload,
            connections: 16,
            seconds: 5.0,
            requests: (ops * 5.0) as u64,
            errors: 0,
            ops_per_sec: ops,
            p50_us: 1500,
            p99_us: 4000,
            p999_us: 6000,
            max_us: 9000,
            server_cpu_us_per_request: Some(45.0),
            loadgen_cpu_us_per_request: Some(30.0),
        }
    }

    #[test]
    fn measurement_from_histogram() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for us in 1..=1000 {
            h.record(us).unwrap();
        }
        let r = Measurement::from_histogram("tarn", Workload::Get, 4, 2.0, &h, 3);
        assert_eq!(r.requests, 1000);
        assert_eq!(r.ops_per_sec, 500.0);
        assert!((499..=501).contains(&r.p50_us), "{}", r.p50_us);
        assert!((989..=991).contains(&r.p99_us), "{}", r.p99_us);
        assert_eq!(r.errors, 3);
        let line = serde_json::to_string(&r).unwrap();
        assert!(line.contains(r#""workload":"get""#), "{line}");
        assert_eq!(
            read_measurements(&format!("{line}\n\n{line}\n")).unwrap(),
            vec![r.clone(), r]
        );
    }

    #[test]
    fn report_has_ratios_to_peers_and_ceiling() {
        let results = vec![
            m("tarn", Workload::Put, 20000.0),
            m("DynamoDB Local", Workload::Put, 2000.0),
            m(CEILING, Workload::Put, 80000.0),
            m("tarn", Workload::Get, 30000.0),
            m("tarn", Workload::Get, 10000.0),
            m("tarn", Workload::Get, 40000.0),
            m("DynamoDB Local", Workload::Get, 3000.0),
        ];
        let md = markdown(&results, "tarn", &[]);
        assert!(
            md.contains("| put | tarn | 20000 | 20000 | 1.50 ms | 4.00 ms | 0 | 45 µs | 30 µs |"),
            "{md}"
        );
        // Three rounds of get: the median.
        assert!(md.contains("| get | tarn | 30000 |"), "{md}");
        assert!(md.contains("the median of 1 to 3 rounds"), "{md}");
        assert!(
            md.contains("| workload | server | ops/s | ÷ DynamoDB Local | ÷ hyper ceiling |"),
            "{md}"
        );
        assert!(
            md.contains("| put | tarn | 20000 | 10.00x | 0.25x |"),
            "{md}"
        );
        assert!(md.contains("| get | tarn | 30000 | 10.00x | — |"), "{md}");
    }

    #[test]
    fn store_section() {
        let store = [StoreBench {
            id: "store_ops/get_hit".into(),
            ops_per_sec: 500_000.0,
        }];
        let md = markdown(&[m("tarn", Workload::Get, 1.0)], "tarn", &store);
        assert!(md.contains("| store_ops/get_hit | 500000 | 2.0 |"), "{md}");
    }
}
