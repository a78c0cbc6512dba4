"""Running function code on CPython, outside a tarn host (unit tests).

    from tarn import testing

    def tables(operation, request):            # DynamoDB JSON in, DynamoDB JSON out
        assert operation == "GetItem"
        return {"Item": {"id": {"S": request["Key"]["id"]["S"]}}}

    with testing.tables_handler(tables) as host:
        ...                                     # tarn.Table calls reach `tables`
        host.logs                               # [("info", "..."), ...]

A handler raises `tarn.errors.error_for("ConditionalCheckFailedException", "...")` (or any
`TableError`) to answer with an error. `request(...)` builds a `tarn.Request` to call an HTTP
handler or `Router` with directly.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .host import Transport, get_transport, set_transport
from .http import Request

__all__ = ["HandlerTransport", "set_tables_handler", "clear_tables_handler", "tables_handler", "request"]

TablesHandler = Callable[[str, dict[str, Any]], dict[str, Any]]


class HandlerTransport:
    """A transport that hands each table call to a Python function and keeps log lines."""

    def __init__(self, handler: TablesHandler) -> None:
        self.handler = handler
        #: Every call: (operation, request as a dict).
        self.calls: list[tuple[str, dict[str, Any]]] = []
        #: Every log line: (level, message).
        self.logs: list[tuple[str, str]] = []

    def call(self, operation: str, request: str) -> str:
        body = json.loads(request)
        self.calls.append((operation, body))
        return json.dumps(self.handler(operation, body))

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))


def set_tables_handler(handler: TablesHandler) -> HandlerTransport:
    """Installs `handler` as the table host for every later call; returns its transport."""
    transport = HandlerTransport(handler)
    set_transport(transport)
    return transport


def clear_tables_handler() -> None:
    """Restores the default transport."""
    set_transport(None)


@contextlib.contextmanager
def tables_handler(handler: TablesHandler) -> Iterator[HandlerTransport]:
    """`set_tables_handler` for the duration of a `with` block."""
    previous: Transport = get_transport()
    transport = set_tables_handler(handler)
    try:
        yield transport
    finally:
        set_transport(previous)


def request(method: str, uri: str, body: Any = b"", headers: Mapping[str, str] | None = None) -> Request:
    """A request to pass to a handler; a `dict` or `list` body is sent as JSON."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        headers = {"content-type": "application/json", **(headers or {})}
    return Request(method, uri, headers or {}, body)
