//! {{name}}-api: `GET /ticks`, what the schedule recorded.

use serde_json::{json, Value};
use tarn_sdk::http::{HttpError, Request, Response};
use tarn_sdk::{Router, Table};

fn handle(req: Request) -> Response {
    Router::new().get("/ticks", ticks).handle(req)
}

fn ticks(_req: Request) -> Result<Response, HttpError> {
    let ticks: Option<Value> = Table::open("ticks").get(&json!({ "id": "ticks" }))?;
    Ok(Response::json(200, &ticks.unwrap_or_else(|| json!({ "id": "ticks", "count": 0 }))))
}

tarn_sdk::http_handler!(handle);
