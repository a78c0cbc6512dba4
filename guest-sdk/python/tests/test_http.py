import json
from decimal import Decimal

import tarn
from tarn import HttpError, Request, Response, Router
from tarn.errors import error_for
from tarn.testing import request


def router() -> Router:
    app = Router()

    @app.get("/todos")
    def list_(req):
        return "list"

    @app.post("/todos")
    def create(req):
        return Response.json(req.json(), status=201)

    @app.get("/todos/:id")
    def get(req):
        return {"id": req.params["id"], "q": req.query}

    @app.put("/todos/:id")
    def put(req):
        raise HttpError(409, "version mismatch")

    @app.get("/static/*")
    def static(req):
        return f"file {req.params['*']}"

    @app.any("/health")
    def health(req):
        return req.method

    @app.delete("/todos/:id")
    def delete(req):
        return None

    @app.get("/boom")
    def boom(req):
        raise RuntimeError("bug")

    @app.get("/denied")
    def denied(req):
        raise error_for("AccessDeniedException", "no grant")

    return app


def call(method, uri, body=b""):
    r = router()(request(method, uri, body))
    return r.status, r.body.decode()


def test_routes_params_and_wildcards():
    assert call("GET", "/todos") == (200, "list")
    assert call("GET", "/todos/") == (200, "list")
    assert call("HEAD", "/todos")[0] == 200
    status, body = call("GET", "/todos/a%20b?x=1&y=hello+world&flag")
    assert status == 200 and json.loads(body) == {"id": "a b", "q": {"x": "1", "y": "hello world", "flag": ""}}
    assert call("GET", "/static/css/site.css") == (200, "file css/site.css")
    assert call("GET", "/static") == (200, "file ")
    assert call("PATCH", "/health") == (200, "PATCH")
    assert call("DELETE", "/todos/1") == (204, "")


def test_json_bodies_keep_decimals():
    status, body = call("POST", "/todos", {"price": 1.10, "n": 3})
    assert status == 201 and json.loads(body) == {"price": 1.1, "n": 3}
    assert Request("POST", "/", {}, b'{"p": 0.1}').json() == {"p": Decimal("0.1")}
    assert Response.json({"n": Decimal("2"), "s": {"b", "a"}}).body == b'{"n":2,"s":["a","b"]}'


def test_errors_become_responses():
    assert call("PUT", "/todos/1") == (409, '{"error":"version mismatch"}')
    assert call("POST", "/todos", "{")[0] == 400
    assert call("GET", "/nope")[0] == 404
    assert call("GET", "/todos/1/extra")[0] == 404
    r = router()(request("POST", "/todos/1"))
    assert r.status == 405 and r.headers["allow"] == "GET, PUT, DELETE"
    status, body = call("GET", "/denied")
    assert status == 403 and "AccessDeniedException" in body


def test_unexpected_exceptions_are_500_and_logged():
    host = tarn.testing.set_tables_handler(lambda op, req: {})
    assert call("GET", "/boom") == (500, '{"error":"internal error"}')
    assert host.logs[-1][0] == "error" and "RuntimeError: bug" in host.logs[-1][1]


def test_request_helpers():
    r = Request("post", "/a?x=%2F", [("Content-Type", "text/plain"), ("X-A", "1"), ("x-a", "2")], "héllo")
    assert r.method == "POST" and r.path == "/a" and r.query == {"x": "/"}
    assert r.header("content-type") == "text/plain" and r.header("X-A") == "1"
    assert r.text() == "héllo"
    bad = Request("POST", "/", {}, b"\xff")
    try:
        bad.text()
    except HttpError as e:
        assert e.status == 400
    else:
        raise AssertionError("no error")


def test_http_handler_exports_incoming_handler():
    import types

    module = types.ModuleType("fake_function")
    exec("import tarn\napp = tarn.Router()\ntarn.http_handler(app)\n", module.__dict__)
    assert isinstance(module.IncomingHandler, type) and hasattr(module.IncomingHandler, "handle")
