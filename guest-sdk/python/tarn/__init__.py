"""tarn: write tarn functions in Python.

A tarn function is a WebAssembly component that the tarn host runs on an HTTP route, on table
changes or on a schedule; componentize-py builds it from a Python module that uses this package
(`scripts/build-guest.sh python app.py app.wasm`, or `tarn build`).

- `Table`: DynamoDB item operations on the tables the function's manifest grants, items as plain
  Python values (`tarn.types`: `Decimal` numbers, sets, `Binary`), conditions with `Key` and
  `Attr`, updates with `Update`, `Page`s with paging tokens, `Transaction`s. Errors are
  `TableError`s named as DynamoDB names them (`ConditionalCheckFailedException`...).
- `Router`, `Request`, `Response`, `HttpError`: HTTP handlers, exported with `http_handler`.
- `stream_handler` / `record_handler` / `schedule_handler`: table-change and cron functions.
- `tarn.log`: logging through the host. `tarn.testing`: the table host for unit tests on CPython.

    import tarn
    app = tarn.Router()

    @app.get("/hello/:name")
    def hello(req: tarn.Request) -> str:
        return f"hello, {req.params['name']}"

    tarn.http_handler(app)
"""

from . import log, testing, types
from .conditions import Attr, Condition, Key
from .errors import (
    AccessDeniedException,
    ConditionalCheckFailedException,
    InternalServerError,
    InvalidTokenError,
    ItemCollectionSizeLimitExceededException,
    ProvisionedThroughputExceededException,
    RequestLimitExceeded,
    ResourceNotFoundException,
    TableError,
    ThrottlingException,
    TransactionCanceledException,
    TransactionConflictException,
    ValidationException,
)
from .host import call
from .http import HttpError, Request, Response, Router, http_handler
from .stream import StreamRecord, record_handler, schedule_handler, stream_handler
from .table import Page, Table, Transaction, transact_get
from .types import Binary
from .update import Update

__version__ = "0.1.0"

__all__ = [
    "AccessDeniedException",
    "Attr",
    "Binary",
    "Condition",
    "ConditionalCheckFailedException",
    "HttpError",
    "InternalServerError",
    "InvalidTokenError",
    "ItemCollectionSizeLimitExceededException",
    "Key",
    "Page",
    "ProvisionedThroughputExceededException",
    "Request",
    "RequestLimitExceeded",
    "ResourceNotFoundException",
    "Response",
    "Router",
    "StreamRecord",
    "Table",
    "TableError",
    "ThrottlingException",
    "Transaction",
    "TransactionCanceledException",
    "TransactionConflictException",
    "Update",
    "ValidationException",
    "call",
    "http_handler",
    "log",
    "record_handler",
    "schedule_handler",
    "stream_handler",
    "testing",
    "transact_get",
    "types",
]
