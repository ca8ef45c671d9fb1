"""Consistency between declarations: tensors vs batching, ensembles vs their
members, SLAs vs the gates and environments they apply to."""

from __future__ import annotations

from math import prod

from compiler import ir
from compiler.checks.kept import ONE_SHOT, Lookup, Memo
from compiler.diagnostics import Sink
from compiler.resolve import Resolved


def check_serving_targets(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """An SLA, monitor or override names an environment that serves the model.

    Failing: ``sla m in prod { ... }`` where m has ``serve in staging``.
    """
    spec = r.spec
    models, envs = memo.table("models", r.models), memo.table("environments", r.environments)
    memo.each(_check_served_in, sink, spec.slas, models, envs, "SLA")
    memo.each(_check_served_in, sink, spec.monitors, models, envs, "monitor")
    for env in spec.environments:
        for o in env.overrides:
            model = r.models.get(o.model.name)
            # An ensemble's pod loads its members: an override may size a member there.
            if model and env.name not in {e.name for e in r.loaded_in(model)}:
                sink.report(
                    "SS603", f"override for '{model.name}' in '{env.name}', which does not serve it", o.model.span
                )


def _check_served_in(
    sink: Sink, item: ir.Sla | ir.Monitor, models: Lookup[str, ir.Model], envs: Lookup[str, ir.Environment], what: str
) -> None:
    """An SLA's or a monitor's (``what``) model is served in its environment."""
    model = models.get(item.model.name)
    if model and item.environment.name in envs and item.environment.name not in {r.name for r in model.serve_in}:
        sink.report(
            "SS603",
            f"{what} for '{model.name}' in '{item.environment.name}', which does not serve it",
            item.environment.span,
            hint=f"add '{item.environment.name}' to the model's 'serve in' list",
        )


def _check_batching(model: ir.Model, batching: ir.Batching | None, sink: Sink) -> None:
    if batching is None:
        return
    for size in batching.preferred:
        if batching.max_batch_size and size > batching.max_batch_size:
            sink.report(
                "SS604",
                f"preferred batch size {size} is above max {batching.max_batch_size}",
                batching.spans.get("preferred", batching.span),
            )
    if not batching.max_batch_size and (batching.preferred or batching.delay is not None):
        sink.report("SS604", "batching settings without 'max' have no effect", batching.span, hint="add: max N")
    dynamic = batching.preferred or batching.delay is not None or batching.priority_levels or batching.queue
    if model.sequence is not None and dynamic:
        # 'max' alone is Triton's max_batch_size, which the sequence batcher uses; the other
        # settings belong to the dynamic batcher, which a stateful model cannot have.
        sink.report(
            "SS604",
            "a model has either dynamic batching or a sequence batcher, not both",
            batching.span,
            hint="keep only 'max' in the batching block of a sequence model",
        )


def check_tensors(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Tensor names are unique, reshapes keep the element count, and batching
    settings agree with one another (preferred sizes at most ``max``).

    Failing: ``batching { max 8 preferred [16] }``. Passing: ``batching { max 16 preferred [16] }``.
    """
    spec = r.spec
    memo.each(_check_tensors, sink, spec.models)
    for env in spec.environments:
        for o in env.overrides:
            if (overridden := r.models.get(o.model.name)) is not None:
                _check_batching(overridden, o.batching, sink)


def _check_tensors(sink: Sink, model: ir.Model) -> None:
    seen: set[str] = set()
    for t in model.inputs + model.outputs:
        if t.name in seen:
            sink.report("SS102", f"tensor '{t.name}' is declared twice", t.span)
        seen.add(t.name)
        if not t.dims and (model.batching is None or not model.batching.max_batch_size):
            sink.report("SS604", f"tensor '{t.name}' has no dimensions and the model does not batch", t.span)
        if t.reshape is not None and -1 not in t.dims and -1 not in t.reshape:
            if prod(t.dims) != prod(t.reshape):
                sink.report(
                    "SS604",
                    f"reshape of '{t.name}' changes the element count ({prod(t.dims)} to {prod(t.reshape)})",
                    t.span,
                )
    _check_batching(model, model.batching, sink)


def check_ensembles(r: Resolved, sink: Sink) -> None:
    """Each ensemble step feeds every input of its member from an ensemble input
    or an earlier step, reads only outputs the member has, and the ensemble's
    outputs are all produced. A member needs no ``serve in`` of its own: the
    ensemble's pod loads it (its own Deployment only where ``serve in`` asks).
    """
    spec = r.spec
    for ens in spec.models:
        if ens.format is not ir.ModelFormat.ENSEMBLE:
            continue
        available = {t.name for t in ens.inputs}
        produced: set[str] = set()
        for step in ens.steps:
            member = r.models.get(step.model.name)
            if member is None:
                continue
            if member.name == ens.name or member.format is ir.ModelFormat.ENSEMBLE:
                sink.report("SS605", "an ensemble step runs a model, not an ensemble", step.model.span)
                continue
            member_inputs = {t.name: t for t in member.inputs}
            member_outputs = {t.name for t in member.outputs}
            fed = set()
            for m in step.inputs:
                if m.source not in available:
                    sink.report(
                        "SS605", f"'{m.source}' is neither an ensemble input nor an earlier step's output", m.span
                    )
                if m.target not in member_inputs:
                    sink.report("SS605", f"'{member.name}' has no input '{m.target}'", m.span)
                fed.add(m.target)
            for name, tensor in member_inputs.items():
                if name not in fed and not tensor.optional:
                    sink.report("SS605", f"step '{member.name}' leaves its input '{name}' unfed", step.span)
            for m in step.outputs:
                if m.source not in member_outputs:
                    sink.report("SS605", f"'{member.name}' has no output '{m.source}'", m.span)
                available.add(m.target)
                produced.add(m.target)
        for out in ens.outputs:
            if out.name not in produced:
                sink.report("SS605", f"no step produces the ensemble output '{out.name}'", out.span)


def check_sla_vs_gates(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """A load gate is at least as strict as the target's SLA, and a canary has
    an SLA to analyse against.

    Warning: SLA ``latency p99 < 50ms`` with gate ``load p99 < 80ms ...``.
    """
    spec = r.spec
    slas = memo.table("slas by target", {(s.model.name, s.environment.name): s for s in spec.slas})
    memo.each(_check_against_sla, sink, spec.gates, slas)


def _check_against_sla(sink: Sink, gate: ir.Gate, slas: Lookup[tuple[str, str], ir.Sla]) -> None:
    """``slas``: the (last) SLA of each model in each environment."""
    sla = slas.get((gate.model.name, gate.target.name))
    if gate.canary and (sla is None or not (sla.latency or sla.availability or sla.error_rate is not None)):
        sink.report(
            "SS602",
            f"canary into '{gate.target.name}' has no SLA of '{gate.model.name}' to analyse",
            gate.spans.get("canary", gate.span),
            hint=f"add: sla {gate.model.name} in {gate.target.name} {{ ... }}",
        )
    if gate.load is None or sla is None:
        return
    for objective in sla.latency:
        if objective.percentile == gate.load.percentile and gate.load.threshold > objective.threshold:
            sink.report(
                "SS601",
                f"load gate allows p{_pct(gate.load.percentile)} {gate.load.threshold * 1000:g}ms, "
                f"looser than the SLA's {objective.threshold * 1000:g}ms",
                gate.load.span,
                hint=f"SLA at {objective.span.file}:{objective.span.line}",
            )


def _pct(p: float) -> str:
    return f"{p:g}"
