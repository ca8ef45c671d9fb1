"""Rules beyond the error budget: latency percentiles, the throughput floor,
queue time, and drift / data-quality alerts from ``monitor`` declarations.

The metric names a model's monitoring exporter must publish for drift and data
quality are fixed here and documented in docs/monitoring.md.
"""

from __future__ import annotations

from compiler import ir
from compiler.backends.monitoring.slo import (
    Group,
    Rule,
    Scope,
    Target,
    error_ratio_expr,
    summary_quantile,
)
from compiler.targets import promql
from compiler.targets.slo import latency_slo_name, number, prom_duration
from compiler.targets.triton import has_histograms

# Drift: one gauge per feature and statistic, e.g. {statistic="psi", feature="amount"}.
DRIFT_METRIC = "shipspec_model_feature_drift"
# Any other monitored signal: shipspec_model_<signal>, a gauge (ratios in [0, 1]).
SIGNAL_PREFIX = "shipspec_model_"
# Queue time may take at most this share of the tightest latency objective.
QUEUE_SHARE = 0.5
SUSTAIN = "10m"


def pct_suffix(p: float) -> str:
    """0.99 -> '99', 0.999 -> '99_9' (recording-rule names allow no dots)."""
    return f"{p * 100:g}".replace(".", "_")


def _quantile_records(scope: Scope, quantiles: set[float], version: str) -> list[Rule]:
    """p50/p90/p99 and every SLA percentile, for the dashboards and the
    latency alerts. On Triton < 2.52 from the request summary (no slow-request
    ratio exists there), else from the histogram."""
    out: list[Rule] = []
    for p in sorted(quantiles | {0.5, 0.9, 0.99}):
        if has_histograms(version):
            expr = (
                f"histogram_quantile({number(p)}, sum by (model, le) "
                f"(rate(nv_inference_first_response_histogram_ms_bucket{scope.selector}[5m]))) / 1000"
            )
        else:
            sel = promql.extend(scope.selector, promql.eq("quantile", number(summary_quantile(p))))
            # Quantiles of several pods cannot be merged; the worst pod is the honest bound.
            expr = f"max by (model) (nv_inference_request_summary_us{sel}) / 1e6"
        out.append(
            {
                "record": f"model:request_latency_seconds:p{pct_suffix(p)}",
                "expr": expr,
                "labels": {"environment": scope.environment},
            }
        )
    return out


def serving_group(scope: Scope, quantiles: set[float], version: str) -> Group:
    """What every served model of an environment records, SLA or not."""
    sel, env = scope.selector, {"environment": scope.environment}
    requests = (
        f"(sum by (model) (rate(nv_inference_request_success{sel}[5m])) + "
        f"sum by (model) (rate(nv_inference_request_failure{sel}[5m])))"
    )
    rules: list[Rule] = [
        {
            "record": "model:requests:rate5m",
            "expr": f"sum by (model) (rate(nv_inference_request_success{sel}[5m]))",
            "labels": env,
        },
        {"record": "model:request_errors:ratio_rate5m", "expr": error_ratio_expr(scope, "5m"), "labels": env},
        {
            "record": "model:queue_time_seconds:mean5m",
            "expr": f"sum by (model) (rate(nv_inference_queue_duration_us{sel}[5m])) / {requests} / 1e6",
            "labels": env,
        },
        *_quantile_records(scope, quantiles, version),
    ]
    return {"name": f"shipspec.{scope.environment}.serving", "rules": rules}


def latency_alerts(t: Target, latency: tuple[ir.LatencyObjective, ...], version: str) -> list[Rule]:
    """On Triton < 2.52 the alert is on the summary's percentile; from 2.52 the
    latency SLO's burn-rate alerts cover the objective."""
    if has_histograms(version):
        return []
    out: list[Rule] = []
    for o in latency:
        sel = t.slo_series
        ms = number(o.threshold * 1000)
        out.append(
            {
                "alert": "ModelLatencyAboveObjective",
                "expr": f"model:request_latency_seconds:p{pct_suffix(o.percentile / 100)}{sel} > {number(o.threshold)}",
                "for": SUSTAIN,
                "labels": t.labels(slo=latency_slo_name(o.percentile), severity="page"),
                "annotations": {
                    "summary": f"{t.model} in {t.environment}: p{o.percentile:g} latency above {ms}ms",
                    "description": f"p{o.percentile:g} request latency is "
                    "{{ $value | humanizeDuration }}" + f", objective {ms}ms (from Triton's request summary).",
                    **t.runbook("ModelLatencyAboveObjective"),
                },
            }
        )
    return out


