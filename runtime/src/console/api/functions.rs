//! The console's function endpoints: the active version and every earlier one (with rollback),
//! the functions with their counters, the routes, and the triggers' status (stream mappings:
//! processed, failed, checkpoint, iterator age; schedules: last and next run). The log tail is
//! the admin API's own ([`crate::deploy::admin::logs`]).

use serde_json::{json, Value};

use super::Response;
use crate::console::http;
use crate::deploy::{DeployError, Runtime};

/// `GET functions`: `{"current", "active", "versions", "functions", "routes", "streams",
/// "schedules", "mappings"}`; `mappings` and `schedules` carry the manifest's definitions,
/// `status` what the triggers report.
pub fn overview(rt: &Runtime) -> Response {
    let mut out = crate::deploy::admin::functions(rt);
    let versions = match rt.versions().list() {
        Ok(v) => v,
        Err(e) => return http::error(500, "InternalServerError", e),
    };
    let app = rt.current();
    let manifest = &app.manifest;
    out["current"] = json!(rt.versions().current());
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
