//! Test support for running function code natively (`cargo test`), outside a tarn host.
//!
//! Table calls made on a non-wasm target go to a handler installed per thread with
//! [`set_tables_handler`]; without one they fail with `Other("NoHost")`. Log lines go to stderr.

use crate::error::{Error, Result};
use crate::operation::Operation;
use serde_json::Value;
use std::cell::RefCell;

type Handler = Box<dyn Fn(Operation, &Value) -> Result<Value>>;

thread_local! {
    static HANDLER: RefCell<Option<Handler>> = const { RefCell::new(None) };
}

/// Installs `handler` as this thread's table host: it receives each operation with its JSON
/// request and returns the JSON response (or an error, e.g. `Error::table("ConditionalCheckFailedException", "..")`).
pub fn set_tables_handler(handler: impl Fn(Operation, &Value) -> Result<Value> + 'static) {
    HANDLER.with(|h| *h.borrow_mut() = Some(Box::new(handler)));
}

/// Removes this thread's table handler.
pub fn clear_tables_handler() {
    HANDLER.with(|h| *h.borrow_mut() = None);
}

pub(crate) fn dispatch(op: Operation, request: &str) -> Result<String> {
    let request: Value =
        serde_json::from_str(request).map_err(|e| Error::Response(e.to_string()))?;
    HANDLER.with(|h| match &*h.borrow() {
        Some(handler) => handler(op, &request).map(|v| v.to_string()),
        None => Err(Error::table(
            "NoHost",
            "no tarn host: install one with testing::set_tables_handler",
        )),
    })
}
