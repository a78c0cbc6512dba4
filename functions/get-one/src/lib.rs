//! `get-one`: one GetItem per request, for benchmarks.
//!
//! - `GET /get/:id` (or `?table=NAME`, default `bench`): one GetItem of `{"id": id}` through the
//!   `tables` import; the item as plain JSON, or 404.
//! - anything else: 404 from the router.

use serde_json::{json, Value};
use tarn_sdk::http::{HttpError, Request, Response};
use tarn_sdk::{Router, Table};

/// The HTTP handler.
pub fn handle(req: Request) -> Response {
    Router::new().get("/get/:id", get_one).handle(req)
}

fn get_one(req: Request) -> Result<Response, HttpError> {
    let table = req.query("table").unwrap_or_else(|| "bench".into());
    let id = req.param("id").unwrap_or_default();
    let item: Option<Value> = Table::open(table).get(&json!({ "id": id }))?;
    item.map(|i| Response::json(200, &i))
        .ok_or_else(|| HttpError::not_found(format!("no item {id}")))
}

tarn_sdk::http_handler!(handle);

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_sdk::http::Method;
    use tarn_sdk::testing::set_tables_handler;

    #[test]
    fn one_get_item() {
        set_tables_handler(|_, req| {
            assert_eq!(req["TableName"], "bench");
            Ok(if req["Key"]["id"]["S"] == "1" {
                json!({"Item": {"id": {"S": "1"}, "v": {"N": "5"}}})
            } else {
                json!({})
            })
        });
        let r = handle(Request::new(Method::Get, "/get/1"));
        assert_eq!((r.status(), r.body()), (200, &br#"{"id":"1","v":5}"#[..]));
        assert_eq!(handle(Request::new(Method::Get, "/get/2")).status(), 404);
    }

    #[test]
    fn other_paths_are_not_found() {
        assert_eq!(handle(Request::new(Method::Get, "/")).status(), 404);
    }
}
