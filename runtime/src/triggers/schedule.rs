//! The schedule trigger: each `[[schedule]]` runs its function on every tick of its cron
//! expression (seconds field first, as the `cron` crate reads it), in UTC.
//!
//! One invocation per tick. A tick that comes while the previous invocation still runs is
//! skipped (and counted), unless the schedule says `overlap = true`. Ticks missed while tarn was
//! stopped, or while a long run kept the schedule busy, are not replayed: the next run is always
//! the next tick after now. A failing tick is logged and counted; the schedule goes on.
//!
//! In a cluster every node runs the timers, and a tick runs on the one node that claims it
//! ([`TickClaims`], the cluster's claims table): the others skip it.
//!
//! [`ScheduleDef`] is the `[[schedule]]` entry as the manifest parses it.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::status::TriggerStatus;
use super::Functions;
use crate::host::{new_request_id, FunctionKind, Host};

/// One `[[schedule]]` of the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduleDef {
    /// Cron expression, seconds first.
    pub cron: String,
    /// Handler.
    pub function: String,
    /// Let a tick start while the previous one still runs (default: skip that tick).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overlap: bool,
}

/// The future [`TickClaims::claim`] returns: whether this node won the tick, or why it could
/// not tell.
pub type ClaimFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>>;

/// Who runs a tick when several nodes run the same schedules: a tick runs where `claim`
/// answers true. (A single server has none: every tick runs.)
pub trait TickClaims: Send + Sync {
    /// Claims `tick` (RFC 3339) of `schedule` (its [`name`]) for this node.
    fn claim<'a>(&'a self, schedule: &'a str, tick: &'a str) -> ClaimFuture<'a>;
}

/// Parses a cron expression.
pub fn parse(expr: &str) -> Result<cron::Schedule, String> {
    cron::Schedule::from_str(expr).map_err(|e| format!("bad cron expression `{expr}`: {e}"))
}

/// Starts one task per schedule of `defs`, running the handlers among `functions`; with
/// `claims`, only the ticks this node claims. Abort the handles to stop them.
pub fn start(
    host: &Host,
    defs: &[ScheduleDef],
    functions: &Functions,
    status: &Arc<TriggerStatus>,
    claims: Option<Arc<dyn TickClaims>>,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for def in defs {
        let Ok(schedule) = parse(&def.cron) else {
            continue;
        };
        let Some(f) = functions.get(&def.function).cloned() else {
            continue;
        };
        if f.kind != FunctionKind::Schedule {
            tracing::error!(function = %def.function, "schedule names a function that is not a schedule handler");
            continue;
        }
        let host = host.clone();
        let status = status.schedule(&name(&def.cron, &def.function));
        status.lock().cron = def.cron.clone();
        let overlap = def.overlap;
        let running = Arc::new(AtomicBool::new(false));
        let claims = claims.clone();
        let schedule_name = name(&def.cron, &def.function);
        tasks.push(tokio::spawn(async move {
            loop {
                // Always the next tick after now: missed ticks are not replayed.
                let Some(tick) = schedule.after(&Utc::now()).next() else {
                    return;
                };
                status.lock().next_run = Some(tick.to_rfc3339_opts(SecondsFormat::Secs, true));
                let wait = (tick - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let time = tick.to_rfc3339_opts(SecondsFormat::Secs, true);
                if let Some(claims) = &claims {
                    match claims.claim(&schedule_name, &time).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::debug!(function = %f.spec.name, %time, "tick claimed by another node");
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(function = %f.spec.name, %time, error = %e, "tick not run: cannot claim it");
                            status.lock().skipped += 1;
                            continue;
                        }
                    }
                }
                if running.swap(true, Ordering::AcqRel) && !overlap {
                    tracing::warn!(function = %f.spec.name, %time, "tick skipped: the previous run is still going");
                    status.lock().skipped += 1;
                    continue;
                }
                let (host, f, status, running) =
                    (host.clone(), f.clone(), status.clone(), running.clone());
                // Each run is its own task, so the loop is on time for the next tick.
                tokio::spawn(async move {
                    let request_id = new_request_id();
                    tracing::debug!(function = %f.spec.name, %time, %request_id, "schedule tick");
                    let result = host.invoke_schedule(&f, &request_id, &time).await;
                    let mut st = status.lock();
                    st.runs += 1;
                    st.last_run = Some(time.clone());
                    if let Err(e) = result {
                        tracing::warn!(function = %f.spec.name, %request_id, "scheduled run failed: {e}");
                        st.failures += 1;
                        st.last_error = Some(e.to_string());
                    }
                    running.store(false, Ordering::Release);
                });
            }
        }));
    }
    tasks
}

/// A schedule's name in status reports.
pub fn name(cron: &str, function: &str) -> String {
    format!("{cron} -> {function}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_tick_is_after_now() {
        let s = parse("*/2 * * * * *").unwrap();
        let now = Utc::now();
        let next = s.after(&now).next().unwrap();
        assert!(next > now && (next - now).num_seconds() <= 2);
        assert!(parse("every minute").is_err());
    }
}
