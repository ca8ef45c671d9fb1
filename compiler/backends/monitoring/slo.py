"""SLO rules from an SLA: SLI recording rules over every window, SLO metadata,
error budget remaining, and multi-window multi-burn-rate alerts.

Rules are plain dicts in Prometheus' rule-file shape; ``monitoring`` wraps the
same groups into a raw rules file and a ``PrometheusRule``. Metric names are
Triton's (``nv_inference_*``; counters carry no ``_total`` suffix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from compiler import ir
from compiler.resolve import availability_objective, latency_objective
from compiler.targets import promql
from compiler.targets.grafana import runbook_url
from compiler.targets.slo import SLI_WINDOWS, Objective, burn_windows, number, prom_duration
from compiler.targets.triton_metrics import failure_rate

# One Prometheus rule and one group, in the rule-file shape (``for`` is a
# keyword, hence the functional form).
Rule = TypedDict(
    "Rule",
    {"record": str, "alert": str, "expr": str, "for": str, "labels": dict[str, str], "annotations": dict[str, str]},
    total=False,
)


class Group(TypedDict):
    name: str
    rules: list[Rule]


ExprFor = Callable[[str], str]  # window ("5m") -> the SLI's PromQL over that window

# The quantiles Triton's request summary carries by default.
SUMMARY_QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)


def summary_quantile(q: float) -> float:
    """The summary quantile that stands in for ``q``: itself when Triton keeps
    it, else the next stricter one (an alert on it fires no later)."""
    if any(abs(s - q) < 1e-9 for s in SUMMARY_QUANTILES):
        return q
    return next((s for s in SUMMARY_QUANTILES if s > q), SUMMARY_QUANTILES[-1])


@dataclass(frozen=True, slots=True)
class Target:
    """Who and where an SLA's rules are about; shared labels come from here."""

    model: str
    environment: str
    namespace: str | None
    team: str
    runbooks: str | None

    @property
    def selector(self) -> str:
        return promql.selector(
            promql.eq("namespace", self.namespace) if self.namespace else None, promql.eq("model", self.model)
        )

    @property
    def slo_series(self) -> str:
        """The selector of this model's recorded SLO series in its environment."""
        return promql.selector(promql.eq("model", self.model), promql.eq("environment", self.environment))

    def labels(self, **extra: str) -> dict[str, str]:
        out = {"model": self.model, "environment": self.environment, "team": self.team}
        out.update(extra)
        return out

    def runbook(self, alert: str) -> dict[str, str]:
        if not self.runbooks:
            return {}
        return {"runbook_url": runbook_url(self.runbooks, self.model, alert)}


@dataclass(frozen=True, slots=True)
class Scope:
    """Several models of one environment, recorded by one rule each
    (``sum by (model)``): an environment's recording rules grow with the
    windows, not with the number of models."""

    environment: str
    namespace: str | None
    models: tuple[str, ...]
    ensembles: frozenset[str] = frozenset()  # their failures are counted twice by Triton

    @property
    def selector(self) -> str:
        return promql.selector(
            promql.eq("namespace", self.namespace) if self.namespace else None, promql.one_of("model", self.models)
        )

    def part(self, ensembles: bool) -> Scope | None:
        """The ensembles of this scope, or the other models (None when there are none)."""
        models = tuple(m for m in self.models if (m in self.ensembles) == ensembles)
        return Scope(self.environment, self.namespace, models, self.ensembles) if models else None


Selects = Target | Scope


def _rate(metric: str, sel: str, window: str) -> str:
    return f"sum by (model) (rate({metric}{sel}[{window}]))"


def error_ratio_expr(t: Selects, window: str) -> str:
    failed = _rate("nv_inference_request_failure", t.selector, window)
    if isinstance(t, Scope) and t.ensembles & set(t.models):
        # Each failed ensemble request counts once (compiler/targets/triton_metrics.py).
        parts = [failure_rate(p.selector, window, ensemble=e) for e in (False, True) if (p := t.part(e))]
        failed = parts[0] if len(parts) == 1 else "(\n" + "\nor\n".join(parts) + "\n)"
    ok = _rate("nv_inference_request_success", t.selector, window)
    return f"{failed}\n/\n({ok} + {failed})"


def slow_ratio_expr(t: Target, threshold: float, window: str) -> str:
    """Share of requests slower than the threshold, from the histogram bucket
    Triton keeps at exactly that edge (milliseconds)."""
    le = number(threshold * 1000)
    bucket_sel = promql.extend(t.selector, promql.matches("le", f"{le}(\\.0+)?"))
    fast = _rate("nv_inference_first_response_histogram_ms_bucket", bucket_sel, window)
    total = _rate("nv_inference_first_response_histogram_ms_count", t.selector, window)
    return f"1 - (\n{fast}\n/\n{total}\n)"


def period_sli_expr(selector: str, period: str) -> str:
    """The SLI over the whole period as the mean of the 5m recording (as
    Sloth does): no rate over raw per-pod counters across the period, and no
    need to keep them that long."""
    five = f"slo:sli_error:ratio_rate5m{selector}[{period}]"
    return f"sum_over_time({five})\n/\ncount_over_time({five})"


