"""A Grafana dashboard per model and environment, built from the recording
rules (so the dashboard and the alerts read the same numbers).

Panels: request rate, error ratio, latency percentiles, queue time, GPU
utilisation and remaining error budget. The JSON is deterministic: fixed
panel ids and grid positions, keys sorted on output.
"""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.backends.monitoring.signals import pct_suffix
from compiler.backends.monitoring.slo import Target
from compiler.resolve import availability_objective, latency_objective
from compiler.targets.grafana import dashboard_uid
from compiler.targets.kubernetes import k8s_name
from compiler.targets.slo import number

_DS = {"type": "prometheus", "uid": "${datasource}"}


def _panel(
    pid: int,
    title: str,
    targets: list[tuple[str, str]],
    unit: str,
    x: int,
    y: int,
    kind: str = "timeseries",
    thresholds: list[float] | None = None,
) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": "red", "value": v} for v in thresholds or []]
    return {
        "id": pid,
        "type": kind,
        "title": title,
        "datasource": _DS,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if kind == "timeseries" else {},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": _DS}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def _pods(model: str) -> str:
    """The model's own pods (``<name>-<replicaset hash>-<suffix>``), not every
    pod of the namespace: GPU metrics carry no model label."""
    return k8s_name(model) + "-[a-z0-9]+-[a-z0-9]{5}"


def dashboard(t: Target, sla: ir.Sla | None, gpu: bool, budget: bool) -> dict[str, Any]:
    """The dashboard JSON for one model in one environment; ``budget`` when
    an SLO of it records an error budget."""
    sel = t.slo_series
    latency = [o.threshold for o in sla.latency] if sla else []
    percentiles = sorted({0.5, 0.9, 0.99} | {round(o.percentile / 100, 9) for o in (sla.latency if sla else ())})
    lat_targets = [(f"model:request_latency_seconds:p{pct_suffix(p)}{sel}", f"p{p * 100:g}") for p in percentiles]
    panels = [
        _panel(1, "Request rate", [(f"model:requests:rate5m{sel}", "requests/s")], "reqps", 0, 0),
        _panel(
            2,
            "Error ratio",
            [(f"model:request_errors:ratio_rate5m{sel}", "5m")],
            "percentunit",
            12,
            0,
            thresholds=_budget(sla),
        ),
        _panel(3, "Latency percentiles", lat_targets, "s", 0, 8, thresholds=sorted(set(latency))),
        _panel(4, "Queue time (mean)", [(f"model:queue_time_seconds:mean5m{sel}", "queue")], "s", 12, 8),
        _panel(
            5,
            "GPU utilisation",
            [
                (
                    f'avg by (pod) (nv_gpu_utilization{{namespace="{t.namespace or ""}", pod=~"{_pods(t.model)}"}})',
                    "{{pod}}",
                )
            ]
            if gpu
            else [],
            "percentunit",
            0,
            16,
        ),
    ]
    if budget:
        panels.append(
            _panel(
                6,
                "Error budget remaining",
                [(f"slo:error_budget_remaining:ratio{t.slo_series}", "{{slo}}")],
                "percentunit",
                12,
                16,
                kind="stat",
            )
        )
    return {
        "uid": dashboard_uid(t.environment, t.model),
        "title": f"{t.model} ({t.environment})",
        "tags": ["shipspec", t.environment, t.model],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Data source",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "description": _description(sla),
        "panels": panels,
    }


def _budget(sla: ir.Sla | None) -> list[float]:
    obj = availability_objective(sla) if sla else None
    return [round(1 - obj.objective, 9)] if obj else []


def _description(sla: ir.Sla | None) -> str:
    if sla is None:
        return "No SLA declared."
    parts = []
    obj = availability_objective(sla)
    if obj:
        parts.append(f"availability {number(obj.objective * 100)}% over {int(obj.period // 86400)}d")
    parts += [latency_objective(sla, o).what for o in sla.latency]
    if sla.throughput is not None:
        parts.append(f"throughput >= {number(sla.throughput)} rps")
    return "SLA: " + ", ".join(parts)
