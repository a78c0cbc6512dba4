//! Function logs: guest stdout/stderr and the `log` import, captured per invocation and tagged
//! with the function, its version and the request id.
//!
//! Lines go to an in-memory ring ([`LogSink`]) that `tarn logs` reads (the last N lines, then
//! `-f` follows new ones through a broadcast channel), and to `tracing` at the line's level.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How many lines the ring keeps.
const RING_CAPACITY: usize = 10_000;
/// Longest line kept; longer lines are cut.
const MAX_LINE: usize = 16 * 1024;

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// The guest's WASI stdout.
    Stdout,
    /// The guest's WASI stderr.
    Stderr,
    /// The `tarn:function/log` import.
    Log,
    /// The host, about the invocation (errors, timeouts).
    Host,
}

/// One captured log line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// The function's name.
    pub function: String,
    /// The app version the function belongs to.
    pub version: u64,
    /// The invocation's request id.
    pub request_id: String,
    /// Where the line came from.
    pub stream: LogStream,
    /// `trace`..`error`.
    pub level: String,
    /// The text, without its trailing newline.
    pub message: String,
}

/// The shared log ring and its live subscribers.
#[derive(Clone)]
pub struct LogSink {
    inner: Arc<Inner>,
}

struct Inner {
    ring: Mutex<VecDeque<LogLine>>,
    live: broadcast::Sender<LogLine>,
}

impl Default for LogSink {
    fn default() -> Self {
        Self::new()
    }
}

impl LogSink {
    /// An empty sink.
    pub fn new() -> Self {
        let (live, _) = broadcast::channel(4096);
        LogSink {
            inner: Arc::new(Inner {
                ring: Mutex::new(VecDeque::new()),
                live,
            }),
        }
    }

    /// Records one line.
    pub fn push(&self, mut line: LogLine) {
        if line.message.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !line.message.is_char_boundary(cut) {
                cut -= 1;
            }
            line.message.truncate(cut);
        }
        match line.level.as_str() {
            "error" => {
                tracing::error!(function = %line.function, request_id = %line.request_id, stream = ?line.stream, "{}", line.message)
            }
            "warn" => {
                tracing::warn!(function = %line.function, request_id = %line.request_id, stream = ?line.stream, "{}", line.message)
            }
            "info" => {
                tracing::info!(function = %line.function, request_id = %line.request_id, stream = ?line.stream, "{}", line.message)
            }
            _ => {
                tracing::debug!(function = %line.function, request_id = %line.request_id, stream = ?line.stream, "{}", line.message)
            }
        }
        let _ = self.inner.live.send(line.clone());
        let mut ring = self.inner.ring.lock();
        if ring.len() == RING_CAPACITY {
            ring.pop_front();
        }
        ring.push_back(line);
    }

    /// The last `n` lines, optionally of one function only, oldest first.
    pub fn tail(&self, n: usize, function: Option<&str>) -> Vec<LogLine> {
        let ring = self.inner.ring.lock();
        let mut out: Vec<LogLine> = ring
            .iter()
            .rev()
            .filter(|l| function.is_none_or(|f| l.function == f))
            .take(n)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// A receiver of every line pushed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LogLine> {
        self.inner.live.subscribe()
    }
}

/// The log context of one invocation.
#[derive(Clone)]
pub struct InvocationLog {
    /// Where lines go.
    pub sink: LogSink,
    /// The function.
    pub function: Arc<str>,
    /// Its app version.
    pub version: u64,
    /// The invocation's request id.
    pub request_id: Arc<str>,
}

impl InvocationLog {
    /// Records one line of this invocation.
    pub fn line(&self, stream: LogStream, level: &str, message: impl Into<String>) {
        self.sink.push(LogLine {
            time_ms: chrono::Utc::now().timestamp_millis(),
            function: self.function.to_string(),
            version: self.version,
            request_id: self.request_id.to_string(),
            stream,
            level: level.to_string(),
            message: message.into(),
        });
    }

    /// Records captured stdout or stderr bytes, one line per `\n`.
    pub fn captured(&self, stream: LogStream, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let level = if stream == LogStream::Stderr {
            "warn"
        } else {
            "info"
        };
        let text = String::from_utf8_lossy(bytes);
        for line in text.lines() {
            self.line(stream, level, line);
        }
    }
}
