"""Rules Triton applies when it loads a model, checked on the spec before Triton sees the file.

Each rule names the Triton message it stands for, so a failure here reads like
the server's log would, but points at the spec line. Version-aware: what the
pinned server version cannot do is reported too.
"""

from __future__ import annotations

from compiler import ir
from compiler.checks.kept import ONE_SHOT, Lookup, Memo
from compiler.diagnostics import Sink, Span
from compiler.resolve import Placement, Resolved
from compiler.targets.triton import supports_model_metrics
from compiler.targets.triton_rules import (
    Control,
    Problem,
    batch_input_problem,
    batch_output_problem,
    cache_with_decoupled,
    cache_with_sequence,
    control_problems,
    preferred_problems,
    preserve_ordering_problems,
    priority_problems,
    reshape_problem,
    slot_utilization_problems,
)

# What layout.triton_version_dir maps; anything else lands in directory 1 (tests compare _semver with it).
_SEMVER = r"\d{1,3}\.\d{1,3}\.\d{1,3}"


def _semver(version: str) -> bool:
    """Whether ``version`` is MAJOR.MINOR.PATCH of at most 3 digits each, as ``_SEMVER``
    fullmatches it (a digit: ``str.isdecimal``, as ``\\d``), without compiling it (issue 16)."""
    parts = version.split(".")
    return len(parts) == 3 and all(0 < len(part) <= 3 and part.isdecimal() for part in parts)


def _max_batch(r: Resolved, model: ir.Model, env: ir.Environment | None) -> int:
    batching = r.place(model, env).batching if env is not None else model.batching
    return batching.max_batch_size if batching else 0


def _reshape_problem(t: ir.Tensor, batches: bool) -> str | None:
    """Triton's reshape rules (shared with import and the rendered-config check); SS604 reports a plain
    element-count mismatch of fixed shapes."""
    assert t.reshape is not None
    if t.reshape and -1 not in t.dims and -1 not in t.reshape:
        return None
    return reshape_problem(t.dims, t.reshape, batches)


def _check_micros(what: str, seconds: float | None, span: Span, sink: Sink) -> None:
    if seconds is not None and 0 < seconds and round(seconds * 1_000_000) == 0:
        sink.report(
            "SS310",
            f"{what} of {seconds * 1e6:g}us rounds to 0 in Triton's microsecond field, which means 'none'",
            span,
            hint="use at least 1us",
        )


