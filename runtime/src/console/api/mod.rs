//! The console's JSON API, under `/console/api/`. Every endpoint needs a session cookie
//! ([`super::auth`]); every request that is not a GET or HEAD also needs the session's CSRF
//! token in the `X-Tarn-Csrf` header and, if the browser sent one, an `Origin` naming this host.
//! Errors are DynamoDB's shape, `{"__type": ..., "message": ...}`.
//!
//! Tables are regional: every endpoint takes `?region=R` (say, `tables?region=eu-west-1`, or
//! `dynamodb/PutItem?region=eu-west-1`) and then sees that region's tables; without it, the
//! server's region (`tarn serve --region`).
//!
//! The table endpoints go through [`crate::api::backend::Tables`]: on a cluster node
//! (`tarn serve --engine`) they list, describe, scan and edit the engine's tables.
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET session` | `{"csrf", "version", "region", "dynamodb_endpoint", "node", "engine"}` (`node`, `engine`: on a cluster node) |
//! | `GET regions` | `{"regions", "default"}`: the regions that have tables, and the server's |
//! | `POST logout` | ends the session |
//! | `POST dynamodb/<Operation>` | [`crate::api::Api::call`] on the body: DynamoDB's own answer or error |
//! | `GET tables` | every table with status, items, size, billing, PITR, TTL, stream ([`tables`]) |
//! | `GET tables/<name>/stream?limit=N` | the stream's view type and its latest N records |
//! | `GET tables/<name>/cost` | the Cost page's monthly estimate ([`super::cost`]) |
//! | `GET tables/<name>/metrics` | the table's last hour ([`crate::metrics::TableHistory`]) |
//! | `GET functions` | versions, functions, routes, counters, stream mappings, schedules ([`functions`]) |
//! | `GET functions/<name>/metrics` | the function's last hour ([`crate::metrics::FunctionHistory`]) |
//! | `POST functions/rollback` | `{"version": n}` (or `{}`: the previous one) made active |
//! | `GET logs?function=F&tail=N&follow=1` | NDJSON log lines, then new ones as they come |
//! | `POST login-link` | with `Authorization: Bearer <admin token>`, no session: a fresh one-time login path (`tarn console`) |

pub mod functions;
pub mod tables;

use std::sync::Arc;

use hyper::body::Incoming;
use serde_json::{json, Value};

use super::http::{self, BodyError};
use super::{auth, same_origin, Console};
use crate::deploy::Runtime;
use crate::host::http::ResponseBody;

/// Largest request body the API reads (an item is at most 400 KB; a batch of them fits).
const MAX_BODY: usize = 16 << 20;

type Response = hyper::Response<ResponseBody>;

/// Answers one `/console/api/...` request.
pub async fn handle(
    console: &Console,
    rt: Arc<Runtime>,
    req: hyper::Request<Incoming>,
) -> Response {
    let path = req.uri().path()["/console/api/".len()..].to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().as_str().to_string();
    let reads_only = method == "GET" || method == "HEAD";
    // A request refused before its body is read closes its connection.
    let refuse = |r: Response| if reads_only { r } else { http::closing(r) };
    if method == "POST" && path == "login-link" {
        return refuse(login_link(console, &rt, &req));
    }
    let Some((cookie, session)) = console.session_of(&req) else {
        return refuse(http::error(
            401,
            "Unauthorized",
            "not signed in to the console",
        ));
    };
    if !reads_only {
        let csrf = req
            .headers()
            .get(auth::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_origin(&req) || !auth::secret_matches(csrf, &session.csrf) {
            return refuse(http::error(
                403,
                "Forbidden",
                "missing or wrong CSRF token (reload the page)",
            ));
        }
    }
    let api = rt.host().api().clone();
    // `?region=R` runs the request in region R (tables are regional); the server's region
    // otherwise.
    // On a cluster node the tables are the engine's, all in the region the node signs for:
    // that is the console's region, and the only one.
    let engine_region = api.backend().engine().map(|e| e.region().to_string());
    let api = match (http::query_param(&query, "region"), &engine_region) {
        (None, None) => api,
        (None, Some(e)) => api.in_region(e),
        (Some(r), Some(e)) if r != *e => {
            return refuse(http::error(
                400,
                "ValidationException",
                format!("this cluster node's tables are the engine's, in {e}; not in {r}"),
            ))
        }
        (Some(r), _) if tarn_store::schema::region::is_valid_region(&r) => api.in_region(&r),
        (Some(r), _) => {
            return refuse(http::error(
                400,
                "ValidationException",
                format!("{r:?} is not a region name"),
            ))
        }
    };
    // The tables, wherever they live (the engine's, on a cluster node).
    let seam = crate::api::backend::Tables::of(&api);
    let segments: Vec<&str> = path.split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["session"]) => http::json(
            200,
            &json!({
                "csrf": session.csrf,
                "version": env!("CARGO_PKG_VERSION"),
                "region": api.region(),
                "dynamodb_endpoint": console.dynamodb_endpoint(),
                "node": rt.cluster().map(|c| c.node_id()),
                "engine": seam.engine().map(|e| e.url()),
            }),
        ),
        ("GET", ["regions"]) => {
            let default = engine_region.as_deref().unwrap_or(rt.host().api().region());
            http::json(
                200,
                &json!({"regions": seam.regions(default), "default": default}),
            )
        }
        ("POST", ["logout"]) => {
            console.auth().end_session(&cookie);
            http::finish(
                http::response(200, "application/json", "no-store")
                    .header(hyper::header::SET_COOKIE, auth::clear_cookie()),
                "{}",
            )
        }
        ("POST", ["dynamodb", operation]) => {
            let operation = operation.to_string();
            match http::read_json(req, MAX_BODY).await {
                Ok(body) => dynamodb(&seam, &operation, body).await,
                Err(e) => body_error(e),
            }
        }
        ("GET", ["tables"]) => tables::overview(&seam).await,
        ("GET", ["tables", name, "stream"]) => {
            let limit = http::query_param(&query, "limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(25);
            tables::stream_records(&seam, name, limit).await
        }
        ("GET", ["tables", name, "cost"]) => tables::cost(console, &seam, name).await,
        ("GET", ["tables", name, "metrics"]) => tables::metrics(&api, name),
        ("GET", ["functions"]) => functions::overview(&rt).await,
        ("GET", ["functions", name, "metrics"]) => functions::metrics(&api, name),
        ("POST", ["functions", "rollback"]) => match http::read_json(req, MAX_BODY).await {
            Ok(body) => functions::rollback(&rt, &body).await,
            Err(e) => body_error(e),
        },
        ("GET", ["logs"]) => crate::deploy::admin::logs(&rt, &query),
        _ => http::error(
            404,
            "NotFound",
            format!("no console endpoint {method} /console/api/{path}"),
        ),
    }
}

/// Runs DynamoDB `operation` through the API, answering its response or its error as the
/// DynamoDB port would (status, `__type`, message).
async fn dynamodb(tables: &crate::api::backend::Tables, operation: &str, body: Value) -> Response {
    if !tables.api().supports(operation) {
        return http::error(
            400,
            "UnknownOperationException",
            format!("tarn does not implement {operation}"),
        );
    }
    match tables.call(operation, body).await {
        Ok(v) => http::json(200, &v),
        Err(e) => http::json(e.status(), &e.to_body()),
    }
}

fn body_error(e: BodyError) -> Response {
    http::error(400, "SerializationException", e)
}

/// `POST login-link` with the admin token as a bearer token: a fresh one-time login path.
fn login_link<B>(console: &Console, rt: &Runtime, req: &hyper::Request<B>) -> Response {
    let presented = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !auth::secret_matches(presented.trim(), rt.token()) {
        return http::error(
            401,
            "Unauthorized",
            "missing or wrong admin token (Authorization: Bearer <token>)",
        );
    }
    http::json(200, &json!({"path": console.login_path()}))
}
