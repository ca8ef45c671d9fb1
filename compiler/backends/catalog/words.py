"""Gates, SLAs and monitors in words, as the spec writes them: what the catalog's pages
and the language server's hovers say (plain text; each caller escapes for its medium).
Imports nothing heavy, so the language server can use it without the renderers."""

from __future__ import annotations

from compiler import ir
from compiler.resolve import availability_objective, latency_objective
from compiler.targets.slo import prom_duration
from compiler.units import format_duration


def num(value: float) -> str:
    return f"{value:g}"


def pct(ratio: float) -> str:
    return f"{round(ratio * 100, 6):g}%"


def duration(value: float) -> str:
    return format_duration(value)


def window(seconds: float) -> str:
    """An SLO period as the spec writes it: ``28d``, not ``4w``."""
    return prom_duration(seconds)


def human(seconds: float) -> str:
    """A span of time in words people budget with: ``43m 12s``, ``3h 21m 36s``."""
    s = int(round(seconds))
    if s <= 0:
        return f"{round(seconds * 1000)}ms"
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return " ".join(parts)


def condition(c: ir.Condition) -> str:
    on = f" on {c.dataset.name}" if c.dataset else ""
    return f"{c.kind} {c.metric} {c.op} {num(c.threshold)}{on}"


def load(t: ir.LoadTest) -> str:
    return f"load p{num(t.percentile)} < {duration(t.threshold)} at {num(t.rate)}rps for {duration(t.duration)}"


def canary(steps: tuple[ir.CanaryStep, ...]) -> str:
    return " → ".join(f"{pct(s.weight)} for {duration(s.duration)}" for s in steps)


def monitor_rule(r: ir.MonitorRule) -> str:
    stat = f" {r.statistic}" if r.statistic else ""
    threshold = pct(r.threshold) if r.is_ratio else num(r.threshold)
    return f"{r.signal}{stat} {r.op} {threshold}"


def sla_budgets(sla: ir.Sla) -> list[tuple[str, str, str]]:
    """Each objective of an SLA as (objective, window, what its error budget allows), using the
    objectives the alert rules use (the stricter of availability and error rate governs)."""
    rows = []
    objective = availability_objective(sla)
    budgets = []
    if sla.availability:
        budgets.append((f"availability ≥ {pct(sla.availability.objective)}", 1.0 - sla.availability.objective))
    if sla.error_rate is not None:
        budgets.append((f"error rate < {pct(sla.error_rate)}", sla.error_rate))
    if objective is not None:
        for what, budget in budgets:
            governs = len({round(b, 9) for _, b in budgets}) > 1 and abs(budget - (1.0 - objective.objective)) < 1e-9
            rows.append(
                (
                    what,
                    window(objective.period),
                    f"{pct(budget)} of requests may fail: {human(budget * objective.period)} of full outage per "
                    f"{window(objective.period)}" + (" (the stricter budget: the alerts use it)" if governs else ""),
                )
            )
    for o in sla.latency:
        lo = latency_objective(sla, o)
        rows.append(
            (
                f"latency p{num(o.percentile)} < {duration(o.threshold)}",
                window(lo.period),
                f"{pct(1.0 - lo.objective)} of requests may take longer than {duration(o.threshold)}",
            )
        )
    if sla.throughput is not None:
        rows.append(
            (
                f"throughput ≥ {num(sla.throughput)}rps",
                "—",
                "a floor, no budget: alerts when served traffic drops below it",
            )
        )
    return rows
