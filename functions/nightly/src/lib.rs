//! `nightly`: a schedule handler (world `schedule-handler`).
//!
//! On each tick it deletes the todos that are done, reading `todos` page by page, and logs how
//! many it removed. A failure fails the tick (the host logs it and tries again next tick).

use serde::Deserialize;
use serde_json::json;
use tarn_sdk::{Condition, Table};

#[derive(Debug, Deserialize)]
struct Done {
    id: String,
    version: u64,
}

/// The schedule handler: `scheduled_time` is the tick's time (RFC 3339, UTC).
pub fn tick(scheduled_time: &str) -> tarn_sdk::Result<()> {
    let todos = Table::open("todos");
    let done: Vec<Done> = todos
        .scan()
        .filter("#d = :t")
        .name("#d", "done")
        .value(":t", &true)
        .project("id, #v")
        .name("#v", "version")
        .all()?;
    let mut removed = 0;
    for todo in &done {
        // Only the version we saw: a todo reopened since is kept.
        let cond = Condition::equals("version", &todo.version);
        match todos.delete_if::<serde_json::Value, _>(&json!({ "id": todo.id }), cond) {
            Ok(_) => removed += 1,
            Err(e) if e.is_conditional_check_failed() => {}
            Err(e) => return Err(e),
        }
    }
    tarn_sdk::log::info!("nightly at {scheduled_time}: removed {removed} done todos");
    Ok(())
}

tarn_sdk::schedule_handler!(tick);

#[cfg(test)]
mod tests {
    use super::*;
    use tarn_sdk::host::Operation;
    use tarn_sdk::testing::set_tables_handler;
    use tarn_sdk::Error;

    #[test]
    fn deletes_done_todos() {
        set_tables_handler(|op, req| match op {
            Operation::Scan => Ok(json!({"Items": [
                {"id": {"S": "a"}, "version": {"N": "2"}},
                {"id": {"S": "b"}, "version": {"N": "5"}}
            ]})),
            Operation::DeleteItem if req["Key"]["id"]["S"] == "b" => {
                Err(Error::table("ConditionalCheckFailedException", "reopened"))
            }
            Operation::DeleteItem => Ok(json!({})),
            other => panic!("{other:?}"),
        });
        tick("2026-11-21T00:00:00Z").unwrap();
        set_tables_handler(|_, _| Err(Error::table("AccessDeniedException", "no")));
        assert!(tick("t").is_err());
    }
}
