"""`Update`: an update expression built action by action (`SET`, `REMOVE`, `ADD`, `DELETE`).

    Update().set("title", "buy milk").add("version", 1).remove("draft")
    Update().set_if_absent("created_at", now).append("log", ["edited"])

Attribute arguments are paths (`"a.b"`, `"items[0]"`); each gets its own `#n` placeholder. For
anything else pass `Table.update(key, "SET #a = #a + :one", names=..., values=...)`.
"""

from __future__ import annotations

from typing import Any

from .conditions import Placeholders

__all__ = ["Update"]


class Update:
    """An update expression, built with chained calls; each returns the same `Update`."""

    def __init__(self) -> None:
        self._actions: list[tuple[str, str, tuple[Any, ...]]] = []

    def set(self, path: str, value: Any) -> Update:
        """`SET path = value`."""
        self._actions.append(("SET", "{p} = {v0}", (path, value)))
        return self

    def set_if_absent(self, path: str, value: Any) -> Update:
        """`SET path = if_not_exists(path, value)`: only when the attribute is missing."""
        self._actions.append(("SET", "{p} = if_not_exists({p}, {v0})", (path, value)))
        return self

    def increment(self, path: str, by: Any = 1) -> Update:
        """`SET path = path + by` (the attribute must exist; `add` creates it)."""
        self._actions.append(("SET", "{p} = {p} + {v0}", (path, by)))
        return self

    def append(self, path: str, values: list[Any]) -> Update:
        """`SET path = list_append(if_not_exists(path, []), values)`."""
        self._actions.append(("SET", "{p} = list_append(if_not_exists({p}, {v1}), {v0})", (path, list(values), [])))
        return self

    def remove(self, path: str) -> Update:
        """`REMOVE path`."""
        self._actions.append(("REMOVE", "{p}", (path,)))
        return self

    def add(self, path: str, value: Any) -> Update:
        """`ADD path value`: adds to a number (from 0 when missing) or elements to a set."""
        self._actions.append(("ADD", "{p} {v0}", (path, value)))
        return self

    def delete(self, path: str, values: Any) -> Update:
        """`DELETE path values`: removes elements (a set) from a set."""
        self._actions.append(("DELETE", "{p} {v0}", (path, values)))
        return self

    def __bool__(self) -> bool:
        return bool(self._actions)

    def build(self, p: Placeholders) -> str:
        """The expression text, with its placeholders added to `p`."""
        clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        for action, template, (path, *values) in self._actions:
            name = p.name(path)
            phs = {f"v{i}": p.value(v) for i, v in enumerate(values)}
            clauses[action].append(template.format(p=name, **phs))
        return " ".join(f"{a} {', '.join(parts)}" for a, parts in clauses.items() if parts)

    def __repr__(self) -> str:
        p = Placeholders()
        return f"<Update {self.build(p)} names={p.names} values={p.values}>"
