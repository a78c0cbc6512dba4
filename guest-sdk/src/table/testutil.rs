//! What the table tests share: a sample item type and a recording table handler.

use crate::host::Operation;
use crate::testing::set_tables_handler;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// A sample item.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Todo {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) version: u64,
}

/// Records requests and answers each with `answer`.
pub(super) fn record(answer: Value) -> Rc<RefCell<Vec<(Operation, Value)>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    set_tables_handler(move |op, req| {
        l.borrow_mut().push((op, req.clone()));
        Ok(answer.clone())
    });
    log
}
