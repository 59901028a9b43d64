"""Optional WHERE conditions built in one way: a condition and its parameters, added only when asked."""

from __future__ import annotations

from typing import Any


class Where:
    """`Where("c.is_merge = 0").add("c.authored_at >= ?", since, when=since)`, then `.sql` and `.params`."""

    def __init__(self, *always: str) -> None:
        self.parts = list(always)
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any, when: object = True) -> Where:
        """Add the condition (with one parameter per `?`) unless `when` is falsy or None."""
        if when is None or when is False or when == "":
            return self
        self.parts.append(condition)
        self.params.extend(params)
        return self

    def within(self, column: str, values: list[Any]) -> Where:
        """`column IN (?, ?, ...)`; an empty list matches nothing."""
        if not values:
            self.parts.append("0")
        else:
            self.parts.append(f"{column} IN ({','.join('?' * len(values))})")
            self.params.extend(values)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) or "1 = 1"
