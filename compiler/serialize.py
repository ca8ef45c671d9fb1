"""Stable JSON and YAML text for documents (sorted keys only where asked).

``to_yaml`` writes block-style YAML byte-identical to PyYAML's ``SafeDumper``
(libyaml's emitter where available) with the options below. Documents made of
plain dicts, lists and single-line scalars -- nearly all of them -- are laid
out here directly, each distinct scalar's text taken from PyYAML once and
remembered; anything else (multi-line or very long strings, long keys, other
types) goes through PyYAML whole. PyYAML's Python-level representer cost about
0.2 ms per block, the largest single share of rendering 1,000 models.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import yaml

from compiler import yaml_block


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases, and multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# -- the one scalar policy ----------------------------------------------------
#
# A string may be written as a plain scalar only when every YAML reader of the
# rendered files reads it back as that same string: PyYAML (YAML 1.1, this
# compiler and its tests), Go's YAML 1.1 resolver (sigs.k8s.io/yaml in kubectl
# and the API server's clients) and YAML 1.2 core readers (yaml.v3 in
# kustomize's kyaml). Each of those is stricter than the others somewhere:
# PyYAML reads ``y``, ``1e5`` and ``0o17`` as strings, Go as a bool, a float and
# an int. So a string is quoted when it is one of the words any of them reads
# as a bool or null, or has the form any of them reads as a number, a special
# float or a date: ints in every base and with underscores (``0x1F``, ``0o17``,
# ``0b1``, ``1_000``), floats with or without a dot (``1e5``, ``2e-05``, ``.5``),
# ``.inf``/``.nan`` in any case, sexagesimals (``12:30``), dates and
# timestamps. "250m", "1Gi" and "1.0.0" stay plain.

_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "", "<<", "="})
_NUMBER_FORMS = re.compile(
    r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)"  # ints
    r"|[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"  # floats
    r"|[-+]?\.[A-Za-z]+"  # .inf, .nan (and anything like them)
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"  # sexagesimal (YAML 1.1)
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt \t].*)?"  # dates and timestamps
)


def plain_safe(value: str) -> bool:
    """Whether YAML 1.1 (PyYAML, Go) and YAML 1.2 readers all read ``value``,
    written as a plain scalar, back as the same string (see above)."""
    if value.lower() in _WORDS:
        return False
    return _NUMBER_FORMS.fullmatch(value) is None


def _str(dumper: yaml.SafeDumper | yaml.CSafeDumper, value: str) -> yaml.ScalarNode:
    if not plain_safe(value) and "\n" not in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    if (
        "\n" in value
        and not any(c in value for c in "\r\t")
        and value == value.rstrip(" ")
        and not value.startswith(" ")
    ):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)

try:  # libyaml's emitter is ~14x faster; output is byte-identical for our documents
    from yaml import CSafeDumper as _Fast

    class _FastDumper(_Fast):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    _FastDumper.add_representer(str, _str)
    _DUMPER: type = _FastDumper
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _DUMPER = _Dumper


def _pyyaml(doc: Any, sort_keys: bool) -> str:
    return yaml.dump(doc, Dumper=_DUMPER, sort_keys=sort_keys, default_flow_style=False, allow_unicode=True, width=4096)


class _Unusual(Exception):
    """A document the direct layout does not cover; PyYAML writes it."""


_SCALAR_TYPES = (str, int, bool, float, type(None))
# Longer scalars could be folded by the emitter's line width (4096) depending
# on their column; keys of 128 characters or more become explicit ``? `` keys.
_MAX_SCALAR = 1000
# Remembered texts and tags: names, labels and values repeat across objects;
# long strings rarely do, and the caches must stay small (a few MB at most).
_CACHE_ENTRIES = 50_000
_CACHE_LENGTH = 200
_MAX_KEY = 127
_MAX_INDENT = 2000
_SCALARS: dict[tuple[type, Any], str | None] = {}
# Line breaks to YAML (a scalar holding one is written over several lines).
_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


_STRINGS: dict[str, str] = {}  # the usable texts of strings, looked up first
# A string PyYAML's emitter writes as it is, where ``plain_safe``: a letter, then letters,
# digits and ``._/-`` (no indicator, space or break). Names, paths and labels: each new one
# was a PyYAML dump (~20 us; 18,000 file names in the kustomizations at 1,000 models).
_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*")


def forget_scalars() -> None:
    """Empty the remembered scalar texts (they stop growing at ``_CACHE_ENTRIES``;
    a long-lived process, or a measurement, starts them afresh)."""
    _SCALARS.clear()
    _STRINGS.clear()


def _scalar(value: Any) -> str:
    """A scalar's YAML text: context-free in block style for single-line scalars."""
    if type(value) is str:
        text = _STRINGS.get(value)
        if text is not None:
            return text
    key = (type(value), value)
    text = _SCALARS.get(key, "")
    if text == "":
        if type(value) not in _SCALAR_TYPES or (type(value) is str and len(value) > _MAX_SCALAR):
            raise _Unusual
        if type(value) is str and _PLAIN_WORD.fullmatch(value) and plain_safe(value):
            text = value  # what PyYAML writes of it (``tests/unit/test_scalar_policy.py`` holds them equal)
        else:
            item = _pyyaml([value], False)  # "- TEXT\n"
            body = item[2:-1]
            text = body if item.startswith("- ") and not _BREAKS.search(body) else None
        if len(_SCALARS) < _CACHE_ENTRIES and (type(value) is not str or len(value) <= _CACHE_LENGTH):
            _SCALARS[key] = text
            if text is not None and type(value) is str:
                _STRINGS[value] = text
    if text is None:
        raise _Unusual
    return text


