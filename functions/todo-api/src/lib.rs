//! `todo-api`: a REST API over one table, `todos` (partition key `id`, a string).
//!
//! | route | what |
//! |---|---|
//! | `POST /todos` | create from `{"title": "..", "done": false}`; the server picks `id`, `version` is 1; 201 |
//! | `GET /todos?limit=N&next=TOKEN` | one page (Scan); `{"items": [..], "next": TOKEN or null}` |
//! | `GET /todos/:id` | one todo, or 404 |
//! | `PUT /todos/:id` | update `{"title"?, "done"?, "version"}`: `version` is the one the client read; a different stored version is 409, a missing todo 404; the answer carries the new version |
//! | `DELETE /todos/:id` | 204, or 404; `?version=N` deletes only that version (else 409) |
//!
//! Bad JSON, unknown fields, an empty title or a bad `limit`/`next` are 400.

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};
use tarn_sdk::http::{HttpError, Request, Response};
use tarn_sdk::{Condition, ErrorKind, Router, Table};

/// The table this API stores todos in.
pub const TABLE: &str = "todos";
/// Page size when the client gives no `limit`.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u32 = 100;
/// The longest title accepted, in characters.
pub const MAX_TITLE: usize = 1000;

/// A todo as stored and as returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Todo {
    /// Server-generated id (32 hex digits).
    pub id: String,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
    /// Incremented by every update; clients send the version they read to update.
    pub version: u64,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
    /// Last update time, seconds since the Unix epoch.
    pub updated_at: u64,
}

/// The body of `POST /todos`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTodo {
    title: String,
    #[serde(default)]
    done: bool,
}

/// The body of `PUT /todos/:id`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TodoUpdate {
    title: Option<String>,
    done: Option<bool>,
    version: u64,
}

/// A page of todos.
#[derive(Debug, Serialize)]
struct TodoPage {
    items: Vec<Todo>,
    next: Option<String>,
}

/// The HTTP handler: routes to the operations below.
pub fn handle(req: Request) -> Response {
    Router::new()
        .post("/todos", create)
        .get("/todos", list)
        .get("/todos/:id", get)
        .put("/todos/:id", update)
        .delete("/todos/:id", delete)
        .handle(req)
}

fn table() -> Table {
    Table::open(TABLE)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A random 128-bit id as 32 hex digits (std's hasher keys come from the host's random source).
fn new_id() -> String {
    let half = |salt: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(salt);
        h.finish()
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!("{:016x}{:016x}", half(nanos), half(!nanos))
}

fn check_title(title: &str) -> Result<String, HttpError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(HttpError::bad_request("title must not be empty"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(HttpError::bad_request(format!(
            "title is longer than {MAX_TITLE} characters"
        )));
    }
    Ok(title.to_string())
}

fn create(req: Request) -> Result<Response, HttpError> {
    let new: NewTodo = req.json()?;
    let now = now();
    let todo = Todo {
        id: new_id(),
        title: check_title(&new.title)?,
        done: new.done,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    table().put_if(&todo, Condition::not_exists("id"))?;
    tarn_sdk::log::info!("created todo {}", todo.id);
    Ok(Response::json(201, &todo).with_header("location", &format!("/todos/{}", todo.id)))
}

fn list(req: Request) -> Result<Response, HttpError> {
    let limit = match req.query("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(HttpError::bad_request(format!(
                    "limit must be a number from 1 to {MAX_LIMIT}"
                )))
            }
        },
    };
    let next = req.query("next");
    let page = table()
        .scan()
        .limit(limit)
        .after_token(next.as_deref())
        .send::<Todo>()
        .map_err(|e| match e {
            tarn_sdk::Error::InvalidToken => HttpError::bad_request("invalid next token"),
            other => other.into(),
        })?;
    let next = page.next_token();
    Ok(Response::json(
        200,
        &TodoPage {
            items: page.items,
            next,
        },
    ))
}

fn id(req: &Request) -> String {
    req.param("id").unwrap_or_default().to_string()
}

fn get(req: Request) -> Result<Response, HttpError> {
    let id = id(&req);
    match table().get::<Todo, _>(&json!({ "id": id }))? {
        Some(todo) => Ok(Response::json(200, &todo)),
        None => Err(HttpError::not_found(format!("no todo {id}"))),
    }
}

fn update(req: Request) -> Result<Response, HttpError> {
    let id = id(&req);
    let change: TodoUpdate = req.json()?;
    if change.title.is_none() && change.done.is_none() {
        return Err(HttpError::bad_request(
            "nothing to update: give title and/or done",
        ));
    }
    let mut update = table()
        .update(&json!({ "id": id }))
        .set("version", &(change.version + 1))
        .set("updated_at", &now())
        .condition(
            Condition::new("attribute_exists(id) AND #cv = :cv")
                .name("#cv", "version")
                .value(":cv", &change.version),
        );
    if let Some(title) = &change.title {
        update = update.set("title", &check_title(title)?);
    }
    if let Some(done) = change.done {
        update = update.set("done", &done);
    }
    match update.send_returning::<Todo>() {
        Ok(todo) => Ok(Response::json(200, &todo)),
        Err(e) if e.kind() == ErrorKind::ConditionalCheckFailed => {
            Err(conflict_or_missing(&id, change.version)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// After a failed version check: 404 if the todo is gone, else 409 naming the current version.
fn conflict_or_missing(id: &str, sent: u64) -> Result<HttpError, HttpError> {
    Ok(match table().get::<Todo, _>(&json!({ "id": id }))? {
        None => HttpError::not_found(format!("no todo {id}")),
        Some(current) => HttpError::conflict(format!(
            "version mismatch: you sent {sent}, the todo is at version {}",
            current.version
        )),
    })
}

fn delete(req: Request) -> Result<Response, HttpError> {
    let id = id(&req);
    let key = json!({ "id": id });
    let deleted = match req.query("version") {
        None => table().delete::<Todo, _>(&key)?,
        Some(v) => {
            let v: u64 = v
                .parse()
                .map_err(|_| HttpError::bad_request("version must be a number"))?;
            let cond = Condition::new("#cv = :cv")
                .name("#cv", "version")
                .value(":cv", &v);
            match table().delete_if::<Todo, _>(&key, cond) {
                Ok(d) => d,
                Err(e) if e.kind() == ErrorKind::ConditionalCheckFailed => {
                    return Err(conflict_or_missing(&id, v)?)
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    match deleted {
        Some(_) => Ok(Response::no_content()),
        None => Err(HttpError::not_found(format!("no todo {id}"))),
    }
}

tarn_sdk::http_handler!(handle);

#[cfg(test)]
mod tests;
