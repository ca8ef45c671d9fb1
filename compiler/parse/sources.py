"""Find the spec files, parse and lower each, and merge them into one Spec."""

from __future__ import annotations

import functools
import os
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, compress, repeat
from operator import attrgetter, is_not
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from compiler import ir
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.lower import lower_file
from compiler.parallel import fork_pool, worker_count
from compiler.parse.syntax import SourceFile, parse_text, read_source
from compiler.records import Record, record
from compiler.workdir import outside, relative

if TYPE_CHECKING:
    from compiler.parse import ir_pack

SUFFIX = ".ship"


@record
class Loaded(Record):
    spec: ir.Spec
    sources: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]


def display_path(path: Path | str) -> str:
    """The path as users see it: relative to the working directory when inside it."""
    return _display(os.fspath(path), os.getcwd())


def display_paths(paths: Iterable[Path | str]) -> list[str]:
    """``display_path`` of each, the working directory asked once (a watching step shows
    every spec file's path twice: a ``getcwd`` each was ~1 ms of it at 1,000 files)."""
    cwd = os.getcwd()
    return [_display(os.fspath(path), cwd) for path in paths]


@functools.lru_cache(maxsize=1 << 16)
def _display(name: str, cwd: str) -> str:
    # Kept per working directory (it depends on it): a one-shot compile asks it of every spec
    # file twice (whether anything changed, then the load), a watching one every step.
    if outside(name, cwd):  # its relative path would climb out (``..``): shown as given
        return Path(name).as_posix()
    try:
        rel = relative(name)
    except ValueError:  # another drive on Windows
        return Path(name).as_posix()
    if rel.startswith(".."):
        return Path(name).as_posix()
    return rel if os.sep == "/" else Path(rel).as_posix()  # relpath's is normalised already


