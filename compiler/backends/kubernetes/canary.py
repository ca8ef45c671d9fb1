"""The canary's judge and the preprod shadow: an Argo Rollouts AnalysisTemplate
whose Prometheus queries come from the target environment's SLA, and the Istio
VirtualService that mirrors production traffic into preprod."""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.backends.kubernetes import common as kc
from compiler.targets import triton as triton_target
from compiler.resolve import namespace
from compiler.backends.kubernetes.serving import GRPC, HTTP, SUMMARY_QUANTILES, Served, meta
from compiler.targets.triton_metrics import ENSEMBLE_FAILURE_COUNT
from compiler.diagnostics import Sink
from compiler.targets.kubernetes import k8s_name

# Only the canary's pods: Argo Rollouts names them <rollout>-<pod-template-hash>-<id>
# and hands the new hash to the analysis as an argument.
_CANARY_POD = '{name}-{{{{args.canary-hash}}}}-.*'
WINDOW = "5m"


def _selector(s: Served) -> str:
    pod = _CANARY_POD.format(name=s.name)
    return f'namespace="{s.namespace}",model="{s.model.name}",pod=~"{pod}"'


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _conditions(threshold: float) -> tuple[str, str]:
    """No data (an empty vector, or 0/0 = NaN without traffic) fails: an
    inconclusive canary must never count as a passing one."""
    t = _number(threshold)
    success = f"len(result) > 0 && !isNaN(result[0]) && result[0] <= {t}"
    failure = f"len(result) == 0 || isNaN(result[0]) || result[0] > {t}"
    return success, failure


def _quantile(percentile: float, sink: Sink, span: Any) -> float:
    """The summary quantile that measures a percentile (given as 99 for p99);
    the next stricter one when Triton does not export it (warned, never
    silently pretended)."""
    p = percentile / 100
    if any(abs(q - p) < 1e-9 for q in SUMMARY_QUANTILES):
        return round(p, 6)
    stricter = next((q for q in SUMMARY_QUANTILES if q > p), SUMMARY_QUANTILES[-1])
    sink.report("SS730", f"Triton exports no p{_number(percentile)} summary; the canary analysis uses "
                f"p{_number(stricter * 100)}, which is stricter", span)
    return stricter


def analysis_template(s: Served, prometheus: str, sink: Sink) -> dict[str, Any] | None:
    """Metrics for the target environment's SLA: error ratio and each latency objective."""
    sla = s.sla
    if sla is None:
        return None
    sel = _selector(s)
    metrics: list[dict[str, Any]] = []
    error_budget = sla.error_rate
    if error_budget is None and sla.availability is not None:
        error_budget = 1.0 - sla.availability.objective
    if error_budget is not None:
        fail = f"sum(rate(nv_inference_request_failure{{{sel}}}[{WINDOW}]))"
        if s.model.format is ir.ModelFormat.ENSEMBLE:  # each failed request once (targets/triton_metrics.py)
            fail = f"({fail} / {ENSEMBLE_FAILURE_COUNT})"
        ok = f"sum(rate(nv_inference_request_success{{{sel}}}[{WINDOW}]))"
        success, failure = _conditions(round(error_budget, 12))
        metrics.append(_metric("error-ratio", f"{fail} / ({ok} + {fail})", success, failure, prometheus))
    minor = triton_target.triton_minor(s.triton_version) or 0
    for obj in sla.latency:
        label = _number(obj.percentile).replace(".", "-")
        if minor >= triton_target.HISTOGRAM_MINOR:
            query = (f"histogram_quantile({_number(round(obj.percentile / 100, 6))}, sum by (le) "
                     f"(rate(nv_inference_first_response_histogram_ms_bucket{{{sel}}}[{WINDOW}])))")
            threshold = obj.threshold * 1000  # ms
        else:
            q = _quantile(obj.percentile, sink, obj.span)
            query = f'max(nv_inference_request_summary_us{{{sel},quantile="{_number(q)}"}})'
            threshold = obj.threshold * 1_000_000  # us
        success, failure = _conditions(round(threshold, 6))
        metrics.append(_metric(f"latency-p{label}", query, success, failure, prometheus))
    if not metrics:
        return None
    return {"meta": meta(s, "analysis", f"{s.name}-slo"), "metrics": metrics}


def _metric(name: str, query: str, success: str, failure: str, address: str) -> dict[str, Any]:
    return {
        "name": name,
        "interval": "1m",
        "initialDelay": "1m",
        "failureLimit": 1,
        "inconclusiveLimit": 0,
        "consecutiveErrorLimit": 2,
        "successCondition": success,
        "failureCondition": failure,
        "provider": {"prometheus": {"address": address, "query": query}},
    }


def shadow(project: str, preprod: ir.Environment, source: ir.Environment, model: ir.Model) -> dict[str, Any]:
    """A VirtualService in the source (production) namespace: serve from
    production, mirror a share of the requests to preprod; mirrored responses
    are discarded by the mesh."""
    name = k8s_name(model.name)
    src_ns, dst_ns = namespace(source), namespace(preprod)
    host = f"{name}.{src_ns}.svc.cluster.local"
    mirror = f"{name}.{dst_ns}.svc.cluster.local"
    assert preprod.shadow is not None
    percent = round(preprod.shadow.ratio * 100, 6)
    routes = [
        {
            "name": proto,
            "match": [{"port": port}],
            "route": [{"destination": {"host": host, "port": {"number": port}}}],
            "mirror": {"host": mirror, "port": {"number": port}},
            "mirrorPercentage": {"value": percent},
        }
        for proto, port in (("http", HTTP), ("grpc", GRPC))
    ]
    return {
        "meta": {
            "name": f"{name}-shadow",
            "namespace": src_ns,
            "labels": {**kc.labels(project, "shadow", name), "shipspec.dev/model": model.name,
                       "shipspec.dev/environment": preprod.name},
            "annotations": kc.wave(kc.WAVE_WORKLOAD),
        },
        "hosts": [host],
        "http": routes,
    }
