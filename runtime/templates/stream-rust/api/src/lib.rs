//! {{name}}-api: writes and deletes `items`, reads the counts the stream handler keeps.

use serde_json::{json, Map, Value};
use tarn_sdk::http::{HttpError, Request, Response};
use tarn_sdk::{Router, Table};

fn handle(req: Request) -> Response {
    Router::new()
        .put("/items/:id", put_item)
        .delete("/items/:id", delete_item)
        .get("/counts", counts)
        .handle(req)
}

fn put_item(req: Request) -> Result<Response, HttpError> {
    let mut item: Map<String, Value> = req.json()?;
    item.insert("id".into(), req.param("id").unwrap_or_default().into());
    Table::open("items").put(&item)?;
    Ok(Response::json(200, &item))
}

fn delete_item(req: Request) -> Result<Response, HttpError> {
    let id = req.param("id").unwrap_or_default();
    match Table::open("items").delete::<Value, _>(&json!({ "id": id }))? {
        Some(_) => Ok(Response::no_content()),
        None => Err(HttpError::not_found(format!("no item {id}"))),
    }
}

fn counts(_req: Request) -> Result<Response, HttpError> {
    let totals: Option<Value> = Table::open("counts").get(&json!({ "id": "totals" }))?;
    Ok(Response::json(200, &totals.unwrap_or_else(|| json!({ "id": "totals" }))))
}

tarn_sdk::http_handler!(handle);
