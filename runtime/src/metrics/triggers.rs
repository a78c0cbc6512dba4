//! Stream mapping and schedule figures. The triggers keep them (`crate::triggers::status`); the
//! metrics read them at each scrape through [`TriggerSource`], which the triggers' status
//! implements, so this module imports nothing of the triggers (they sit above the API, which
//! owns the metrics).

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;

use super::names;

/// One stream mapping's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappingFigures {
    /// The table whose stream it reads.
    pub table: String,
    /// The function it invokes.
    pub function: String,
    /// Records the handler accepted.
    pub processed: u64,
    /// Records given up.
    pub failed: u64,
    /// Retry invocations.
    pub retries: u64,
    /// Age of the oldest record not yet accepted, milliseconds (0: caught up).
    pub iterator_age_ms: u64,
}

/// One schedule's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScheduleFigures {
    /// The cron expression.
    pub cron: String,
    /// The function it runs.
    pub function: String,
    /// Ticks run.
    pub runs: u64,
    /// Ticks whose invocation failed.
    pub failures: u64,
    /// Ticks skipped while the previous run went on.
    pub skipped: u64,
}

/// Every trigger's figures at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriggerFigures {
    /// Per stream mapping.
    pub mappings: Vec<MappingFigures>,
    /// Per schedule.
    pub schedules: Vec<ScheduleFigures>,
}

/// Whatever knows the triggers' figures (the function server's trigger status).
pub trait TriggerSource: std::fmt::Debug + Send + Sync {
    /// The figures now.
    fn trigger_figures(&self) -> TriggerFigures;
}

/// The trigger figures as `/metrics` writes them.
#[derive(Debug)]
pub(crate) struct TriggersCollector(pub(crate) TriggerFigures);

impl prometheus_client::collector::Collector for TriggersCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let family = &names::ITERATOR_AGE;
        let mut metric = encoder.encode_descriptor(family.name, family.help, None, family.kind)?;
        for m in &self.0.mappings {
            let labels = [
                ("table", m.table.as_str()),
                ("function", m.function.as_str()),
            ];
            metric
                .encode_family(&labels)?
                .encode_gauge(&(m.iterator_age_ms as f64 / 1000.0))?;
        }
        type PickMapping = fn(&MappingFigures) -> u64;
        let mapping_counters: [(&names::Family, PickMapping); 3] = [
            (&names::MAPPING_PROCESSED, |m| m.processed),
            (&names::MAPPING_FAILED, |m| m.failed),
            (&names::MAPPING_RETRIES, |m| m.retries),
        ];
        for (family, pick) in mapping_counters {
            let mut metric =
                encoder.encode_descriptor(family.name, family.help, None, family.kind)?;
            for m in &self.0.mappings {
                let labels = [
                    ("table", m.table.as_str()),
                    ("function", m.function.as_str()),
                ];
                ConstCounter::new(pick(m)).encode(metric.encode_family(&labels)?)?;
            }
        }
        type PickSchedule = fn(&ScheduleFigures) -> u64;
        let schedule_counters: [(&names::Family, PickSchedule); 3] = [
            (&names::SCHEDULE_RUNS, |s| s.runs),
            (&names::SCHEDULE_FAILURES, |s| s.failures),
            (&names::SCHEDULE_SKIPPED, |s| s.skipped),
        ];
        for (family, pick) in schedule_counters {
            let mut metric =
                encoder.encode_descriptor(family.name, family.help, None, family.kind)?;
            for s in &self.0.schedules {
                let labels = [
                    ("schedule", s.cron.as_str()),
                    ("function", s.function.as_str()),
                ];
                ConstCounter::new(pick(s)).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}
