"""todo-api in Python: the REST API of functions/todo-api (Rust), route for route and error for
error, over the `todos` table (partition key `id`, a string).

| route | what |
|---|---|
| `POST /todos` | create from `{"title": "..", "done": false}`; the server picks `id`, `version` is 1; 201 |
| `GET /todos?limit=N&next=TOKEN` | one page (Scan); `{"items": [..], "next": TOKEN or null}` |
| `GET /todos/:id` | one todo, or 404 |
| `PUT /todos/:id` | update `{"title"?, "done"?, "version"}`: `version` is the one the client read; a different stored version is 409, a missing todo 404 |
| `DELETE /todos/:id` | 204, or 404; `?version=N` deletes only that version (else 409) |

Bad JSON, unknown fields, an empty title or a bad `limit`/`next` are 400.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import tarn
from tarn import Attr, ConditionalCheckFailedException, HttpError, InvalidTokenError, Request, Response, Update

TABLE = "todos"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_TITLE = 1000

app = tarn.Router()
todos = tarn.Table(TABLE)


def now() -> int:
    return int(time.time())


def check_title(title: Any) -> str:
    if not isinstance(title, str):
        raise HttpError(400, "title must be a string")
    title = title.strip()
    if not title:
        raise HttpError(400, "title must not be empty")
    if len(title) > MAX_TITLE:
        raise HttpError(400, f"title is longer than {MAX_TITLE} characters")
    return title


def json_object(req: Request, allowed: set[str]) -> dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise HttpError(400, "invalid JSON body: expected an object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise HttpError(400, f"invalid JSON body: unknown field `{unknown[0]}`")
    return body


def version_number(value: Any, what: str = "version") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise HttpError(400, f"{what} must be a whole number")
    return value


@app.post("/todos")
def create(req: Request) -> Response:
    body = json_object(req, {"title", "done"})
    if "title" not in body:
        raise HttpError(400, "invalid JSON body: missing field `title`")
    done = body.get("done", False)
    if not isinstance(done, bool):
        raise HttpError(400, "done must be true or false")
    t = now()
    todo = {"id": secrets.token_hex(16), "title": check_title(body["title"]), "done": done,
            "version": 1, "created_at": t, "updated_at": t}
    todos.put(todo, condition=Attr("id").not_exists())
    tarn.log.info("created todo %s", todo["id"])
    return Response.json(todo, status=201, headers={"location": f"/todos/{todo['id']}"})


@app.get("/todos")
def list_todos(req: Request) -> dict[str, Any]:
    limit = DEFAULT_LIMIT
    if "limit" in req.query:
        raw = req.query["limit"]
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise HttpError(400, f"limit must be a number from 1 to {MAX_LIMIT}")
        limit = int(raw)
    try:
        page = todos.scan(limit=limit, start=req.query.get("next"))
    except InvalidTokenError:
        raise HttpError(400, "invalid next token") from None
    return {"items": page.items, "next": page.next_token}


@app.get("/todos/:id")
def get(req: Request) -> dict[str, Any]:
    todo = todos.get({"id": req.params["id"]})
    if todo is None:
        raise HttpError(404, f"no todo {req.params['id']}")
    return todo


def conflict_or_missing(todo_id: str, sent: int) -> HttpError:
    """After a failed version check: 404 if the todo is gone, else 409 naming its version."""
    current = todos.get({"id": todo_id})
    if current is None:
        return HttpError(404, f"no todo {todo_id}")
    return HttpError(409, f"version mismatch: you sent {sent}, the todo is at version {current['version']}")


@app.put("/todos/:id")
def update(req: Request) -> dict[str, Any]:
    todo_id = req.params["id"]
    body = json_object(req, {"title", "done", "version"})
    if "version" not in body:
        raise HttpError(400, "invalid JSON body: missing field `version`")
    sent = version_number(body["version"])
    if body.get("title") is None and body.get("done") is None:
        raise HttpError(400, "nothing to update: give title and/or done")
    change = Update().set("version", sent + 1).set("updated_at", now())
    if body.get("title") is not None:
        change.set("title", check_title(body["title"]))
    if body.get("done") is not None:
        if not isinstance(body["done"], bool):
            raise HttpError(400, "done must be true or false")
        change.set("done", body["done"])
    try:
        return todos.update({"id": todo_id}, change,
                            condition=Attr("id").exists() & Attr("version").eq(sent))
    except ConditionalCheckFailedException:
        raise conflict_or_missing(todo_id, sent) from None


@app.delete("/todos/:id")
def delete(req: Request) -> Response:
    todo_id = req.params["id"]
    if "version" in req.query:
        raw = req.query["version"]
        if not raw.isdigit():
            raise HttpError(400, "version must be a number")
        try:
            deleted = todos.delete({"id": todo_id}, condition=Attr("version").eq(int(raw)))
        except ConditionalCheckFailedException:
            raise conflict_or_missing(todo_id, int(raw)) from None
    else:
        deleted = todos.delete({"id": todo_id})
    if deleted is None:
        raise HttpError(404, f"no todo {todo_id}")
    return Response.no_content()


tarn.http_handler(app)
