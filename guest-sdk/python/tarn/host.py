"""The raw host calls, through a replaceable transport.

In a component, table calls go to the `tarn:function/tables` import and log lines to
`tarn:function/log` (componentize-py's generated `wit_world` bindings). On CPython (unit tests)
there is no such module: table calls go to the transport installed with `set_transport` (see
`tarn.testing`), and log lines to stderr.

`call(operation, request)` is the escape hatch for anything the typed `Table` API does not cover:
DynamoDB's JSON request body in, its JSON response body out.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Protocol

from .errors import TableError, error_for

__all__ = ["OPERATIONS", "Transport", "call", "call_text", "set_transport", "get_transport", "write_log"]

#: DynamoDB operation -> the `tables` import function that performs it, in the WIT's order.
OPERATIONS: dict[str, str] = {
    "GetItem": "get",
    "PutItem": "put",
    "UpdateItem": "update",
    "DeleteItem": "delete",
    "Query": "query",
    "Scan": "scan",
    "BatchGetItem": "batch_get",
    "BatchWriteItem": "batch_write",
    "TransactWriteItems": "transact_write",
    "TransactGetItems": "transact_get",
}

#: The log levels of the `log` import, lowest first.
LEVELS = ("trace", "debug", "info", "warn", "error")


class Transport(Protocol):
    """What answers table calls and takes log lines."""

    def call(self, operation: str, request: str) -> str:
        """Performs `operation` (a key of `OPERATIONS`) with the JSON request text; returns the
        JSON response text or raises a `TableError`."""
        ...

    def log(self, level: str, message: str) -> None:
        """Writes one log line at `level` (one of `LEVELS`)."""
        ...


class WitTransport:
    """The component's imports (componentize-py bindings)."""

    def __init__(self, tables: Any, log: Any, err: type[BaseException]) -> None:
        self._tables = tables
        self._log = log
        self._err = err

    def call(self, operation: str, request: str) -> str:
        try:
            return getattr(self._tables, OPERATIONS[operation])(request)
        except self._err as e:  # componentize_py_types.Err(types.Error)
            value = e.value  # type: ignore[attr-defined]
            raise error_for(value.kind, value.message) from None

    def log(self, level: str, message: str) -> None:
        self._log.write(self._log.Level[level.upper()], message)


class NoHostTransport:
    """Outside a component with no transport installed: table calls fail, log lines go to
    stderr."""

    def call(self, operation: str, request: str) -> str:
        raise TableError("no tarn host: install a transport with tarn.testing.set_tables_handler", code="NoHost")

    def log(self, level: str, message: str) -> None:
        print(f"[{level.upper()}] {message}", file=sys.stderr)


def _default_transport() -> Transport:
    try:
        from componentize_py_types import Err  # type: ignore[import-not-found]
        from wit_world.imports import log, tables  # type: ignore[import-not-found]
    except ImportError:
        return NoHostTransport()
    return WitTransport(tables, log, Err)


_transport: Transport = _default_transport()


def set_transport(transport: Transport | None) -> None:
    """Installs `transport` for every later call; `None` restores the default (the component's
    imports, or no host at all on CPython)."""
    global _transport
    _transport = transport if transport is not None else _default_transport()


def get_transport() -> Transport:
    """The transport in use."""
    return _transport


def call_text(operation: str, request: str) -> str:
    """Performs `operation` with JSON request text; returns the JSON response text."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")
    return _transport.call(operation, request)


def call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """Performs `operation` (`"GetItem"`, `"Query"`...) with a request body in DynamoDB JSON;
    returns the response body."""
    return json.loads(call_text(operation, json.dumps(request)))


def write_log(level: str, message: str) -> None:
    """Writes one log line through the host (stderr on CPython without a transport)."""
    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; one of {', '.join(LEVELS)}")
    _transport.log(level, message)
