//! What a table's definition records about backups: its point-in-time recovery setting
//! ([`PitrMeta`]) and, for a restored table, where it came from ([`RestoreSummary`]).
//!
//! Backups, point-in-time recovery and restores themselves live in [`crate::backup`].

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// DynamoDB's longest recovery period.
pub const MAX_RECOVERY_DAYS: u32 = 35;

/// PITR settings of a table (in its definition while enabled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PitrMeta {
    /// When it was enabled, seconds since the epoch.
    pub enabled_at: f64,
    /// How many days back a restore may go (1..=35).
    pub recovery_period_days: u32,
}

/// Where a restored table came from (DynamoDB's RestoreSummary), kept in its definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestoreSummary {
    /// The backup it was restored from, if any.
    pub source_backup: Option<String>,
    /// The source table's name.
    pub source_table: String,
    /// The source table's id.
    pub source_table_id: Uuid,
    /// The instant restored, seconds since the epoch.
    pub restore_time: f64,
    /// The items are still being loaded.
    pub in_progress: bool,
}