def throughput_alerts(t: Target, floor_rps: float | None) -> list[Rule]:
    if floor_rps is None:
        return []
    sel = t.slo_series
    floor = number(floor_rps)
    return [
        {
            "alert": "ModelThroughputBelowFloor",
            "expr": f"model:requests:rate5m{sel} < {floor}",
            "for": SUSTAIN,
            "labels": t.labels(slo="throughput", severity="ticket"),
            "annotations": {
                "summary": f"{t.model} in {t.environment} serves fewer than {floor} requests/s",
                "description": "Successful requests run at {{ $value | humanize }}/s" + f", below the {floor}/s floor.",
                **t.runbook("ModelThroughputBelowFloor"),
            },
        }
    ]


def queue_alerts(t: Target, latency: tuple[ir.LatencyObjective, ...]) -> list[Rule]:
    if not latency:
        return []
    limit = min(o.threshold for o in latency) * QUEUE_SHARE
    sel = t.slo_series
    return [
        {
            "alert": "ModelQueueTimeHigh",
            "expr": f"model:queue_time_seconds:mean5m{sel} > {number(limit)}",
            "for": SUSTAIN,
            "labels": t.labels(slo="queue-time", severity="ticket"),
            "annotations": {
                "summary": f"{t.model} in {t.environment}: requests wait too long in Triton's queue",
                "description": "Mean queue time is {{ $value | humanizeDuration }}"
                + f", above {number(limit * 1000)}ms ({QUEUE_SHARE:.0%} of the tightest latency objective).",
                **t.runbook("ModelQueueTimeHigh"),
            },
        }
    ]


_SEVERITY = {"retrain": "ticket", "ticket": "ticket", "page": "page", "rollback": "page", None: "ticket"}


def signal_metric(rule: ir.MonitorRule) -> str:
    return DRIFT_METRIC if rule.signal == "drift" else SIGNAL_PREFIX + rule.signal + ("_ratio" if rule.is_ratio else "")


def monitor_rules(t: Target, monitor: ir.Monitor) -> list[Rule]:
    """One alert per monitor rule, labelled ``action`` so Alertmanager can
    route ``action="retrain"`` to the retraining workflow."""
    out: list[Rule] = []
    for rule in monitor.rules:
        metric = signal_metric(rule)
        sel = promql.extend(t.selector, promql.eq("statistic", rule.statistic) if rule.statistic else None)
        # The worst feature decides: drift in any one feature is drift.
        agg = "max" if rule.op in (">", ">=") else "min"
        threshold = number(rule.threshold)
        shown = f"{number(rule.threshold * 100)}%" if rule.is_ratio else threshold
        drift = rule.signal == "drift"
        name = "ModelDrift" if drift else "ModelDataQuality"
        what = f"{rule.statistic + ' ' if rule.statistic else ''}{rule.signal}".replace("_", " ")
        value = "{{ $value | humanizePercentage }}" if rule.is_ratio else "{{ $value | humanize }}"
        labels = t.labels(signal=rule.signal, severity=_SEVERITY[rule.action], action=rule.action or "notify")
        if rule.statistic:
            labels["statistic"] = rule.statistic
        out.append(
            {
                "alert": name,
                "expr": f"{agg} by (model) ({metric}{sel}) {rule.op} {threshold}",
                "for": prom_duration(rule.duration),
                "labels": labels,
                "annotations": {
                    "summary": f"{t.model} in {t.environment}: {what} {rule.op} {shown} "
                    f"for {prom_duration(rule.duration)}",
                    "description": f"{what.capitalize()} is {value}, threshold {rule.op} {shown}"
                    + (" (the worst feature); a retraining run is requested." if rule.action == "retrain" else "."),
                    **t.runbook(name),
                    # The GitHub retrain workflow listens for this repository_dispatch event type.
                    **({"retrain_event_type": f"retrain-{t.model}"} if rule.action == "retrain" else {}),
                },
            }
        )
    return out


def signal_groups(t: Target, sla: ir.Sla | None, monitor: ir.Monitor | None, version: str) -> list[Group]:
    """A model's own alerts beyond the error budget (its series are recorded
    per environment by ``serving_group``)."""
    base = f"shipspec.{t.environment}.{t.model}"
    groups: list[Group] = []
    if sla is not None:
        rules = (
            latency_alerts(t, sla.latency, version)
            + throughput_alerts(t, sla.throughput)
            + queue_alerts(t, sla.latency)
        )
        if rules:
            groups.append({"name": f"{base}.serving", "rules": rules})
    if monitor is not None and monitor.rules:
        groups.append({"name": f"{base}.quality", "rules": monitor_rules(t, monitor)})
    return groups
