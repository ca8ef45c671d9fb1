"""Promotion happens by pinning: an environment behind a gate runs the version
its override pins, which only ``shipspec promote`` (after the gate passed)
moves. An unpinned one follows the model's own ``version``, so a version bump
would reach it without passing the gate."""

from __future__ import annotations

from compiler.diagnostics import Sink
from compiler.resolve import Resolved


def check_gate_pins(r: Resolved, sink: Sink) -> None:
    """Every environment a gate leads into pins the version of the gate's model.

    Failing: ``gate staging -> prod for m { … }`` with no ``override m { version "…" }`` in
    ``prod``. Passing: ``environment prod { … override m { version "1.0.0" } }``.
    """
    spec = r.spec
    warned: set[tuple[str, str]] = set()
    for gate in spec.gates:
        gated, target = r.models.get(gate.model.name), r.environments.get(gate.target.name)
        if gated is None or target is None:
            continue
        # An ensemble's gate covers its members (they are promoted with it), so they need pins too.
        members = [r.models[s.model.name] for s in gated.steps if s.model.name in r.models]
        served = [m for m in members if any(r.name == target.name for r in m.serve_in)]
        for model in [gated, *sorted(served, key=lambda m: m.name)]:
            if model.version is None or (model.name, target.name) in warned:
                continue
            if any(o.model.name == model.name and o.version for o in target.overrides):
                continue
            warned.add((model.name, target.name))
            via = "" if model is gated else f" (a member of ensemble '{gated.name}')"
            sink.report(
                "SS640",
                f"'{target.name}' runs the version of '{model.name}'{via} the model declares ({model.version}): "
                f"changing it reaches '{target.name}' without passing this gate",
                gate.target.span,
                hint=f'pin it in environment {target.name}: override {model.name} {{ version "{model.version}" }} '
                "(shipspec promote moves the pin once the gate passes)",
            )
