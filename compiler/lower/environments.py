"""Environment blocks, with the per-model overrides they declare."""

from __future__ import annotations

from typing import Any

from compiler import ir, units
from compiler.diagnostics import Span
from compiler.lark_standalone import Token, Tree
from compiler.lower.models import batching
from compiler.lower.statements import replicas, resources
from compiler.lower.values import Lowering, args


def lower_environment(cx: Lowering, tree: Tree[Token]) -> ir.Environment:
    name, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    selectors: list[tuple[str, str]] = []
    tolerations: list[str] = []
    prometheus_labels: list[tuple[str, str]] = []
    overrides: list[ir.Override] = []
    single = frozenset({"tier", "cluster", "namespace", "replicas", "shadow", "quota", "gateway", "runner"})
    for kind, stmt in cx.statements(tree, single):
        spans[kind] = cx.span(stmt)
        a = args(stmt)
        if kind == "tier":
            tier = cx.keyword(a[0], tuple(t.value for t in ir.Tier), "tier")
            f["tier"] = ir.Tier(tier) if tier else None
        elif kind in ("cluster", "namespace", "gateway"):
            f[kind] = cx.string(a[0])
        elif kind == "runner":
            f["runner"] = tuple(cx.string(label) for label in a)
        elif kind == "replicas":
            f["replicas"] = replicas(cx, stmt)
        elif kind == "shadow":
            ratio = cx.unit(a[1], units.percent)
            if ratio is not None:
                f["shadow"] = ir.Shadow(cx.ref(a[0]), ratio, cx.span(stmt))
        elif kind == "node_selector":
            selectors.append((cx.string(a[0]), cx.string(a[1])))
        elif kind == "prometheus_label":
            prometheus_labels.append((cx.string(a[0]), cx.string(a[1])))
        elif kind == "toleration":
            tolerations.append(cx.string(a[0]))
        elif kind == "quota":
            f["quota"] = resources(cx, a[0])
        elif kind == "override":
            overrides.append(override(cx, stmt))
    if "tier" not in spans:
        cx.require(f, ("tier",), f"environment '{name}'", name)
    return ir.Environment(
        name=str(name),
        span=cx.span(tree),
        node_selector=tuple(selectors),
        tolerations=tuple(tolerations),
        prometheus_labels=tuple(prometheus_labels),
        overrides=tuple(overrides),
        spans=spans,
        **f,
    )


def override(cx: Lowering, tree: Tree[Token]) -> ir.Override:
    name, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    for kind, stmt in cx.statements(tree, frozenset({"replicas", "resources", "batching", "instances", "version"})):
        spans.setdefault(kind, cx.span(stmt))
        if kind == "version":  # the version this environment runs (set by shipspec promote)
            f["version"] = cx.string(args(stmt)[0])
        elif kind == "replicas":
            f["replicas"] = replicas(cx, stmt)
        elif kind == "resources":
            f["resources"] = resources(cx, args(stmt)[0])
        elif kind == "batching":
            f["batching"] = batching(cx, stmt)
        elif kind == "instances":
            f["instances"] = cx.integer(args(stmt)[0], minimum=1)
    return ir.Override(model=cx.ref(name), span=cx.span(tree), spans=spans, **f)
