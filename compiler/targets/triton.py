"""How a model is served by Triton in one environment: the decisions shared by the
backend and the checker, kept free of rendering imports so ``shipspec validate``
stays light."""

from __future__ import annotations

from dataclasses import dataclass

from compiler import ir

# The histogram whose bucket edges the model config can set (milliseconds).
LATENCY_HISTOGRAM = "nv_inference_first_response_histogram_ms"
# First server version whose model config accepts ``model_metrics``.
MODEL_METRICS_SINCE = (2, 52)


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2.51.0"`` -> ``(2, 51, 0)``; non-numeric parts count as 0."""
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def supports_model_metrics(triton_version: str) -> bool:
    return version_tuple(triton_version)[:2] >= MODEL_METRICS_SINCE


@dataclass(frozen=True, slots=True)
class Effective:
    """A model's settings in one environment, after that environment's override."""

    batching: ir.Batching | None
    resources: ir.Resources | None
    instances: int


def effective(model: ir.Model, env: ir.Environment) -> Effective:
    override = next((o for o in env.overrides if o.model.name == model.name), None)
    return Effective(
        batching=(override.batching if override and override.batching else model.batching),
        resources=(override.resources if override and override.resources else model.resources),
        instances=(override.instances if override and override.instances else model.instances),
    )


def uses_gpu(model: ir.Model, env: ir.Environment) -> bool:
    """GPU instances where the model asks for GPUs, except in development (CPU there)."""
    res = effective(model, env).resources
    return bool(res and res.gpu > 0) and env.tier is not ir.Tier.DEVELOPMENT
