"""``.github/CODEOWNERS`` from the spec's owners.

Each spec file is owned by the teams of what it defines (falling back to the
project's owners); each environment's rendered output by the project's owners,
with every model's own files there owned by the model's team.

A gate's approvers must approve what moves its model into its target, and
GitHub lets *any* listed owner of a file approve it (with "Require review from
Code Owners" on): so what a promotion changes is owned by the approvers
*alone*. That is the target's rendered files of the gated model, the target's
directory and the spec file that declares the target environment (where
``shipspec promote`` moves the version pin). CODEOWNERS is last-match-wins,
so general lines come first and these come after them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Set
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

from compiler.backends.render import Raw
from compiler.ir import Model, Spec
from compiler.resolve import Resolved
from compiler.targets import layout
from compiler.targets.kubernetes import k8s_name
from compiler.workdir import outside, relative

_UNSAFE = re.compile(r"([\s#\\])")


def _pattern(path: str) -> str:
    # Spaces and '#' would end the pattern or start a comment. Searched first: a substitution
    # expands its template on every call, and almost no path has one (issue 16: 17,000 lines).
    return path if _UNSAFE.search(path) is None else _UNSAFE.sub(r"\\\1", path)


def _repo_path(file: str) -> str | None:
    if file and file[0] != "/":
        parts = file.split("/")
        if "" not in parts and "." not in parts:  # as ``PurePosixPath`` would write it already
            return "/" + file
    p = PurePosixPath(file)
    if p.is_absolute():
        if outside(file, os.getcwd()):  # (without making its relpath to see "..")
            return None
        rel = relative(file)
        if rel.startswith(".."):
            return None
        p = PurePosixPath(rel)
    return "/" + p.as_posix()


def _line(pattern: str, owners: list[str]) -> Raw:
    unique = list(dict.fromkeys(owners))
    return Raw(f"{_pattern(pattern)} {' '.join(unique)}")


# Lines by what they are made of (a pattern's parts, then the owners), as the last step of a
# watching process made them: most of the 17,000 lines at 1,000 models are the same each step.
Known = dict[tuple[str, ...], tuple[Raw, ...]]


def _file_line(file: str, _cwd: str, owners: list[str]) -> tuple[Raw, ...]:
    path = _repo_path(file)
    return () if path is None else (_line(path, owners),)


def _model_lines(root: str, model: str, owners: list[str]) -> tuple[Raw, ...]:
    """A model's files in an environment's directory (named by its Kubernetes name, and by its
    own where that differs)."""
    name = _k8s_name(model)
    if name == model:
        return (_line(f"/{root}/**/*{name}*", owners),)
    return _line(f"/{root}/**/*{name}*", owners), _line(f"/{root}/**/*{model}*", owners)


# A model's Kubernetes name, once per model rather than once per environment it is served in.
_k8s_name = lru_cache(maxsize=4096)(k8s_name)


def codeowners_lines(r: Resolved, known: Known | None = None, keep: Known | None = None) -> list[Raw]:
    """The lines of CODEOWNERS. ``known``: what an earlier call kept into its ``keep`` (a
    watching process's last step), taken by what each line is made of."""
    found = {} if known is None else known

    def made(key: tuple[str, ...], owners: list[str], make: Callable[..., tuple[Raw, ...]]) -> tuple[Raw, ...]:
        # ``make(*key[1:], owners)``: the key (three parts for every kind) holds all the line is made of.
        if keep is None and known is None:
            return make(*key[1:], owners)
        full = (*key, *owners)
        got = found.get(full)
        if got is None:
            got = make(*key[1:], owners)
        if keep is not None:
            keep[full] = got
        return got

    spec = r.spec
    project = list(r.project.owners)
    lines: list[Raw] = []
    if project:
        lines.append(_line("*", project))
        lines.append(_line(f"/{layout.WORKFLOWS_DIR.split('/')[0]}/", project))

    # (target, model) -> the approvers of the gates into target for model; target -> all of them.
    approvers: dict[tuple[str, str], list[str]] = {}
    into: dict[str, list[str]] = {}
    gated_files: dict[str, list[str]] = {}
    for g in spec.gates:
        if g.approval:
            approvers.setdefault((g.target.name, g.model.name), []).extend(g.approval)
            into.setdefault(g.target.name, []).extend(g.approval)
    for env in spec.environments:
        if env.name in into:
            gated_files.setdefault(env.span.file, []).extend(into[env.name])

    by_file: dict[str, list[str]] = {}
    for things in (spec.models, spec.datasets):
        for thing in things:
            if thing.owners:
                by_file.setdefault(thing.span.file, []).extend(thing.owners)
    for file in sorted(set(by_file) | set(gated_files)):
        owners = gated_files.get(file) or project + by_file[file]
        # An absolute path's line depends on the directory it is made relative to (``_repo_path``).
        lines += made(("file", file, os.getcwd() if file.startswith("/") else ""), owners, _file_line)

    # Each environment's models, served or trained there: one pass over the models, not one
    # per environment (a watching process makes these lines every step).
    in_env: dict[str, dict[str, Model]] = {}
    for m in spec.models:
        for ref in m.serve_in:
            in_env.setdefault(ref.name, {})[m.name] = m
    for t in spec.trainings:
        trained = r.models.get(t.model.name) if t.environment else None
        if t.environment and trained is not None:
            in_env.setdefault(t.environment.name, {})[trained.name] = trained
    for env in spec.environments:
        models = sorted(in_env.get(env.name, {}).values(), key=lambda m: m.name)
        root = layout.env_dir(env.name)
        lines.append(_line(f"/{root}/", into.get(env.name) or project))
        for m in models:
            owners = approvers.get((env.name, m.name)) or project + list(m.owners)
            lines += made(("model", root, m.name), owners, _model_lines)
    return [line for line in lines if " " in line]


def owned_facts(spec: Spec, models: Set[str]) -> tuple[Any, ...]:
    """What ``codeowners_lines`` reads of ``models``' own records (``compiler.changes``: the
    models, and the gates and trainings naming them), with where each is among its kind.
    Two specs that ``changes.changed_models`` finds differ in ``models`` alone, and give
    the same facts here, have the same lines: all else the lines read is the same objects."""
    return (
        [(i, m.name, m.span.file, tuple(m.owners), [e.name for e in m.serve_in])
         for i, m in enumerate(spec.models) if m.name in models],
        [(i, g.model.name, g.target.name, tuple(g.approval))
         for i, g in enumerate(spec.gates) if g.model.name in models],
        [(i, t.model.name, t.environment.name if t.environment else None)
         for i, t in enumerate(spec.trainings) if t.model.name in models],
    )  # fmt: skip
