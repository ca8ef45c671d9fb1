"""Read back the block-style YAML the templates write, exactly as
``yaml.safe_load_all`` reads it, a line at a time.

Every rendered Kubernetes object is parsed back so that validation and the
policy checks see what the file says. libyaml builds a Python node object per
scalar and PyYAML walks them again: ~165 us for a 60-line object, ~3 s of CPU at
1,000 models. This reader handles the subset the templates and ``to_yaml``
write -- block mappings and sequences, single-line plain and quoted scalars,
``|``/``|-`` literal blocks, ``[]``, ``{}`` and flow lists of double-quoted
strings, comments and ``---`` between documents -- and answers None for
anything else (anchors, tags, folded or multi-line scalars, escapes, tabs,
non-ASCII text, any indentation it cannot place), so that libyaml reads that
text and reports its errors. A plain scalar's type comes from PyYAML's own
implicit resolvers and constructors, so ``yes``, ``1:20`` and ``2001-12-14``
come back as PyYAML gives them. Lines repeat across objects (``kind: Service``,
``runAsNonRoot: true``), so what a line says is remembered by its text.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver


class _Declined(Exception):
    """The text leaves the subset: libyaml reads it."""


_STR = "tag:yaml.org,2002:str"
_TYPED = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "timestamp"))
_RESOLVERS = Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = SafeConstructor()
# Tabs, carriage returns, control characters and non-ASCII (YAML 1.1 reads NEL
# and the Unicode separators as line breaks): libyaml's business.
_UNUSUAL = re.compile(r"[^\n -~]")
_QUOTED_LIST = re.compile(r'\["[^"\\]*"(?:, "[^"\\]*")*\]\Z')
_QUOTED = re.compile(r'"([^"\\]*)"')
_INDICATORS = frozenset(",[]{}#&*!|>'\"%@`")
_MISSING = object()
# Bounded: lines naming a model are seen once; the ones that repeat are met early.
_REMEMBERED = 16384

# What a line says (its first item). A sequence item's kind is _ITEM + its scalar's kind.
_COMMENT, _MARKER, _VALUE, _LIST, _DICT, _PENDING, _LITERAL = range(7)
_ITEM = 8
_ITEM_VALUE, _ITEM_LIST, _ITEM_DICT, _ITEM_LITERAL = _ITEM + _VALUE, _ITEM + _LIST, _ITEM + _DICT, _ITEM + _LITERAL
_ITEM_NESTED = _ITEM_LITERAL + 1  # a mapping or sequence begun on the item's line

_plains: dict[str, Any] = {}
_lines: dict[str, tuple[Any, ...]] = {}


def load_all(text: str) -> list[Any] | None:
    """Every document of ``text`` as ``yaml.safe_load_all`` gives it, or None
    when the text is outside the subset (read it with libyaml then)."""
    if not text.isascii() or _UNUSUAL.search(text):
        return None
    try:
        return _documents(text.split("\n"))
    except _Declined:
        return None


def _plain(text: str) -> Any:
    got = _plains.get(text, _MISSING)
    if got is not _MISSING:
        return got
    first = text[0]
    if first in _INDICATORS or (first in "-?:" and (len(text) == 1 or text[1] == " ")):
        raise _Declined
    if ": " in text or " #" in text or text[-1] == ":":
        raise _Declined
    tag = next((t for t, pattern in _RESOLVERS.get(first, ()) if pattern.match(text)), _STR)
    if tag == _STR:
        value: Any = text
    elif tag in _TYPED:
        try:
            value = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))
        except (ValueError, OverflowError, yaml.YAMLError):
            raise _Declined from None  # "2026-13-01": PyYAML's own path raises it
    else:
        raise _Declined  # merge keys ("<<"), "="
    if len(_plains) < _REMEMBERED:
        _plains[text] = value
    return value


def _scalar(text: str) -> tuple[int, Any]:
    """(_VALUE, value); (_LIST, items) or (_DICT, None) for a flow collection,
    made anew where it is placed (each document owns its lists)."""
    first = text[0]
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Declined
        return _VALUE, inner.replace("''", "'")
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise _Declined
        return _VALUE, inner
    if first == "[":
        if text == "[]":
            return _LIST, ()
        if _QUOTED_LIST.match(text):
            return _LIST, tuple(_QUOTED.findall(text))
        raise _Declined
    if first == "{":
        if text == "{}":
            return _DICT, None
        raise _Declined
    return _VALUE, _plain(text)


def _closing(text: str) -> int:
    """Where the quoted scalar ``text`` begins with ends (-1: not on this line)."""
    quote = text[0]
    close = text.find(quote, 1)
    while close > 0 and quote == "'" and text[close + 1 : close + 2] == "'":
        close = text.find(quote, close + 2)  # '' is a quote inside
    return close


def _key(text: str) -> tuple[Any, str]:
    quote = text[0]
    if quote == '"' or quote == "'":
        close = _closing(text)
        if close < 0 or (quote == '"' and "\\" in text[1:close]):
            raise _Declined
        key = text[1:close].replace("''", "'") if quote == "'" else text[1:close]
        after = text[close + 1 :]
        if after == ":":
            return key, ""
        if after.startswith(": "):
            return key, after[2:].lstrip(" ")
        raise _Declined
    cut = text.find(": ")
    if cut < 0:
        if text[-1] != ":":
            raise _Declined
        key, rest = text[:-1], ""
    else:
        key, rest = text[:cut], text[cut + 2 :].lstrip(" ")
    if not key or key[-1] == " ":
        raise _Declined
    return _plain(key), rest


def _line(text: str) -> tuple[Any, ...]:
    """What one line says, less its indentation."""
    text = text.rstrip(" ")
    first = text[0]
    if first == "#":
        return (_COMMENT,)
    if text == "---":
        return (_MARKER,)
    if text.startswith(("---", "...")):
        raise _Declined
    if first == "-" and (len(text) == 1 or text[1] == " "):
        rest = text[2:]
        item = rest.lstrip(" ")
        if not item or item[0] == "#":
            raise _Declined  # an item on the next lines, a comment
        first = item[0]
        if first in "'\"":
            after = item[_closing(item) + 1 :]
            keyed = after == ":" or after.startswith(": ")
        else:
            keyed = first not in "[{|>" and (": " in item or item[-1] == ":")
        if keyed or (first == "-" and (len(item) == 1 or item[1] == " ")):
            # A collection begun on the item's line: its entries sit at the column of the first.
            return (_ITEM_NESTED, 2 + len(rest) - len(item), _line(item))
        if item == "|-" or item == "|":
            return (_ITEM_LITERAL, item == "|")
        kind, value = _scalar(item)
        return (_ITEM + kind, value)
    key, rest = _key(text)
    if not rest:
        return (_PENDING, key)
    if rest[0] == "|":
        if rest == "|-":
            return (_LITERAL, key, False)
        if rest == "|":
            return (_LITERAL, key, True)
        raise _Declined
    kind, value = _scalar(rest)
    return (kind, key, value)


def _documents(lines: list[str]) -> list[Any]:
    docs: list[Any] = []
    root: Any = None
    stack: list[tuple[int, Any]] = []  # (indentation, container): a list is a sequence
    waiting: Any = None  # the mapping whose last key's value starts on a later line
    waiting_key: Any = None
    waiting_at = 0
    marked = False  # a "---" opened the document
    said = _lines
    count = len(lines)
    at = 0
    while at < count:
        line = lines[at]
        at += 1
        text = line.lstrip(" ")
        if not text:
            if line:
                raise _Declined  # spaces only
            continue
        says = said.get(text)
        if says is None:
            says = _line(text)
            if len(said) < _REMEMBERED:
                said[text] = says
        kind = says[0]
        if kind == _COMMENT:
            continue
        indent = len(line) - len(text)
        if kind == _MARKER:
            if indent or waiting is not None or (marked and root is None):
                raise _Declined  # an empty document
            if root is not None:
                docs.append(root)
                root, stack = None, []
            marked = True
            continue
        item = kind >= _ITEM
        if waiting is not None:
            # Deeper: the value's block. At the key's column: only a sequence. Else: null.
            made: Any = None
            if indent > waiting_at:
                made = [] if item else {}
            elif indent == waiting_at and item:
                made = []
            waiting[waiting_key] = made
            if made is not None:
                stack.append((indent, made))
            waiting = None
        elif root is None:
            if indent:
                raise _Declined
            root = [] if item else {}
            stack = [(0, root)]
        top_at, top = stack[-1]
        while top_at > indent:
            stack.pop()
            if not stack:
                raise _Declined
            top_at, top = stack[-1]
        if top_at != indent:
            raise _Declined
        if type(top) is list:
            if not item:
                # A sequence at its key's column ends where the mapping's next key begins.
                stack.pop()
                if not stack:
                    raise _Declined
                top_at, top = stack[-1]
                if top_at != indent or type(top) is list:
                    raise _Declined
            else:
                while kind == _ITEM_NESTED:
                    inner = says[2]
                    made = [] if inner[0] >= _ITEM else {}
                    top.append(made)
                    top, top_at = made, top_at + says[1]
                    stack.append((top_at, made))
                    says = inner
                    kind = inner[0]
                if kind == _ITEM_VALUE:
                    top.append(says[1])
                    continue
                if kind == _ITEM_LIST:
                    top.append(list(says[1]))
                    continue
                if kind == _ITEM_DICT:
                    top.append({})
                    continue
                if kind == _ITEM_LITERAL:
                    at, value = _literal(lines, at, top_at, says[1])
                    top.append(value)
                    continue
        elif item:
            raise _Declined
        if kind == _VALUE:
            top[says[1]] = says[2]
        elif kind == _PENDING:
            waiting, waiting_key, waiting_at = top, says[1], top_at
        elif kind == _LIST:
            top[says[1]] = list(says[2])
        elif kind == _DICT:
            top[says[1]] = {}
        elif kind == _LITERAL:
            at, top[says[1]] = _literal(lines, at, top_at, says[2])
        else:
            raise _Declined
    if waiting is not None:
        waiting[waiting_key] = None
    if root is None:
        raise _Declined
    docs.append(root)
    return docs


def _literal(lines: list[str], at: int, parent: int, clip: bool) -> tuple[int, str]:
    """A ``|`` (clip) or ``|-`` (strip) block from line ``at``: the line after
    it and its text. Its indentation is its first non-empty line's."""
    count = len(lines)
    start = at
    while at < count and not lines[at]:
        at += 1
    if at == count:
        return at, ""
    first = lines[at]
    indent = len(first) - len(first.lstrip(" "))
    if indent <= parent:
        return start, ""
    body = [""] * (at - start)
    pad = " " * indent
    last = at
    while at < count:
        line = lines[at]
        if not line:
            body.append("")
        elif line.startswith(pad):
            rest = line[indent:]
            if not rest.strip(" "):
                raise _Declined  # spaces only: where they belong is libyaml's call
            body.append(rest)
            last = at
        else:
            break
        at += 1
    while body and not body[-1]:
        body.pop()
    value = "\n".join(body)
    if clip and last < count - 1:
        value += "\n"  # clip keeps the last line's break, when there is one
    return at, value
