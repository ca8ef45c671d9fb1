"""Alerts for silence: when a model's metrics vanish, every SLO and drift
alert on them silently never fires, so their absence alerts.

* ``ModelMetricsAbsent`` per model and environment with an SLA or a monitor:
  no ``nv_inference_request_success`` series of the model in the namespace.
  A stopped or unreachable Triton target marks its series stale at the next
  failed scrape, so this covers a target that is down. ``for: 10m`` rides out
  a rolling restart; it pages where the SLA is in production, else a ticket.
* ``ModelDriftMetricsAbsent`` per monitored signal: the drift job's gauge is
  missing (the job never pushed, or the Pushgateway lost it). ``for:`` three
  runs of the drift job (docs/monitoring.md), so one failed run is not an alert.
"""

from __future__ import annotations

from compiler import ir
from compiler.backends.monitoring.signals import signal_metric
from compiler.backends.monitoring.slo import Group, Rule, Target
from compiler.targets import promql
from compiler.targets.slo import prom_duration

TRITON_ABSENT_FOR = 600.0
DRIFT_RUNS = 3


def absence_group(t: Target, *, page: bool, monitor: ir.Monitor | None, drift_every: float | None) -> Group:
    rules: list[Rule] = [
        {
            "alert": "ModelMetricsAbsent",
            "expr": f"absent(nv_inference_request_success{t.selector})",
            "for": prom_duration(TRITON_ABSENT_FOR),
            "labels": t.labels(severity="page" if page else "ticket", signal="triton"),
            "annotations": {
                "summary": f"{t.model} in {t.environment}: no Triton metrics",
                "description": f"Prometheus has no request counters of {t.model} in {t.environment} for "
                f"{prom_duration(TRITON_ABSENT_FOR)}: the target is down, not scraped or the model is not "
                "loaded, and its SLO alerts cannot fire.",
                **t.runbook("ModelMetricsAbsent"),
            },
        }
    ]
    seen: set[tuple[str, str | None]] = set()
    for rule in monitor.rules if monitor and drift_every else ():
        metric = signal_metric(rule)
        if (metric, rule.statistic) in seen:
            continue
        seen.add((metric, rule.statistic))
        sel = promql.extend(t.selector, promql.eq("statistic", rule.statistic) if rule.statistic else None)
        rules.append(
            {
                "alert": "ModelDriftMetricsAbsent",
                "expr": f"absent({metric}{sel})",
                "for": prom_duration(max(DRIFT_RUNS * (drift_every or 0), rule.duration)),
                "labels": t.labels(severity="ticket", signal=rule.signal),
                "annotations": {
                    "summary": f"{t.model} in {t.environment}: no {metric} from the drift job",
                    "description": f"{metric} of {t.model} is missing, so its '{rule.signal}' alert cannot fire; "
                    "check the drift CronJob and the Pushgateway.",
                    **t.runbook("ModelDriftMetricsAbsent"),
                },
            }
        )
    return {"name": f"shipspec.{t.environment}.{t.model}.absence", "rules": rules}
