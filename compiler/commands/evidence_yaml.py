"""Reading an evidence file without letting it exhaust memory, stack or time (issue 17).

* the file is read at most ``limits.EVIDENCE_BYTES`` (``/dev/zero`` included);
* YAML aliases are refused (a 1.3 KB billion-laughs file once took 4 GB), and so is
  nesting deeper than ``MAX_DEPTH`` (20,000-deep YAML, 100,000-deep JSON once hit
  RecursionError);
* a key given twice in one mapping is refused (YAML and JSON both let the last win);
* an integer or float literal with more than ``limits.MAX_DIGITS`` digits is refused
  before conversion (Python refuses int() of 4,300 digits);
* a string with a lone surrogate escape (``"\\ud800"``) is refused: it cannot be printed.

Every refusal names the file, line and column.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from compiler import limits

MAX_DEPTH = 32
_NUMERIC = re.compile(r"^[-+]?(\.?\d[\d_]*)(\.\d*)?([eE][-+]?\d+)?$")


class Refused(Exception):
    def __init__(self, where: tuple[int, int] | None, message: str) -> None:
        super().__init__(message)
        self.where, self.message = where, message


def _at(mark: Any) -> tuple[int, int] | None:
    return (mark.line + 1, mark.column + 1) if mark is not None else None


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that composes without aliases, past no depth, with unique keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def _next_event(self) -> Any:
        peek: Any = self.peek_event  # untyped in types-PyYAML
        return peek()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self._next_event()
        if isinstance(event, yaml.AliasEvent):
            raise Refused(_at(event.start_mark), "YAML aliases (*name) are not accepted in evidence")
        if getattr(event, "anchor", None) is not None:
            raise Refused(_at(event.start_mark), "YAML anchors (&name) are not accepted in evidence")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise Refused(_at(event.start_mark), f"nested more than {MAX_DEPTH} deep")
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, _ in node.value:
                name = str(key.value)
                if name in seen:
                    raise Refused(_at(key.start_mark), f"key '{name[:80]}' is given twice in one mapping")
                seen.add(name)
        if isinstance(node, yaml.ScalarNode) and _has_surrogate(node.value):
            raise Refused(_at(node.start_mark), "a string holds a lone surrogate escape (not UTF-8 text)")
        if isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            why = limits.number_problem(node.value)
            if why is not None:
                raise Refused(_at(node.start_mark), f"number {node.value[:40]} {why}")
        return node


def compose_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """(data, node) of one YAML document; raises Refused or yaml.YAMLError."""
    loader = BoundedLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def json_depth_problem(text: str) -> Refused | None:
    """Nesting deeper than MAX_DEPTH in JSON text, found without recursion."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                return Refused(
                    (line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1), f"nested more than {MAX_DEPTH} deep"
                )
        elif c in "]}":
            depth -= 1
    return None


def load_json(text: str) -> Any:
    """json.loads with bounded numbers and no duplicate keys (positions come from YAML)."""

    def number(kind: type) -> Any:
        def convert(s: str) -> Any:
            why = limits.number_problem(s)
            if why is not None:
                raise Refused(None, f"number {s[:40]} {why}")
            return kind(s)

        return convert

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise Refused(None, f"key '{k[:80]}' is given twice in one object")
            out[k] = v
        return out

    data = json.loads(text, parse_int=number(int), parse_float=number(float), object_pairs_hook=pairs)
    _no_surrogates(data)
    return data


def _has_surrogate(value: object) -> bool:
    return isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value)


def _no_surrogates(value: Any, depth: int = 0) -> None:
    """Refuse lone surrogates anywhere in decoded JSON (they cannot be printed as UTF-8)."""
    if _has_surrogate(value):
        raise Refused(None, "a string holds a lone surrogate escape (not UTF-8 text)")
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _no_surrogates(k, depth + 1)
            _no_surrogates(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _no_surrogates(v, depth + 1)