def sli_rules(t: Target, obj: Objective, expr_for: ExprFor) -> list[Rule]:
    labels = {"model": t.model, "environment": t.environment, "slo": obj.slo}
    rules: list[Rule] = [
        {"record": f"slo:sli_error:ratio_rate{prom_duration(w)}", "expr": expr_for(prom_duration(w)), "labels": labels}
        for w in SLI_WINDOWS
    ]
    sel = promql.extend(t.slo_series, promql.eq("slo", obj.slo))
    rules.append(
        {
            "record": f"slo:sli_error:ratio_rate{prom_duration(obj.period)}",
            "expr": period_sli_expr(sel, prom_duration(obj.period)),
            "labels": labels,
        }
    )
    return rules


def metadata_rules(t: Target, obj: Objective) -> list[Rule]:
    labels = {"model": t.model, "environment": t.environment, "slo": obj.slo}
    sel = promql.extend(t.slo_series, promql.eq("slo", obj.slo))
    period = prom_duration(obj.period)
    return [
        {"record": "slo:objective:ratio", "expr": f"vector({number(obj.objective)})", "labels": labels},
        {"record": "slo:error_budget:ratio", "expr": f"vector({number(1 - obj.objective)})", "labels": labels},
        {"record": "slo:period:seconds", "expr": f"vector({int(obj.period)})", "labels": labels},
        {
            "record": "slo:error_budget_remaining:ratio",
            "expr": f"1 - (slo:sli_error:ratio_rate{period}{sel} / on (model, environment, slo) "
            f"slo:error_budget:ratio{sel})",
            "labels": labels,
        },
    ]


def burn_alerts(t: Target, obj: Objective) -> list[Rule]:
    budget = 1.0 - obj.objective
    sel = promql.extend(t.slo_series, promql.eq("slo", obj.slo))
    period = prom_duration(obj.period)
    out: list[Rule] = []
    for w in burn_windows(obj.period, obj.windows):
        long, short = prom_duration(w.long), prom_duration(w.short)
        threshold = number(w.factor * budget)
        out.append(
            {
                "alert": "ModelErrorBudgetBurn",
                "expr": f"slo:sli_error:ratio_rate{long}{sel} > {threshold}\n"
                f"and\nslo:sli_error:ratio_rate{short}{sel} > {threshold}",
                "labels": t.labels(slo=obj.slo, severity=w.severity, window=long, burn_rate=number(w.factor)),
                "annotations": {
                    "summary": f"{t.model} in {t.environment} burns its {obj.what} error budget "
                    f"{number(w.factor)}x too fast ({long} and {short} windows)",
                    "description": (
                        "Error ratio over " + long + " is {{ $value | humanizePercentage }}, above "
                        f"{number(w.factor)} x the {number(budget * 100)}% budget; at this rate "
                        f"{number(w.budget_share * 100)}% of the {period} budget is gone within {long}."
                    ),
                    **t.runbook("ModelErrorBudgetBurn"),
                },
            }
        )
    return out


def slo_groups(t: Target, obj: Objective, expr_for: ExprFor | None) -> list[Group]:
    """Per SLO: its SLI when it is the model's own (``expr_for``), the
    metadata and budget, and the burn-rate alerts."""
    base = f"shipspec.{t.environment}.{t.model}.{obj.slo}"
    sli: list[Group] = [{"name": f"{base}.sli", "rules": sli_rules(t, obj, expr_for)}] if expr_for else []
    return sli + [
        {"name": f"{base}.budget", "rules": metadata_rules(t, obj)},
        {"name": f"{base}.burn", "rules": burn_alerts(t, obj)},
    ]


def availability_groups(t: Target, sla: ir.Sla) -> list[Group]:
    """Budget and alerts; the error-ratio SLI is recorded per environment."""
    obj = availability_objective(sla)
    if obj is None:
        return []
    return slo_groups(t, obj, None)


def availability_sli_group(
    environment: str, namespace: str | None, periods: dict[str, float], ensembles: frozenset[str] = frozenset()
) -> Group | None:
    """The error-ratio SLI of every model with an availability SLO in an
    environment (``periods``: model -> SLO period): one rule per window, and
    one per distinct period over the models that have it."""
    if not periods:
        return None
    everyone = Scope(environment, namespace, tuple(sorted(periods)), ensembles)
    labels = {"environment": environment, "slo": "availability"}
    rules: list[Rule] = [
        {
            "record": f"slo:sli_error:ratio_rate{prom_duration(w)}",
            "expr": error_ratio_expr(everyone, prom_duration(w)),
            "labels": labels,
        }
        for w in SLI_WINDOWS
    ]
    for period in sorted(set(periods.values()) - set(SLI_WINDOWS)):
        models = sorted(m for m, p in periods.items() if p == period)
        sel = promql.selector(
            promql.eq("environment", environment), promql.eq("slo", "availability"), promql.one_of("model", models)
        )
        rules.append(
            {
                "record": f"slo:sli_error:ratio_rate{prom_duration(period)}",
                "expr": period_sli_expr(sel, prom_duration(period)),
                "labels": labels,
            }
        )
    return {"name": f"shipspec.{environment}.availability.sli", "rules": rules}


def latency_groups(t: Target, sla: ir.Sla, o: ir.LatencyObjective) -> list[Group]:
    obj = latency_objective(sla, o)
    return slo_groups(t, obj, lambda w: slow_ratio_expr(t, o.threshold, w))