def check_models(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Per-model load-time rules: reshape, microsecond fields, ensemble-only settings, version directory.

    Failing: ``input x: fp32[2, -1] reshape [2, 2]`` (Triton: different size for dims and reshape).
    """
    memo.each(_check_model, sink, r.spec.models)


def _check_model(sink: Sink, model: ir.Model) -> None:
    batches = bool(model.batching and model.batching.max_batch_size)
    for kind, tensors in (("input", model.inputs), ("output", model.outputs)):
        for t in tensors:
            if t.reshape is not None and (problem := _reshape_problem(t, batches)):
                sink.report("SS613", f"model {kind} '{t.name}' {problem}", t.span)
    if model.batching is not None:
        _check_micros(
            "batching delay", model.batching.delay, model.batching.spans.get("delay", model.batching.span), sink
        )
        if model.batching.queue is not None:
            _check_micros("queue timeout", model.batching.queue.timeout, model.batching.queue.span, sink)
    if model.sequence is not None:
        _check_micros("sequence idle time", model.sequence.idle, model.sequence.span, sink)
    if model.format is ir.ModelFormat.ENSEMBLE:
        _check_ensemble_settings(model, sink)
    if model.version is not None and not _semver(model.version):
        sink.report(
            "SS311",
            f"version '{model.version}' is not MAJOR.MINOR.PATCH (each at most 999); "
            "Triton will serve it from version directory 1, so newer releases cannot be ordered",
            model.spans.get("version", model.span),
            hint='use a semantic version such as "1.4.2"',
        )


def _refuse(sink: Sink, model: ir.Model, problems: list[Problem], span: Span) -> None:
    for problem in problems[:1]:  # Triton stops at the first
        sink.report("SS614", f"Triton refuses model '{model.name}': {problem.message}", span)


_CONTROL_FIELDS = {"int32": "int32_false_true", "fp32": "fp32_false_true", "bool": "bool_false_true"}


def _controls(seq: ir.Sequence) -> list[tuple[str, list[Control]]]:
    """The spec's control statements as the control_input entries they render (one each)."""
    out = []
    for c in seq.controls:
        kind = f"CONTROL_SEQUENCE_{c.kind.upper()}"
        if c.kind == "corrid":
            out.append((c.tensor, [Control(kind, f"TYPE_{c.dtype.upper()}")]))
        else:
            out.append((c.tensor, [Control(kind, values=((_CONTROL_FIELDS[c.dtype], 2),))]))
    return out


def check_serving_fields(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Triton's load-time rules for batch inputs/outputs, priority queues, ``preserve_ordering``,
    sequence controls and strategy settings, and ``decoupled`` (the functions of
    ``targets.triton_rules`` that also judge rendered and imported configs), at the spec line.

    Failing: ``batching { priorities 2 default 1  preserve_ordering }`` (Triton: Only one priority
    level is allowed when 'preserve_ordering' is true).
    """
    memo.each(_check_fields, sink, r.spec.models)


def _check_fields(sink: Sink, model: ir.Model) -> None:
    inputs = {t.name for t in model.inputs}
    outputs = {t.name for t in model.outputs}
    for bi in model.batch_inputs:
        kind, dtype = "BATCH_" + bi.kind.upper(), "TYPE_" + bi.dtype.upper()
        if problem := batch_input_problem(kind, dtype, [bi.source], inputs):
            _refuse(sink, model, [problem], bi.span)
    for bo in model.batch_outputs:
        if problem := batch_output_problem("BATCH_" + bo.kind.upper(), [bo.source], [bo.target], inputs, outputs):
            _refuse(sink, model, [problem], bo.span)
    b = model.batching
    if b is not None:
        levels = b.priority_levels or 0
        span = b.spans.get("priorities", b.span)
        queue_levels = [lvl for lvl, _ in b.priority_queues]
        _refuse(sink, model, priority_problems(levels, b.default_priority or 0, queue_levels), span)
        if b.priority_queues and not levels:
            level, _ = b.priority_queues[0]
            sink.report(
                "SS606",
                f"'queue {level}' has no effect without 'priorities' (Triton ignores per-priority queue policies then)",
                b.spans.get(f"queue.{level}", b.span),
            )
        if b.preserve_ordering:
            policies = [q for q in (b.queue, *(q for _, q in b.priority_queues)) if q is not None]
            delaying = any(q.timeout and q.on_timeout == "delay" for q in policies)
            _refuse(sink, model, preserve_ordering_problems(levels, delaying), b.spans.get("preserve_ordering", b.span))
    seq = model.sequence
    if seq is not None:
        if model.cache:
            cached = [Problem("cache", cache_with_sequence(model.name))]
            _refuse(sink, model, cached, model.spans.get("cache", seq.span))
        problems = control_problems(_controls(seq))
        if problems:
            # The statement of the second tensor of a kind (or of a repeated tensor name) is the culprit.
            names = [c.tensor for c in seq.controls]
            kinds = [c.kind for c in seq.controls]
            culprit = next((i for i in range(len(names)) if names[i] in names[:i] or kinds[i] in kinds[:i]), 0)
            _refuse(sink, model, problems, seq.spans.get(f"control.{culprit}", seq.span))
        if seq.strategy == "oldest" and seq.preferred:
            max_batch = model.batching.max_batch_size if model.batching else 0
            what = "sequence batching preferred batch size"
            _refuse(
                sink,
                model,
                preferred_problems(seq.preferred, max_batch, what),
                seq.spans.get("strategy.preferred", seq.span),
            )
        if seq.strategy == "direct" and seq.utilization is not None:
            _refuse(
                sink,
                model,
                slot_utilization_problems(seq.utilization),
                seq.spans.get("strategy.st_utilization", seq.span),
            )
    if model.decoupled and model.cache:
        cached = [Problem("cache", cache_with_decoupled(model.name))]
        _refuse(sink, model, cached, model.spans.get("decoupled", model.span))


def _check_ensemble_settings(model: ir.Model, sink: Sink) -> None:
    b = model.batching
    if b is not None and (
        b.preferred
        or b.delay is not None
        or b.priority_levels
        or b.queue is not None
        or b.preserve_ordering
        or b.priority_queues
    ):
        sink.report(
            "SS612",
            "an ensemble has no dynamic batcher: only 'max' applies to it (its members batch on their own)",
            b.span,
            hint="move these settings to the member models",
        )
    if model.sequence is not None:
        sink.report("SS612", "an ensemble cannot have a sequence batcher", model.sequence.span)
    if "instances" in model.spans:
        sink.report("SS612", "instance group should not be specified for an ensemble", model.spans["instances"])


def _full_shape(t: ir.Tensor, batches: bool) -> tuple[int, ...]:
    return ((-1,) if batches else ()) + t.dims


def _compatible(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return len(a) == len(b) and all(x == y or -1 in (x, y) for x, y in zip(a, b, strict=True))


def check_ensembles(r: Resolved, sink: Sink) -> None:
    """Ensemble tensors agree in type and shape across steps, and no member batches less than the ensemble.

    Failing: an ensemble with ``batching { max 16 }`` whose member has ``batching { max 8 }``.
    """
    spec = r.spec
    for ens in spec.models:
        if ens.format is not ir.ModelFormat.ENSEMBLE:
            continue
        ens_batches = bool(ens.batching and ens.batching.max_batch_size)
        # ensemble tensor -> (dtype, shape, who declared it) as first seen
        seen: dict[str, tuple[str, tuple[int, ...], str]] = {}
        for t in ens.inputs + ens.outputs:
            seen[t.name] = (t.dtype, _full_shape(t, ens_batches), f"ensemble {ens.name}")
        for step in ens.steps:
            member = r.models.get(step.model.name)
            if member is None or member.format is ir.ModelFormat.ENSEMBLE:
                continue
            member_batches = bool(member.batching and member.batching.max_batch_size)
            tensors = {t.name: t for t in member.inputs + member.outputs}
            pairs = [(m.source, m.target, m.span) for m in step.inputs] + [
                (m.target, m.source, m.span) for m in step.outputs
            ]
            for ens_tensor, member_tensor, span in pairs:
                found = tensors.get(member_tensor)
                if found is None:
                    continue  # SS605 reports it
                t = found
                shape = _full_shape(t, member_batches)
                if ens_tensor not in seen:
                    seen[ens_tensor] = (t.dtype, shape, f"model {member.name}")
                    continue
                dtype0, shape0, who = seen[ens_tensor]
                if dtype0 != t.dtype:
                    sink.report(
                        "SS610",
                        f"in ensemble {ens.name}, ensemble tensor {ens_tensor}: inconsistent data "
                        f"type: {t.dtype} from model {member.name} while {dtype0} from {who}",
                        span,
                    )
                elif not _compatible(shape0, shape):
                    sink.report(
                        "SS610",
                        f"in ensemble {ens.name}, ensemble tensor {ens_tensor}: inconsistent shape: "
                        f"{list(shape)} from model {member.name} while {list(shape0)} from {who}",
                        span,
                    )
        for env in r.served(ens):
            ens_max = _max_batch(r, ens, env)
            for step in ens.steps:
                member = r.models.get(step.model.name)
                if member is None:
                    continue
                if ens_max > (member_max := _max_batch(r, member, env)):
                    sink.report(
                        "SS611",
                        f"ensemble {ens.name} allows maximum batch size {ens_max} in {env.name}, but "
                        f"it contains model {member.name} which only allows {member_max}",
                        step.model.span,
                        hint=f"lower the ensemble's 'max' to {member_max} or raise the member's",
                    )


def check_targets(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """What the environments' hardware and the pinned version mean for the rendered configs.

    Note: a model with ``resources { gpu 1 }`` served in a development environment runs on CPU there.
    (The pinned-version warning for latency histograms, SS740, comes from the monitoring backend at compile
    time, where the choice between histogram buckets and summary quantiles is made.)
    """
    spec = r.spec
    version = r.project.triton_version
    if not supports_model_metrics(version):
        for sla in spec.slas:
            model = r.models.get(sla.model.name)
            if model is not None and model.cache and sla.latency:
                sink.report(
                    "SS713",
                    f"with the response cache on, Triton publishes no request-latency summary for "
                    f"'{model.name}' (seen on 2.51), and {version} has no latency histograms: its latency SLO "
                    f"in '{sla.environment.name}' cannot be measured",
                    model.spans.get("cache", model.span),
                    hint='turn the cache off, or pin triton "2.52.0" or later for latency histograms',
                )
    memo.each(_check_on_cpu, sink, spec.models, memo.table("placements by model", r.served_placements))


def _check_on_cpu(sink: Sink, model: ir.Model, placements: Lookup[int, tuple[Placement, ...]]) -> None:
    """``model`` in each environment it is served in."""
    for placed in placements.get(id(model)) or ():
        res = placed.resources
        if res and res.gpu > 0 and not placed.uses_gpu:
            sink.report(
                "SS711",
                f"'{model.name}' asks for {res.gpu} GPU(s) but runs CPU instances, in a pod "
                f"that asks for none, in development environment '{placed.env.name}'",
                res.span,
            )
