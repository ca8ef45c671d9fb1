"""Find the spec files, parse and lower each, and merge them into one Spec."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from compiler import ir
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.lower import lower_file
from compiler.parallel import fork_pool, worker_count
from compiler.parse.syntax import SourceFile, parse_text, read_source

SUFFIX = ".ship"


@dataclass(frozen=True, slots=True)
class Loaded:
    spec: ir.Spec
    sources: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]


def display_path(path: Path) -> str:
    """The path as users see it: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path.as_posix()
    return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()


def discover(inputs: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    sink = Sink()
    files: set[Path] = set()
    for item in inputs:
        if item.is_dir():
            files.update(p for p in item.rglob(f"*{SUFFIX}") if p.is_file())
        elif item.exists():
            files.add(item)
        else:
            sink.report("SS001", "no such file or directory", Span.point(display_path(item)))
    if not files and not sink.items:
        where = ", ".join(display_path(i) for i in inputs)
        sink.report("SS004", f"no *{SUFFIX} files under {where}", Span.point(where))
    return sorted(files, key=lambda p: p.as_posix()), sink.items


# Below this many files a process pool costs more than it saves.
PARALLEL_FROM = 200


def _load_one(path: Path) -> tuple[str, str | None, list[object], list[Diagnostic]]:
    """Read, parse and lower one file; the syntax tree stays in the worker."""
    display = display_path(path)
    sink = Sink()
    text, errors = read_source(path, display)
    sink.extend(errors)
    nodes: list[object] = []
    if text is not None:
        source, errors = parse_text(text, display)
        sink.extend(errors)
        if source.tree is not None:
            nodes = lower_file(source.tree, display, sink)
    return display, text, nodes, sink.items


def _load_all(files: list[Path]) -> list[tuple[str, str | None, list[object], list[Diagnostic]]]:
    workers = worker_count(len(files)) if len(files) >= PARALLEL_FROM else 1
    if workers < 2:
        return [_load_one(p) for p in files]
    from compiler.parse.syntax import parser

    parser()  # built once in the parent; forked workers inherit it
    pool = fork_pool(workers)
    if pool is None:  # pragma: no cover - platforms without fork
        return [_load_one(p) for p in files]
    with pool:
        return list(pool.map(_load_one, files, chunksize=max(1, len(files) // (workers * 4))))


def load(inputs: Sequence[Path]) -> Loaded:
    files, problems = discover(inputs)
    sink = Sink(list(problems))
    sources: list[SourceFile] = []
    nodes: list[object] = []
    for display, text, file_nodes, errors in _load_all(files):
        sink.extend(errors)
        if text is None:
            continue
        sources.append(SourceFile(display, text, None, ()))
        nodes.extend(file_nodes)
    spec = merge(nodes, tuple(s.path for s in sources))
    return Loaded(spec, tuple(sources), tuple(sink.sorted()))


def load_text(text: str, path: str = "<spec>") -> Loaded:
    """Load one in-memory spec file (for tests and tools)."""
    sink = Sink()
    source, errors = parse_text(text, path)
    sink.extend(errors)
    nodes = lower_file(source.tree, path, sink) if source.tree is not None else []
    return Loaded(merge(nodes, (path,)), (source,), tuple(sink.sorted()))


class _Block(Protocol):
    @property
    def span(self) -> Span: ...


_B = TypeVar("_B", bound=_Block)


def _by_name(nodes: Iterable[object], kind: type[_B], key: str = "name") -> tuple[_B, ...]:
    chosen = [n for n in nodes if isinstance(n, kind)]

    def sort_key(n: _B) -> tuple[str, Span]:
        value = getattr(n, key)
        return (value.name if isinstance(value, ir.Ref) else value, n.span)

    return tuple(sorted(chosen, key=sort_key))


def merge(nodes: list[object], files: tuple[str, ...]) -> ir.Spec:
    projects = _by_name(nodes, ir.Project)
    gates = tuple(
        sorted(
            (n for n in nodes if isinstance(n, ir.Gate)),
            key=lambda g: (g.model.name, g.source.name, g.target.name, g.span),
        )
    )
    return ir.Spec(
        files=tuple(sorted(files)),
        project=projects[0] if projects else None,
        projects=projects,
        datasets=_by_name(nodes, ir.Dataset),
        environments=_by_name(nodes, ir.Environment),
        models=_by_name(nodes, ir.Model),
        trainings=_by_name(nodes, ir.Training, "model"),
        slas=tuple(
            sorted(
                (n for n in nodes if isinstance(n, ir.Sla)), key=lambda s: (s.model.name, s.environment.name, s.span)
            )
        ),
        monitors=tuple(
            sorted(
                (n for n in nodes if isinstance(n, ir.Monitor)),
                key=lambda s: (s.model.name, s.environment.name, s.span),
            )
        ),
        gates=gates,
    )
