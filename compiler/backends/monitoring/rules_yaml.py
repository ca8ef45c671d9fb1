"""Fast, deterministic text for rule groups and dashboards.

An environment holds thousands of rules, and PyYAML's representer (pure
Python even with the C emitter) was the largest cost of this backend. Rule
groups have one fixed shape (maps of strings, one list level), so they are
written directly: plain scalars where YAML reads them back as the same
string, double-quoted JSON strings otherwise (valid YAML), literal blocks for
multi-line expressions. The tests parse the text back and compare.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from compiler.backends.monitoring.slo import Group
from compiler.serialize import plain_safe

# Plain only with no YAML indicators at all, and when every YAML reader reads it
# back as this string (the one scalar policy, ``serialize.plain_safe``).
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./:-]*$")


def scalar(value: str) -> str:
    if _PLAIN.match(value) and plain_safe(value):
        return value
    if value.isprintable():
        # Single quotes keep PromQL and alert templates readable ('' is the only escape).
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


def _block(value: str, indent: str) -> str | None:
    """A literal block for multi-line text, when YAML reads it back exactly."""
    lines = value.split("\n")
    if any(not line or line != line.rstrip() or "\t" in line or "\r" in line for line in lines):
        return None
    if lines[0].startswith(" "):
        return None
    return "|-\n" + "\n".join(indent + line for line in lines)


def text_block(value: str, indent: str) -> str:
    """A YAML value for text at a given indentation: a literal block when
    YAML reads it back exactly, else a quoted scalar."""
    return _value(value, indent)


def _value(value: str, indent: str) -> str:
    if "\n" in value:
        block = _block(value, indent)
        if block is not None:
            return block
    return scalar(value)


def groups_yaml(groups: list[Group]) -> str:
    """The YAML of a ``groups`` list, block style, unindented."""
    lines: list[str] = []
    for group in groups:
        lines.append(f"- name: {scalar(group['name'])}")
        lines.append("  rules:")
        for rule in group["rules"]:
            first = True
            for key, value in rule.items():
                lead = "  - " if first else "    "
                first = False
                if isinstance(value, Mapping):
                    lines.append(f"{lead}{key}:")
                    for k, v in value.items():
                        lines.append(f"      {scalar(k)}: {_value(str(v), '        ')}")
                else:
                    lines.append(f"{lead}{key}: {_value(str(value), '      ')}")
    return "\n".join(lines)


def dashboard_json(board: Mapping[str, Any]) -> str:
    """Dashboard JSON with sorted keys and one line per panel: readable in a
    diff, and written by the C encoder (indented JSON is pure Python)."""
    out = ["{"]
    keys = sorted(board)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        if key == "panels":
            panels = ",\n".join("    " + json.dumps(p, sort_keys=True, ensure_ascii=False) for p in board[key])
            out.append(f'  "panels": [\n{panels}\n  ]{comma}')
        else:
            out.append(f"  {json.dumps(key)}: {json.dumps(board[key], sort_keys=True, ensure_ascii=False)}{comma}")
    out.append("}")
    return "\n".join(out) + "\n"
