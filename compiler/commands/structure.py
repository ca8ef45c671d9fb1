"""Rendered files as trees with line numbers, and the field-level difference of two trees.

``shipspec diff`` compares what a spec renders before and after a change. It reads
each file as the program that consumes it would: YAML as YAML 1.2 (``on:`` in a
workflow is the key ``on``, not the boolean of YAML 1.1), JSON as JSON, Triton's
``config.pbtxt`` as protobuf text, anything else as lines. Every node keeps the
line it sits on in the file as committed (header included), so a change is
reported where it is.

Lists of named things (containers, env, ports, volumes, rule groups, alerts,
workflow steps) are matched by their name, other lists of mappings by content
(one insertion is one change, not a shift of every index after it), and lists of
scalars are compared whole.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError


class Map(dict[Any, Any]):
    """A mapping with the line of each key."""

    lines: dict[Any, int]


class Seq(list[Any]):
    """A sequence with the line of each item."""

    lines: list[int]


def _map(items: list[tuple[Any, Any, int]]) -> Map:
    m = Map()
    m.lines = {}
    for k, v, line in items:
        if k in m and isinstance(m[k], Seq):  # a repeated protobuf field
            m[k].append(v)
            m[k].lines.append(line)
        elif k in m:
            s = Seq([m[k], v])
            s.lines = [m.lines[k], line]
            m[k] = s
        else:
            m[k] = v
            m.lines[k] = line
    return m


def _seq(items: list[tuple[Any, int]]) -> Seq:
    s = Seq(v for v, _ in items)
    s.lines = [line for _, line in items]
    return s


# -- YAML 1.2 and JSON (ruamel's round-trip loader keeps line numbers) --------


def _plain(node: Any, offset: int) -> Any:
    if isinstance(node, dict):
        lc = getattr(node, "lc", None)
        items = []
        for k, v in node.items():
            line = lc.key(k)[0] + 1 + offset if lc is not None and lc.data and k in lc.data else offset + 1
            items.append((_scalar(k), _plain(v, offset), line))
        return _map(items)
    if isinstance(node, list):
        slc: Any = getattr(node, "lc", None)
        data = slc.data if slc is not None and slc.data else {}
        return _seq(
            [(_plain(v, offset), slc.item(i)[0] + 1 + offset if i in data else offset + 1) for i, v in enumerate(node)]
        )
    return _scalar(node)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def load_yaml(text: str) -> list[Any]:
    """Every document of a YAML 1.2 (or JSON) text, with lines. Raises ValueError when it does not parse."""
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    try:
        return [_plain(d, 0) for d in yaml.load_all(text) if d is not None]
    except YAMLError as exc:
        raise ValueError(str(exc)) from exc


# -- protobuf text format (Triton's config.pbtxt) -------------------------------

_TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{}\[\]:,<>;]|[^\s{}\[\]:,<>;"\'#]+')


def _tokens(text: str) -> Iterator[tuple[str, int]]:
    line = 1
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if not tok.isspace() and not tok.startswith("#"):
            yield tok, line
        line += tok.count("\n")


def _pb_scalar(tok: str) -> Any:
    if tok[:1] in "\"'":
        return tok[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")
    for kind in (int, float):
        try:
            return kind(tok)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(tok, tok)


def load_pbtxt(text: str) -> Map:
    """A protobuf text-format message as a Map (repeated fields as Seq). Raises ValueError on bad input."""
    toks = list(_tokens(text))
    pos = 0

    def take() -> tuple[str, int]:
        nonlocal pos
        if pos >= len(toks):
            raise ValueError("unexpected end of text")
        pos += 1
        return toks[pos - 1]

    def peek() -> str | None:
        return toks[pos][0] if pos < len(toks) else None

    def value() -> Any:
        tok, line = toks[pos]
        if tok in "{<":
            take()
            return message("}" if tok == "{" else ">")
        if tok == "[":
            take()
            items: list[tuple[Any, int]] = []
            while peek() != "]":
                item_line = toks[pos][1]
                items.append((value(), item_line))
                if peek() == ",":
                    take()
            take()
            return _seq(items)
        take()
        return _pb_scalar(tok)

    def message(end: str | None) -> Map:
        items: list[tuple[Any, Any, int]] = []
        while peek() != end:
            key, line = take()
            if peek() == ":":
                take()
            items.append((key, value(), line))
            if peek() in (",", ";"):
                take()
        if end is not None:
            take()
        return _map(items)

    try:
        return message(None)
    except (IndexError, ValueError) as exc:
        raise ValueError(f"not protobuf text: {exc}") from exc


# -- the difference of two trees -----------------------------------------------

# Keys that name an item of a list, in order of preference.
_ITEM_KEYS = ("name", "alert", "record", "mountPath", "containerPort", "id", "key", "uses", "path")
ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "(absent)"})()


@dataclass(frozen=True, slots=True)
class Field:
    """One changed field: where it is, its value before and after, and the line in each file."""

    path: str
    old: Any
    new: Any
    old_line: int | None
    new_line: int | None


def item_key(a: list[Any], b: list[Any]) -> str | None:
    """The key that names every item of both lists uniquely (they are lists of named things)."""
    items = [*a, *b]
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in _ITEM_KEYS:
        if all(key in i and not isinstance(i[key], dict | list) for i in items) and all(
            len({json.dumps(i[key]) for i in side}) == len(side) for side in (a, b)
        ):
            return key
    return None


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _line(container: Any, index: Any) -> int | None:
    lines = getattr(container, "lines", None)
    found: int | None = None
    if isinstance(lines, dict):
        found = lines.get(index)
    elif isinstance(lines, list) and isinstance(index, int) and 0 <= index < len(lines):
        found = lines[index]
    return found


def diff(a: Any, b: Any, path: str = "", a_line: int | None = None, b_line: int | None = None) -> list[Field]:
    """The fields that differ between ``a`` and ``b``, in the order they appear in ``b``."""
    out: list[Field] = []
    _diff(a, b, path, a_line, b_line, out)
    return out


def _join(path: str, key: Any) -> str:
    k = str(key)
    if re.fullmatch(r"[A-Za-z_][\w-]*", k):
        return f"{path}.{k}" if path else k
    return f"{path}[{json.dumps(k)}]"


def _one(value: Any, line: int | None) -> Seq:
    s = Seq([value])
    s.lines = [line or 0]
    return s


def _diff(a: Any, b: Any, path: str, al: int | None, bl: int | None, out: list[Field]) -> None:
    # A protobuf field repeated once on one side and more often on the other.
    if isinstance(a, dict) and isinstance(b, list):
        a = _one(a, al)
    elif isinstance(a, list) and isinstance(b, dict):
        b = _one(b, bl)
    if isinstance(a, dict) and isinstance(b, dict):
        for k in [*b, *(k for k in a if k not in b)]:
            sub = _join(path, k)
            _diff(a.get(k, ABSENT), b.get(k, ABSENT), sub, _line(a, k) or al, _line(b, k) or bl, out)
        return
    if isinstance(a, list) and isinstance(b, list):
        _diff_lists(a, b, path, al, bl, out)
        return
    if isinstance(a, str) and isinstance(b, str) and a != b and a[:1] in "{[" and b[:1] in "{[":
        try:  # JSON embedded in a string (a dashboard in a ConfigMap): compare its fields
            ja, jb = json.loads(a), json.loads(b)
        except ValueError:
            pass
        else:
            before = len(out)
            _diff(ja, jb, path, al, bl, out)
            if len(out) > before:
                return
    if a is ABSENT or b is ABSENT or a != b or type(a) is not type(b):
        if a is not ABSENT or b is not ABSENT:
            out.append(Field(path, a, b, al if a is not ABSENT else None, bl if b is not ABSENT else None))


def _diff_lists(a: list[Any], b: list[Any], path: str, al: int | None, bl: int | None, out: list[Field]) -> None:
    key = item_key(a, b)
    if key is not None:
        old = {_canon(i[key]): n for n, i in enumerate(a)}
        new = {_canon(i[key]): n for n, i in enumerate(b)}
        for name in [*new, *(n for n in old if n not in new)]:
            i, j = old.get(name), new.get(name)
            label = f"{path}[{json.loads(name)}]"
            _diff(
                a[i] if i is not None else ABSENT,
                b[j] if j is not None else ABSENT,
                label,
                (_line(a, i) or al) if i is not None else None,
                (_line(b, j) or bl) if j is not None else None,
                out,
            )
        return
    if all(not isinstance(v, dict | list) for v in [*a, *b]):
        if a != b:
            out.append(Field(path, a, b, al, bl))
        return
    matcher = difflib.SequenceMatcher(None, [_canon(v) for v in a], [_canon(v) for v in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        for d in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + d, j1 + d
            has_a, has_b = i < i2, j < j2
            label = f"{path}[{j if has_b else i}]"
            _diff(
                a[i] if has_a else ABSENT,
                b[j] if has_b else ABSENT,
                label,
                (_line(a, i) or al) if has_a else None,
                (_line(b, j) or bl) if has_b else None,
                out,
            )


def leaves(value: Any, path: str = "", line: int | None = None) -> Iterator[tuple[str, Any, int | None]]:
    """Every scalar of a tree with its path and line (for objects added or removed whole)."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from leaves(v, _join(path, k), _line(value, k) or line)
    elif isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        key = item_key(value, [])
        for n, v in enumerate(value):
            label = f"{path}[{v[key]}]" if key else f"{path}[{n}]"
            yield from leaves(v, label, _line(value, n) or line)
    else:
        yield path, value, line
