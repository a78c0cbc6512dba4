//! Function logs: guest stdout/stderr and the `tarn:function/log` import, captured per invocation
//! and tagged with the function, its version and the request id. The import's host side is here
//! too: the generated `Host` trait is implemented on [`InvocationLog`], each store's log context.
//!
//! Lines go to an in-memory ring ([`LogSink`]) that `tarn logs` reads (the last N lines, then
//! `-f` follows new ones through a broadcast channel), and to `tracing` at the line's level.
//!
//! A guest cannot flood the host with logs: each invocation may log at most
//! [`MAX_LOG_BYTES_PER_INVOCATION`] bytes in all (stdout, stderr and the `log` import together;
//! past that its lines are dropped and one host line says so), its stdout and stderr are each
//! captured up to a limit by a [`CapturedOutput`] that silently discards the rest (the guest's
//! writes never fail), lines are cut at 16 KiB, and the ring holds at most 10,000 lines and
//! [`RING_MAX_BYTES`] bytes.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use wasmtime::component::{HasSelf, Linker};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

use crate::bindings;

/// How many lines the ring keeps.
const RING_CAPACITY: usize = 10_000;
/// Most bytes of messages the ring keeps.
pub const RING_MAX_BYTES: usize = 32 << 20;
/// Longest line kept; longer lines are cut.
const MAX_LINE: usize = 16 * 1024;
/// Most bytes of log lines one invocation may produce.
pub const MAX_LOG_BYTES_PER_INVOCATION: usize = 1 << 20;

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
    ring: Mutex<Ring>,
    live: broadcast::Sender<LogLine>,
}

