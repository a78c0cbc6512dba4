//! The Prometheus registry a scrape encodes: one collector per concern (requests, functions,
//! triggers, the store, the process), each over figures taken when the scrape began, encoded
//! by `prometheus-client` in the Prometheus text format (version 0.0.4). No exposition is
//! written by hand here: names, help, types, labels and values go through the library's
//! encoder, which escapes label values and formats numbers.
//!
//! Why `prometheus-client` (the Prometheus project's Rust client) rather than the `metrics`
//! crate with `metrics-exporter-prometheus`: its registry is a value, not a process-wide
//! recorder, so every server in a process (tests start many) has its own figures; and its
//! `Collector` lets tarn keep its hot-path counters as plain atomics in fixed arrays (no label
//! lookup per request) and hand them to the encoder at scrape time.

use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Registry;

use super::functions::FunctionsCollector;
use super::names;
use super::process::ProcessCollector;
use super::requests::RequestsCollector;
use super::storage::StorageCollector;
use super::triggers::TriggersCollector;

/// `tarn_build_info{version="..."} 1`.
#[derive(Debug)]
struct BuildInfo;

impl prometheus_client::collector::Collector for BuildInfo {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let f = &names::BUILD_INFO;
        let labels = [("version", env!("CARGO_PKG_VERSION"))];
        encoder
            .encode_descriptor(f.name, f.help, None, f.kind)?
            .encode_family(&labels)?
            .encode_gauge(&1i64)
    }
}

/// Everything one scrape writes.
#[derive(Debug)]
pub(crate) struct Scrape {
    pub(crate) requests: RequestsCollector,
    pub(crate) functions: FunctionsCollector,
    pub(crate) triggers: TriggersCollector,
    pub(crate) storage: StorageCollector,
    pub(crate) process: ProcessCollector,
}

impl Scrape {
    /// The Prometheus text exposition of it.
    pub(crate) fn encode(self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(BuildInfo));
        registry.register_collector(Box::new(self.requests));
        registry.register_collector(Box::new(self.functions));
        registry.register_collector(Box::new(self.triggers));
        registry.register_collector(Box::new(self.storage));
        registry.register_collector(Box::new(self.process));
        let mut out = String::new();
        // Writing to a String cannot fail; a collector's error would be a bug worth a log line.
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry) {
            tracing::error!(error = %e, "could not encode the metrics");
        }
        out
    }
}

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
