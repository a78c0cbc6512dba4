//! {{name}}: an HTTP function in Rust (the `tarn-sdk` crate) over the `items` table.

use tarn_sdk::http::{HttpError, Request, Response};
use tarn_sdk::{Router, Table};

fn handle(req: Request) -> Response {
    Router::new()
        .get("/hello/:who", hello)
        .put("/items/:id", put_item)
        .get("/items/:id", get_item)
        .handle(req)
}

fn hello(req: Request) -> Response {
    let who = req.param("who").unwrap_or("world");
    tarn_sdk::log::info!("saying hello to {who}");
    Response::text(200, format!("hello, {who}, from Rust\n"))
}

fn put_item(req: Request) -> Result<Response, HttpError> {
    let mut item: serde_json::Map<String, serde_json::Value> = req.json()?;
    item.insert("id".into(), req.param("id").unwrap_or_default().into());
    Table::open("items").put(&item)?;
    Ok(Response::json(200, &item))
}

fn get_item(req: Request) -> Result<Response, HttpError> {
    let id = req.param("id").unwrap_or_default();
    let item: Option<serde_json::Value> = Table::open("items").get(&serde_json::json!({ "id": id }))?;
    item.map(|i| Response::json(200, &i))
        .ok_or_else(|| HttpError::not_found(format!("no item {id}")))
}

tarn_sdk::http_handler!(handle);
