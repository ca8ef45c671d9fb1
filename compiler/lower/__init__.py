"""Syntax tree to IR: types every literal, normalises units, keeps spans.

Problems local to one statement (a wrong unit, a percentage over 100, a
repeated statement, a missing required one) are reported here; problems that
need the whole spec are the checks' business. One module per block kind;
``values`` holds what they share, ``statements`` the statements several kinds take.
"""

from __future__ import annotations

from collections.abc import Callable

from compiler.diagnostics import Sink
from compiler.lark_standalone import Token, Tree
from compiler.lower import limits, secrets_scan
from compiler.lower.environments import lower_environment
from compiler.lower.gates import lower_gate
from compiler.lower.models import lower_model
from compiler.lower.project import lower_dataset, lower_project
from compiler.lower.slas import lower_monitor, lower_sla
from compiler.lower.training import lower_training
from compiler.lower.values import Lowering

__all__ = ["BLOCKS", "Lowering", "lower_file"]

# Block kind (the grammar rule's name) -> its lowering.
BLOCKS: dict[str, Callable[[Lowering, Tree[Token]], object]] = {
    "project": lower_project,
    "dataset": lower_dataset,
    "environment": lower_environment,
    "model": lower_model,
    "training": lower_training,
    "sla": lower_sla,
    "monitor": lower_monitor,
    "gate": lower_gate,
}


def lower_file(tree: Tree[Token], path: str, sink: Sink) -> list[object]:
    """The IR nodes of one parsed file, in the order its blocks appear."""
    cx = Lowering(path, sink)
    cx.refused = limits.screen(tree, sink, cx.span)  # issue 17: every number has a range
    secrets_scan.screen(tree, sink, cx.span)  # issue 17: secrets, ${{ and path values in strings
    out = []
    for block in tree.children:
        if isinstance(block, Tree) and (lower := BLOCKS.get(str(block.data))) is not None:
            out.append(lower(cx, block))
    return out
