//! Process figures: CPU time, resident and virtual memory, file descriptors, threads and the
//! start time, read from `/proc/self` with the `procfs` crate at each scrape, under the names
//! every Prometheus client library gives them. On systems without `/proc` they are left out.

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;

use super::names;

/// The process's figures at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessFigures {
    /// User and system CPU time, seconds.
    pub cpu_seconds: f64,
    /// Resident memory, bytes.
    pub resident_bytes: u64,
    /// Virtual memory, bytes.
    pub virtual_bytes: u64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// The soft limit on file descriptors (None: unlimited or unknown).
    pub max_fds: Option<u64>,
    /// Threads.
    pub threads: u64,
    /// Start time, seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// This process's figures, or None where `/proc` cannot be read.
#[cfg(target_os = "linux")]
pub fn current() -> Option<ProcessFigures> {
    use procfs::process::{LimitValue, Process};
    let me = Process::myself().ok()?;
    let stat = me.stat().ok()?;
    let ticks = procfs::ticks_per_second() as f64;
    let boot = procfs::boot_time_secs().ok()? as f64;
    let max_fds = me
        .limits()
        .ok()
        .and_then(|l| match l.max_open_files.soft_limit {
            LimitValue::Value(v) => Some(v),
            LimitValue::Unlimited => None,
        });
    Some(ProcessFigures {
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        resident_bytes: stat.rss * procfs::page_size(),
        virtual_bytes: stat.vsize,
        open_fds: me.fd_count().map_or(0, |n| n as u64),
        max_fds,
        threads: u64::try_from(stat.num_threads).unwrap_or(0),
        start_time_seconds: boot + stat.starttime as f64 / ticks,
    })
}

/// This process's figures: none without `/proc`.
#[cfg(not(target_os = "linux"))]
pub fn current() -> Option<ProcessFigures> {
    None
}

/// The process figures as `/metrics` writes them.
#[derive(Debug)]
pub(crate) struct ProcessCollector(pub(crate) Option<ProcessFigures>);

impl prometheus_client::collector::Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(p) = &self.0 else {
            return Ok(());
        };
        let f = &names::PROCESS_CPU;
        ConstCounter::new(p.cpu_seconds)
            .encode(encoder.encode_descriptor(f.name, f.help, None, f.kind)?)?;
        let mut gauge = |f: &names::Family, v: f64| -> Result<(), std::fmt::Error> {
            encoder
                .encode_descriptor(f.name, f.help, None, f.kind)?
                .encode_gauge(&v)
        };
        gauge(&names::PROCESS_RESIDENT, p.resident_bytes as f64)?;
        gauge(&names::PROCESS_VIRTUAL, p.virtual_bytes as f64)?;
        gauge(&names::PROCESS_OPEN_FDS, p.open_fds as f64)?;
        if let Some(max) = p.max_fds {
            gauge(&names::PROCESS_MAX_FDS, max as f64)?;
        }
        gauge(&names::PROCESS_THREADS, p.threads as f64)?;
        gauge(&names::PROCESS_START, p.start_time_seconds)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let before = current().expect("/proc/self is readable");
        assert!(before.resident_bytes > 0);
        assert!(before.virtual_bytes >= before.resident_bytes);
        assert!(before.threads >= 1);
        assert!(before.open_fds >= 3, "{before:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(
            before.start_time_seconds > now - 86_400.0 && before.start_time_seconds <= now + 1.0,
            "{before:?}"
        );
        // Burn some CPU: the counter moves.
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(200) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = current().unwrap();
        assert!(
            after.cpu_seconds > before.cpu_seconds,
            "{before:?} {after:?}"
        );
    }
}
