//! The closed loop: N connections, each sending its next request as soon as the previous answer
//! arrived, for a warm-up and then a fixed measured time; latencies in an HDR histogram.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;

use crate::client::{Connection, Endpoint};
use crate::report::Measurement;
use crate::workload::{RequestBuilder, Workload};

/// What a run does.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// The workload.
    pub workload: Workload,
    /// Concurrent connections (and so requests in flight).
    pub connections: usize,
    /// Requests before this are not measured.
    pub warmup: Duration,
    /// The measured time.
    pub duration: Duration,
    /// Seeded keys the reads pick from.
    pub keys: u64,
    /// The server's name in the results.
    pub label: String,
    /// The server's process, to measure the CPU time it spends per request (Linux only).
    pub server_pid: Option<u32>,
    /// The wide table the wide workloads read (see [`RequestBuilder::on_table`]).
    pub table: Option<String>,
}

/// CPU time (user + system, all threads) process `pid` has used, from `/proc/<pid>/stat`.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, so split after its `)`): state is
    // field 3, utime and stime are fields 14 and 15, in clock ticks.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    #[allow(unsafe_code)]
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// Latencies from 1 µs to 60 s at 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// What one connection saw during the measured window.
struct ConnectionResult {
    latencies: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `spec` against `endpoint`.
pub async fn run(endpoint: &Endpoint, spec: &LoadSpec) -> Result<Measurement> {
    let run_id = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros()
    );
    // Open every connection first, so connecting is not measured.
    let mut conns = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections {
        conns.push(Connection::open(endpoint).await?);
    }
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let deadline = measure_from + spec.duration;
    let run_id: Arc<str> = run_id.into();
    // The CPU time the server (when its pid is known) and this generator spend over the
    // measured window.
    let server_pid = spec.server_pid;
    let cpu = tokio::spawn(async move {
        let me = std::process::id();
        tokio::time::sleep_until(measure_from.into()).await;
        let before = (server_pid.and_then(process_cpu), process_cpu(me));
        tokio::time::sleep_until(deadline.into()).await;
        let after = (server_pid.and_then(process_cpu), process_cpu(me));
        let spent = |b: Option<Duration>, a: Option<Duration>| Some(a?.saturating_sub(b?));
        (spent(before.0, after.0), spent(before.1, after.1))
    });
    let mut tasks = Vec::new();
    for (c, mut conn) in conns.into_iter().enumerate() {
        let mut requests = RequestBuilder::new(spec.workload, &run_id, c, spec.keys);
        if let Some(t) = &spec.table {
            requests = requests.on_table(t);
        }
        let endpoint = endpoint.clone();
        tasks.push(tokio::spawn(async move {
            let mut result = ConnectionResult {
                latencies: histogram(),
                errors: 0,
                first_error: None,
            };
            loop {
                let (op, body) = requests.next_request();
                let sent = Instant::now();
                if sent >= deadline {
                    break;
                }
                let answer = conn.call(op, body).await;
                let done = Instant::now();
                let measured = sent >= measure_from;
                let failed = match &answer {
                    Ok((200, _)) => None,
                    Ok((status, body)) => Some(format!(
                        "{op}: {status} {}",
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    )),
                    Err(e) => Some(format!("{op}: {e:#}")),
                };
                if measured && done <= deadline {
                    result
                        .latencies
                        .saturating_record((done - sent).as_micros().max(1) as u64);
                    if let Some(e) = &failed {
                        result.errors += 1;
                        result.first_error.get_or_insert_with(|| e.clone());
                    }
                }
                if answer.is_err() {
                    // The connection is gone: open another one and carry on.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    match Connection::open(&endpoint).await {
                        Ok(c) => conn = c,
                        Err(_) => break,
                    }
                }
            }
            result
        }));
    }
    let mut latencies = histogram();
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        let r = t.await?;
        latencies.add(&r.latencies).expect("same bounds");
        errors += r.errors;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    if let Some(e) = &first_error {
        eprintln!(
            "loadgen: {errors} failed requests on {}, first: {e}",
            spec.label
        );
    }
    let mut m = Measurement::from_histogram(
        &spec.label,
        spec.workload,
        spec.connections,
        spec.duration.as_secs_f64(),
        &latencies,
        errors,
    );
    if let (Ok((server, loadgen)), true) = (cpu.await, m.requests > 0) {
        let per_request = |cpu: Duration| cpu.as_secs_f64() * 1e6 / m.requests as f64;
        m.server_cpu_us_per_request = server.map(per_request);
        m.loadgen_cpu_us_per_request = loadgen.map(per_request);
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cpu_time_is_readable_and_grows() {
        let Some(before) = process_cpu(std::process::id()) else {
            return; // not Linux
        };
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = process_cpu(std::process::id()).unwrap();
        assert!(after >= before, "{after:?} < {before:?}");
    }
}
