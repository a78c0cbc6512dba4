"""Condition and key-condition helpers in the spirit of boto3's `Key` and `Attr`.

    from tarn import Attr, Key
    Key("customer").eq("ada") & Key("order").between(1, 9)     # a Query's key condition
    Attr("version").eq(3) & ~Attr("done").eq(True)              # a write's condition
    Attr("id").not_exists() | Attr("tags").contains("urgent")

Attribute names are paths: `"address.city"`, `"items[0].price"` (each name gets its own `#n`
placeholder, so reserved words are fine). Values are plain Python values (`tarn.types`).
A string is also accepted wherever a condition is, as a raw expression; its placeholders then
come from the call's `names=` and `values=`.
"""

from __future__ import annotations

import re
from typing import Any

from .types import serialize

__all__ = ["Attr", "Key", "Condition", "Size", "Placeholders", "build_expression"]

_PATH_PART = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


class Placeholders:
    """The `#name` and `:value` placeholders of one request, shared by its expressions."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self._by_name: dict[str, str] = {}

    def name(self, path: str) -> str:
        """The placeholder form of an attribute path (`a.b[0]` -> `#n0.#n1[0]`)."""
        parts = []
        for segment in path.split("."):
            m = _PATH_PART.fullmatch(segment)
            if not m:
                raise ValueError(f"invalid attribute path {path!r}")
            attr, indexes = m.groups()
            ph = self._by_name.get(attr)
            if ph is None:
                ph = f"#n{len(self._by_name)}"
                self._by_name[attr] = ph
                self.names[ph] = attr
            parts.append(ph + indexes)
        return ".".join(parts)

    def value(self, value: Any) -> str:
        """A new `:v` placeholder bound to `value`."""
        ph = f":v{len(self.values)}"
        self.values[ph] = serialize(value)
        return ph

    def add_raw(self, names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
        """Adds placeholders written by hand (`{"#v": "version"}`, `{":v": 3}`)."""
        for k, v in (names or {}).items():
            if not k.startswith("#"):
                raise ValueError(f"name placeholder {k!r} must start with '#'")
            self.names[k] = v
        for k, v in (values or {}).items():
            if not k.startswith(":"):
                raise ValueError(f"value placeholder {k!r} must start with ':'")
            self.values[k] = serialize(v)

    def apply(self, request: dict[str, Any]) -> None:
        """Sets `ExpressionAttributeNames`/`Values` on `request` when there are any."""
        if self.names:
            request["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            request["ExpressionAttributeValues"] = dict(self.values)


class Condition:
    """A condition: combine with `&`, `|` and `~`."""

    def build(self, p: Placeholders) -> str:  # pragma: no cover - abstract
        """The expression text, with its placeholders added to `p`."""
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return _Logical("AND", self, _check(other))

    def __or__(self, other: Condition) -> Condition:
        return _Logical("OR", self, _check(other))

    def __invert__(self) -> Condition:
        return _Not(self)

    def __repr__(self) -> str:
        p = Placeholders()
        return f"<Condition {self.build(p)} names={p.names} values={p.values}>"


def _check(other: Any) -> Condition:
    if not isinstance(other, Condition):
        raise TypeError(f"cannot combine a condition with {type(other).__name__}")
    return other


class _Logical(Condition):
    def __init__(self, op: str, left: Condition, right: Condition) -> None:
        self.op, self.left, self.right = op, left, right

    def build(self, p: Placeholders) -> str:
        return f"({self.left.build(p)} {self.op} {self.right.build(p)})"


class _Not(Condition):
    def __init__(self, inner: Condition) -> None:
        self.inner = inner

    def build(self, p: Placeholders) -> str:
        return f"(NOT {self.inner.build(p)})"


class _Compare(Condition):
    def __init__(self, op: str, operand: _Operand, value: Any) -> None:
        self.op, self.operand, self.value = op, operand, value

    def build(self, p: Placeholders) -> str:
        return f"{self.operand.build(p)} {self.op} {p.value(self.value)}"


class _Func(Condition):
    def __init__(self, func: str, path: str, *values: Any) -> None:
        self.func, self.path, self.values = func, path, values

    def build(self, p: Placeholders) -> str:
        args = [p.name(self.path)] + [p.value(v) for v in self.values]
        return f"{self.func}({', '.join(args)})"


class _Between(Condition):
    def __init__(self, operand: _Operand, low: Any, high: Any) -> None:
        self.operand, self.low, self.high = operand, low, high

    def build(self, p: Placeholders) -> str:
        return f"{self.operand.build(p)} BETWEEN {p.value(self.low)} AND {p.value(self.high)}"


class _In(Condition):
    def __init__(self, operand: _Operand, values: list[Any]) -> None:
        if not values:
            raise ValueError("is_in needs at least one value")
        self.operand, self.values = operand, values

    def build(self, p: Placeholders) -> str:
        return f"{self.operand.build(p)} IN ({', '.join(p.value(v) for v in self.values)})"


class _Operand:
    """What a comparison is about: an attribute path, or `size(path)`."""

    def __init__(self, path: str, size: bool = False) -> None:
        self.path, self.size = path, size

    def build(self, p: Placeholders) -> str:
        name = p.name(self.path)
        return f"size({name})" if self.size else name


class _Comparisons:
    """The ordered comparisons shared by `Key`, `Attr` and `Size`, over `self._operand`."""

    _operand: _Operand

    def eq(self, value: Any) -> Condition:
        """`operand = value`"""
        return _Compare("=", self._operand, value)

    def lt(self, value: Any) -> Condition:
        """`operand < value`"""
        return _Compare("<", self._operand, value)

    def lte(self, value: Any) -> Condition:
        """`operand <= value`"""
        return _Compare("<=", self._operand, value)

    def gt(self, value: Any) -> Condition:
        """`operand > value`"""
        return _Compare(">", self._operand, value)

    def gte(self, value: Any) -> Condition:
        """`operand >= value`"""
        return _Compare(">=", self._operand, value)


class Key(_Comparisons):
    """A key attribute in a Query's key condition: `Key("pk").eq(v) & Key("sk").gt(n)`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._operand = _Operand(name)

    def between(self, low: Any, high: Any) -> Condition:
        """`name BETWEEN low AND high` (both included)"""
        return _Between(self._operand, low, high)

    def begins_with(self, prefix: Any) -> Condition:
        """`begins_with(name, prefix)`"""
        return _Func("begins_with", self.name, prefix)


