"""Names: one project, no duplicates, valid identifiers, every reference resolves."""

from __future__ import annotations

import re
from collections.abc import Iterable

from compiler import ir
from compiler.diagnostics import Sink, Span, did_you_mean
from compiler.resolve import Resolved

# Names become Kubernetes object names (with '_' -> '-') and label values.
_NAME = r"^[a-z][a-z0-9_]*$"  # what _is_name matches (tests compare them)
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyz")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def _is_name(name: str) -> bool:
    """Whether ``_NAME`` matches ``name`` (``$`` also before a final newline), without
    compiling it in every cold start (issue 16)."""
    if name.endswith("\n"):
        name = name[:-1]
    return bool(name) and name[0] in _NAME_START and _NAME_CHARS.issuperset(name)


MAX_NAME = 40


def check_project(r: Resolved, sink: Sink) -> None:
    """A spec has exactly one ``project`` block.

    Failing: two files each with ``project a { }``. Passing: one.
    """
    spec = r.spec
    if not spec.projects:
        where = spec.files[0] if spec.files else "<spec>"
        sink.report(
            "SS109",
            "the spec has no 'project' block",
            Span.point(where),
            hint='add: project NAME { registry "..." owners @org/team }',
        )
    for extra in spec.projects[1:]:
        sink.report(
            "SS108",
            f"a second project '{extra.name}'",
            extra.span,
            hint=f"the project is already declared at {spec.projects[0].span.file}:{spec.projects[0].span.line}",
        )


def _dupes(items: Iterable[tuple[str, Span]], what: str, sink: Sink, code: str = "SS102") -> None:
    seen: dict[str, Span] = {}
    for key, span in items:
        if key in seen:
            first = seen[key]
            sink.report(code, f"{what} is defined twice", span, hint=f"first defined at {first.file}:{first.line}")
        else:
            seen[key] = span


def check_duplicates(r: Resolved, sink: Sink) -> None:
    """Each dataset, environment, model, training, SLA, monitor and gate is defined once.

    Failing: ``model a { } model a { }`` (in any files). Passing: distinct names.
    """
    spec = r.spec
    _dupes(((d.name, d.span) for d in spec.datasets), "dataset", sink)
    _dupes(((e.name, e.span) for e in spec.environments), "environment", sink)
    _dupes(((m.name, m.span) for m in spec.models), "model", sink)
    _dupes(((t.model.name, t.span) for t in spec.trainings), "training", sink)
    _dupes(((f"{s.model.name}@{s.environment.name}", s.span) for s in spec.slas), "SLA", sink)
    _dupes(((f"{m.model.name}@{m.environment.name}", m.span) for m in spec.monitors), "monitor", sink)
    _dupes(((f"{g.model.name}:{g.source.name}->{g.target.name}", g.span) for g in spec.gates), "gate", sink, "SS406")
    # Two overrides of one model in one environment would leave which one wins to source order.
    _dupes(((f"{o.model.name} in {e.name}", o.span) for e in spec.environments for o in e.overrides), "override", sink)
    # Names share one namespace in rendered objects (labels, file names).
    # Visit in source order so the clash is reported at the later definition.
    kinds: dict[str, tuple[str, Span]] = {}
    named = [
        (item.span, kind, item)
        for kind, items in (("dataset", spec.datasets), ("environment", spec.environments), ("model", spec.models))
        for item in items
    ]
    for _, kind, item in sorted(named, key=lambda t: (t[0], t[1])):
        other = kinds.setdefault(item.name, (kind, item.span))
        if other[0] != kind:
            article = "an" if kind[0] in "aeiou" else "a"
            sink.report(
                "SS102",
                f"'{item.name}' is both a {other[0]} and {article} {kind}",
                item.span,
                hint=f"the {other[0]} is at {other[1].file}:{other[1].line}",
            )


def check_names(r: Resolved, sink: Sink) -> None:
    """Names are lower-case identifiers of at most 40 characters.

    They become Kubernetes names (``fraud_detector`` -> ``fraud-detector``), so
    ``FraudDetector`` is refused and ``fraud_detector`` passes.
    """
    spec = r.spec
    for kind, items in (("dataset", spec.datasets), ("environment", spec.environments), ("model", spec.models)):
        for item in items:
            if not _is_name(item.name):
                sink.report(
                    "SS105",
                    f"{kind} name '{item.name}' must start with a lower-case letter and use only a-z, 0-9 and _",
                    item.span,
                    hint=f"try '{re.sub(r'[^a-z0-9_]', '_', item.name.lower())}'",
                )
            elif len(item.name) > MAX_NAME:
                sink.report("SS105", f"{kind} name '{item.name}' is longer than {MAX_NAME} characters", item.span)


def _resolve(
    ref: ir.Ref | None, table: dict[str, object], what: str, sink: Sink, others: dict[str, dict[str, object]]
) -> None:
    if ref is None or ref.name in table:
        return
    for other_kind, other in others.items():
        if ref.name in other:
            sink.report("SS103", f"'{ref.name}' is a {other_kind}, not a {what}", ref.span)
            return
    sink.report("SS101", f"unknown {what} '{ref.name}'", ref.span, hint=did_you_mean(ref.name, table))


def check_references(r: Resolved, sink: Sink) -> None:
    """Every name used refers to a definition of the right kind.

    Failing: ``serve in prdo`` (hint: did you mean 'prod'?). Passing: ``serve in prod``.
    """
    spec = r.spec
    envs: dict[str, object] = dict(r.environments)
    models: dict[str, object] = dict(r.models)
    data: dict[str, object] = dict(r.datasets)
    kinds = {"environment": envs, "model": models, "dataset": data}

    def env(ref: ir.Ref | None) -> None:
        _resolve(ref, envs, "environment", sink, {k: v for k, v in kinds.items() if k != "environment"})

    def model(ref: ir.Ref | None) -> None:
        _resolve(ref, models, "model", sink, {k: v for k, v in kinds.items() if k != "model"})

    def dataset(ref: ir.Ref | None) -> None:
        _resolve(ref, data, "dataset", sink, {k: v for k, v in kinds.items() if k != "dataset"})

    for m in spec.models:
        dataset(m.trained_on)
        for ref in m.serve_in:
            env(ref)
        for step in m.steps:
            model(step.model)
    for e in spec.environments:
        if e.shadow:
            env(e.shadow.source)
        for o in e.overrides:
            model(o.model)
    for t in spec.trainings:
        model(t.model)
        env(t.environment)
        dataset(t.dataset)
    for s in spec.slas:
        model(s.model)
        env(s.environment)
    for mon in spec.monitors:
        model(mon.model)
        env(mon.environment)
    for g in spec.gates:
        env(g.source)
        env(g.target)
        model(g.model)
        for c in g.conditions:
            dataset(c.dataset)
