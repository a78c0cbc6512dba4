//! The store's background upkeep while tarn serves: deleting expired items (TTL), trimming
//! stream records older than the retention period, and point-in-time recovery's housekeeping
//! (new base snapshots as the change log grows, dropping history older than the window).
//!
//! Every tick, on tokio's blocking pool: index the items of tables whose TTL was just enabled,
//! sweep what has expired (in rounds, so one busy table cannot hold the loop for long), and trim
//! the streams, keep PITR history in shape. The store does the work (`tarn_store::ttl`,
//! `tarn_store::stream`, `tarn_store::backup::pitr`); this module
//! only decides when, and counts each table's TTL deletions in the metrics. Errors are logged
//! and the next tick tries again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tarn_store::Store;

use crate::metrics::Metrics;

/// Most items deleted in one round of the sweeper.
const SWEEP_ROUND: usize = 10_000;

/// How often upkeep runs, and how long stream records are kept.
#[derive(Debug, Clone, Copy)]
pub struct Upkeep {
    /// Time between two sweeps for expired items (and two stream trims).
    pub interval: Duration,
    /// Stream records older than this are trimmed.
    pub stream_retention: Duration,
}

impl Default for Upkeep {
    fn default() -> Self {
        Upkeep {
            interval: Duration::from_secs(1),
            stream_retention: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// One round of upkeep; returns (expired items deleted, stream records trimmed). Each table's
/// TTL deletions are counted in `metrics`.
pub fn run_once(
    store: &Store,
    upkeep: &Upkeep,
    metrics: &Metrics,
) -> tarn_store::Result<(usize, usize)> {
    store.backfill_ttl()?;
    let now = tarn_store::clock::now_secs();
    let mut deleted = 0;
    loop {
        let mut n = 0;
        for (table, count) in store.sweep_expired_tables(now, SWEEP_ROUND)? {
            metrics.ttl_deleted(&table, count as u64);
            n += count;
        }
        deleted += n;
        if n < SWEEP_ROUND {
            break;
        }
    }
    let trimmed = store.trim_streams(upkeep.stream_retention)?;
    store.pitr_upkeep()?;
    Ok((deleted, trimmed))
}

/// Runs upkeep every `upkeep.interval` until `shutdown` completes.
pub async fn run(
    store: Arc<Store>,
    metrics: Metrics,
    upkeep: Upkeep,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(upkeep.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = tick.tick() => {}
        }
        let (store, metrics) = (store.clone(), metrics.clone());
        let span = tracing::debug_span!("upkeep");
        let result = tokio::task::spawn_blocking(move || {
            span.in_scope(|| run_once(&store, &upkeep, &metrics))
        })
        .await;
        match result {
            Ok(Ok((deleted, trimmed))) if deleted + trimmed > 0 => {
                tracing::info!(
                    deleted,
                    trimmed,
                    "upkeep: expired items deleted, stream records trimmed"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "upkeep failed; retrying next tick"),
            Err(e) => tracing::error!(error = %e, "upkeep panicked"),
        }
    }
}
