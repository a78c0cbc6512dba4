"""Errors a table call raises, one class per DynamoDB exception, named as DynamoDB names them.

Every one is a `TableError` (the base, like botocore's `ClientError`) with `code` (DynamoDB's
exception name) and `message`. Catch the specific class (`except ConditionalCheckFailedException`)
or the base and look at `code`. An HTTP handler that lets one escape answers with its
`http_status` (409 for a failed condition, 404, 400, 403, 429, else 500).
"""

from __future__ import annotations

__all__ = [
    "TableError",
    "ConditionalCheckFailedException",
    "ResourceNotFoundException",
    "ValidationException",
    "AccessDeniedException",
    "TransactionCanceledException",
    "TransactionConflictException",
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ItemCollectionSizeLimitExceededException",
    "InternalServerError",
    "InvalidTokenError",
    "error_for",
]


class TableError(Exception):
    """A failed table operation: DynamoDB's exception name (`code`) and the host's message."""

    #: The HTTP status an API answers with when this error reaches its handler's caller.
    http_status: int = 500
    #: DynamoDB's name for the exception; set per subclass, or per instance for unknown ones.
    code: str = "InternalServerError"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ConditionalCheckFailedException(TableError):
    """A condition expression evaluated to false."""

    code = "ConditionalCheckFailedException"
    http_status = 409


class ResourceNotFoundException(TableError):
    """The table (or index) does not exist."""

    code = "ResourceNotFoundException"
    http_status = 404


class ValidationException(TableError):
    """The request is invalid: a bad expression, a wrong key, an item too large..."""

    code = "ValidationException"
    http_status = 400


class AccessDeniedException(TableError):
    """The function's manifest does not grant this table (or grants it read-only, for a write)."""

    code = "AccessDeniedException"
    http_status = 403


class TransactionCanceledException(TableError):
    """A transaction was canceled; the message lists the reasons."""

    code = "TransactionCanceledException"
    http_status = 409


class TransactionConflictException(TableError):
    """Another transaction is in progress on one of the items."""

    code = "TransactionConflictException"
    http_status = 409


class ProvisionedThroughputExceededException(TableError):
    """Throughput exceeded; retry with backoff."""

    code = "ProvisionedThroughputExceededException"
    http_status = 429


class ThrottlingException(TableError):
    """Too many requests; retry with backoff."""

    code = "ThrottlingException"
    http_status = 429


class RequestLimitExceeded(TableError):
    """The account's request limit was exceeded."""

    code = "RequestLimitExceeded"
    http_status = 429


class ItemCollectionSizeLimitExceededException(TableError):
    """An item collection grew past its size limit."""

    code = "ItemCollectionSizeLimitExceededException"
    http_status = 400


class InternalServerError(TableError):
    """The host failed internally."""

    code = "InternalServerError"
    http_status = 500


class InvalidTokenError(ValidationException):
    """A paging token handed back by a client is not one this SDK made."""

    def __init__(self, message: str = "invalid paging token") -> None:
        super().__init__(message)


_BY_NAME: dict[str, type[TableError]] = {
    cls.code: cls
    for cls in (
        ConditionalCheckFailedException,
        ResourceNotFoundException,
        ValidationException,
        AccessDeniedException,
        TransactionCanceledException,
        TransactionConflictException,
        ProvisionedThroughputExceededException,
        ThrottlingException,
        RequestLimitExceeded,
        ItemCollectionSizeLimitExceededException,
        InternalServerError,
    )
}


def error_for(kind: str, message: str) -> TableError:
    """The exception for DynamoDB exception name `kind`, with or without its `Exception` suffix
    or a `com.amazonaws.dynamodb.v20120810#` prefix. Unknown names give a `TableError` whose
    `code` is the name."""
    name = kind.rsplit("#", 1)[-1]
    cls = _BY_NAME.get(name) or _BY_NAME.get(name + "Exception")
    if cls is None and name == "InternalFailure":
        cls = InternalServerError
    if cls is None:
        return TableError(message, code=name)
    return cls(message)
