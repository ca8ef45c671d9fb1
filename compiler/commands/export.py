"""The IR as a plain document (``shipspec export``), described by schemas/ir.schema.json."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from compiler import ir
from compiler.diagnostics import Span

FORMAT_VERSION = 1


def to_data(node: Any) -> Any:
    if isinstance(node, Span):
        return node.to_dict()
    if isinstance(node, ir.Ref):
        return node.name
    if isinstance(node, ir.SecretRef):
        return {"secret": node.ref}
    if isinstance(node, enum.Enum):
        return node.value
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return {
            f.name: to_data(getattr(node, f.name))
            for f in dataclasses.fields(node)
            if f.name not in ("spans", "projects")
        }
    if isinstance(node, tuple | list):
        return [to_data(x) for x in node]
    return node


def export(spec: ir.Spec) -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, "spec": to_data(spec)}
