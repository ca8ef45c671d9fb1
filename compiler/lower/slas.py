"""SLA and monitor blocks: latency, availability, error-rate and throughput objectives; alert rules."""

from __future__ import annotations

from typing import Any

from compiler import ir, units
from compiler.diagnostics import Span
from compiler.lark_standalone import Token, Tree
from compiler.lower.values import Lowering, args


def lower_sla(cx: Lowering, tree: Tree[Token]) -> ir.Sla:
    model, env, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    latency: list[ir.LatencyObjective] = []
    single = frozenset({"availability", "error_rate", "throughput"})
    for kind, stmt in cx.statements(tree, single):
        spans.setdefault(kind, cx.span(stmt))
        a = args(stmt)
        if kind == "latency":
            pct, cmp, threshold = a
            cx.upper_bound(cmp)
            p = cx.percentile(pct)
            t = cx.unit(threshold, units.duration)
            if p is not None and t is not None:
                if any(o.percentile == p for o in latency):
                    cx.sink.report("SS106", f"latency {pct} is given twice", cx.span(stmt))
                latency.append(ir.LatencyObjective(p, t, cx.span(stmt)))
        elif kind == "availability":
            objective = cx.unit(a[0], units.percent)
            window = cx.unit(a[1], units.duration)
            windows = cx.unit(a[2], units.duration) if len(a) > 2 else None
            if objective is not None and objective >= 1.0:
                cx.sink.report(
                    "SS303",
                    "an availability of 100% leaves no error budget",
                    cx.span(a[0]),
                    hint="write the objective you can keep, e.g. 99.9%",
                )
            elif objective is not None and window is not None:
                f["availability"] = ir.Availability(objective, window, cx.span(stmt), windows)
        elif kind == "error_rate":
            cx.upper_bound_ratio(a[0])
            f["error_rate"] = cx.unit(a[1], units.percent)
        elif kind == "throughput":
            if str(a[0]) not in (">", ">="):
                cx.sink.report("SS205", "a throughput objective is a floor; use > or >=", cx.span(a[0]))
            f["throughput"] = cx.unit(a[1], units.rate)
    if not (latency or f):
        cx.sink.report("SS107", "this SLA states no objective", cx.span(tree))
    return ir.Sla(
        model=cx.ref(model),
        environment=cx.ref(env),
        span=cx.span(tree),
        latency=tuple(sorted(latency, key=lambda o: o.percentile)),
        spans=spans,
        **f,
    )


def lower_monitor(cx: Lowering, tree: Tree[Token]) -> ir.Monitor:
    model, env, *rules = args(tree)
    out: list[ir.MonitorRule] = []
    for rule in rules:
        assert isinstance(rule, Tree)
        a = args(rule)
        signal = str(a[0])
        stat = str(a[1]) if isinstance(a[1], Token) and a[1].type == "NAME" else None
        rest = a[2:] if stat is not None else a[1:]
        cmp, threshold_tok, duration_tok = rest[:3]
        action_tree = rest[3] if len(rest) > 3 else None
        is_ratio = str(threshold_tok).endswith("%")
        threshold = cx.unit(threshold_tok, units.percent) if is_ratio else cx.unit(threshold_tok, units.number, "SS202")
        duration = cx.unit(duration_tok, units.duration)
        action = None
        if isinstance(action_tree, Tree):
            action = cx.keyword(args(action_tree)[0], ("retrain", "page", "ticket", "rollback"), "action")
        if threshold is not None and duration is not None:
            out.append(ir.MonitorRule(signal, stat, str(cmp), threshold, duration, action, cx.span(rule), is_ratio))
    return ir.Monitor(cx.ref(model), cx.ref(env), cx.span(tree), tuple(out))
