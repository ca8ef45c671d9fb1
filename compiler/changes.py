"""Which models an edit changed, between two specs of one watching process.

A watching process lowers again only the files whose text changed, so every record of
every other file is the very object it was (``compiler.cache.Memory``). From that, this
module tells which models' records are not the objects they were: a backend's loop over
models can then hand back last step's work for the others whole, without making their
inputs again or asking their units one by one (``backends.memo.unit_each``).

It answers only where the answer is simple to trust: everything that is not a model's
own (the project, environments, datasets, the set and order of spec files and of model
names) must be the same objects, else it answers None (anything may have changed). A
model's own records are the model and the gates, trainings, SLAs and monitors that name
it; a model is changed when any of them is not the object it was. An ensemble reads its
members and a member's page names its ensembles, so the change spreads along ensemble
steps both ways, in either spec.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from compiler import ir

# What each model's records are besides the model itself: records naming it (``.model``).
_OWNED = ("gates", "trainings", "slas", "monitors")
# What must be left as it was for the answer to be a set.
_SHARED = ("projects", "datasets", "environments")


def changed_models(now: ir.Spec, before: ir.Spec) -> frozenset[str] | None:
    """The names of the models whose records in ``now`` are not ``before``'s objects (with
    the ensembles and members along their steps); None: a record that is not a model's own
    changed, or models came, went or moved."""
    if now is before:
        return frozenset()
    if now.files != before.files or now.project is not before.project:
        return None
    for name in _SHARED:
        if not _same(getattr(now, name), getattr(before, name)):
            return None
    if len(now.models) != len(before.models):
        return None
    changed: set[str] = set()
    for a, b in zip(now.models, before.models, strict=True):
        if a.name != b.name:
            return None
        if a is not b:
            changed.add(a.name)
    for name in _OWNED:
        changed |= _owners_changed(getattr(now, name), getattr(before, name))
    if changed:
        changed = _spread(changed, (*now.models, *before.models))
    return frozenset(changed)


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _owners_changed(now: Sequence[Any], before: Sequence[Any]) -> set[str]:
    """The models whose records (of one kind: each names its ``model``) are not the objects
    they were, in order."""
    if len(now) == len(before):
        # Most edits replace records in place: those at the places that differ are all that changed.
        return {r.model.name for a, b in zip(now, before, strict=True) if a is not b for r in (a, b)}
    mine, theirs = _by_model(now), _by_model(before)
    return {m for m in mine.keys() | theirs.keys() if not _same(mine.get(m, ()), theirs.get(m, ()))}


def _by_model(records: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for r in records:
        out.setdefault(r.model.name, []).append(r)
    return out


def _spread(changed: set[str], models: Iterable[ir.Model]) -> set[str]:
    """``changed`` and every model joined to one of them by ensemble steps, either way."""
    return _spread_over(changed, _near(models))


def _spread_over(changed: set[str], near: Mapping[str, set[str]]) -> set[str]:
    if not near:
        return changed
    out, todo = set(changed), list(changed)
    while todo:
        for other in near.get(todo.pop(), ()):
            if other not in out:
                out.add(other)
                todo.append(other)
    return out


def _near(models: Iterable[ir.Model]) -> dict[str, set[str]]:
    """Each model's neighbours along ensemble steps, either way."""
    near: dict[str, set[str]] = {}
    for m in models:
        for step in m.steps:
            near.setdefault(m.name, set()).add(step.model.name)
            near.setdefault(step.model.name, set()).add(m.name)
    return near


class OwnerStates(NamedTuple):
    """What ``changed_models`` compares, for a build that has no earlier spec's objects to
    compare with (a one-shot compile), as digests of the keys of the files records come from
    (``parse.sources.file_key``: a file's path and text, of which its records are made):
    ``shape``, of everything that is not a model's own (the spec's files, those holding the
    project, environments and datasets, and the models' names in order); and ``states``, of
    each model's own, with those of every model joined to it by ensemble steps."""

    shape: str
    states: dict[str, str]


def owner_states(spec: ir.Spec, file_keys: Mapping[str, str]) -> OwnerStates | None:
    """The spec's ``OwnerStates``; None where a record's file has no key."""
    from compiler.cache import digest

    shared: set[str] = {r.span.file for name in _SHARED for r in getattr(spec, name)}
    if spec.project is not None:
        shared.add(spec.project.span.file)
    files_of: dict[str, set[str]] = {}
    for m in spec.models:
        files_of.setdefault(m.name, set()).add(m.span.file)
    for name in _OWNED:
        for r in getattr(spec, name):
            files_of.setdefault(r.model.name, set()).add(r.span.file)
    if any(f not in file_keys for f in shared) or any(f not in file_keys for fs in files_of.values() for f in fs):
        return None
    models = (m.name for m in spec.models)
    shape = digest("shape", *spec.files, "", *(file_keys[f] for f in sorted(shared)), "", *models)
    near = _near(spec.models)
    states: dict[str, str] = {}
    for name in files_of:
        if name in states:
            continue
        joined = _spread_over({name}, near)
        files = sorted({f for model in joined for f in files_of.get(model, ())})
        state = digest("owned", *sorted(joined), "", *(file_keys[f] for f in files))
        for model in joined:
            states[model] = state
    return OwnerStates(shape, states)
