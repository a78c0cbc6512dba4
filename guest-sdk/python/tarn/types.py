"""Items as plain Python values, mapped to and from DynamoDB JSON as boto3's TypeSerializer and
TypeDeserializer map them.

| Python | DynamoDB |
|---|---|
| `None` | `NULL` |
| `bool` | `BOOL` |
| `int`, `decimal.Decimal` | `N` (exact; back as `Decimal`) |
| `str` | `S` |
| `bytes`, `bytearray`, `Binary` | `B` (back as `Binary`) |
| `set`/`frozenset` of `str` / numbers / binary | `SS` / `NS` / `BS` |
| `list`, `tuple` | `L` (back as `list`) |
| `dict` (string keys) | `M` |

`float` is refused, as boto3 refuses it: a float cannot hold most decimals exactly, and a number
stored in a table is exact. Use `Decimal("1.5")` (or `Decimal(str(x))`). Numbers go through
`decimal` with 38 digits of precision, DynamoDB's own.
"""

from __future__ import annotations

import base64
import decimal
from collections.abc import Mapping, Set
from typing import Any

__all__ = [
    "Binary",
    "DYNAMODB_CONTEXT",
    "serialize",
    "deserialize",
    "serialize_item",
    "deserialize_item",
]

#: DynamoDB's number rules: 38 significant digits, exponents from -130 to 125; inexact or
#: rounded results are errors, not silent changes.
DYNAMODB_CONTEXT = decimal.Context(
    Emin=-128,
    Emax=126,
    prec=38,
    traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded, decimal.Underflow],
)


class Binary:
    """A binary value (`B`), as boto3's `Binary`: wraps `bytes` and compares equal to them."""

    __slots__ = ("value",)

    def __init__(self, value: bytes | bytearray | Binary) -> None:
        if isinstance(value, Binary):
            value = value.value
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError(f"Binary takes bytes or bytearray, not {type(value).__name__}")
        self.value = bytes(value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Binary):
            return self.value == other.value
        if isinstance(other, (bytes, bytearray)):
            return self.value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)

    def __bytes__(self) -> bytes:
        return self.value

    def __repr__(self) -> str:
        return f"Binary({self.value!r})"


def _number(value: int | decimal.Decimal) -> str:
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        raise TypeError(f"Infinity and NaN are not supported by DynamoDB: {value}")
    try:
        return str(DYNAMODB_CONTEXT.create_decimal(value))
    except decimal.DecimalException:
        raise TypeError(f"{value} is not a DynamoDB number (38 significant digits at most)") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool)


def _is_binary(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, Binary))


def _b64(value: bytes | bytearray | Binary) -> str:
    raw = value.value if isinstance(value, Binary) else bytes(value)
    return base64.b64encode(raw).decode("ascii")


def serialize(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value (`"a"` -> `{"S": "a"}`)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    if isinstance(value, str):
        return {"S": value}
    if _is_binary(value):
        return {"B": _b64(value)}
    if isinstance(value, Set):
        if not value:
            raise TypeError("an empty set cannot be stored (DynamoDB sets are never empty)")
        if all(isinstance(v, str) for v in value):
            return {"SS": sorted(value)}
        if all(_is_number(v) for v in value):
            return {"NS": [_number(v) for v in value]}
        if all(_is_binary(v) for v in value):
            return {"BS": [_b64(v) for v in value]}
        raise TypeError("a set must hold only strings, only numbers or only binary values")
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"map keys must be strings, not {type(k).__name__}")
            out[k] = serialize(v)
        return {"M": out}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f"unsupported type {type(value).__name__} for a DynamoDB value: {value!r}")


def deserialize(value: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value as a Python value (`{"N": "1.5"}` -> `Decimal("1.5")`)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise TypeError(f"not a DynamoDB attribute value: {value!r}")
    ((tag, inner),) = value.items()
    if tag == "NULL":
        return None
    if tag == "BOOL":
        return bool(inner)
    if tag == "N":
        return DYNAMODB_CONTEXT.create_decimal(inner)
    if tag == "S":
        return inner
    if tag == "B":
        return Binary(base64.b64decode(inner))
    if tag == "SS":
        return set(inner)
    if tag == "NS":
        return {DYNAMODB_CONTEXT.create_decimal(n) for n in inner}
    if tag == "BS":
        return {Binary(base64.b64decode(b)) for b in inner}
    if tag == "L":
        return [deserialize(v) for v in inner]
    if tag == "M":
        return {k: deserialize(v) for k, v in inner.items()}
    raise TypeError(f"unknown DynamoDB type {tag!r}")


def serialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A dict of plain values as a DynamoDB item (`{"id": "a"}` -> `{"id": {"S": "a"}}`)."""
    if not isinstance(item, Mapping):
        raise TypeError(f"an item (or key) must be a dict, not {type(item).__name__}")
    return serialize(item)["M"]


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a dict of plain values."""
    return {k: deserialize(v) for k, v in item.items()}
