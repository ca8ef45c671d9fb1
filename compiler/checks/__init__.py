"""Semantic checks over a whole Spec.

Each check is a plain function ``(Resolved, Sink) -> None``: it reads the spec
(``resolved.spec``) and the placements the resolve stage decided. ``CHECKS``
fixes the order. Checks never stop at the first problem.
"""

from __future__ import annotations

from collections.abc import Callable

from compiler.checks import consistency, graph, k8s_policy, names, policy, promotion, serving, slo, triton
from compiler.diagnostics import Sink
from compiler.resolve import Resolved

Check = Callable[[Resolved, Sink], None]

CHECKS: tuple[Check, ...] = (
    names.check_project,
    names.check_duplicates,
    names.check_names,
    names.check_references,
    graph.check_gates,
    graph.check_reachability,
    promotion.check_gate_pins,
    policy.check_production,
    policy.check_tiers,
    policy.check_mutable_tags,
    consistency.check_serving_targets,
    consistency.check_tensors,
    consistency.check_ensembles,
    consistency.check_sla_vs_gates,
    slo.check_slo_periods,
    slo.check_slo_objectives,
    slo.check_monitor_directions,
    k8s_policy.check_kubernetes,
    serving.check_canary_weights,
    serving.check_training_volumes,
    serving.check_image_digests,
    triton.check_models,
    triton.check_serving_fields,
    triton.check_ensembles,
    triton.check_targets,
)


def check(resolved: Resolved, sink: Sink) -> None:
    for run in CHECKS:
        run(resolved, sink)