def discover(inputs: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    sink = Sink()
    files: set[str] = set()
    for item in inputs:
        if item.is_dir():
            _walk(os.fspath(item), files)
        elif item.exists():
            files.add(os.fspath(item))
        else:
            sink.report("SS001", "no such file or directory", Span.point(display_path(item)))
    if not files and not sink.items:
        where = ", ".join(display_path(i) for i in inputs)
        sink.report("SS004", f"no *{SUFFIX} files under {where}", Span.point(where))
    found = [_path(f) for f in files]
    return sorted(found, key=lambda p: p.as_posix()), sink.items


@functools.lru_cache(maxsize=1 << 16)
def _path(name: str) -> Path:
    # A watching process discovers the same files every poll and step: a Path each was most of it.
    return Path(name)


def _walk(top: str, out: set[str]) -> None:
    """Add every ``*.ship`` file under ``top`` to ``out``, as ``Path.rglob`` then ``is_file``
    find them: symlinked directories are not entered, a symlink to a file counts, an
    unreadable directory is skipped. ``rglob`` built and hashed a path object per entry,
    most of a ``compile --watch`` poll at 1,000 files."""
    try:
        with os.scandir(top) as it:
            entries = list(it)
    except OSError:  # unreadable, or gone since its parent was listed
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                _walk(entry.path, out)
            elif os.path.normcase(entry.name).endswith(SUFFIX) and entry.is_file():
                out.add(entry.path)
        except OSError:
            continue


# Below this many files a process pool costs more than it saves.
PARALLEL_FROM = 200


class Store(Protocol):
    """Where lowered files are kept between loads (``compiler.cache.Cache`` on disk,
    a ``compiler.cache.Memory`` in a watching process)."""

    def get(self, kind: str, key: str) -> Any: ...

    def put(self, kind: str, key: str, value: Any) -> None: ...


_Parsed = tuple[list[object], list[Diagnostic]]


def _parse_one(item: tuple[str, str]) -> _Parsed:
    """Parse and lower one file's text; the syntax tree stays in the worker."""
    display, text = item
    sink = Sink()
    source, errors = parse_text(text, display)
    sink.extend(errors)
    nodes: list[object] = []
    if source.tree is not None:
        nodes = lower_file(source.tree, display, sink)
    return nodes, sink.items


def _parse_all(items: list[tuple[str, str]]) -> list[_Parsed]:
    workers = worker_count(len(items)) if len(items) >= PARALLEL_FROM else 1
    if workers < 2:
        return [_parse_one(i) for i in items]
    from compiler.parse.syntax import parser

    parser()  # built once in the parent; forked workers inherit it
    pool = fork_pool(workers)
    if pool is None:  # pragma: no cover - platforms without fork
        return [_parse_one(i) for i in items]
    with pool:
        return list(pool.map(_parse_one, items, chunksize=max(1, len(items) // (workers * 4))))


def file_key(display: str, text: str) -> str:
    """What a file's lowered IR depends on: where it is (spans name it) and its text."""
    hit = _KEYS.get(display)
    if hit is not None and hit[0] is text:
        return hit[1]
    from compiler.cache import digest

    key = digest(display, text)
    _KEYS[display] = (text, key)
    return key


# Each file's last key, found again by the very text it was made of (held here, so no other
# string takes its id): a watching step hands load the texts it did not read again, and the
# build keys every file a second time; hashing 1,001 texts twice was ~12 ms of a one-model
# step at 1,000 models (issue 16, target 4). One entry per path: the store of a long-lived
# process holds no more texts than its spec has files.
_KEYS: dict[str, tuple[str, str]] = {}


def load(
    inputs: Sequence[Path],
    store: Store | None = None,
    read_before: Sequence[SourceFile] = (),
    discovered: tuple[list[Path], list[Diagnostic]] | None = None,
) -> Loaded:
    """Read, parse and lower every spec file under ``inputs``; with a ``store``,
    a file whose path and text were lowered before is taken from it. ``read_before``:
    files a caller read cleanly a moment ago (a compile asking whether anything changed),
    built as read then rather than read again; ``discovered``: what ``discover(inputs)``
    found a moment ago (a watching process's poll), taken rather than walked again."""
    files, problems = discover(inputs) if discovered is None else discovered
    sink = Sink(list(problems))
    read: list[tuple[str, str | None, str | None]] = []
    earlier = {s.path: s for s in read_before}
    for path, display in zip(files, display_paths(files), strict=True):
        before = earlier.get(display)
        if before is not None:
            text: str | None = before.text
        else:
            text, errors = read_source(path, display)
            sink.extend(errors)
        read.append((display, text, file_key(display, text) if store is not None and text is not None else None))
    parsed: dict[str, _Parsed] = {}
    pack: ir_pack.Pack | None = None
    pack_name = None
    in_pack = 0
    if store is not None:
        from compiler.parse import ir_pack

        if ir_pack.on_disk(store):
            pack_name = ir_pack.key(display_path(item) for item in inputs)
            pack = ir_pack.Pack.read(store, pack_name)
        for _, _, key in read:
            if key is not None and key not in parsed:
                hit = pack.get(key) if pack is not None else None
                if hit is not None:
                    in_pack += 1
                else:
                    hit = store.get("ir", key)
                if hit is not None:
                    parsed[key] = hit
    keys = list(dict.fromkeys(key for _, text, key in read if key is not None and text is not None))
    repack = pack_name is not None and getattr(store, "writable", False) and ir_pack.stale(pack, len(keys), in_pack)
    todo = [(display, text) for display, text, key in read if text is not None and (key is None or key not in parsed)]
    fresh = iter(_parse_all(todo))
    sources: list[SourceFile] = []
    nodes: list[object] = []
    by_file: list[tuple[str, list[object]]] = []
    for display, text, key in read:
        if text is None:
            continue
        if key is not None and key in parsed:
            file_nodes, errors = parsed[key]
        else:
            file_nodes, errors = next(fresh)
            if store is not None and key is not None:
                if not repack:  # (in the pack written below otherwise)
                    store.put("ir", key, (file_nodes, errors))
                parsed[key] = (file_nodes, errors)
        sink.extend(errors)
        # A file read before is the very record it was (a watching step: 1,000 of them).
        before = earlier.get(display)
        if before is not None and before.text is text and before.tree is None and not before.comments:
            sources.append(before)
        else:
            sources.append(SourceFile(display, text, None, ()))
        nodes.extend(file_nodes)
        by_file.append((display, file_nodes))
    if repack:
        assert pack_name is not None
        ir_pack.write(store, pack_name, pack, keys, parsed)
    files_read = tuple(s.path for s in sources)
    if store is None or pack_name is not None:
        spec = merge(nodes, files_read)
    else:  # a watching process: last step's merge, moved on by the files whose records changed
        last = store.get("merged", "last")
        found = remerge(last[0], last[1], by_file, files_read) if type(last) is tuple else None
        spec = merge(nodes, files_read) if found is None else found
        store.put("merged", "last", (dict(by_file), spec))
    return Loaded(spec, tuple(sources), tuple(sink.sorted()))


def load_text(text: str, path: str = "<spec>") -> Loaded:
    """Load one in-memory spec file (for tests and tools)."""
    sink = Sink()
    source, errors = parse_text(text, path)
    sink.extend(errors)
    nodes = lower_file(source.tree, path, sink) if source.tree is not None else []
    return Loaded(merge(nodes, (path,)), (source,), tuple(sink.sorted()))


def merge(nodes: list[object], files: tuple[str, ...]) -> ir.Spec:
    """The spec of every file's records: each kind in its order (by name, then where it is
    declared; a record about a model by the model's name, then its environments'). The
    records are sorted out by type in one pass, and each kind sorted by keys made in C: a
    pass per kind and a Python key per record were most of a watching step's merge (8,000
    records at 1,000 models, every step)."""
    of: dict[type, list[Any]] = {kind: [] for kind in _MERGED}
    for n in nodes:
        bucket = of.get(type(n))
        if bucket is not None:
            bucket.append(n)
    for kind, key in _MERGED.items():
        of[kind].sort(key=key)
    projects = tuple(of[ir.Project])
    return ir.Spec(
        files=tuple(sorted(files)),
        project=projects[0] if projects else None,
        projects=projects,
        datasets=tuple(of[ir.Dataset]),
        environments=tuple(of[ir.Environment]),
        models=tuple(of[ir.Model]),
        trainings=tuple(of[ir.Training]),
        slas=tuple(of[ir.Sla]),
        monitors=tuple(of[ir.Monitor]),
        gates=tuple(of[ir.Gate]),
    )


def remerge(
    last_files: dict[str, list[object]], last: ir.Spec, by_file: list[tuple[str, list[object]]], files: tuple[str, ...]
) -> ir.Spec | None:
    """``merge`` of the records of ``by_file`` (each file's, as lowered), made from ``last``,
    the merge of ``last_files``: the records of each file whose list is not the very list it
    was are taken out of their kind's order and put in where their keys go (at 1,000 models
    sorting ~8,000 records again was ~3 ms of a one-model watching step). None where that is
    not exact or not worth it: a path twice, many records moved, a record not found where
    its key puts it, or two records with one key (the full merge orders those)."""
    now = dict(by_file)
    if len(now) != len(by_file):
        return None
    moved = list(compress(now.items(), map(is_not, map(last_files.get, now), now.values())))
    removed = [n for path, _ in moved for n in last_files.get(path, ())]
    removed += chain.from_iterable(map(last_files.__getitem__, last_files.keys() - now.keys()))
    added = [n for _, nodes in moved for n in nodes]
    if len(removed) + len(added) > _REMERGED_AT_MOST:
        return None
    lists: dict[type, list[Any]] = {}
    for n, adding in chain(zip(removed, repeat(False)), zip(added, repeat(True))):
        kind = type(n)
        key = _MERGED.get(kind)
        if key is None:
            continue
        order = lists.get(kind)
        if order is None:
            order = lists[kind] = list(getattr(last, _FIELDS[kind]))
        k = key(n)
        at = bisect_left(order, k, key=key)
        if adding:
            if at < len(order) and key(order[at]) == k:
                return None
            order.insert(at, n)
        elif at < len(order) and order[at] is n:
            del order[at]
        else:
            return None
    fields = {field: tuple(lists[kind]) for kind, field in _FIELDS.items() if kind in lists}
    if not fields and last.files == files:
        return last
    projects = fields.get("projects", last.projects)
    return ir.Spec(
        files=last.files if last.files == files else tuple(sorted(files)),
        project=projects[0] if projects else None,
        projects=projects,
        datasets=fields.get("datasets", last.datasets),
        environments=fields.get("environments", last.environments),
        models=fields.get("models", last.models),
        trainings=fields.get("trainings", last.trainings),
        slas=fields.get("slas", last.slas),
        monitors=fields.get("monitors", last.monitors),
        gates=fields.get("gates", last.gates),
    )


# The most records ``remerge`` moves: past that, sorting them all again is as quick.
_REMERGED_AT_MOST = 512


# Each kind merge collects (its exact type: no record type is subclassed) and what sorts it.
_MERGED: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    ir.Project: attrgetter("name", "span"),
    ir.Dataset: attrgetter("name", "span"),
    ir.Environment: attrgetter("name", "span"),
    ir.Model: attrgetter("name", "span"),
    ir.Training: attrgetter("model.name", "span"),
    ir.Sla: attrgetter("model.name", "environment.name", "span"),
    ir.Monitor: attrgetter("model.name", "environment.name", "span"),
    ir.Gate: attrgetter("model.name", "source.name", "target.name", "span"),
}
# Where each kind's records are in a spec.
_FIELDS: dict[type, str] = {
    ir.Project: "projects",
    ir.Dataset: "datasets",
    ir.Environment: "environments",
    ir.Model: "models",
    ir.Training: "trainings",
    ir.Sla: "slas",
    ir.Monitor: "monitors",
    ir.Gate: "gates",
}
