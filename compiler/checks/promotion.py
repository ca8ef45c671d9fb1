"""Promotion happens by pinning: an environment behind a gate runs the version
its override pins, which only ``shipspec promote`` (after the gate passed)
moves. An unpinned one follows the model's own ``version``, so a version bump
would reach it without passing the gate."""

from __future__ import annotations

from compiler import ir
from compiler.checks.kept import ONE_SHOT, Lookup, Memo
from compiler.diagnostics import Diagnostic, Sink
from compiler.resolve import Resolved


def check_gate_pins(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Every environment a gate leads into pins the version of the gate's model.

    Failing: ``gate staging -> prod for m { … }`` with no ``override m { version "…" }`` in
    ``prod``. Passing: ``environment prod { … override m { version "1.0.0" } }``.
    """
    models, envs = memo.table("models", r.models), memo.table("environments", r.environments)
    warned: set[tuple[str, str]] = set()  # (model, environment): one warning each, at the first gate
    for found in memo.results(_unpinned, r.spec.gates, models, envs):
        for key, warning in found:
            if key not in warned:
                warned.add(key)
                sink.extend((warning,))


def _unpinned(
    gate: ir.Gate, models: Lookup[str, ir.Model], envs: Lookup[str, ir.Environment]
) -> tuple[tuple[tuple[str, str], Diagnostic], ...]:
    """The warning for each model ``gate`` promotes without a pin in its target, with its
    (model, environment)."""
    gated, target = models.get(gate.model.name), envs.get(gate.target.name)
    if gated is None or target is None:
        return ()
    members = [m for s in gated.steps if (m := models.get(s.model.name)) is not None]
    out = Sink()
    keys = []
    # An ensemble's gate covers its members (they are promoted with it), so they need pins too.
    served = [m for m in members if any(r.name == target.name for r in m.serve_in)]
    for model in [gated, *sorted(served, key=lambda m: m.name)]:
        if model.version is None:
            continue
        if any(o.model.name == model.name and o.version for o in target.overrides):
            continue
        via = "" if model is gated else f" (a member of ensemble '{gated.name}')"
        out.report(
            "SS640",
            f"'{target.name}' runs the version of '{model.name}'{via} the model declares ({model.version}): "
            f"changing it reaches '{target.name}' without passing this gate",
            gate.target.span,
            hint=f'pin it in environment {target.name}: override {model.name} {{ version "{model.version}" }} '
            "(shipspec promote moves the pin once the gate passes)",
        )
        keys.append((model.name, target.name))
    return tuple(zip(keys, out.items, strict=True))
