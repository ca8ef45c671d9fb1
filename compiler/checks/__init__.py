"""Semantic checks over a whole Spec.

Each check is a plain function ``(Spec, Sink) -> None``; ``CHECKS`` fixes the
order. Checks never stop at the first problem.
"""

from __future__ import annotations

from collections.abc import Callable

from compiler.checks import consistency, graph, names, policy
from compiler.diagnostics import Sink
from compiler.ir import Spec

Check = Callable[[Spec, Sink], None]

CHECKS: tuple[Check, ...] = (
    names.check_project,
    names.check_duplicates,
    names.check_names,
    names.check_references,
    graph.check_gates,
    graph.check_reachability,
    policy.check_production,
    policy.check_tiers,
    policy.check_mutable_tags,
    consistency.check_serving_targets,
    consistency.check_tensors,
    consistency.check_ensembles,
    consistency.check_sla_vs_gates,
)


def check(spec: Spec, sink: Sink) -> None:
    for run in CHECKS:
        run(spec, sink)
