"""Pieces of the Kubernetes backend's objects: the Triton image, secret
references, env vars, resource quantities and tolerations."""

from __future__ import annotations

from compiler import ir
from compiler.targets.kubernetes import (
    CONTAINER_SECURITY,
    MANAGED_BY,
    POD_SECURITY,
    WAVE_NAMESPACE,
    WAVE_SETUP,
    WAVE_WORKLOAD,
    labels,
    parse_secret,
    selector,
    wave,
)
from compiler.targets.triton import triton_release

# Conventions every Kubernetes-object backend applies live in targets.kubernetes;
# they are named here too so this backend reads them as kc.*.
__all__ = [
    "CONTAINER_SECURITY",
    "MANAGED_BY",
    "POD_SECURITY",
    "WAVE_NAMESPACE",
    "WAVE_SETUP",
    "WAVE_WORKLOAD",
    "labels",
    "selector",
    "wave",
]


def triton_image(version: str, digest: str | None = None) -> str:
    """The Triton image by tag, and by digest too where the project pins one
    (the digest is what the node pulls; the tag stays for people)."""
    release = triton_release(version) or "unknown"
    image = f"nvcr.io/nvidia/tritonserver:{release}-py3"
    return f"{image}@{digest}" if digest else image


def secret_name(prefix: str, ref: ir.SecretRef) -> str:
    """The Secret an ExternalSecret fills for a workload, one per secret store."""
    key = parse_secret(ref.ref)
    return f"{prefix}-{key.store if key else 'secrets'}"


def env_vars(env: tuple[ir.EnvVar, ...], prefix: str) -> list[dict[str, object]]:
    """Container env entries: plain values as values, secrets only as secretKeyRef."""
    out: list[dict[str, object]] = []
    for var in sorted(env, key=lambda v: v.name):
        if isinstance(var.value, ir.SecretRef):
            ref = {"name": secret_name(prefix, var.value), "key": var.name}
            out.append({"name": var.name, "valueFrom": {"secretKeyRef": ref}})
        else:
            out.append({"name": var.name, "value": var.value})
    return out


def quantity_cpu(cpu: float) -> str:
    milli = int(round(cpu * 1000))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def quantity_bytes(size: int) -> str:
    for unit, factor in (("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def resources(res: ir.Resources | None) -> dict[str, dict[str, str]]:
    """Requests equal limits (Guaranteed QoS); GPUs only as limits, as the device plugin requires."""
    if res is None:
        return {}
    fixed: dict[str, str] = {}
    if res.cpu is not None:
        fixed["cpu"] = quantity_cpu(res.cpu)
    if res.memory is not None:
        fixed["memory"] = quantity_bytes(res.memory)
    out: dict[str, dict[str, str]] = {}
    if fixed:
        out["requests"] = dict(fixed)
    limits = dict(fixed)
    if res.gpu:
        limits["nvidia.com/gpu"] = str(res.gpu)
    if limits:
        out["limits"] = limits
    return out


def tolerations(env: ir.Environment) -> list[dict[str, str]]:
    return [{"key": key, "operator": "Exists", "effect": "NoSchedule"} for key in sorted(set(env.tolerations))]


def duration(seconds: float) -> str:
    """A Go duration string as Argo Rollouts reads it (``30m``, ``1h``, ``90s``)."""
    s = int(round(seconds))
    if s and s % 3600 == 0:
        return f"{s // 3600}h"
    if s and s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"
