"""``.github/CODEOWNERS`` from the spec's owners.

Each spec file is owned by the teams of what it defines (falling back to the
project's owners); each environment's rendered output by the project's owners,
with every model's own files there owned by the model's team. Production
paths are also owned by the approvers of the gates that lead into them, so a
change that bypasses a gate still needs the gate's reviewers. CODEOWNERS is
last-match-wins, so general lines come first.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath

from compiler.targets import layout
from compiler.ir import Tier
from compiler.resolve import Resolved
from compiler.backends.render import Raw
from compiler.targets.kubernetes import k8s_name

_UNSAFE = re.compile(r"([\s#\\])")


def _pattern(path: str) -> str:
    # Spaces and '#' would end the pattern or start a comment.
    return _UNSAFE.sub(r"\\\1", path)


def _repo_path(file: str) -> str | None:
    p = PurePosixPath(file)
    if p.is_absolute():
        rel = os.path.relpath(file)
        if rel.startswith(".."):
            return None
        p = PurePosixPath(rel)
    return "/" + p.as_posix()


def _line(pattern: str, owners: list[str]) -> Raw:
    unique = list(dict.fromkeys(owners))
    return Raw(f"{_pattern(pattern)} {' '.join(unique)}")


def codeowners_lines(r: Resolved) -> list[Raw]:
    spec = r.spec
    project = list(r.project.owners)
    lines: list[Raw] = []
    if project:
        lines.append(_line("*", project))
        lines.append(_line(f"/{layout.WORKFLOWS_DIR.split('/')[0]}/", project))

    by_file: dict[str, list[str]] = {}
    for things in (spec.models, spec.datasets):
        for thing in things:
            if thing.owners:
                by_file.setdefault(thing.span.file, []).extend(thing.owners)
    for file in sorted(by_file):
        path = _repo_path(file)
        if path is not None:
            lines.append(_line(path, project + by_file[file]))

    approvers: dict[tuple[str, str], list[str]] = {}
    for g in spec.gates:
        approvers.setdefault((g.target.name, g.model.name), []).extend(g.approval)
    for env in spec.environments:
        served = [m for m in spec.models if any(r.name == env.name for r in m.serve_in)]
        trained = [r.models.get(t.model.name) for t in spec.trainings if t.environment and t.environment.name == env.name]
        models = sorted({m.name: m for m in served + [m for m in trained if m]}.values(), key=lambda m: m.name)
        production = env.tier is Tier.PRODUCTION
        env_approvers = [a for (target, _), names in sorted(approvers.items()) if target == env.name for a in names]
        lines.append(_line(f"/{layout.env_dir(env.name)}/", project + (env_approvers if production else [])))
        for m in models:
            owners = project + list(m.owners)
            if production:
                owners += approvers.get((env.name, m.name), [])
            root = layout.env_dir(env.name)
            lines.append(_line(f"/{root}/**/*{k8s_name(m.name)}*", owners))
            if k8s_name(m.name) != m.name:
                lines.append(_line(f"/{root}/**/*{m.name}*", owners))
    return [line for line in lines if " " in line]
