"""Stream and schedule handlers: `StreamRecord` (one table change, images as plain values) and
the decorators that export a function as the component's handler.

    @tarn.stream_handler
    def on_changes(records: list[tarn.StreamRecord]) -> list[str] | None:
        ...   # return the sequence numbers of failed records (ReportBatchItemFailures),
              # None to accept the batch; raise to fail the whole batch

    @tarn.record_handler
    def on_change(record: tarn.StreamRecord) -> None:
        ...   # one record at a time; an exception marks that record failed

    @tarn.schedule_handler
    def tick(scheduled_time: str) -> None:
        ...   # RFC 3339 time of the tick; raise to fail it

Each decorator defines the class componentize-py looks for in the calling module (`Stream` or
`Schedule`) and returns the function unchanged, so tests can call it directly.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .host import write_log

try:  # inside a component: how an exported function returns `err`
    from componentize_py_types import Err  # type: ignore[import-not-found]
except ImportError:  # CPython

    class Err(Exception):  # type: ignore[no-redef]
        """Stands in for componentize-py's `Err` outside a component."""

        def __init__(self, value: Any) -> None:
            super().__init__(value)
            self.value = value

from .types import deserialize_item

__all__ = ["StreamRecord", "stream_handler", "record_handler", "schedule_handler", "handle_batch"]


@dataclass
class StreamRecord:
    """One table change (a record of a Lambda DynamoDB event)."""

    #: The record's id.
    event_id: str
    #: `INSERT`, `MODIFY` or `REMOVE`.
    event_name: str
    #: The sequence number: what a handler reports for a failed record.
    sequence_number: str
    #: The item's key attributes, as plain values.
    keys: dict[str, Any]
    #: The item after the change, when the stream's view type includes it.
    new_image: dict[str, Any] | None = None
    #: The item before the change, when the stream's view type includes it.
    old_image: dict[str, Any] | None = None
    #: True for a deletion made by TTL expiry.
    by_ttl: bool = False
    #: The record as the host sent it (DynamoDB JSON images).
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> StreamRecord:
        """One record of the host's batch."""
        data = record.get("dynamodb", {})
        who = record.get("userIdentity") or {}
        principal = who.get("principalId") or who.get("PrincipalId")
        return cls(
            event_id=record.get("eventID", ""),
            event_name=record["eventName"],
            sequence_number=data["SequenceNumber"],
            keys=deserialize_item(data.get("Keys", {})),
            new_image=deserialize_item(data["NewImage"]) if "NewImage" in data else None,
            old_image=deserialize_item(data["OldImage"]) if "OldImage" in data else None,
            by_ttl=principal == "dynamodb.amazonaws.com",
            raw=record,
        )

    @staticmethod
    def parse_batch(text: str) -> list[StreamRecord]:
        """The JSON array the host hands to a stream handler."""
        return [StreamRecord.from_json(r) for r in json.loads(text)]


class BatchFailed(Exception):
    """Fails a whole batch (the host retries it)."""


def _caller_globals(depth: int) -> dict[str, Any]:
    """The globals of the module `depth` frames up: where componentize-py looks for exports."""
    return sys._getframe(depth).f_globals


def handle_batch(handler: Callable[[list[StreamRecord]], Iterable[str] | None], records_json: str) -> list[str]:
    """Runs a batch handler on the host's batch: the failed sequence numbers, or raises
    `BatchFailed` with the handler's error."""
    try:
        records = StreamRecord.parse_batch(records_json)
        failed = handler(records)
    except Exception as e:
        write_log("error", f"stream batch failed:\n{traceback.format_exc()}")
        raise BatchFailed(f"{type(e).__name__}: {e}") from None
    return [str(s) for s in failed] if failed is not None else []


def _export(module: dict[str, Any], name: str, method: Callable[..., Any]) -> None:
    module[name] = type(name, (), {"handle": method, "__doc__": f"tarn:function/{name.lower()}"})


def _export_stream(module: dict[str, Any], batch: Callable[[list[StreamRecord]], Iterable[str] | None]) -> None:
    def handle(self: Any, records: str) -> list[str]:
        try:
            return handle_batch(batch, records)
        except BatchFailed as e:
            raise Err(str(e)) from None

    _export(module, "Stream", handle)


def stream_handler(handler: Callable[[list[StreamRecord]], Iterable[str] | None]) -> Callable[[list[StreamRecord]], Iterable[str] | None]:
    """Exports `handler` as the component's stream handler (world `stream-handler`). It gets
    the batch's records and returns the sequence numbers of the ones that failed (None or empty:
    all accepted); an exception fails the whole batch."""

    _export_stream(_caller_globals(2), handler)
    return handler


def per_record(handler: Callable[[StreamRecord], Any]) -> Callable[[list[StreamRecord]], list[str]]:
    """A batch handler that calls `handler` on each record. A record whose call raises is
    reported failed (and logged); so is every later record of the same item in the batch, left
    unprocessed, so that an item's changes are never applied out of order."""

    def on_batch(records: list[StreamRecord]) -> list[str]:
        failed: list[str] = []
        failed_keys: set[str] = set()
        for record in records:
            key = json.dumps(record.raw.get("dynamodb", {}).get("Keys", {}), sort_keys=True)
            if key in failed_keys:
                failed.append(record.sequence_number)
                continue
            try:
                handler(record)
            except Exception:
                write_log("warn", f"record {record.sequence_number} failed:\n{traceback.format_exc()}")
                failed.append(record.sequence_number)
                failed_keys.add(key)
        return failed

    return on_batch


def record_handler(handler: Callable[[StreamRecord], Any]) -> Callable[[StreamRecord], Any]:
    """Exports `handler` as the component's stream handler, called once per record: a record
    whose call raises is reported failed (ReportBatchItemFailures) and retried by the host,
    with the later records of the same item; the others are accepted."""
    _export_stream(_caller_globals(2), per_record(handler))
    return handler


def schedule_handler(handler: Callable[[str], Any]) -> Callable[[str], Any]:
    """Exports `handler` as the component's schedule handler (world `schedule-handler`). It
    gets the tick's time (RFC 3339, UTC); an exception fails the tick (logged)."""

    def handle(self: Any, scheduled_time: str) -> None:
        try:
            handler(scheduled_time)
        except Exception as e:
            write_log("error", f"schedule tick {scheduled_time} failed:\n{traceback.format_exc()}")
            raise Err(f"{type(e).__name__}: {e}") from None

    _export(_caller_globals(2), "Schedule", handle)
    return handler
