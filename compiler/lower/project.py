"""The project and dataset blocks: names, registries, pinned versions, owners."""

from __future__ import annotations

from typing import Any

from lark import Token, Tree

from compiler import ir
from compiler.diagnostics import Span
from compiler.lower.values import Lowering, args


def lower_project(cx: Lowering, tree: Tree[Token]) -> ir.Project:
    name, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    single = frozenset({"registry", "triton_version", "kubernetes_version", "repository", "runbooks", "owners"})
    for kind, stmt in cx.statements(tree, single):
        spans[kind] = cx.span(stmt)
        if kind == "owners":
            f["owners"] = tuple(str(t) for t in args(stmt))
        else:
            f[kind] = cx.string(args(stmt)[0])
    return ir.Project(name=str(name), span=cx.span(tree), spans=spans, **f)


def lower_dataset(cx: Lowering, tree: Tree[Token]) -> ir.Dataset:
    name, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    for kind, stmt in cx.statements(tree, frozenset({"version", "uri", "sha256", "owners"})):
        spans[kind] = cx.span(stmt)
        if kind == "owners":
            f["owners"] = tuple(str(t) for t in args(stmt))
        else:
            f[kind] = cx.string(args(stmt)[0])
    if (digest := f.get("sha256")) is not None and not _is_sha256(digest):
        cx.sink.report("SS204", "sha256 must be 64 hexadecimal characters", spans["sha256"])
    cx.require(f, ("version", "uri"), f"dataset '{name}'", name)
    return ir.Dataset(name=str(name), span=cx.span(tree), spans=spans, **f)


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text.lower())
