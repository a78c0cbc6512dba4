//! The console's function endpoints: the active version and every earlier one (with rollback),
//! the functions with their counters, the routes, and the triggers' status (stream mappings:
//! processed, failed, checkpoint, iterator age; schedules: last and next run). The log tail is
//! the admin API's own ([`crate::deploy::admin::logs`]).

use serde_json::{json, Value};

use super::Response;
use crate::api::Api;
use crate::console::http;
use crate::deploy::{DeployError, Runtime};

/// `GET functions`: `{"current", "active", "versions", "functions", "routes", "streams",
/// "schedules", "mappings"}`; `mappings` and `schedules` carry the manifest's definitions,
/// `status` what the triggers report; a function with invocations in the metrics history has
/// `recent`, the duration and instantiation p50/p99 of its newest step with invocations.
pub async fn overview(rt: &Runtime) -> Response {
    let mut out = crate::deploy::admin::functions(rt);
    // Each function's duration and instantiation percentiles: those of the newest step of the
    // metrics history that had invocations (percentiles of separate steps do not add up).
    let history = rt.host().api().metrics().history();
    if let Some(functions) = out["functions"].as_array_mut() {
        for f in functions {
            let name = f["name"].as_str().unwrap_or_default().to_string();
            let h = history.function(&name);
            if let Some(p) = h.points.iter().rev().find(|p| p.duration_ms.is_some()) {
                f["recent"] = json!({
                    "t": p.t,
                    "duration_ms": p.duration_ms,
                    "instantiation_ms": p.instantiation_ms,
                });
            }
        }
    }
    // In cluster mode the versions are the engine's.
    let (current, versions) = match rt.version_list().await {
        Ok(v) => v,
        Err(e) => return http::error(500, "InternalServerError", e),
    };
    let app = rt.current();
    let manifest = &app.manifest;
    out["current"] = json!(current);
    out["versions"] = json!(versions);
    out["status"] = rt.trigger_status().to_json();
    out["mappings"] = manifest
        .streams
        .iter()
        .map(|s| {
            let mut def = json!(s);
            def["name"] = json!(crate::triggers::stream::mapping_name(&s.table, &s.function));
            def
        })
        .collect::<Value>();
    out["schedules"] = manifest
        .schedules
        .iter()
        .map(|s| {
            json!({
                "name": crate::triggers::schedule::name(&s.cron, &s.function),
                "cron": s.cron,
                "function": s.function,
            })
        })
        .collect::<Value>();
    http::json(200, &out)
}

/// `POST functions/rollback`: makes `{"version": n}` active, or with `{}` the newest version
/// older than the active one.
pub async fn rollback(rt: &Runtime, body: &Value) -> Response {
    match rt
        .activate(body.get("version").and_then(Value::as_u64))
        .await
    {
        Ok(v) => http::json(200, &json!({"version": v})),
        Err(e) => {
            let status = match e {
                DeployError::NoSuchVersion(_) => 404,
                DeployError::Io(..) => 500,
                _ => 400,
            };
            http::error(status, "RollbackFailed", e)
        }
    }
}

/// `GET functions/<name>/metrics`: the function's last hour from the metrics history, as
/// [`crate::metrics::FunctionHistory`] serializes (`{"function", "step_seconds", "points":
/// [{"t", "invocations", "errors", "throttles", "duration_ms", "instantiation_ms"}]}`).
pub fn metrics(api: &Api, function: &str) -> Response {
    http::json(200, &json!(api.metrics().history().function(function)))
}
