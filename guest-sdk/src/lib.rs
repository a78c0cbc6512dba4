//! # tarn-sdk: write tarn functions in Rust
//!
//! A tarn function is a WebAssembly component (`wasm32-wasip2`) that the tarn host runs on an
//! HTTP route, on table changes, or on a schedule. This crate wraps the host API described in
//! `wit/tarn.wit` (package `tarn:function`):
//!
//! - [`Table`]: DynamoDB item operations on the tables the function's manifest grants, with
//!   items as your own serde types ([`item`] maps them to DynamoDB JSON), builders for
//!   [`Update`], [`Query`] and [`Scan`], [`Condition`]s, paging tokens ([`Page::next_token`])
//!   and [`Transaction`]s. Errors are [`Error`] with DynamoDB's exception [`ErrorKind`].
//! - [`http`] and [`Router`]: requests, responses, JSON bodies, `:param` / `*` routes; a
//!   handler is exported with [`http_handler!`].
//! - [`stream_handler!`] / [`schedule_handler!`] for table-change and cron functions.
//! - [`log`]: `log::info!("...")` and friends, captured per invocation by the host.
//!
//! ## Example
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//! use tarn_sdk::http::{HttpError, Request, Response};
//! use tarn_sdk::{Condition, Router, Table};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Todo { id: String, title: String, version: u64 }
//!
//! fn handle(req: Request) -> Response {
//!     Router::new()
//!         .get("/todos/:id", get)
//!         .post("/todos", create)
//!         .handle(req)
//! }
//!
//! fn get(req: Request) -> Result<Response, HttpError> {
//!     let id = req.param("id").unwrap_or_default();
//!     let todo: Option<Todo> = Table::open("todos").get(&serde_json::json!({ "id": id }))?;
//!     todo.map(|t| Response::json(200, &t)).ok_or_else(|| HttpError::not_found("no such todo"))
//! }
//!
//! fn create(req: Request) -> Result<Response, HttpError> {
//!     let todo: Todo = req.json()?;
//!     Table::open("todos").put_if(&todo, Condition::not_exists("id"))?;
//!     tarn_sdk::log::info!("created {}", todo.id);
//!     Ok(Response::json(201, &todo))
//! }
//!
//! tarn_sdk::http_handler!(handle);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2` in a crate with
//! `crate-type = ["cdylib"]`; the `.wasm` is a component the host runs as is.
//!
//! Compiled for the build machine (unit tests), table calls go to a handler set with
//! [`testing::set_tables_handler`] and log lines to stderr.

#![warn(missing_docs)]

extern crate self as tarn_sdk;

#[doc(hidden)]
pub mod bindings;
pub mod error;
pub mod host;
pub mod http;
pub mod item;
pub mod log;
pub mod operation;
pub mod router;
pub mod stream;
pub mod table;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
mod token;

#[doc(hidden)]
pub use bindings as __bindings;
#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

pub use error::{Error, ErrorKind, Result};
pub use http::{HttpError, IntoResponse, Method, Request, Response};
pub use item::{from_item, to_item, Item};
pub use router::Router;
pub use stream::{EventName, StreamRecord};
pub use table::{Condition, Page, Query, Scan, Table, Transaction, Update};

/// Exports `handler` as the component's HTTP handler (`wasi:http/incoming-handler`).
///
/// `handler` is a `fn(Request) -> R` where `R:` [`IntoResponse`] (a [`Response`], a
/// `Result<Response, HttpError>`...). Use it once per crate, at the top level:
///
/// ```ignore
/// fn handle(req: tarn_sdk::Request) -> tarn_sdk::Response { tarn_sdk::Response::text(200, "hi") }
/// tarn_sdk::http_handler!(handle);
/// ```
#[macro_export]
macro_rules! http_handler {
    ($handler:path) => {
        const _: () = {
            #[allow(dead_code)]
            struct __TarnHttpHandler;
            impl $crate::__bindings::http::exports::wasi::http::incoming_handler::Guest for __TarnHttpHandler {
                fn handle(
                    request: $crate::__bindings::http::exports::wasi::http::incoming_handler::IncomingRequest,
                    out: $crate::__bindings::http::exports::wasi::http::incoming_handler::ResponseOutparam,
                ) {
                    $crate::http::__serve(request, out, $handler)
                }
            }
            // Only components export: a native cdylib cannot carry WIT export names.
            #[cfg(target_arch = "wasm32")]
            $crate::__bindings::http::__export_http_handler!(__TarnHttpHandler with_types_in $crate::__bindings::http);
        };
    };
}

/// Exports `handler` as the component's stream handler (world `stream-handler`).
///
/// `handler` is a `fn(Vec<StreamRecord>) -> R` where `R:` [`stream::BatchResult`]: `()`
/// accepts the batch, `Vec<String>` names the failed records' sequence numbers, `Err` fails it.
///
/// ```ignore
/// fn on_change(records: Vec<tarn_sdk::StreamRecord>) -> Result<(), tarn_sdk::Error> { Ok(()) }
/// tarn_sdk::stream_handler!(on_change);
/// ```
#[macro_export]
macro_rules! stream_handler {
    ($handler:path) => {
        const _: () = {
            #[allow(dead_code)]
            struct __TarnStreamHandler;
            impl $crate::__bindings::stream::exports::tarn::function::stream::Guest for __TarnStreamHandler {
                fn handle(records: ::std::string::String) -> ::std::result::Result<::std::vec::Vec<::std::string::String>, ::std::string::String> {
                    let records = $crate::StreamRecord::parse_batch(&records)?;
                    $crate::stream::BatchResult::into_batch_result($handler(records))
                }
            }
            // Only components export: a native cdylib cannot carry WIT export names.
            #[cfg(target_arch = "wasm32")]
            $crate::__bindings::stream::__export_stream_handler!(__TarnStreamHandler with_types_in $crate::__bindings::stream);
        };
    };
}

/// Exports `handler` as the component's schedule handler (world `schedule-handler`).
///
/// `handler` is a `fn(&str) -> R` taking the tick's time (RFC 3339, UTC), where `R:`
/// [`stream::TickResult`] (`()` or `Result<(), E: Display>`).
///
/// ```ignore
/// fn tick(at: &str) -> Result<(), tarn_sdk::Error> { tarn_sdk::log::info!("tick {at}"); Ok(()) }
/// tarn_sdk::schedule_handler!(tick);
/// ```
#[macro_export]
macro_rules! schedule_handler {
    ($handler:path) => {
        const _: () = {
            #[allow(dead_code)]
            struct __TarnScheduleHandler;
            impl $crate::__bindings::schedule::exports::tarn::function::schedule::Guest for __TarnScheduleHandler {
                fn handle(scheduled_time: ::std::string::String) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::stream::TickResult::into_tick_result($handler(&scheduled_time))
                }
            }
            // Only components export: a native cdylib cannot carry WIT export names.
            #[cfg(target_arch = "wasm32")]
            $crate::__bindings::schedule::__export_schedule_handler!(__TarnScheduleHandler with_types_in $crate::__bindings::schedule);
        };
    };
}
