"""Guardrails on SLOs and monitors, before any rule is rendered.

- The SLO period is a whole number of days (burn-rate factors and the
  error-budget window are defined in days).
- The period is at least as long as the slowest burn-rate window (3d).
- The burn-rate window table (the period's own, or the one the spec names
  with ``windows``) exists and makes sense for the period: every long window
  shorter than the period, no alert firing below a burn rate of 0.9.
- No burn-rate alert has a threshold error ratio of 1 or more
  (``factor x (1 - objective) >= 1``): such an alert can never fire.
- A monitor rule alerts on a rise (``>``/``>=``) of drift; drift below a
  threshold is never a problem.
"""

from __future__ import annotations

from compiler import ir
from compiler.checks.kept import ONE_SHOT, Memo
from compiler.diagnostics import Sink
from compiler.resolve import Resolved, availability_objective, latency_objective, period_of
from compiler.targets.slo import (
    DAY,
    LONGEST_ALERT_WINDOW,
    WINDOW_TABLES,
    never_fires,
    number,
    prom_duration,
    window_problems,
)


def check_slo_periods(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Failing: ``availability 99.9% over 36h`` (not whole days) or ``over 2d``
    (shorter than the 3d ticket window). Passing: ``over 28d``."""
    memo.each(_check_period, sink, r.spec.slas)


def _check_period(sink: Sink, sla: ir.Sla) -> None:
    if sla.availability is None:
        return
    window, span = sla.availability.window, sla.availability.span
    if window % DAY:
        sink.report(
            "SS230",
            f"SLO period {prom_duration(window)} is not a whole number of days",
            span,
            hint="write the period in days, e.g. 'over 28d' or 'over 30d'",
        )
    elif window < LONGEST_ALERT_WINDOW:
        sink.report(
            "SS331",
            f"SLO period {prom_duration(window)} is shorter than the "
            f"{prom_duration(LONGEST_ALERT_WINDOW)} window of the slowest burn-rate alert",
            span,
            hint="use a period of at least 3d (7d, 28d and 30d are common)",
        )
    else:
        _check_windows(sla.availability, sink)


def _tables() -> str:
    return ", ".join(f"{d}d" for d in sorted(WINDOW_TABLES))


def _check_windows(a: ir.Availability, sink: Sink) -> None:
    """Failing: ``over 5d`` (the 7d table's 3d ticket would fire at burn rate
    0.7), ``over 14d windows 10d`` (no such table). Passing: ``over 14d``."""
    if a.windows is not None and (a.windows % DAY or int(a.windows // DAY) not in WINDOW_TABLES):
        sink.report(
            "SS332",
            f"there is no burn-rate window table for {prom_duration(a.windows)}",
            a.span,
            hint=f"name one of the tables: {_tables()}",
        )
        return
    problems = window_problems(a.window, a.windows)
    if problems:
        sink.report(
            "SS332",
            f"the burn-rate windows make no sense for an SLO period of "
            f"{prom_duration(a.window)}: " + "; ".join(problems),
            a.span,
            hint=f"use a period of at least 7d, or name a window table ({_tables()}) with 'windows'",
        )


def check_slo_objectives(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Failing: ``availability 90% over 30d`` (the 1h page alert would need an
    error ratio of 144%). Passing: ``availability 99% over 30d``."""
    memo.each(_check_objectives, sink, r.spec.slas, r.has_histograms)


def _check_objectives(sink: Sink, sla: ir.Sla, has_histograms: bool) -> None:
    period = period_of(sla)
    if period % DAY or period < LONGEST_ALERT_WINDOW:
        return  # reported by check_slo_periods
    if sla.availability and (
        window_problems(period, sla.availability.windows)
        or (sla.availability.windows is not None and int(sla.availability.windows // DAY) not in WINDOW_TABLES)
    ):
        return  # reported by check_slo_periods
    objectives = []
    obj = availability_objective(sla)
    if obj is not None:
        span = sla.availability.span if sla.availability else sla.spans.get("error_rate", sla.span)
        objectives.append((obj, span))
    if has_histograms:
        objectives += [(latency_objective(sla, o), o.span) for o in sla.latency]
    for obj, span in objectives:
        dead = never_fires(obj.objective, obj.period, obj.windows)
        if not dead:
            continue
        windows = ", ".join(
            f"{w.severity} over {prom_duration(w.long)} (needs {number(w.factor * (1 - obj.objective) * 100)}% errors)"
            for w in dead
        )
        sink.report(
            "SS330",
            f"{obj.what} objective {number(obj.objective * 100)}% is so low that these burn-rate "
            f"alerts can never fire: {windows}",
            span,
            hint="an error ratio cannot exceed 100%; raise the objective or lengthen the period",
        )


def check_monitor_directions(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Failing: ``drift psi < 0.2 for 1h`` (alerts while there is no drift)."""
    memo.each(_check_directions, sink, r.spec.monitors)


def _check_directions(sink: Sink, monitor: ir.Monitor) -> None:
    for rule in monitor.rules:
        if rule.signal == "drift" and rule.op not in (">", ">="):
            sink.report(
                "SS630",
                f"'drift ... {rule.op} {number(rule.threshold)}' alerts while drift is low",
                rule.span,
                hint="a drift alert fires above its threshold: use > or >=",
            )
