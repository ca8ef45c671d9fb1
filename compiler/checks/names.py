"""Names: one project, no duplicates, valid identifiers, every reference resolves."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from operator import attrgetter
from typing import Any

from compiler import ir
from compiler.checks.kept import ONE_SHOT, Lookup, Memo
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


def _any_twice(items: Sequence[Any], key: Callable[[Any], Hashable]) -> bool:
    """Whether two of ``items`` have one key: told in passes in C, before ``_dupes`` makes a key
    string of each (11,000 records every step of a watching process at 1,000 models). Tuples of
    names stand for the strings ``_dupes`` makes: a name holds none of the characters that join
    them (the grammar's NAME), so two tuples are equal exactly where the two strings are."""
    keys = list(map(key, items))
    return len(set(keys)) != len(keys)


_OWN_NAME = attrgetter("name")
_MODEL_NAME = attrgetter("model.name")
_PLACED = attrgetter("model.name", "environment.name")
_GATE = attrgetter("model.name", "source.name", "target.name")


def check_duplicates(r: Resolved, sink: Sink) -> None:
    """Each dataset, environment, model, training, SLA, monitor and gate is defined once.

    Failing: ``model a { } model a { }`` (in any files). Passing: distinct names.
    """
    spec = r.spec
    _dupes(((d.name, d.span) for d in spec.datasets), "dataset", sink)
    _dupes(((e.name, e.span) for e in spec.environments), "environment", sink)
    if _any_twice(spec.models, _OWN_NAME):
        _dupes(((m.name, m.span) for m in spec.models), "model", sink)
    if _any_twice(spec.trainings, _MODEL_NAME):
        _dupes(((t.model.name, t.span) for t in spec.trainings), "training", sink)
    if _any_twice(spec.slas, _PLACED):
        _dupes(((f"{s.model.name}@{s.environment.name}", s.span) for s in spec.slas), "SLA", sink)
    if _any_twice(spec.monitors, _PLACED):
        _dupes(((f"{m.model.name}@{m.environment.name}", m.span) for m in spec.monitors), "monitor", sink)
    if _any_twice(spec.gates, _GATE):
        _dupes(
            ((f"{g.model.name}:{g.source.name}->{g.target.name}", g.span) for g in spec.gates), "gate", sink, "SS406"
        )
    # Two overrides of one model in one environment would leave which one wins to source order.
    _dupes(((f"{o.model.name} in {e.name}", o.span) for e in spec.environments for o in e.overrides), "override", sink)
    # Names share one namespace in rendered objects (labels, file names).
    # Visit in source order so the clash is reported at the later definition.
    envs, data = r.environments.keys(), r.datasets.keys()
    shared = (data & envs) | (data & r.models.keys()) | (envs & r.models.keys())
    if not shared:
        return  # no name is of two kinds: no clash, and no need to sort every definition
    kinds: dict[str, tuple[str, Span]] = {}
    named = [
        (item.span, kind, item)
        for kind, items in (("dataset", spec.datasets), ("environment", spec.environments), ("model", spec.models))
        for item in items
        if item.name in shared  # the others' names are of one kind: they never clash
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


# The kinds of names a reference may name, in the order a wrong kind is looked for.
_KINDS = ("environment", "model", "dataset")
_ENVIRONMENT, _MODEL, _DATASET = range(3)
Names = Lookup[str, object]  # the definitions of one kind, by name


def check_references(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Every name used refers to a definition of the right kind.

    Failing: ``serve in prdo`` (hint: did you mean 'prod'?). Passing: ``serve in prod``.
    """
    spec = r.spec
    envs = memo.table("environments", r.environments)
    models = memo.table("models", r.models)
    data = memo.table("datasets", r.datasets)
    memo.each(_model_refs, sink, spec.models, envs, models, data)
    memo.each(_environment_refs, sink, spec.environments, envs, models, data)
    memo.each(_training_refs, sink, spec.trainings, envs, models, data)
    memo.each(_target_refs, sink, spec.slas, envs, models, data)
    memo.each(_target_refs, sink, spec.monitors, envs, models, data)
    memo.each(_gate_refs, sink, spec.gates, envs, models, data)


def _resolve(sink: Sink, ref: ir.Ref | None, kind: int, names: tuple[Names, Names, Names]) -> None:
    if ref is None or ref.name in names[kind]:
        return
    for other, defined in enumerate(names):
        if other != kind and ref.name in defined:
            sink.report("SS103", f"'{ref.name}' is a {_KINDS[other]}, not a {_KINDS[kind]}", ref.span)
            return
    sink.report("SS101", f"unknown {_KINDS[kind]} '{ref.name}'", ref.span, hint=did_you_mean(ref.name, names[kind]))


def _model_refs(sink: Sink, m: ir.Model, envs: Names, models: Names, data: Names) -> None:
    names = (envs, models, data)
    _resolve(sink, m.trained_on, _DATASET, names)
    for ref in m.serve_in:
        _resolve(sink, ref, _ENVIRONMENT, names)
    for step in m.steps:
        _resolve(sink, step.model, _MODEL, names)


def _environment_refs(sink: Sink, e: ir.Environment, envs: Names, models: Names, data: Names) -> None:
    names = (envs, models, data)
    if e.shadow:
        _resolve(sink, e.shadow.source, _ENVIRONMENT, names)
    for o in e.overrides:
        _resolve(sink, o.model, _MODEL, names)


def _training_refs(sink: Sink, t: ir.Training, envs: Names, models: Names, data: Names) -> None:
    names = (envs, models, data)
    _resolve(sink, t.model, _MODEL, names)
    _resolve(sink, t.environment, _ENVIRONMENT, names)
    _resolve(sink, t.dataset, _DATASET, names)


def _target_refs(sink: Sink, target: ir.Sla | ir.Monitor, envs: Names, models: Names, data: Names) -> None:
    """An SLA's or a monitor's."""
    names = (envs, models, data)
    _resolve(sink, target.model, _MODEL, names)
    _resolve(sink, target.environment, _ENVIRONMENT, names)


def _gate_refs(sink: Sink, g: ir.Gate, envs: Names, models: Names, data: Names) -> None:
    names = (envs, models, data)
    _resolve(sink, g.source, _ENVIRONMENT, names)
    _resolve(sink, g.target, _ENVIRONMENT, names)
    _resolve(sink, g.model, _MODEL, names)
    for c in g.conditions:
        _resolve(sink, c.dataset, _DATASET, names)
