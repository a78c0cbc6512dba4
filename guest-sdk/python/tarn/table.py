"""`Table`: DynamoDB's item operations on one table, with items as plain Python values
(`tarn.types`), conditions from `tarn.conditions`, updates from `tarn.update`; `Page` (one page
of a Query or Scan, with an opaque paging token) and `Transaction` (all-or-nothing writes).

    todos = Table("todos")
    todos.put({"id": "t1", "title": "milk", "version": 1}, condition=Attr("id").not_exists())
    todos.get({"id": "t1"})                       # -> dict, or None
    todos.update({"id": "t1"}, Update().set("done", True).add("version", 1),
                 condition=Attr("version").eq(1))   # -> the item after the update
    page = todos.query(Key("list").eq("home"), limit=20, start=token)
    page.items, page.next_token
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .conditions import Condition, Placeholders, build_expression
from .errors import InvalidTokenError, ProvisionedThroughputExceededException
from .host import call
from .types import deserialize_item, serialize_item
from .update import Update

__all__ = ["Table", "Page", "Transaction", "transact_get", "encode_token", "decode_token"]

Item = dict[str, Any]
#: BatchWriteItem takes at most this many requests, BatchGetItem this many keys.
BATCH_WRITE_MAX = 25
BATCH_GET_MAX = 100
#: How many times batch calls resend unprocessed requests before giving up.
BATCH_RETRIES = 8


def encode_token(key: Mapping[str, Any]) -> str:
    """A `LastEvaluatedKey` (DynamoDB JSON) as a token safe in a URL: URL-safe base64 of its
    JSON, without padding (the Rust SDK's tokens are the same)."""
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    """The key a token made by `encode_token` holds; `InvalidTokenError` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidTokenError() from None
    if not isinstance(key, dict) or not all(isinstance(v, dict) and len(v) == 1 for v in key.values()):
        raise InvalidTokenError()
    return key


@dataclass
class Page:
    """One page of a Query or Scan."""

    #: The items, as plain values.
    items: list[Item]
    #: Where the next page starts (`LastEvaluatedKey` as plain values), None on the last page.
    last_key: Item | None = None
    #: How many items matched the key condition and filter (`Count`).
    count: int = 0
    #: How many items were read before the filter (`ScannedCount`).
    scanned_count: int = 0
    _raw_last_key: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def next_token(self) -> str | None:
        """An opaque token for the next page (pass it as `start=`), None on the last page."""
        return encode_token(self._raw_last_key) if self._raw_last_key else None


def _with_expressions(
    request: dict[str, Any],
    p: Placeholders,
    names: dict[str, str] | None,
    values: dict[str, Any] | None,
    **expressions: Condition | str | None,
) -> dict[str, Any]:
    """Adds each given expression (member name -> condition) and the placeholders to `request`."""
    p.add_raw(names, values)
    for member, cond in expressions.items():
        if cond is not None:
            request[member] = build_expression(cond, p)
    p.apply(request)
    return request


class Table:
    """One table, by name (the function's manifest must grant it). Opening is free: nothing
    reaches the host until an operation runs."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Table({self.name!r})"

    # ------------------------------------------------------------------ single items
    def get(self, key: Mapping[str, Any], *, consistent: bool = True, projection: Iterable[str] | None = None) -> Item | None:
        """GetItem: the item with `key`, or None. Strongly consistent unless `consistent=False`;
        `projection` limits the attributes returned."""
        req: dict[str, Any] = {"TableName": self.name, "Key": serialize_item(key), "ConsistentRead": consistent}
        p = Placeholders()
        if projection is not None:
            req["ProjectionExpression"] = ", ".join(p.name(a) for a in projection)
        p.apply(req)
        item = call("GetItem", req).get("Item")
        return deserialize_item(item) if item else None

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: Condition | str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        return_old: bool = False,
    ) -> Item | None:
        """PutItem: writes `item`, replacing any item with its key, when `condition` holds (else
        `ConditionalCheckFailedException`). With `return_old`, returns the item it replaced."""
        req = {"TableName": self.name, "Item": serialize_item(item)}
        if return_old:
            req["ReturnValues"] = "ALL_OLD"
        _with_expressions(req, Placeholders(), names, values, ConditionExpression=condition)
        old = call("PutItem", req).get("Attributes")
        return deserialize_item(old) if old else None

    def delete(
        self,
        key: Mapping[str, Any],
        *,
        condition: Condition | str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Item | None:
        """DeleteItem: deletes the item with `key` when `condition` holds; returns the deleted
        item, None if there was none."""
        req = {"TableName": self.name, "Key": serialize_item(key), "ReturnValues": "ALL_OLD"}
        _with_expressions(req, Placeholders(), names, values, ConditionExpression=condition)
        old = call("DeleteItem", req).get("Attributes")
        return deserialize_item(old) if old else None

    def update(
        self,
        key: Mapping[str, Any],
        update: Update | str,
        *,
        condition: Condition | str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        returns: str = "ALL_NEW",
    ) -> Item | None:
        """UpdateItem on the item with `key` (created if missing, unless the condition says
        otherwise). Returns the item as `returns` says: `ALL_NEW` (default), `ALL_OLD`,
        `UPDATED_NEW`, `UPDATED_OLD`, or `NONE` (returns None)."""
        req = {"TableName": self.name, "Key": serialize_item(key), "ReturnValues": returns}
        p = Placeholders()
        p.add_raw(names, values)
        req["UpdateExpression"] = update if isinstance(update, str) else update.build(p)
        _with_expressions(req, p, None, None, ConditionExpression=condition)
        attrs = call("UpdateItem", req).get("Attributes")
        return deserialize_item(attrs) if attrs else None

    # ------------------------------------------------------------------ reads of many items
    def _read_request(
        self,
        *,
        filter: Condition | str | None,
        index: str | None,
        limit: int | None,
        start: str | Mapping[str, Any] | None,
        consistent: bool,
        projection: Iterable[str] | None,
    ) -> tuple[dict[str, Any], Placeholders]:
        req: dict[str, Any] = {"TableName": self.name}
        if index is not None:
            req["IndexName"] = index
        if limit is not None:
            req["Limit"] = limit
        if consistent:
            req["ConsistentRead"] = True
        if isinstance(start, str):
            req["ExclusiveStartKey"] = decode_token(start)
        elif start is not None:
            req["ExclusiveStartKey"] = serialize_item(start)
        p = Placeholders()
        if projection is not None:
            req["ProjectionExpression"] = ", ".join(p.name(a) for a in projection)
        if filter is not None:
            req["FilterExpression"] = build_expression(filter, p)
        return req, p

    @staticmethod
    def _page(resp: dict[str, Any]) -> Page:
        last = resp.get("LastEvaluatedKey") or None
        return Page(
            items=[deserialize_item(i) for i in resp.get("Items", [])],
            last_key=deserialize_item(last) if last else None,
            count=resp.get("Count", 0),
            scanned_count=resp.get("ScannedCount", 0),
            _raw_last_key=last,
        )

    def query(
        self,
        key_condition: Condition | str,
        *,
        filter: Condition | str | None = None,
        index: str | None = None,
        limit: int | None = None,
        forward: bool = True,
        start: str | Mapping[str, Any] | None = None,
        consistent: bool = False,
        projection: Iterable[str] | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Page:
        """Query: one page of the items whose key matches `key_condition` (`Key("pk").eq(v)`),
        in sort-key order (`forward=False`: descending). `start` is a page's `next_token` (or
        its `last_key`)."""
        req, p = self._read_request(filter=filter, index=index, limit=limit, start=start, consistent=consistent, projection=projection)
        req["KeyConditionExpression"] = build_expression(key_condition, p)
        if not forward:
            req["ScanIndexForward"] = False
        p.add_raw(names, values)
        p.apply(req)
        return self._page(call("Query", req))

    def scan(
        self,
        *,
        filter: Condition | str | None = None,
        index: str | None = None,
        limit: int | None = None,
        start: str | Mapping[str, Any] | None = None,
        segment: int | None = None,
        total_segments: int | None = None,
        consistent: bool = False,
        projection: Iterable[str] | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Page:
        """Scan: one page of the table's (or index's) items, `filter`ed; `segment` of
        `total_segments` for a parallel scan."""
        req, p = self._read_request(filter=filter, index=index, limit=limit, start=start, consistent=consistent, projection=projection)
        if segment is not None or total_segments is not None:
            req["Segment"], req["TotalSegments"] = segment, total_segments
        p.add_raw(names, values)
        p.apply(req)
        return self._page(call("Scan", req))

    def query_all(self, key_condition: Condition | str, **options: Any) -> Iterator[Item]:
        """Every item `query` would return, page after page."""
        start = options.pop("start", None)
        while True:
            page = self.query(key_condition, start=start, **options)
            yield from page.items
            if page._raw_last_key is None:
                return
            start = page.last_key

    def scan_all(self, **options: Any) -> Iterator[Item]:
        """Every item `scan` would return, page after page."""
        start = options.pop("start", None)
        while True:
            page = self.scan(start=start, **options)
            yield from page.items
            if page._raw_last_key is None:
                return
            start = page.last_key

    # ------------------------------------------------------------------ batches
    def batch_get(self, keys: Iterable[Mapping[str, Any]], *, consistent: bool = True) -> list[Item]:
        """BatchGetItem: the items with these keys that exist, in no particular order. Any
        number of keys: sent 100 at a time, unprocessed keys sent again."""
        keys = [serialize_item(k) for k in keys]
        out: list[Item] = []
        for i in range(0, len(keys), BATCH_GET_MAX):
            pending: dict[str, Any] = {self.name: {"Keys": keys[i : i + BATCH_GET_MAX], "ConsistentRead": consistent}}
            for attempt in range(BATCH_RETRIES + 1):
                resp = call("BatchGetItem", {"RequestItems": pending})
                out.extend(deserialize_item(it) for it in resp.get("Responses", {}).get(self.name, []))
                pending = resp.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise ProvisionedThroughputExceededException("keys left unprocessed")
        return out

    def batch_put(self, items: Iterable[Mapping[str, Any]]) -> None:
        """BatchWriteItem puts: writes every item (sent 25 at a time, unprocessed ones sent
        again). Not atomic: use a `Transaction` for that."""
        self._batch_write([{"PutRequest": {"Item": serialize_item(i)}} for i in items])

    def batch_delete(self, keys: Iterable[Mapping[str, Any]]) -> None:
        """BatchWriteItem deletes: deletes the items with these keys."""
        self._batch_write([{"DeleteRequest": {"Key": serialize_item(k)}} for k in keys])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for i in range(0, len(requests), BATCH_WRITE_MAX):
            pending: dict[str, Any] = {self.name: requests[i : i + BATCH_WRITE_MAX]}
            for attempt in range(BATCH_RETRIES + 1):
                pending = call("BatchWriteItem", {"RequestItems": pending}).get("UnprocessedItems") or {}
                if not pending:
                    break
            else:
                raise ProvisionedThroughputExceededException("items left unprocessed")


class Transaction:
    """All-or-nothing writes across tables (TransactWriteItems, 100 actions at most).

        Transaction() \\
            .update(accounts, {"id": "a"}, Update().add("balance", -10), condition=Attr("balance").gte(10)) \\
            .update(accounts, {"id": "b"}, Update().add("balance", 10)) \\
            .commit()

    A failed condition cancels all of it: `TransactionCanceledException`.
    """

    def __init__(self) -> None:
        self.actions: list[dict[str, Any]] = []

    def _add(self, kind: str, table: Table, member: str, value: Mapping[str, Any], condition: Condition | str | None,
             names: dict[str, str] | None, values: dict[str, Any] | None, update: Update | str | None = None) -> Transaction:
        body: dict[str, Any] = {"TableName": table.name, member: serialize_item(value)}
        p = Placeholders()
        p.add_raw(names, values)
        if update is not None:
            body["UpdateExpression"] = update if isinstance(update, str) else update.build(p)
        _with_expressions(body, p, None, None, ConditionExpression=condition)
        self.actions.append({kind: body})
        return self

    def put(self, table: Table, item: Mapping[str, Any], *, condition: Condition | str | None = None,
            names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Transaction:
        """Puts `item` into `table` (when `condition` holds)."""
        return self._add("Put", table, "Item", item, condition, names, values)

    def update(self, table: Table, key: Mapping[str, Any], update: Update | str, *, condition: Condition | str | None = None,
               names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Transaction:
        """Updates the item with `key` (when `condition` holds)."""
        return self._add("Update", table, "Key", key, condition, names, values, update=update)

    def delete(self, table: Table, key: Mapping[str, Any], *, condition: Condition | str | None = None,
               names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Transaction:
        """Deletes the item with `key` (when `condition` holds)."""
        return self._add("Delete", table, "Key", key, condition, names, values)

    def check(self, table: Table, key: Mapping[str, Any], condition: Condition | str, *,
              names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> Transaction:
        """Checks `condition` on the item with `key` without writing it."""
        return self._add("ConditionCheck", table, "Key", key, condition, names, values)

    def commit(self, *, token: str | None = None) -> None:
        """Commits: every action happens, or none does. `token` makes it idempotent
        (ClientRequestToken)."""
        req: dict[str, Any] = {"TransactItems": self.actions}
        if token is not None:
            req["ClientRequestToken"] = token
        call("TransactWriteItems", req)


def transact_get(gets: Iterable[tuple[Table, Mapping[str, Any]]]) -> list[Item | None]:
    """TransactGetItems: the items with these `(table, key)`s, read at one instant, in order
    (None where missing)."""
    req = {"TransactItems": [{"Get": {"TableName": t.name, "Key": serialize_item(k)}} for t, k in gets]}
    return [deserialize_item(r["Item"]) if r.get("Item") else None for r in call("TransactGetItems", req).get("Responses", [])]
