//! A stream mapping's definition and settings: [`StreamDef`] is the `[[stream]]` entry as the
//! manifest parses it; [`MappingConfig`] is the same with Lambda's defaults applied and its
//! limits checked, what the runner ([`super`]) works from. Deploy checks every `[[stream]]`
//! through [`MappingConfig::from_def`] before it activates a version.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default and largest `batch_size`.
pub const DEFAULT_BATCH_SIZE: u32 = 100;
/// Largest `batch_size`, as Lambda allows for DynamoDB streams.
pub const MAX_BATCH_SIZE: u32 = 10_000;
/// Default `parallelization_factor`: batches of different keys handled at once.
pub const DEFAULT_PARALLELIZATION: u32 = 4;
/// Largest `parallelization_factor`, as Lambda allows.
pub const MAX_PARALLELIZATION: u32 = 10;

/// One `[[stream]]` mapping of the manifest, as written (see [`MappingConfig`] for its settings
/// with defaults applied).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StreamDef {
    /// Source table.
    pub table: String,
    /// Handler.
    pub function: String,
    /// Largest batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// Longest wait to fill a batch, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batching_window_ms: Option<u64>,
    /// `TRIM_HORIZON` or `LATEST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_position: Option<String>,
    /// Retries of a failing batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Records older than this many seconds are given up after their next failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_record_age_s: Option<u64>,
    /// Split a failing batch in two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bisect_on_error: Option<bool>,
    /// Where records go after the last retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure_table: Option<String>,
    /// Batches handled at once (1 to 10), each for its own item keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelization_factor: Option<u32>,
}

/// A `[[stream]]` mapping's settings, with defaults applied.
#[derive(Debug, Clone)]
pub struct MappingConfig {
    /// Source table.
    pub table: String,
    /// Handler function.
    pub function: String,
    /// Most records per invocation.
    pub batch_size: usize,
    /// Longest wait for a batch to fill.
    pub batching_window: Duration,
    /// Start at the oldest record (`true`, TRIM_HORIZON) or at new ones only (LATEST).
    pub from_trim_horizon: bool,
    /// Retries of a failing record before it is given up (None: until it succeeds or is too old).
    pub max_retries: Option<u32>,
    /// Records older than this are given up after their next failure.
    pub max_record_age: Option<Duration>,
    /// Split a batch that fails as a whole before giving up on it.
    pub bisect_on_error: bool,
    /// Where given-up records are written (None: logged and dropped).
    pub on_failure_table: Option<String>,
    /// Lanes: batches handled at once, each lane for the item keys that hash to it, so that
    /// records of one key stay in order (Lambda's `ParallelizationFactor`).
    pub parallelization: usize,
}

impl MappingConfig {
    /// Checks a `[[stream]]` entry and applies the defaults.
    pub fn from_def(def: &StreamDef) -> Result<MappingConfig, String> {
        let batch_size = def.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
        if !(1..=MAX_BATCH_SIZE).contains(&batch_size) {
            return Err(format!(
                "stream mapping {} -> {}: batch_size must be 1 to {MAX_BATCH_SIZE}",
                def.table, def.function
            ));
        }
        let parallelization = def
            .parallelization_factor
            .unwrap_or(DEFAULT_PARALLELIZATION);
        if !(1..=MAX_PARALLELIZATION).contains(&parallelization) {
            return Err(format!(
                "stream mapping {} -> {}: parallelization_factor must be 1 to {MAX_PARALLELIZATION}",
                def.table, def.function
            ));
        }
        let from_trim_horizon = match def.starting_position.as_deref() {
            None | Some("TRIM_HORIZON") => true,
            Some("LATEST") => false,
            Some(other) => {
                return Err(format!(
                    "stream mapping {} -> {}: starting_position must be TRIM_HORIZON or LATEST, not {other}",
                    def.table, def.function
                ))
            }
        };
        Ok(MappingConfig {
            table: def.table.clone(),
            function: def.function.clone(),
            batch_size: batch_size as usize,
            batching_window: Duration::from_millis(def.batching_window_ms.unwrap_or(0)),
            from_trim_horizon,
            max_retries: def.max_retries,
            max_record_age: def.max_record_age_s.map(Duration::from_secs),
            bisect_on_error: def.bisect_on_error.unwrap_or(false),
            on_failure_table: def.on_failure_table.clone(),
            parallelization: parallelization as usize,
        })
    }

    /// The mapping's name in status reports.
    pub fn name(&self) -> String {
        mapping_name(&self.table, &self.function)
    }

    /// Where the mapping's checkpoint is kept in the store's state.
    pub(super) fn state_key(&self) -> String {
        format!("stream-mapping/{}/{}", self.table, self.function)
    }
}

/// A mapping's name in status reports: `<table> -> <function>`.
pub fn mapping_name(table: &str, function: &str) -> String {
    format!("{table} -> {function}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> StreamDef {
        StreamDef {
            table: "orders".into(),
            function: "totals".into(),
            batch_size: None,
            batching_window_ms: None,
            starting_position: None,
            max_retries: None,
            max_record_age_s: None,
            bisect_on_error: None,
            on_failure_table: None,
            parallelization_factor: None,
        }
    }

    #[test]
    fn defaults_and_limits_follow_lambda() {
        let c = MappingConfig::from_def(&def()).unwrap();
        assert_eq!(c.batch_size, 100);
        assert!(c.from_trim_horizon);
        assert_eq!(c.max_retries, None, "retries are unbounded by default");
        assert_eq!(c.parallelization, 4);
        for bad in [0, 11] {
            assert!(MappingConfig::from_def(&StreamDef {
                parallelization_factor: Some(bad),
                ..def()
            })
            .is_err());
        }
        assert!(MappingConfig::from_def(&StreamDef {
            batch_size: Some(10_001),
            ..def()
        })
        .is_err());
        assert!(MappingConfig::from_def(&StreamDef {
            starting_position: Some("AT_TIMESTAMP".into()),
            ..def()
        })
        .is_err());
        let latest = MappingConfig::from_def(&StreamDef {
            starting_position: Some("LATEST".into()),
            ..def()
        })
        .unwrap();
        assert!(!latest.from_trim_horizon);
    }
}
