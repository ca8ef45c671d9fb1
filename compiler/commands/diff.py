"""``shipspec diff --base REV``: what a change to the spec does to each environment.

The spec is compiled twice in memory, as it was at REV (read with ``git show``,
nothing is checked out) and as it is in the working tree; the rendered files
are compared per environment and, for YAML objects, field by field.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from compiler.errors import UsageError
from compiler.output import OutputFile

if TYPE_CHECKING:
    from compiler.pipeline import Build

_MISSING = object()


class GitError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    status: str  # added | removed | changed
    fields: tuple[tuple[str, Any, Any], ...] = ()


def _git(args: Sequence[str], cwd: Path) -> bytes:
    try:
        r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {' '.join(args)}: {exc}") from exc
    if r.returncode != 0:
        raise GitError(r.stderr.decode(errors="replace").strip() or f"git {' '.join(args)} failed")
    return r.stdout


def materialise(rev: str, spec_dirs: Sequence[Path], dest: Path) -> None:
    """Write the spec files of ``rev`` under ``dest`` at the same relative paths."""
    top = Path(_git(["rev-parse", "--show-toplevel"], Path.cwd()).decode().strip())
    prefix = Path.cwd().resolve().relative_to(top.resolve())
    for spec in spec_dirs:
        rel = (prefix / spec).as_posix()
        names = _git(["ls-tree", "-r", "-z", "--name-only", rev, "--", rel], top).split(b"\0")
        for name in filter(None, names):
            path = name.decode()
            if not path.endswith(".ship"):
                continue
            target = dest / Path(path).relative_to(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_git(["show", f"{rev}:{path}"], top))


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for k in value:
            yield from _flatten(value[k], f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        # Lists of named things (containers, ports, env) compare by name, not position.
        for v in value:
            yield from _flatten(v, f"{prefix}[{v['name']}]")
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from _flatten(v, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _docs(f: OutputFile | None) -> dict[str, Any]:
    if f is None:
        return {}
    docs = list(f.documents)
    if not docs and f.path.endswith((".yaml", ".yml")):
        try:
            docs = [d for d in yaml.safe_load_all(f.text) if isinstance(d, dict)]
        except yaml.YAMLError:
            docs = []
    if not docs:
        return {f"line {i}": line for i, line in enumerate(f.text.splitlines(), 1)}
    merged: dict[str, Any] = {}
    for i, doc in enumerate(docs):
        for key, value in _flatten(doc):
            merged[f"[{i}].{key}" if len(docs) > 1 else key] = value
    return merged


def compare(old: Sequence[OutputFile], new: Sequence[OutputFile]) -> list[FileChange]:
    before = {f.path: f for f in old}
    after = {f.path: f for f in new}
    changes = []
    for path in sorted(before.keys() | after.keys()):
        a, b = before.get(path), after.get(path)
        if a is None:
            changes.append(FileChange(path, "added"))
        elif b is None:
            changes.append(FileChange(path, "removed"))
        elif a.text != b.text:
            fa, fb = _docs(a), _docs(b)
            fields = tuple(
                (key, fa.get(key, _MISSING), fb.get(key, _MISSING))
                for key in sorted(fa.keys() | fb.keys())
                if fa.get(key, _MISSING) != fb.get(key, _MISSING)
            )
            changes.append(FileChange(path, "changed", fields))
    return changes


def group(path: str) -> str:
    parts = path.split("/")
    if parts[0] == "deploy" and len(parts) > 2:
        return parts[1]
    return "ci" if path.startswith(".github/") else "other"


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(absent)"
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    return text if len(text) <= 80 else text[:77] + "..."


def render_report(changes: Sequence[FileChange], markdown: bool) -> str:
    if not changes:
        return "No rendered output changes.\n"
    out: list[str] = []
    groups: dict[str, list[FileChange]] = {}
    for c in changes:
        groups.setdefault(group(c.path), []).append(c)
    if markdown:
        out.append("## shipspec: what this change renders\n")
    for name in sorted(groups):
        items = groups[name]
        counts = {s: sum(c.status == s for c in items) for s in ("added", "changed", "removed")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        out.append(f"### {name} ({summary})\n" if markdown else f"{name}: {summary}\n")
        for c in items:
            out.append(f"- {c.status} `{c.path}`\n" if markdown else f"  {c.status} {c.path}\n")
            for key, was, now in c.fields[:20]:
                line = f"{key}: {_show(was)} -> {_show(now)}"
                out.append(f"  - `{line}`\n" if markdown else f"      {line}\n")
            if len(c.fields) > 20:
                out.append(
                    f"  - … {len(c.fields) - 20} more fields\n" if markdown else f"      … {len(c.fields) - 20} more\n"
                )
        if markdown:
            out.append("\n")
    return "".join(out)


def base_files(rev: str, spec_dirs: Sequence[Path], templates: Path | None) -> tuple[list[OutputFile], Build]:
    """Compile the spec as it was at ``rev``; returns (files, build)."""
    from compiler.pipeline import build

    with tempfile.TemporaryDirectory() as tmp:
        materialise(rev, spec_dirs, Path(tmp))
        old = os.getcwd()
        os.chdir(tmp)  # same relative paths, so headers and spans compare equal
        try:
            result = build([Path(s) for s in spec_dirs], templates.resolve() if templates else None)
        finally:
            os.chdir(old)
    return list(result.files), result


@dataclass(frozen=True, slots=True)
class Changes:
    """``shipspec diff``: the report, and whether the spec at the base revision compiled."""

    text: str
    base_compiles: bool


def against(
    rev: str, inputs: Sequence[Path], templates: Path | None, new: Sequence[OutputFile], markdown: bool
) -> Changes:
    """What ``new`` renders differently from the spec at ``rev`` (all of it when that does not compile).

    Raises UsageError when git cannot produce the spec at ``rev``."""
    relative = [Path(os.path.relpath(p)) for p in inputs]
    try:
        old_files, old = base_files(rev, relative, templates)
    except GitError as exc:
        raise UsageError(f"cannot read the spec at {rev}: {exc}") from exc
    if old.has_errors:
        old_files = []
    found = compare(old_files, list(new))
    return Changes(render_report(found, markdown=markdown), base_compiles=not old.has_errors)
