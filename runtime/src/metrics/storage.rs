//! The store's own figures in `/metrics`: disk, journal, memtables, compactions, block cache and
//! the conditions fjall stalls writes on, from [`tarn_store::Store::stats`] at each scrape.

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::MetricType;
use tarn_store::stats::StoreStats;

use super::names::{self, Family};

/// The store figures as `/metrics` writes them.
#[derive(Debug)]
pub(crate) struct StorageCollector(pub(crate) StoreStats);

impl prometheus_client::collector::Collector for StorageCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.0;
        let figures: [(&Family, f64); 12] = [
            (&names::STORE_DISK, s.disk_bytes as f64),
            (&names::STORE_JOURNAL, s.journal_bytes as f64),
            (&names::STORE_JOURNALS, s.journals as f64),
            (&names::STORE_WRITE_BUFFER, s.write_buffer_bytes as f64),
            (&names::STORE_FLUSHES_QUEUED, s.flushes_queued as f64),
            (&names::STORE_COMPACTIONS, s.compactions_completed as f64),
            (
                &names::STORE_COMPACTIONS_RUNNING,
                s.compactions_running as f64,
            ),
            (&names::STORE_COMPACTION_TIME, s.compaction_seconds),
            (&names::STORE_CACHE, s.block_cache_bytes as f64),
            (
                &names::STORE_CACHE_CAPACITY,
                s.block_cache_capacity_bytes as f64,
            ),
            (&names::STORE_L0_MAX, s.max_l0_tables as f64),
            (&names::STORE_SEALED_MAX, s.max_sealed_memtables as f64),
        ];
        for (f, v) in figures {
            let metric = encoder.encode_descriptor(f.name, f.help, None, f.kind)?;
            if f.kind == MetricType::Counter {
                ConstCounter::new(v).encode(metric)?;
            } else {
                let mut metric = metric;
                metric.encode_gauge(&v)?;
            }
        }
        Ok(())
    }
}
