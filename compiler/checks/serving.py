"""Serving behaviour a cluster would get wrong although every object is valid.

Canary weights: where the environment has no mesh gateway, the Rollout has no
``trafficRouting`` and Argo Rollouts approximates each ``setWeight`` by replica
counts (``targets.kubernetes.canary_replicas``); a step whose effective weight
differs from the asked one by more than ``TOLERANCE`` points is reported on the
gate's canary line, naming the weight it will really get.
"""

from __future__ import annotations

from compiler import ir
from compiler.checks.kept import ONE_SHOT, Lookup, Memo
from compiler.diagnostics import Sink
from compiler.resolve import Placement, Resolved
from compiler.targets.kubernetes import canary_effective_weight

TOLERANCE = 5.0  # percentage points


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def check_canary_weights(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    memo.each(_check_weights, sink, r.spec.models, memo.table("placements by model", r.served_placements))


def _check_weights(sink: Sink, model: ir.Model, placements: Lookup[int, tuple[Placement, ...]]) -> None:
    """The canary steps into each environment ``model`` is served in."""
    for placed in placements.get(id(model)) or ():
        env, gate = placed.env, placed.canary
        if gate is None or env.gateway:
            continue  # with a gateway the Rollout routes exact weights through Istio
        low, high = (placed.replicas.min, placed.replicas.max) if placed.replicas else (1, 1)
        for step in gate.canary:
            weight = int(round(step.weight * 100))
            worst = max(
                range(low, min(high, low + 200) + 1),
                key=lambda n: (abs(canary_effective_weight(n, weight) - weight), -n),
            )
            effective = canary_effective_weight(worst, weight)
            if abs(effective - weight) > TOLERANCE:
                sink.report(
                    "SS524",
                    f"canary {weight}% into '{env.name}' sends {_number(effective)}% of requests to the canary "
                    f"at {worst} replica(s): without a mesh gateway Argo Rollouts splits traffic by pod counts",
                    step.span,
                    hint=f"give '{env.name}' a mesh gateway (gateway \"NAMESPACE/GATEWAY\") for exact weights, "
                    "or choose weights the replica counts can express",
                )


def check_training_volumes(r: Resolved, sink: Sink) -> None:
    """Several training nodes write one checkpoint volume (ReadWriteMany): the
    cluster's default StorageClass is usually block storage that cannot be
    shared, and the claim would stay Pending. Name one that can."""
    for t in r.spec.trainings:
        if t.nodes > 1 and t.checkpoint is not None and t.checkpoint_class is None:
            sink.report(
                "SS525",
                f"{t.nodes} nodes share the checkpoint volume (ReadWriteMany) but no storage class "
                "is named: the default class rarely supports it",
                t.spans.get("checkpoint", t.span),
                hint='name a class with shared access: checkpoint SIZE class "efs-sc"',
            )


def check_image_digests(r: Resolved, sink: Sink) -> None:
    """A tag can be moved to other bytes; production pulls what was reviewed
    only when the image is pinned by digest too (``triton "2.51.0" digest "sha256:…"``)."""
    if r.project.triton_digest is not None:
        return
    production = [e for e in r.spec.environments if e.tier is ir.Tier.PRODUCTION and r.serves(e)]
    if not production:
        return
    declared = r.project.declared
    span = declared.spans.get("triton_version", declared.span) if declared is not None else production[0].span
    sink.report(
        "SS526",
        f"production environment '{production[0].name}' runs the Triton image by tag only "
        f"({r.project.triton_version}): a moved tag changes what production runs",
        span,
        hint=f'pin it: triton "{r.project.triton_version}" digest "sha256:…"',
    )