class Size(_Comparisons):
    """`size(path)` in a comparison: `Attr("tags").size().gt(2)`."""

    def __init__(self, path: str) -> None:
        self._operand = _Operand(path, size=True)

    def ne(self, value: Any) -> Condition:
        """`size(path) <> value`"""
        return _Compare("<>", self._operand, value)


class Attr(Key):
    """Any attribute in a condition or filter: comparisons, functions, `&`, `|`, `~`."""

    def ne(self, value: Any) -> Condition:
        """`name <> value`"""
        return _Compare("<>", self._operand, value)

    def is_in(self, values: list[Any]) -> Condition:
        """`name IN (v1, v2, ...)`"""
        return _In(self._operand, list(values))

    def exists(self) -> Condition:
        """`attribute_exists(name)`"""
        return _Func("attribute_exists", self.name)

    def not_exists(self) -> Condition:
        """`attribute_not_exists(name)`"""
        return _Func("attribute_not_exists", self.name)

    def contains(self, value: Any) -> Condition:
        """`contains(name, value)`: a substring, or a member of a set or list."""
        return _Func("contains", self.name, value)

    def attribute_type(self, type_name: str) -> Condition:
        """`attribute_type(name, type)`, type one of S N B BOOL NULL M L SS NS BS."""
        return _Func("attribute_type", self.name, type_name)

    def size(self) -> Size:
        """`size(name)`, to compare."""
        return Size(self.name)


def build_expression(condition: Condition | str, p: Placeholders) -> str:
    """The expression text of `condition` (a `Condition`, or a raw expression string)."""
    if isinstance(condition, str):
        return condition
    if isinstance(condition, Condition):
        return condition.build(p)
    raise TypeError(f"a condition is a Condition or an expression string, not {type(condition).__name__}")
