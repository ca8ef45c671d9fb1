"""Gate blocks: metric conditions, the load test, canary steps, approvals."""

from __future__ import annotations

from typing import Any

from compiler import ir, units
from compiler.diagnostics import Span
from compiler.lark_standalone import Token, Tree
from compiler.lower.values import Lowering, args


def lower_gate(cx: Lowering, tree: Tree[Token]) -> ir.Gate:
    src, dst, model, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    conditions: list[ir.Condition] = []
    for kind, stmt in cx.statements(tree, frozenset({"gate_load", "canary", "approval"})):
        spans.setdefault(kind, cx.span(stmt))
        a = args(stmt)
        if kind in ("gate_metric", "gate_drift", "gate_fairness"):
            metric, cmp, value = a[:3]
            threshold = (
                cx.unit(value, units.percent) if str(value).endswith("%") else cx.unit(value, units.number, "SS202")
            )
            dataset = cx.ref(a[3]) if len(a) > 3 else None
            if threshold is not None:
                conditions.append(
                    ir.Condition(kind.removeprefix("gate_"), str(metric), str(cmp), threshold, cx.span(stmt), dataset)
                )
        elif kind == "gate_load":
            pct, cmp, limit, rate, duration = a
            cx.upper_bound(cmp)
            p = cx.percentile(pct)
            t = cx.unit(limit, units.duration)
            r = cx.unit(rate, units.rate)
            d = cx.unit(duration, units.duration)
            if p is not None and t is not None and r is not None and d is not None:
                f["load"] = ir.LoadTest(p, t, r, d, cx.span(stmt))
        elif kind == "canary":
            f["canary"] = canary(cx, stmt)
        elif kind == "approval":
            f["approval"] = tuple(str(t) for t in a)
    return ir.Gate(
        source=cx.ref(src),
        target=cx.ref(dst),
        model=cx.ref(model),
        span=cx.span(tree),
        conditions=tuple(conditions),
        spans=spans,
        **f,
    )


def canary(cx: Lowering, stmt: Tree[Token]) -> tuple[ir.CanaryStep, ...]:
    steps: list[ir.CanaryStep] = []
    previous = 0.0
    for step in args(stmt):
        assert isinstance(step, Tree)
        weight_tok, duration_tok = args(step)
        weight = cx.unit(weight_tok, units.percent)
        duration = cx.unit(duration_tok, units.duration)
        if weight is None or duration is None:
            continue
        if weight >= 1.0 or weight <= 0:
            cx.sink.report(
                "SS303",
                f"canary weight {weight_tok} must be above 0% and below 100%",
                cx.span(weight_tok),
                hint="full promotion follows the last step by itself",
            )
            continue
        if weight <= previous:
            cx.sink.report("SS304", f"canary weight {weight_tok} does not increase", cx.span(weight_tok))
            continue
        previous = weight
        steps.append(ir.CanaryStep(weight, duration, cx.span(step)))
    return tuple(steps)
