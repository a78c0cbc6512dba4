//! The schedule trigger: each `[[schedule]]` runs its function on every tick of its cron
//! expression (seconds field first, as the `cron` crate reads it), in UTC.
//!
//! Ticks are not queued: if an invocation is still running when the next tick comes, that tick
//! is skipped (logged), as a cron job would be with a lock. A failing tick is logged and counted
//! in the function's metrics; the schedule goes on.

use std::str::FromStr;
use std::sync::Arc;

use chrono::Utc;
use tokio::task::JoinHandle;

use crate::deploy::App;
use crate::host::{new_request_id, FunctionKind, Host};

/// Parses a cron expression.
pub fn parse(expr: &str) -> Result<cron::Schedule, String> {
    cron::Schedule::from_str(expr).map_err(|e| format!("bad cron expression `{expr}`: {e}"))
}

/// Starts one task per `[[schedule]]` of `app`. Abort the handles to stop them.
pub fn start(host: &Host, app: &Arc<App>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for def in &app.manifest.schedules {
        let Ok(schedule) = parse(&def.cron) else {
            continue;
        };
        let Some(f) = app.functions.get(&def.function).cloned() else {
            continue;
        };
        if f.kind != FunctionKind::Schedule {
            tracing::error!(function = %def.function, "schedule names a function that is not a schedule handler");
            continue;
        }
        let host = host.clone();
        let cron_text = def.cron.clone();
        tasks.push(tokio::spawn(async move {
            for tick in schedule.upcoming_owned(Utc) {
                let wait = (tick - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let time = tick.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let request_id = new_request_id();
                tracing::debug!(function = %f.spec.name, cron = %cron_text, %time, "schedule tick");
                // Running inline means a long invocation makes the iterator skip past ticks
                // that went by meanwhile (upcoming_owned restarts from "now" lazily).
                if let Err(e) = host.invoke_schedule(&f, &request_id, &time).await {
                    tracing::warn!(function = %f.spec.name, %request_id, "scheduled run failed: {e}");
                }
            }
        }));
    }
    tasks
}
