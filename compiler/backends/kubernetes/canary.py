"""The canary's judge and the preprod shadow: an Argo Rollouts AnalysisTemplate
whose Prometheus queries come from the target environment's SLA, and the Istio
VirtualService that mirrors production traffic into preprod."""

from __future__ import annotations

from typing import Any, TypedDict

from compiler import ir
from compiler.backends.kubernetes import common as kc
from compiler.backends.kubernetes.serving import GRPC, HTTP, SUMMARY_QUANTILES, Meta, Served, VirtualServiceView, meta
from compiler.diagnostics import Sink
from compiler.resolve import Resolved, namespace
from compiler.targets import kubernetes as k8s_target
from compiler.targets import promql
from compiler.targets import triton as triton_target
from compiler.targets.kubernetes import k8s_name
from compiler.targets.triton_metrics import ENSEMBLE_FAILURE_COUNT

# Only the canary's pods: Argo Rollouts names them <rollout>-<pod-template-hash>-<id>
# and hands the new hash to the analysis as an argument.
_CANARY_POD = "{name}-{{{{args.canary-hash}}}}-.*"
WINDOW = "5m"


class AnalysisView(TypedDict):
    meta: Meta
    metrics: list[dict[str, Any]]


def _selector(s: Served) -> str:
    """The canary pods' series (inside a PromQL selector's braces)."""
    pod = _CANARY_POD.format(name=s.name)
    sel = promql.selector(
        promql.eq("namespace", s.namespace), promql.eq("model", s.model.name), promql.matches("pod", pod), sep=","
    )
    return sel[1:-1]


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
    sink.report(
        "SS730",
        f"Triton exports no p{_number(percentile)} summary; the canary analysis uses "
        f"p{_number(stricter * 100)}, which is stricter",
        span,
    )
    return stricter


def analysis_template(s: Served, prometheus: str, sink: Sink) -> AnalysisView | None:
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
            query = (
                f"histogram_quantile({_number(round(obj.percentile / 100, 6))}, sum by (le) "
                f"(rate(nv_inference_first_response_histogram_ms_bucket{{{sel}}}[{WINDOW}])))"
            )
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


def mirrored_to(r: Resolved, source: ir.Environment, model: ir.Model) -> ir.Environment | None:
    """The preprod environment that shadows ``source`` and serves ``model`` too, if any."""
    for env in r.spec.environments:
        if shadows(env, source):
            served = {ref.name for ref in model.serve_in}
            if {env.name, source.name} <= served:
                return env
    return None


def shadows(env: ir.Environment, source: ir.Environment) -> bool:
    """Whether ``env`` is a preprod environment that shadows ``source``."""
    return env.tier is ir.Tier.PREPROD and env.shadow is not None and env.shadow.source.name == source.name


def mirror(preprod: ir.Environment, model: ir.Model, port: int) -> dict[str, Any]:
    """A route's mirror fields: a share of the requests copied to preprod, responses discarded."""
    assert preprod.shadow is not None
    host = f"{k8s_name(model.name)}.{namespace(preprod)}.svc.cluster.local"
    return {
        "mirror": {"host": host, "port": {"number": port}},
        "mirrorPercentage": {"value": round(preprod.shadow.ratio * 100, 6)},
    }


def gateways(env: ir.Environment) -> list[str]:
    """What a VirtualService in ``env`` binds to: the ingress gateway (clients
    from outside) and the mesh (in-cluster clients); the mesh alone without one."""
    return [k8s_target.gateway_ref(env.gateway), k8s_target.MESH_GATEWAY] if env.gateway else [k8s_target.MESH_GATEWAY]


def shadow(project: str, preprod: ir.Environment, source: ir.Environment, model: ir.Model) -> VirtualServiceView:
    """A VirtualService in the source (production) namespace, rendered in the
    source's tree (its Application owns it): serve from production, mirror a
    share of the requests to preprod. Bound to the gateway as well as the mesh:
    a VirtualService without ``gateways`` applies to sidecars only, and
    production admits serving traffic from the gateway alone."""
    name = k8s_name(model.name)
    src_ns = namespace(source)
    host = f"{name}.{src_ns}.svc.cluster.local"
    bound = gateways(source)
    routes = []
    for proto, port in (("grpc", GRPC), ("http", HTTP)):
        match: list[dict[str, Any]] = []
        if proto == "grpc":
            match.append({"port": port, "gateways": [k8s_target.MESH_GATEWAY]})
            if source.gateway:
                match.append(
                    {
                        "gateways": [k8s_target.gateway_ref(source.gateway)],
                        "headers": {"content-type": {"prefix": "application/grpc"}},
                    }
                )
        routes.append(
            {
                "name": proto,
                **({"match": match} if match else {}),
                "route": [{"destination": {"host": host, "port": {"number": port}}}],
                **mirror(preprod, model, port),
            }
        )
    return {
        "meta": {
            "name": f"{name}-shadow",
            "namespace": src_ns,
            "labels": {
                **kc.labels(project, "shadow", name),
                "shipspec.dev/model": model.name,
                "shipspec.dev/environment": source.name,
                "shipspec.dev/mirrored-to": preprod.name,
            },
            "annotations": kc.wave(kc.WAVE_WORKLOAD),
        },
        "hosts": [host],
        "gateways": bound,
        "http": routes,
    }