def _items(mapping: dict[Any, Any], sort_keys: bool) -> Any:
    if not sort_keys:
        return mapping.items()
    try:
        return sorted(mapping.items())
    except TypeError:
        raise _Unusual from None


def _mapping(mapping: dict[Any, Any], indent: int, lead: str, out: list[str], sort_keys: bool) -> None:
    if indent > _MAX_INDENT:
        raise _Unusual
    pad = " " * indent
    for key, value in _items(mapping, sort_keys):
        if type(key) is str and (len(key) > _MAX_KEY or _BREAKS.search(key)):
            raise _Unusual  # PyYAML writes these as explicit "? " keys
        out.append(lead + _scalar(key) + ":")
        lead = pad
        kind = type(value)
        if kind is dict and value:
            out.append("\n")
            _mapping(value, indent + 2, " " * (indent + 2), out, sort_keys)
        elif kind is list and value:
            out.append("\n")  # PyYAML writes a mapping's sequences without indenting them
            _sequence(value, indent, pad, out, sort_keys)
        else:
            out.append(" " + _empty_or_scalar(value) + "\n")


def _sequence(items: list[Any], indent: int, lead: str, out: list[str], sort_keys: bool) -> None:
    if indent > _MAX_INDENT:
        raise _Unusual
    pad = " " * indent
    for item in items:
        out.append(lead + "- ")
        lead = pad
        kind = type(item)
        if kind is dict and item:
            _mapping(item, indent + 2, "", out, sort_keys)
        elif kind is list and item:
            _sequence(item, indent + 2, "", out, sort_keys)
        else:
            out.append(_empty_or_scalar(item) + "\n")


def _empty_or_scalar(value: Any) -> str:
    kind = type(value)
    if kind is dict:
        return "{}"
    if kind is list:
        return "[]"
    return _scalar(value)


def to_yaml(doc: Any, sort_keys: bool = False) -> str:
    out: list[str] = []
    try:
        if type(doc) is dict and doc:
            _mapping(doc, 0, "", out, sort_keys)
        elif type(doc) is list and doc:
            _sequence(doc, 0, "", out, sort_keys)
        else:
            raise _Unusual
    except _Unusual:
        return _pyyaml(doc, sort_keys)
    return "".join(out)


def to_json(doc: Any, sort_keys: bool = False) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"


# -- parse-back ---------------------------------------------------------------

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# Without path resolvers (SafeLoader registers none) a node's implicit tag
# depends only on (kind, value, implicit), so it is remembered: resolve is called
# for every node, and lru_cache answers a repeat without a Python frame.
assert not _BaseLoader.yaml_path_resolvers
_implicit_tag = functools.lru_cache(maxsize=_CACHE_ENTRIES)(yaml.resolver.Resolver().resolve)


class _Loader(_BaseLoader):
    """SafeLoader semantics, built faster: libyaml composes the nodes, implicit
    tags are remembered, and documents of plain maps, sequences, strings,
    numbers, booleans and nulls are built by one direct recursion; any other
    tag, alias cycle or merge key takes PyYAML's own path."""

    resolve = staticmethod(_implicit_tag)

    def construct_document(self, node: Any) -> Any:
        try:
            return _build(self, node, {})
        except Exception:  # noqa: BLE001 - PyYAML's own path decides (and reports) these
            return super().construct_document(node)


def _scalar_value(loader: Any, node: Any) -> Any:
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return _BaseLoader.bool_values[node.value.lower()]
    if tag == _INT:
        return loader.construct_yaml_int(node)
    if tag == _FLOAT:
        return loader.construct_yaml_float(node)
    raise _Unusual


def _build(loader: Any, node: Any, shared: dict[int, Any]) -> Any:
    cls = type(node)
    if cls is _ScalarNode:
        return _scalar_value(loader, node)
    # An alias is the same node object; PyYAML gives it the same Python object.
    built = shared.get(id(node))
    if built is not None:
        return built
    tag = node.tag
    if cls is _MappingNode and tag == _MAP:
        mapping: dict[Any, Any] = {}
        shared[id(node)] = mapping
        for key_node, value_node in node.value:
            # Strings inline: they are most keys and values (a recursion each cost a third of parsing).
            if type(key_node) is not _ScalarNode:
                raise _Unusual  # complex keys
            key_tag = key_node.tag
            if key_tag == _STR:
                key = key_node.value
            elif key_tag in _KEY_TAGS:
                key = _scalar_value(loader, key_node)
            else:
                raise _Unusual  # merge keys ("<<"), "="
            if type(value_node) is _ScalarNode and value_node.tag == _STR:
                mapping[key] = value_node.value
            else:
                mapping[key] = _build(loader, value_node, shared)
        return mapping
    if cls is _SequenceNode and tag == _SEQ:
        sequence: list[Any] = []
        shared[id(node)] = sequence
        for item in node.value:
            if type(item) is _ScalarNode and item.tag == _STR:
                sequence.append(item.value)
            else:
                sequence.append(_build(loader, item, shared))
        return sequence
    raise _Unusual


_ScalarNode, _MappingNode, _SequenceNode = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode
_KEY_TAGS = frozenset((_STR, _NULL, _BOOL, _INT, _FLOAT))


def load_all(text: str) -> list[Any]:
    """Every document of a YAML stream, exactly as ``yaml.safe_load_all`` reads it."""
    docs = yaml_block.load_all(text)
    if docs is not None:
        return docs
    return list(yaml.load_all(text, Loader=_Loader))


def load(text: str) -> Any:
    """The single document of a YAML stream, exactly as ``yaml.safe_load`` reads it."""
    docs = yaml_block.load_all(text)
    if docs is not None and len(docs) == 1:
        return docs[0]
    return yaml.load(text, Loader=_Loader)