#[derive(Default)]
struct Ring {
    lines: VecDeque<LogLine>,
    bytes: usize,
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
                ring: Mutex::new(Ring::default()),
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
        ring.bytes += line.message.len();
        ring.lines.push_back(line);
        while ring.lines.len() > RING_CAPACITY || ring.bytes > RING_MAX_BYTES {
            match ring.lines.pop_front() {
                Some(old) => ring.bytes -= old.message.len(),
                None => break,
            }
        }
    }

    /// The last `n` lines, optionally of one function only, oldest first.
    pub fn tail(&self, n: usize, function: Option<&str>) -> Vec<LogLine> {
        let ring = self.inner.ring.lock();
        let mut out: Vec<LogLine> = ring
            .lines
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

/// What is left of one invocation's log allowance.
#[derive(Debug)]
pub struct LogBudget {
    left: AtomicUsize,
    exhausted: AtomicBool,
}

impl LogBudget {
    /// An allowance of `bytes`.
    pub fn new(bytes: usize) -> Self {
        LogBudget {
            left: AtomicUsize::new(bytes),
            exhausted: AtomicBool::new(false),
        }
    }

    /// Takes `n` bytes; false (and nothing taken) when fewer are left.
    fn take(&self, n: usize) -> bool {
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .is_ok()
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
    /// What the guest may still log.
    pub budget: Arc<LogBudget>,
}

impl InvocationLog {
    /// Records one line of the guest, if its allowance covers it.
    pub fn line(&self, stream: LogStream, level: &str, message: impl Into<String>) {
        let message = message.into();
        if stream != LogStream::Host && !self.budget.take(message.len().min(MAX_LINE)) {
            if !self.budget.exhausted.swap(true, Ordering::Relaxed) {
                self.host_line(
                    "warn",
                    format!(
                        "this invocation logged more than {MAX_LOG_BYTES_PER_INVOCATION} bytes; \
                         further lines are dropped"
                    ),
                );
            }
            return;
        }
        self.push(stream, level, message);
    }

    /// Records one line of the host about this invocation (not counted against the guest).
    pub fn host_line(&self, level: &str, message: impl Into<String>) {
        self.push(LogStream::Host, level, message.into());
    }

    fn push(&self, stream: LogStream, level: &str, message: String) {
        self.sink.push(LogLine {
            time_ms: chrono::Utc::now().timestamp_millis(),
            function: self.function.to_string(),
            version: self.version,
            request_id: self.request_id.to_string(),
            stream,
            level: level.to_string(),
            message,
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

/// The `tarn:function/log` import: one line at the guest's level, counted against its budget.
impl bindings::log::Host for InvocationLog {
    async fn write(&mut self, level: bindings::log::Level, message: String) {
        use bindings::log::Level;
        let level = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.line(LogStream::Log, level, message);
    }
}

/// Adds the `log` import to `linker`; `get` finds the [`InvocationLog`] in a store's data.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut InvocationLog,
) -> wasmtime::Result<()> {
    bindings::log::add_to_linker::<T, HasSelf<InvocationLog>>(linker, get)
}

/// A guest's stdout or stderr: keeps the first `capacity` bytes and silently discards the rest,
/// so a chatty guest neither grows the host's memory nor sees its writes fail.
#[derive(Debug, Clone)]
pub struct CapturedOutput {
    capacity: usize,
    buffer: Arc<Mutex<BytesMut>>,
    dropped: Arc<AtomicU64>,
}

impl CapturedOutput {
    /// An empty capture keeping up to `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        CapturedOutput {
            capacity,
            buffer: Arc::new(Mutex::new(BytesMut::new())),
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The bytes kept.
    pub fn contents(&self) -> Bytes {
        self.buffer.lock().clone().freeze()
    }

    /// How many bytes were discarded past the capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Takes the bytes kept and the count of bytes discarded, leaving the capture empty.
    pub fn take(&self) -> (Bytes, u64) {
        let bytes = self.buffer.lock().split().freeze();
        (bytes, self.dropped.swap(0, Ordering::Relaxed))
    }

    fn keep(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock();
        let room = self.capacity.saturating_sub(buffer.len());
        let n = room.min(bytes.len());
        buffer.extend_from_slice(&bytes[..n]);
        self.dropped
            .fetch_add((bytes.len() - n) as u64, Ordering::Relaxed);
    }
}

/// How much a guest may write in one call (it may always write again).
const WRITE_PERMIT: usize = 64 * 1024;

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.keep(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.keep(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl wasmtime_wasi::cli::IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(sink: &LogSink, budget: usize) -> InvocationLog {
        InvocationLog {
            sink: sink.clone(),
            function: "f".into(),
            version: 1,
            request_id: "r".into(),
            budget: Arc::new(LogBudget::new(budget)),
        }
    }

    #[test]
    fn an_invocation_logs_within_its_budget() {
        let sink = LogSink::new();
        let inv = log(&sink, 100);
        for _ in 0..10 {
            inv.line(LogStream::Log, "info", "x".repeat(30));
        }
        let lines = sink.tail(100, None);
        // Three lines fit in 100 bytes, then one host line says the rest was dropped.
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3].stream, LogStream::Host);
        assert!(lines[3].message.contains("further lines are dropped"));
        // Host lines are not counted.
        inv.host_line("error", "function trapped");
        assert_eq!(sink.tail(100, None).len(), 5);
        // Another invocation has its own budget.
        log(&sink, 100).line(LogStream::Stdout, "info", "hello");
        assert_eq!(sink.tail(100, None).len(), 6);
    }

    #[test]
    fn captured_output_discards_past_capacity_without_failing() {
        let mut out = CapturedOutput::new(10);
        for _ in 0..5 {
            assert!(out.check_write().unwrap() > 0);
            out.write(Bytes::from_static(b"abcdef")).unwrap();
        }
        assert_eq!(&out.contents()[..], b"abcdefabcd");
        assert_eq!(out.dropped(), 20);
    }

    #[test]
    fn the_ring_is_bounded_in_bytes() {
        let sink = LogSink::new();
        let big = "y".repeat(MAX_LINE);
        let inv = log(&sink, usize::MAX);
        for _ in 0..(RING_MAX_BYTES / MAX_LINE + 100) {
            inv.line(LogStream::Log, "debug", big.clone());
        }
        let ring = sink.inner.ring.lock();
        assert!(ring.bytes <= RING_MAX_BYTES);
        assert_eq!(
            ring.bytes,
            ring.lines.iter().map(|l| l.message.len()).sum::<usize>()
        );
    }
}

/// Most bytes of stdout (and of stderr) kept per invocation.
pub(crate) const CAPTURE_LIMIT: usize = 1 << 20;

/// Where a store's captured output goes when the invocation ends.
#[derive(Clone)]
pub(crate) struct Capture {
    /// The guest's stdout.
    pub(crate) stdout: CapturedOutput,
    /// The guest's stderr.
    pub(crate) stderr: CapturedOutput,
    /// The invocation's log, where they go.
    pub(crate) log: InvocationLog,
}

impl Capture {
    /// Sends the captured stdout and stderr to the log, and says how much was dropped.
    pub(crate) fn flush(&self) {
        for (stream, out) in [
            (LogStream::Stdout, &self.stdout),
            (LogStream::Stderr, &self.stderr),
        ] {
            // Taken, not copied: a reused instance's next request starts with empty captures.
            let (bytes, dropped) = out.take();
            self.log.captured(stream, &bytes);
            if dropped > 0 {
                self.log.host_line(
                    "warn",
                    format!(
                        "{dropped} bytes of {stream:?} past the {CAPTURE_LIMIT}-byte capture limit were dropped"
                    ),
                );
            }
        }
    }
}
