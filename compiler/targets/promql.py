"""PromQL label selectors, built one way everywhere a rule, a dashboard or a
canary analysis selects series.

Values are written as PromQL double-quoted strings (backslash and quote
escaped), so a label value can never end the selector early; ``one_of``
matches any of several values with an anchored regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def quote(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def eq(label: str, value: str) -> str:
    return f"{label}={quote(value)}"


def matches(label: str, pattern: str) -> str:
    return f"{label}=~{quote(pattern)}"


def one_of(label: str, values: Iterable[str]) -> str:
    """``label="v"`` for one value, else ``label=~"a|b"`` over the sorted, escaped values."""
    items = sorted(values)
    if len(items) == 1:
        return eq(label, items[0])
    return matches(label, "|".join(re.escape(v) for v in items))


def selector(*matchers: str | None, sep: str = ", ") -> str:
    """``{m1, m2}`` from the matchers given (None ones left out)."""
    return "{" + sep.join(m for m in matchers if m) + "}"


def extend(base: str, *matchers: str | None, sep: str = ", ") -> str:
    """A selector ``{…}`` with more matchers appended."""
    extra = [m for m in matchers if m]
    if not extra:
        return base
    inner = base[1:-1]
    return "{" + (inner + sep if inner else "") + sep.join(extra) + "}"
