"""HTTP for functions: `Request`, `Response`, `HttpError`, a `Router` with `:param` and `*`
routes, JSON helpers, and `http_handler`, which exports a handler as the component's
`wasi:http/incoming-handler`.

    import tarn
    app = tarn.Router()

    @app.get("/todos/:id")
    def get_todo(req: tarn.Request) -> tarn.Response:
        item = tarn.Table("todos").get({"id": req.params["id"]})
        if item is None:
            raise tarn.HttpError(404, "no such todo")
        return tarn.Response.json(item)

    tarn.http_handler(app)

A handler returns a `Response`, a `dict` or `list` (200, as JSON), a `str` (200, text) or None
(204). It may raise `HttpError` (its status, JSON `{"error": message}`), or let a `TableError`
escape (its `http_status`: 409 for a failed condition, 404, 400, 403, 429, 500). Any other
exception is logged and answers 500.
"""

from __future__ import annotations

import decimal
import json as _json
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Union
from urllib.parse import parse_qsl, unquote

from .errors import TableError
from .host import write_log
from .types import Binary

__all__ = ["Request", "Response", "HttpError", "Router", "Handler", "http_handler", "dumps", "loads"]


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        # Whole numbers stay exact (Python ints have any size); others become floats.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda v: (str(type(v)), v))
    if isinstance(value, Binary):
        import base64

        return base64.b64encode(value.value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """JSON text of `value`, items included: `Decimal` becomes a number (whole ones exact),
    sets lists, `Binary` base64 text."""
    return _json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Parses JSON with non-whole numbers as `Decimal`, so they can go into a table as they are."""
    return _json.loads(text, parse_float=decimal.Decimal)


class HttpError(Exception):
    """An error that becomes a response: `status` and a JSON body `{"error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def to_response(self) -> Response:
        """The response this error answers with."""
        return Response.json({"error": self.message}, status=self.status)


class Request:
    """An incoming request, body read in full."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str = b"",
    ) -> None:
        path, _, query = uri.partition("?")
        #: The method, upper case (`GET`).
        self.method = method.upper()
        #: The path without the query string (`/todos/42`), percent-encoded as sent.
        self.path = path or "/"
        #: The raw query string, without `?`.
        self.query_string = query
        items = headers.items() if isinstance(headers, Mapping) else (headers or [])
        #: The headers, names in lower case (the first value of a repeated header).
        self.headers: dict[str, str] = {}
        for k, v in items:
            self.headers.setdefault(k.lower(), v)
        #: The body's bytes.
        self.body = body.encode() if isinstance(body, str) else bytes(body)
        #: The matched route's `:name` parameters (percent-decoded), and `*` for a wildcard.
        self.params: dict[str, str] = {}

    @property
    def query(self) -> dict[str, str]:
        """The query parameters, percent-decoded (`+` is a space); the first of a repeated one."""
        out: dict[str, str] = {}
        for k, v in parse_qsl(self.query_string, keep_blank_values=True):
            out.setdefault(k, v)
        return out

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header's value (case-insensitive name)."""
        return self.headers.get(name.lower(), default)

    def text(self) -> str:
        """The body as UTF-8 text; `HttpError(400)` if it is not."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, "body is not UTF-8") from None

    def json(self) -> Any:
        """The body parsed as JSON (non-whole numbers as `Decimal`); `HttpError(400)` if it is
        not JSON."""
        try:
            return loads(self.text())
        except ValueError as e:
            raise HttpError(400, f"invalid JSON body: {e}") from None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


class Response:
    """A response: status, headers, body."""

    def __init__(self, status: int = 200, body: bytes | str = b"", headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.headers: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
        self.body = body.encode() if isinstance(body, str) else bytes(body)

    @classmethod
    def json(cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        """`value` as a JSON body (items included, see `dumps`)."""
        r = cls(status, dumps(value), headers)
        r.headers.setdefault("content-type", "application/json")
        return r

    @classmethod
    def text(cls, text: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        """A `text/plain` body."""
        r = cls(status, text, headers)
        r.headers.setdefault("content-type", "text/plain; charset=utf-8")
        return r

    @classmethod
    def no_content(cls) -> Response:
        """204 No Content."""
        return cls(204)

    def json_body(self) -> Any:
        """The body parsed as JSON (handy in tests)."""
        return loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


#: What a handler may return.
Result = Union[Response, dict, list, str, None]
#: A request handler.
Handler = Callable[[Request], Result]


def to_response(result: Any) -> Response:
    """Turns what a handler returned into a `Response`."""
    if isinstance(result, Response):
        return result
    if result is None:
        return Response.no_content()
    if isinstance(result, str):
        return Response.text(result)
    if isinstance(result, (dict, list)):
        return Response.json(result)
    raise TypeError(f"a handler returned {type(result).__name__}; return a Response, dict, list, str or None")


def run_handler(handler: Handler, request: Request) -> Response:
    """Calls `handler`, turning its result or exception into a response."""
    try:
        return to_response(handler(request))
    except HttpError as e:
        return e.to_response()
    except TableError as e:
        if e.http_status >= 500:
            write_log("error", f"{request.method} {request.path}: {e}")
        return HttpError(e.http_status, str(e)).to_response()
    except Exception:
        write_log("error", f"{request.method} {request.path} failed:\n{traceback.format_exc()}")
        return HttpError(500, "internal error").to_response()


class Router:
    """Routes requests to handlers by method and path pattern; the first match wins.

    Patterns are `/`-separated segments: a literal, `:name` (one segment, in `req.params`), or a
    final `*` (the rest of the path, `req.params["*"]`). Empty segments are ignored, so `/todos/`
    matches `/todos`. GET routes answer HEAD too. A path that matches only routes of other
    methods gets 405 with an `allow` header; no match at all gets 404.
    """

    def __init__(self) -> None:
        self.routes: list[tuple[str | None, list[str], Handler]] = []

    def route(self, method: str | None, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator: `handler` serves `method` (None: any) on `pattern`."""
        segments = [s for s in pattern.split("/") if s]
        if "*" in segments[:-1]:
            raise ValueError(f"'*' must be the last segment of {pattern!r}")

        def register(handler: Handler) -> Handler:
            self.routes.append((method.upper() if method else None, segments, handler))
            return handler

        return register

    def get(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator for a GET (and HEAD) route."""
        return self.route("GET", pattern)

    def post(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator for a POST route."""
        return self.route("POST", pattern)

    def put(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator for a PUT route."""
        return self.route("PUT", pattern)

    def patch(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator for a PATCH route."""
        return self.route("PATCH", pattern)

    def delete(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator for a DELETE route."""
        return self.route("DELETE", pattern)

    def any(self, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator for a route of any method."""
        return self.route(None, pattern)

    def __call__(self, request: Request) -> Response:
        """Routes `request` and returns the response (a Router is itself a handler)."""
        path = [s for s in request.path.split("/") if s]
        allowed: list[str] = []
        for method, pattern, handler in self.routes:
            params = _match(pattern, path)
            if params is None:
                continue
            if method is None or method == request.method or (method == "GET" and request.method == "HEAD"):
                request.params = params
                return run_handler(handler, request)
            if method not in allowed:
                allowed.append(method)
        if not allowed:
            return HttpError(404, f"no route for {request.path}").to_response()
        r = HttpError(405, f"method {request.method} not allowed").to_response()
        r.headers["allow"] = ", ".join(allowed)
        return r


def _match(pattern: list[str], path: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for i, seg in enumerate(pattern):
        if seg == "*":
            params["*"] = "/".join(unquote(s) for s in path[i:])
            return params
        if i >= len(path):
            return None
        if seg.startswith(":"):
            params[seg[1:]] = unquote(path[i])
        elif seg != path[i]:
            return None
    return params if len(pattern) == len(path) else None


def _caller_globals(depth: int) -> dict[str, Any]:
    """The globals of the module `depth` frames up: where componentize-py looks for exports."""
    return sys._getframe(depth).f_globals


def http_handler(handler: Handler) -> Handler:
    """Exports `handler` (a `Router` or any `Request -> result` function) as the component's
    HTTP handler: defines `IncomingHandler` in the calling module, where componentize-py looks
    for it. Use it once, at the top level of the function's module; as a decorator it returns
    the function unchanged."""

    class IncomingHandler:
        """`wasi:http/incoming-handler`, over `handler`."""

        def handle(self, request: Any, response_out: Any) -> None:
            if _wasi_http is None:
                raise RuntimeError("tarn.http_handler: not running in a component")
            _wasi_http.serve(request, response_out, lambda req: run_handler(handler, req))

    _caller_globals(2)["IncomingHandler"] = IncomingHandler
    return handler


# Inside a component the wasi:http glue is imported now, while componentize-py snapshots the
# module (a module first imported while serving a request is not in the component).
try:
    from . import _wasi_http
except ImportError:  # CPython: no `wit_world` bindings
    _wasi_http = None  # type: ignore[assignment]
