"""Semantic checks over a whole Spec.

Each check is a plain function ``(Resolved, Sink) -> None``: it reads the spec
(``resolved.spec``) and the placements the resolve stage decided. ``CHECKS``
fixes the order. Checks never stop at the first problem.

The checks in ``KEEPING`` (those that take a ``kept.Memo``) do their work per item in
functions the memo calls: a watching process passes ``check`` its ``kept.Kept``, and an item whose records, and those
it looks up, are last step's takes last step's diagnostics (``compiler.checks.kept``).
The others run whole: they go over the project, the environments or the trainings (a
few), compare each item with every other of its kind (``names.check_duplicates``), or
cost next to nothing (``names.check_names``, ``k8s_policy.check_kubernetes``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from compiler.checks import consistency, graph, k8s_policy, names, policy, promotion, serving, slo, triton
from compiler.checks.kept import ONE_SHOT, Kept, Memo
from compiler.diagnostics import Sink
from compiler.resolve import Resolved

Check = Callable[[Resolved, Sink], None]
Keeping = Callable[[Resolved, Sink, Memo], None]

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


# The checks that take a ``memo`` (their third parameter): said once, by their signatures,
# not in a second list beside ``CHECKS``.
KEEPING: frozenset[Check] = frozenset(run for run in CHECKS if run.__code__.co_argcount == 3)


def check(resolved: Resolved, sink: Sink, kept: Kept | None = None) -> None:
    """Every check in ``CHECKS`` order; ``kept``: what a watching process's last step kept."""
    memo = ONE_SHOT if kept is None else kept.begin()
    for run in CHECKS:
        if run in KEEPING:
            cast(Keeping, run)(resolved, sink, memo)
        else:
            run(resolved, sink)
    if kept is not None:
        kept.end()
