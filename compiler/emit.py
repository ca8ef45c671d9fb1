"""Write rendered files deterministically, atomically, and only those shipspec owns.

A ledger (``.shipspec/ledger.json`` under the output root) records every file
shipspec wrote and the sha256 of what it wrote. That is how stale outputs are
pruned, how a file shipspec does not own is never touched, and how a generated
file that someone edited by hand is reported instead of silently overwritten.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import hashlib
import json
import os
import resource
import stat
import time
from bisect import bisect_left, insort
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, count, filterfalse, islice, repeat
from operator import attrgetter, eq, is_not, lt, not_
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from compiler import emit_journal, fsutil, ledger_paths
from compiler.diagnostics import Sink, Span
from compiler.fsutil import Started, Syncs, fdatasync, write_atomic
from compiler.output import OutputFile, StoredFile, file_bytes, file_parts, header
from compiler.parallel import workers_beside

if TYPE_CHECKING:
    from compiler.parallel import Staged

LEDGER = ".shipspec/ledger.json"
# Plan diagnostics that mean a path was not read at all (ledger_paths).
REFUSED_PATHS = frozenset({"SS904", "SS905"})
__all__ = ["LEDGER", "REFUSED_PATHS", "Contents", "Plan", "file_bytes", "header"]  # file_bytes: outputs' home


def _sha(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()


class Contents(Mapping[str, bytes]):
    """Each planned file's bytes by path, made when asked: a plan holds the files, not
    their bytes (84 MiB at 1,000 models), and a file the memo vouches for (its ``digest``
    known) is compared by that digest, its text never read (``output.StoredFile``)."""

    def __init__(self, files: dict[str, OutputFile]) -> None:
        self.outputs = files

    def __getitem__(self, path: str) -> bytes:
        return file_bytes(self.outputs[path])

    def __iter__(self) -> Iterator[str]:
        return iter(self.outputs)

    def __len__(self) -> int:
        return len(self.outputs)

    def __contains__(self, path: object) -> bool:
        return path in self.outputs

    def parts(self, path: str) -> Iterable[bytes | memoryview]:
        """The file's bytes as parts to write one after another (``output.file_parts``)."""
        return file_parts(self.outputs[path])

    def ready(self, paths: Iterable[str]) -> None:
        """Read (and check) the stored texts of ``paths`` now."""
        for path in paths:
            f = self.outputs[path]
            if isinstance(f, StoredFile) and f.checked:
                f.text  # noqa: B018 - read for its check, and kept for the write


@dataclass
class Plan:
    """What a compile would do to the tree under ``root``."""

    root: Path
    files: Mapping[str, bytes]
    sources: dict[str, Span]
    # The verified tree's ledger, never changed through a plan: a watching plan holds the
    # very mapping it was made over (a copy of 33,500 entries each step, ~0.2 ms).
    ledger: Mapping[str, str]
    write: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Paths in ``write`` that were on disk when planned (their mode is kept).
    replace: set[str] = field(default_factory=set)
    # Planned over a tree verified as the last compile left it (``plan_over``).
    verified: bool = False
    # sha256 of the ledger ``apply`` left (``settled.record`` vouches for it), and its bytes
    # where apply made them whole in memory (a watching process compares the ledger with them).
    ledger_sha: str | None = None
    ledger_left: bytes | bytearray | None = None
    # False for a process that keeps ``ledger_left`` and compares the ledger with those bytes
    # (``settled.holds``, ``commands.watch``): where apply has them, ``ledger_sha`` names them by
    # a token (``LEFT``) rather than hashing 4 MB each step (~2.5 ms at 1,000 models). A reader
    # without the bytes hashes the ledger, finds it not the token, and plans whole.
    hash_ledger: bool = True
    # A mapping whose keys are exactly this plan's paths (the ledger a watching plan was made
    # over, where no path came or went: ``_replanned``), so a record need not count them again.
    same_paths_as: Mapping[str, str] | None = None
    # sha256 of ``files[path]``, computed once (the plan, the ledger and ``observed`` all need it).
    shas: dict[str, str] = field(default_factory=dict, repr=False)
    # Length of ``files[path]`` for each file ``apply`` wrote (``observed`` compares it with a stat).
    sizes: dict[str, int] = field(default_factory=dict, repr=False)

    def size(self, path: str) -> int:
        """The length of ``files[path]`` (made once more unless ``apply`` wrote it)."""
        found = self.sizes.get(path)
        if found is None:
            f = self._output(path)
            found = f.size if isinstance(f, StoredFile) else len(self.files[path])
        return found

    def holds(self, path: str, data: bytes) -> bool:
        """Whether ``data`` is ``files[path]`` (by its digest when known: its text may be unread)."""
        f = self._output(path)
        return _sha(data) == f.digest if f is not None and f.digest else data == self.files[path]

    def sha(self, path: str) -> str:
        found = self.shas.get(path)
        if found is None:
            f = self._output(path)
            found = self.shas[path] = (f.digest if f is not None else None) or _sha(self.files[path])
        return found

    def _output(self, path: str) -> OutputFile | None:
        """The file behind ``files[path]`` (None for a plan made of bytes): its digest, when
        known, stands for its bytes."""
        return self.files.outputs[path] if isinstance(self.files, Contents) else None


def read_ledger(root: Path) -> dict[str, str]:
    path = root / LEDGER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}
    files = data.get("files", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return b""


# A file's identity on disk: (size, mtime_ns, ctime_ns, inode).
Stat = tuple[int, int, int, int]


def stat_of(path: Path | str) -> Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def observed(
    p: Plan, settle_ns: int = 50_000_000, known: Mapping[str, tuple[Stat, str]] | None = None
) -> dict[str, tuple[Stat, str]]:
    """After ``apply``: each planned file's stat and sha256, for the next plan's
    ``known``. A file changed in the last ``settle_ns`` is left out: a later
    edit within the file system's timestamp granularity could keep its stat.
    A file not written keeps its entry in ``known`` while the sha is the same,
    unread and unstat-ed (should its stat have moved, the next plan reads it:
    the entry is a hint, never a verdict)."""
    now = time.time_ns()
    out: dict[str, tuple[Stat, str]] = {}
    written = set(p.write)
    base = os.fspath(p.root)
    for path in p.files:
        seen = known.get(path) if known else None
        if seen is not None and path not in written and seen[1] == p.sha(path):
            out[path] = seen
            continue
        st = stat_of(f"{base}/{path}")
        if st is not None and st[0] == p.size(path) and now - max(st[1], st[2]) > settle_ns:
            out[path] = (st, p.sha(path))
    return out


def _screened(
    files: Iterable[OutputFile],
    root: Path,
    sink: Sink,
    screened: Container[str] = frozenset(),
    absent_dirs: set[str] | None = None,
) -> tuple[Contents, dict[str, Span]]:
    """Each file (its bytes when asked) and source by path, but for a path that is unsafe to write
    (``ledger_paths``; not asked again of ``screened`` ones) or claimed twice (SS903).
    ``absent_dirs`` gathers the directories on the way that were found not to exist."""
    rendered: dict[str, OutputFile] = {}
    sources: dict[str, Span] = {}
    safe_dirs: set[str] = set()
    for f in files:
        path = f.path
        if path not in screened and not ledger_paths.screen_output(path, root, sink, f.source, safe_dirs, absent_dirs):
            continue
        if path in rendered:
            sink.report("SS903", f"two outputs claim {path}", f.source)
            continue
        rendered[path] = f
        sources[path] = f.source
    return Contents({path: rendered[path] for path in sorted(rendered)}), sources


def plan(
    files: Iterable[OutputFile],
    root: Path,
    sink: Sink,
    force: bool = False,
    known: Mapping[str, tuple[Stat, str]] | None = None,
) -> Plan:
    """What writing ``files`` under ``root`` would do. ``known`` (from ``observed``
    after an earlier apply) lets a file whose stat and ledger sha still match
    what was written count as unchanged without being read."""
    absent: set[str] = set()  # directories not there when screened: no file under them is read
    rendered, sources = _screened(files, root, sink, absent_dirs=absent)
    ledger = ledger_paths.screen_ledger(ledger_paths.read_checked(root, sink, read_ledger), root, sink)
    # Files an interrupted compile wrote are shipspec's too (issue 17: not "edited by hand").
    pending = ledger_paths.screen_ledger(ledger_paths.read_checked(root, Sink(), emit_journal.read_pending), root, sink)
    for path, sha in pending.items():
        ledger.setdefault(path, sha)
    p = Plan(root, rendered, sources, ledger)
    base = os.fspath(root)
    for path in p.files:
        seen = known.get(path) if known else None
        if seen is not None and ledger.get(path) == seen[1] == p.sha(path) and stat_of(f"{base}/{path}") == seen[0]:
            p.unchanged.append(path)
            continue
        on_disk = None if absent and ledger_paths.under_any(path, absent) else _read(root / path)
        if on_disk is not None and p.holds(path, on_disk):
            p.unchanged.append(path)
            continue
        if on_disk is not None:
            if path not in ledger:
                _not_ours(sink, path, sources[path])
                continue
            if _sha(on_disk) not in (ledger[path], pending.get(path)) and not force:
                sink.report(
                    "SS901",
                    f"{path} was edited by hand since shipspec wrote it",
                    sources[path],
                    hint="put the change in the spec (or a --templates override); --force overwrites",
                )
                continue
        p.write.append(path)
        if on_disk is not None:
            p.replace.add(path)
    for path in sorted(set(ledger) - set(p.files)):
        on_disk = _read(root / path)
        if on_disk is None:
            continue
        if _sha(on_disk) not in (ledger[path], pending.get(path)) and not force:
            sink.report(
                "SS901",
                f"{path} is no longer generated but was edited by hand; it is left in place",
                Span.point(path),
                hint="delete it yourself, or pass --force",
            )
            continue
        p.delete.append(path)
    return p


def _not_ours(sink: Sink, path: str, source: Span) -> None:
    sink.report(
        "SS902",
        f"{path} exists and was not written by shipspec; it is left alone",
        source,
        hint="move or delete it, then compile again",
    )


def plan_over(
    files: Iterable[OutputFile], root: Path, sink: Sink, ledger: Mapping[str, str], kept: Kept | None = None
) -> Plan:
    """``plan`` over a tree known to be exactly what the last compile wrote
    (``settled.tree``): ``ledger`` is that compile's, every path in it holds the bytes
    it names and every directory on the way is the one written through. Those paths
    are neither read nor screened again; a new path is, as ``plan`` does. No file in
    such a tree was edited by hand, so nothing is refused and ``force`` changes nothing.

    ``kept``: what a watching process kept of the plan whose files ``ledger`` records
    (``kept``). Then only the files that are not the very objects that plan was made of,
    and the paths they take or leave, are looked at (``_replanned``); the plan is the one
    made without it."""
    if kept is not None and kept.ledger is ledger and kept.root == root and isinstance(files, Sequence):
        again = _replanned(files, sink, kept)
        if again is not None:
            return again
    if isinstance(files, Sequence):
        passes = _in_passes(files, root, sink, ledger)
        if passes is not None:
            return passes
    rendered, sources = _screened(files, root, sink, ledger)
    p = Plan(root, rendered, sources, ledger, verified=True)
    for path, f in rendered.outputs.items():
        old = ledger.get(path)
        # A file the memo vouches for is compared by its digest (most of them: read straight off, not
        # through ``sha``'s cache, for each of 33,000 paths); ``_judged`` decides the others.
        if old is not None and old == (f.digest or p.sha(path)):
            p.unchanged.append(path)
            continue
        verdict = _judged(p, path, f, sink)
        if verdict == "unchanged":
            p.unchanged.append(path)
        elif verdict is not None:
            p.write.append(path)
            if verdict == "replace":
                p.replace.add(path)
    p.delete.extend(sorted(set(ledger) - set(p.files)))
    return p


def _in_passes(files: Sequence[OutputFile], root: Path, sink: Sink, ledger: Mapping[str, str]) -> Plan | None:
    """``plan_over`` made in passes over all the files at once (each a loop in C: a Python loop
    over 33,000 files was ~0.06 s of a one-model edit's compile at 1,000 models), then a look at
    each file whose digest is not its ledger entry's (a new path is screened there, as
    ``_screened`` does). None, with nothing reported, when a path is claimed twice: the whole
    plan reports it (SS903)."""
    paths = list(map(_PATH, files))
    outputs = dict(zip(paths, files, strict=True))
    if len(outputs) != len(paths):
        return None
    new = list(filterfalse(ledger.__contains__, paths))
    if new:
        safe_dirs: set[str] = set()
        refused = {
            path for path in new if not ledger_paths.screen_output(path, root, sink, outputs[path].source, safe_dirs)
        }
        if refused:
            files = [f for f in files if f.path not in refused]
            paths = list(map(_PATH, files))
            outputs = dict(zip(paths, files, strict=True))
    if not all(map(lt, paths, islice(paths, 1, None))):  # renders come sorted by path
        order = sorted(range(len(paths)), key=paths.__getitem__)
        files, paths = [files[i] for i in order], [paths[i] for i in order]
        outputs = dict(zip(paths, files, strict=True))
    sources = dict(zip(paths, map(_SOURCE, files), strict=True))
    p = Plan(root, Contents(outputs), sources, ledger, verified=True)
    # Unchanged: the memo's digest of the file is its ledger entry (a file without one, or whose
    # entry differs, is judged alone, as ``plan_over`` does).
    same = list(map(eq, map(ledger.get, paths, repeat(_ABSENT)), map(_DIGEST, files)))
    for at in compress(range(len(paths)), map(not_, same)):
        path = paths[at]
        verdict = _judged(p, path, files[at], sink)
        if verdict == "unchanged":
            same[at] = True
        elif verdict is not None:
            p.write.append(path)
            if verdict == "replace":
                p.replace.add(path)
    p.unchanged = list(compress(paths, same))
    if new or len(ledger) != len(paths):
        p.delete.extend(sorted(ledger.keys() - outputs.keys()))
    return p


_PATH, _SOURCE, _DIGEST = attrgetter("path"), attrgetter("source"), attrgetter("digest")
_ABSENT = object()  # a path the ledger lacks: equal to no digest, not even a file's missing one
Verdict = Literal["unchanged", "write", "replace"]


def _judged(p: Plan, path: str, f: OutputFile, sink: Sink) -> Verdict | None:
    """What ``plan_over`` does with ``f`` at ``path`` (``p.ledger``: the verified tree's ledger):
    leaves it, writes it (replacing the file its ledger entry names), or refuses it: a file
    shipspec does not own is in the way (SS902, and None)."""
    old = p.ledger.get(path)
    if old is not None:
        return "unchanged" if old == (f.digest or p.sha(path)) else "replace"
    on_disk = _read(p.root / path)
    if on_disk is None:
        return "write"
    if p.holds(path, on_disk):
        return "unchanged"
    _not_ours(sink, path, p.sources[path])
    return None


@dataclass(frozen=True, slots=True, eq=False)
class Kept:
    """What a watching process keeps of a plan it applied and recorded (``kept``) for its next
    ``plan_over``: the files it was made of (in the order given; holding them keeps each
    one's ``id`` its own), its files and sources by path, and the ledger recorded from it."""

    root: Path
    files: Sequence[OutputFile]
    outputs: dict[str, OutputFile]
    sources: dict[str, Span]
    # The very mapping the record holds (``settled.Tree.ledger``): each path of ``outputs`` with
    # the sha256 of its file, and no other. A plan over another ledger is made whole.
    ledger: Mapping[str, str]


def kept(p: Plan, files: Sequence[OutputFile], ledger: Mapping[str, str]) -> Kept | None:
    """What the next ``plan_over`` may take from ``p``, planned from ``files``, applied without
    errors and recorded with ``ledger``; None when not every one of ``files`` is in the plan
    (one was refused, or two claimed a path: then it had errors and was never applied)."""
    if not isinstance(p.files, Contents) or not len(p.files.outputs) == len(files) == len(ledger):
        return None
    return Kept(p.root, tuple(files), p.files.outputs, p.sources, ledger)  # a build's tuple: not copied


def _replanned(files: Sequence[OutputFile], sink: Sink, kept: Kept) -> Plan | None:
    """``plan_over(files, kept.root, sink, kept.ledger)``, made from ``kept``: a file that is the
    very object ``kept`` was made of is as the ledger records it (unchanged, neither read nor
    screened again), so only the others, and the paths they take or leave, are looked at.
    None (nothing reported) when a path is claimed twice: the whole plan reports it (SS903)."""
    changes = _changes(files, kept.files)
    if changes is None:
        return None
    new, gone = changes
    outputs, ledger = kept.outputs, kept.ledger
    left = {f.path for f in gone}
    claimed: dict[str, OutputFile] = {}
    for f in new:
        path = f.path
        if path in claimed or (path in outputs and path not in left):
            return None
        claimed[path] = f
    safe_dirs: set[str] = set()
    for path, f in list(claimed.items()):  # in the order given, as ``_screened`` reports
        if path not in ledger and not ledger_paths.screen_output(path, kept.root, sink, f.source, safe_dirs):
            del claimed[path]
    removed = sorted(left - claimed.keys())
    added = [path for path in claimed if path not in outputs]
    paths = list(outputs)  # sorted, as ``_screened`` made it
    if removed or added:
        for path in removed:
            del paths[bisect_left(paths, path)]
        for path in added:
            insort(paths, path)
        files_at, sources_at = {**outputs, **claimed}, {**kept.sources}
        sources_at.update((path, f.source) for path, f in claimed.items())
        rendered = dict(zip(paths, map(files_at.__getitem__, paths), strict=True))
        sources = dict(zip(paths, map(sources_at.__getitem__, paths), strict=True))
    else:
        rendered, sources = {**outputs, **claimed}, {**kept.sources}
        sources.update((path, f.source) for path, f in claimed.items())
    p = Plan(kept.root, Contents(rendered), sources, ledger, verified=True)
    refused = []
    for path in sorted(claimed):
        verdict = _judged(p, path, claimed[path], sink)
        if verdict is None:
            refused.append(path)
        elif verdict != "unchanged":
            p.write.append(path)
            if verdict == "replace":
                p.replace.add(path)
    p.unchanged = _without(paths, sorted([*p.write, *refused]))
    p.delete = removed
    if not removed and not added:
        p.same_paths_as = ledger  # (kept's outputs are the paths of the ledger recorded from them)
    return p


def _changes(files: Sequence[OutputFile], last: Sequence[OutputFile]) -> tuple[list[OutputFile], ...] | None:
    """The objects of ``files`` that are not in ``last`` and those of ``last`` no longer in
    ``files``, by identity (``last`` holds no object twice); None when ``files`` holds one
    twice. Compared place by place when as many (an edit that adds or removes no file: no
    ``id`` made for the 33,000 others), else as sets of ids."""
    if len(files) == len(last):
        at = list(compress(range(len(files)), map(is_not, files, last)))
        new, gone = [files[i] for i in at], [last[i] for i in at]
        ids = {id(f) for f in new}
        if len(ids) != len(new):
            return None
        moved = ids.intersection(map(id, gone))  # the same object elsewhere (a path came and one went)
        if moved:
            new = [f for f in new if id(f) not in moved]
            gone = [f for f in gone if id(f) not in moved]
        return new, gone
    now = set(map(id, files))
    if len(now) != len(files):
        return None
    before = set(map(id, last))
    new = list(compress(files, map(not_, map(before.__contains__, map(id, files)))))
    gone = list(compress(last, map(not_, map(now.__contains__, map(id, last)))))
    return new, gone


def _without(paths: list[str], leave: list[str]) -> list[str]:
    """``paths`` (sorted) without ``leave`` (sorted, each one of them)."""
    if not leave:
        return paths
    out: list[str] = []
    at = 0
    for path in leave:
        i = bisect_left(paths, path, at)
        out += paths[at:i]
        at = i + 1
    out += paths[at:]
    return out


def apply(p: Plan) -> None:
    """Carry out a plan that had no errors. A journal first (``emit_journal``: the
    files about to be written, as pending: a kill from there on leaves files the
    next compile recognises); then each file is replaced atomically and made
    durable (its data, then the directories whose entries changed) before the
    ledger vouches for it; only what was written is synced, never the whole
    machine (``os.sync`` flushed every process's dirty pages). A plan of ``BULK``
    files or more syncs the file systems it wrote to instead (``_write_bulk``)."""
    if isinstance(p.files, Contents):
        p.files.ready(p.write)  # a damaged stored text fails here, before anything is written
    if not p.verified:  # a tree as the last compile left it has no temporaries (a new one moves a dir's mtime)
        emit_journal.sweep_temporaries(p.root, [*p.files, *p.ledger, LEDGER, ledger_paths.JOURNAL])
    # Over a verified tree the ledger on disk is the one the plan was made over: the new ledger
    # is made from its bytes (see ``_splice_points``), not from every entry again.
    before = _read(p.root / LEDGER) if p.verified else None
    journaled = bool(p.write or p.delete)
    if journaled:
        emit_journal.write_journal(p.root, {k: p.sha(k) for k in p.write})
    bulk = len(p.write) >= BULK and fsutil.can_sync_file_systems()
    changed = _write_bulk(p) if bulk else _write_all(p)
    for path in p.delete:
        target = p.root / path
        ledger_paths.ensure_inside(p.root, target.parent)
        target.unlink(missing_ok=True)
        changed.add(target.parent)
        _remove_empty_parents(target.parent, p.root)
    if not (bulk and fsutil.sync_file_systems([p.root, *sorted(changed)])):  # the renames and removals
        _sync_dirs(sorted(changed))
    spans = _splice_points(p, before) if before is not None else None
    ledger: bytes | bytearray | None = None
    if before is not None and spans is not None:
        ledger = bytearray(before)  # written as it is, not copied again into bytes (4 MB at 1,000 models)
        for at, new in spans:
            ledger[at : at + len(new)] = new
        p.ledger_sha, p.ledger_left = _named(p, ledger), ledger
        if journaled and _patched_in_place(p.root / LEDGER, before, spans):
            emit_journal.end_journal(p.root)
            return
    if ledger is None and journaled:
        # Written as it is made, and hashed as it is written (a first compile's: 4 MB at 1,000 models).
        before = None
        sha = hashlib.sha256()

        def hashed() -> Iterator[bytes]:
            for part in ledger_parts(p):
                sha.update(part)
                yield part

        write_atomic(p.root / LEDGER, hashed())
        p.ledger_sha = sha.hexdigest()
        _sync_dir((p.root / LEDGER).parent)
        emit_journal.end_journal(p.root)
        return
    if ledger is None:
        ledger = ledger_bytes(p)
        p.ledger_sha, p.ledger_left = _named(p, ledger), ledger
    if journaled:
        before = None  # written either way: the old bytes need not live beside the new
    if journaled or (before if before is not None else _read(p.root / LEDGER)) != ledger:
        write_atomic(p.root / LEDGER, ledger)
        _sync_dir((p.root / LEDGER).parent)
    # The ledger vouches for every file now (a journal a killed compile left goes too).
    emit_journal.end_journal(p.root)


# What a ledger left by a plan with ``hash_ledger`` False is named by: never a sha256 (it is
# not hex), and each one once in a process (its bytes are the process's to compare).
LEFT = "left-"
_left = count(1)


def _named(p: Plan, ledger: bytes | bytearray) -> str:
    return _sha(ledger) if p.hash_ledger else f"{LEFT}{os.getpid()}-{next(_left)}"


def _sync_dir(directory: Path) -> None:
    _sync_dirs([directory])


def _sync_dirs(directories: Iterable[Path]) -> None:
    """fsync each directory (its entries: the renames into it), a batch at a time; one that
    cannot be opened is passed over (removed as empty, or a platform without directory handles)."""
    _synced(directories, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC, _sync_dir_fd, passed_over=OSError)


def _sync_each(paths: Iterable[str]) -> None:
    """The data of each of ``paths`` made durable, a batch at a time (where syncfs cannot be used)."""
    _synced(paths, os.O_RDONLY | _CLOEXEC, None, passed_over=())


def _synced(
    paths: Iterable[str | Path],
    flags: int,
    sync: Callable[[int], None] | None,
    passed_over: type[OSError] | tuple[()],
) -> None:
    """Open each of ``paths`` with ``flags`` and sync it (``Syncs``: ``sync``, or fdatasync), a
    batch at a time; an ``OSError`` of ``passed_over`` when opening skips that path."""
    size = _batch_size()
    with Syncs(sync) as syncs:
        batch: list[int] = []
        try:
            for path in paths:
                try:
                    batch.append(os.open(path, flags))
                except passed_over:
                    continue
                if len(batch) == size:
                    syncs.each(batch)
                    _close_all(batch)
            syncs.each(batch)
        finally:
            _close_all(batch)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)
    fds.clear()


def _sync_dir_fd(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC
# Files written (or directories synced) per batch: each batch's are open together, their data
# synced together (``fsutil.Syncs``), then renamed into place. Two batches are open at once.
_MOST = 256


def _batch_size(limit: int | None = None) -> int:
    """``_MOST``, or fewer where the process may not open twice as many descriptors and more
    (macOS's default soft limit is 256): a third of the soft limit, less what the process
    holds besides (the spool, the cache, the lock, standard streams)."""
    if limit is None:
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if limit == resource.RLIM_INFINITY or limit < 0:
        return _MOST
    return max(4, min(_MOST, (limit - 48) // 3))


# Files a plan writes from which the file system is synced as a whole (``_write_bulk``), not
# each file and directory: at 1,000 models a cold compile's emit took 6.8 s with a sync per
# file, ~4 s of it in the journal commits those syncs make. A one-model edit writes ~20 files.
BULK = 1024


def _write_bulk(p: Plan) -> set[Path]:
    """``_write_all`` for a plan that writes thousands of files: every temporary is written
    and closed, their file system synced once (``fsutil.sync_file_systems``), then each is
    renamed into place; ``apply`` syncs the file system again for the renames. Each file's
    data is durable before its rename, as in ``_write_all``. An error or an interrupt
    removes every temporary not yet renamed. Returns the directories whose entries changed.
    A plan of ``APART_FROM`` files or more has its second half's temporaries written by a
    forked child meanwhile (``_write_apart``), where there is a core beside this process.

    The temporaries waiting for the sync are named again from the plan's paths when they
    are renamed, not held: a pair of paths for each of 33,555 files held through the sync
    was 20 MiB over a cold compile's peak at 1,000 models."""
    made: set[Path] = set()
    suffix = f".{os.getpid()}.tmp"
    whole: set[str] = set()  # written in place (``write_atomic``): their temporary name was taken
    base = os.fspath(p.root)

    def temporaries(paths: Iterable[str]) -> Iterator[tuple[str, str]]:
        return _temporaries(base, paths, suffix, whole)

    # A second process writes the second half's temporaries (``_share_apart``) and, once they
    # are synced, renames them: the Python of each file and the kernel's creating and renaming
    # it are each a core's work.
    half = len(p.write) // 2 if len(p.write) >= APART_FROM and workers_beside(2) else len(p.write)
    apart = _write_apart(p, p.write[half:], suffix) if half < len(p.write) else None
    try:
        _write_share(p, p.write[:half], suffix, made, whole)
        if half < len(p.write) and not _share_apart(p, p.write[half:], suffix, made, whole, apart):
            apart = None  # stopped: this process wrote its half
        if not fsutil.sync_file_systems([p.root, *made]):
            _sync_each(tmp for tmp, _ in temporaries(p.write))
        if apart is not None:
            apart.go()
        for tmp, target in temporaries(p.write[:half] if apart is not None else p.write):
            os.replace(tmp, target)
        if apart is not None and apart.then(_APART_WAIT_S) != _RENAMED:
            for tmp, target in temporaries(p.write[half:]):  # those the child did not rename
                with contextlib.suppress(FileNotFoundError):
                    os.replace(tmp, target)
    except BaseException:
        if apart is not None:
            apart.close()  # the child is gone (killed and reaped) before its temporaries go
        for tmp, _ in temporaries(p.write):  # those renamed are gone already
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    _with_parents(p, made)
    return made


# A bulk plan of this many files or more is written by two processes (where there are two
# cores). At 1,000 models (33,555 files) the temporaries took 4.9 s in one process and 4.9 s
# for each half in two, in a window where emit took 7.7-9.8 s in one.
APART_FROM = 4096
# How long the parent waits for the child's half once its own is written.
_APART_WAIT_S = 600.0
_WRITTEN = b"written"  # the end of a child's answer: one cut short is no answer
_RENAMED = b"renamed"


def _temporaries(base: str, paths: Iterable[str], suffix: str, whole: Container[str]) -> Iterator[tuple[str, str]]:
    """(temporary, target) of each of ``paths`` not written in place (``whole``), under ``base``."""
    for path in paths:
        if path not in whole:
            target = f"{base}/{path}"
            directory, _, name = target.rpartition("/")
            yield f"{directory}/.{name}{suffix}", target


def _write_share(p: Plan, paths: list[str], suffix: str, made: set[Path], whole: set[str]) -> None:
    """The temporaries of ``paths``, written and closed a batch at a time."""
    size = _batch_size()
    for start in range(0, len(paths), size):
        batch: _Batch = []
        try:
            _write_batch(p, paths[start : start + size], suffix, made, batch, whole)
        except BaseException:
            _abandoned(batch)
            raise
        _close_all([fd for fd, _, _ in batch])


def _write_apart(p: Plan, paths: list[str], suffix: str) -> Staged | None:
    """``paths``' temporaries being written by a forked child, named with this process's
    ``suffix``; it answers with what the parent records of them (``_share_apart``), then
    waits to rename them until the parent has synced every temporary (``Staged.go``)."""
    from compiler.parallel import fork_staged

    whole: set[str] = set()
    base = os.fspath(p.root)

    def write() -> bytes:
        import pickle

        made: set[Path] = set()
        _write_share(p, paths, suffix, made, whole)
        said = ([p.sizes[path] for path in paths], sorted(whole), sorted(map(os.fspath, made)))
        return pickle.dumps(said) + _WRITTEN

    def rename() -> bytes:
        for tmp, target in _temporaries(base, paths, suffix, whole):
            os.replace(tmp, target)
        return _RENAMED

    return fork_staged(write, rename)


def _share_apart(
    p: Plan, paths: list[str], suffix: str, made: set[Path], whole: set[str], apart: Staged | None
) -> bool:
    """Take the child's answer for ``paths`` (their sizes, those written in place, the
    directories made): True. Where there is none (no fork, or the child failed or did not
    answer in time), stop the child and write them here, over whatever temporaries it left: False."""
    said = apart.answer(_APART_WAIT_S) if apart is not None else None
    if said is None or not said.endswith(_WRITTEN):  # a child that failed sends nothing, or part
        if apart is not None:
            apart.close()
        for tmp, _ in _temporaries(os.fspath(p.root), paths, suffix, frozenset()):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        _write_share(p, paths, suffix, made, whole)
        return False
    import pickle

    sizes, in_place, directories = pickle.loads(said[: -len(_WRITTEN)])
    p.sizes.update(zip(paths, sizes, strict=True))
    whole.update(in_place)
    made.update(map(Path, directories))
    return True


def _with_parents(p: Plan, made: set[Path]) -> None:
    """A directory made here is an entry in its parent, up to the root."""
    for directory in list(made):
        while directory != p.root and p.root in directory.parents:
            directory = directory.parent
            made.add(directory)


def _write_all(p: Plan) -> set[Path]:
    """Write every planned file through a temporary name and a rename, as
    ``write_atomic`` does, with fewer system calls: each directory is made once, the
    temporary is created with its final mode, and a batch of files' data is synced at
    once (``fsutil.Syncs``) while the next batch is written, then renamed (creating and
    syncing files dominates emit: 33,555 of them at 1,000 models). Returns the
    directories whose entries changed."""
    made: set[Path] = set()
    suffix = f".{os.getpid()}.tmp"
    # At most two batches are open: one syncing, the next being written.
    batches: list[tuple[_Batch, Started | None]] = []
    size = _batch_size()
    with Syncs() as syncs:
        try:
            for start in range(0, len(p.write), size):
                batch: _Batch = []
                batches.append((batch, None))
                _write_batch(p, p.write[start : start + size], suffix, made, batch)
                batches[-1] = (batch, syncs.start([fd for fd, _, _ in batch]))
                if len(batches) == 2:
                    _renamed(*batches[0])
                    del batches[0]
            while batches:
                _renamed(*batches[0])
                del batches[0]
        except BaseException:
            for batch, syncing in batches:
                if syncing is not None:
                    syncing.settle()  # its lanes end before their descriptors are closed
                _abandoned(batch)
            raise
    _with_parents(p, made)
    return made


# A batch's files not yet renamed: (descriptor, or -1 once closed; temporary; target).
_Batch = list[tuple[int, Path, Path]]


def _write_batch(
    p: Plan, paths: list[str], suffix: str, made: set[Path], batch: _Batch, whole: set[str] | None = None
) -> None:
    """Write ``paths``' temporaries (appended to ``batch``, open); a path whose temporary name
    is taken is written in place (``write_atomic``) and added to ``whole``."""
    for path in paths:
        target = p.root / path
        # In parts where the plan's files make them (a spooled rules file is 8 MB at 1,000 models).
        data = p.files.parts(path) if isinstance(p.files, Contents) else [p.files[path]]
        # A spooled file's parts are read as they are written; its size is known.
        p.sizes[path] = sum(len(part) for part in data) if isinstance(data, list) else p.size(path)
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            ledger_paths.ensure_inside(p.root, target.parent)  # swapped for a symlink since the plan?
            made.add(target.parent)
        made_tmp = _created(target, suffix)
        if made_tmp is None:  # the temporary name is taken
            write_atomic(target, data)
            if whole is not None:
                whole.add(path)
            continue
        fd, tmp = made_tmp
        batch.append((fd, tmp, target))
        # Whatever the umask; a replaced file keeps its mode, as write_atomic does.
        os.fchmod(fd, _mode_of(target) if path in p.replace else 0o644)
        for part in data:
            view = memoryview(part)
            while view:
                view = view[os.write(fd, view) :]


def _renamed(batch: _Batch, syncing: Started | None) -> None:
    """Each of ``batch`` renamed into place once its data is synced."""
    if syncing is not None:
        syncing.wait()
    for i, (fd, tmp, target) in enumerate(batch):
        batch[i] = (-1, tmp, target)
        os.close(fd)
        os.replace(tmp, target)


def _abandoned(batch: _Batch) -> None:
    for fd, tmp, _ in batch:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)  # (gone once renamed)


def _created(target: Path, suffix: str) -> tuple[int, Path] | None:
    """A new temporary beside ``target``: its descriptor and name; None (nothing made)
    when the name is taken."""
    tmp = target.with_name(f".{target.name}{suffix}")
    try:
        return os.open(tmp, _NEW, 0o644), tmp
    except FileExistsError:
        return None


def _mode_of(target: Path) -> int:
    try:
        return os.stat(target).st_mode & 0o777
    except FileNotFoundError:
        return 0o644


def ledger_bytes(p: Plan) -> bytes:
    """``json.dumps({"generator": "shipspec", "files": {path: sha}}, indent=2)`` and a
    newline, written line by line (an indented dump runs the pure-Python encoder:
    a third of a watching compile's write at 1,000 models)."""
    return b"".join(ledger_parts(p))


_ROWS = 2048  # ledger or journal entries made into bytes at a time


def ledger_parts(p: Plan) -> Iterator[bytes]:
    """``ledger_bytes`` a few thousand lines at a time: made whole, a first compile's
    ledger at 1,000 models was its lines, their join and its encoding at once (14 MB)."""
    if not p.files:
        yield (json.dumps({"generator": "shipspec", "files": {}}, indent=2) + "\n").encode("utf-8")
        return
    quote = json.encoder.encode_basestring_ascii
    yield b'{\n  "generator": "shipspec",\n  "files": {\n'
    paths = list(p.files)
    for start in range(0, len(paths), _ROWS):
        rows = ",\n".join(f"    {quote(path)}: {quote(p.sha(path))}" for path in paths[start : start + _ROWS])
        yield (",\n" + rows if start else rows).encode("utf-8")
    yield b"\n  }\n}\n"


def _splice_points(p: Plan, before: bytes) -> list[tuple[int, bytes]] | None:
    """Where ``ledger_bytes(p)`` differs from ``before``, the ledger ``p`` was planned over
    (``p.ledger``), when the plan only rewrote files it names: (offset, new sha256) for each
    rewritten file's line (the same paths in the same order, so the rest is byte for byte).
    None when a path comes or goes, or a line is not where and what ``ledger_bytes`` writes."""
    if p.delete or len(p.files) != len(p.ledger):
        return None
    quote = json.encoder.encode_basestring_ascii
    spans = []
    start = 0  # the plan writes in the ledger's order: each line is looked for past the last
    for path in p.write:
        old = p.ledger.get(path)
        if old is None:
            return None
        key = f'\n    {quote(path)}: "'.encode()
        at = before.find(key, start)
        if at < 0:
            at = before.find(key)
            if at < 0:
                return None
        at += len(key)
        start = at
        if before[at : at + len(old) + 1] != f'{old}"'.encode():
            return None
        new = p.sha(path).encode()
        if len(new) != len(old):
            return None
        spans.append((at, new))
    return spans


def _patched_in_place(path: Path, before: bytes, spans: list[tuple[int, bytes]]) -> bool:
    """Write ``spans`` over the ledger at ``path`` where it stands, and make them durable:
    rewriting the whole 4 MB ledger at 1,000 models (a new file, its data synced) was ~9 ms of
    a one-model step, for ~17 lines that changed. Safe as a rename is because the journal
    still names every file this plan wrote (``emit_journal``): a kill mid-way leaves each
    line old, new or torn, and the next compile takes a file matching its pending digest
    as its own. Only over a regular file with one link, of ``before``'s size; else False
    and nothing written (the caller replaces it whole)."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size != len(before):
            return False
        for at, new in spans:
            if os.pwrite(fd, new, at) != len(new):
                raise OSError(errno.EIO, "short write", os.fspath(path))
        fdatasync(fd)
    finally:
        os.close(fd)
    return True


def _remove_empty_parents(directory: Path, root: Path) -> None:
    root = root.resolve()
    while directory.resolve() != root and root in directory.resolve().parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def changed_paths(p: Plan) -> list[str]:
    """The paths whose bytes on disk differ from what compile would write (the ledger included)."""
    same = set(p.unchanged)  # the plan found these equal
    ledger = ledger_bytes(p)
    return [
        path
        for path in sorted({*p.files, LEDGER, *_stale(p)})
        if path not in same and _read(p.root / path) != _wanted(p, path, ledger)
    ]


def _wanted(p: Plan, path: str, ledger: bytes) -> bytes | None:
    if path == LEDGER:
        return ledger
    return p.files[path] if path in p.files else None


def diff(p: Plan, *, ledger: bool = True) -> str:
    """A unified diff from the tree on disk to what compile would write, the ledger
    included (a committed ledger must match its files) unless ``ledger`` is False:
    its hash lines only echo the changes of the files above it."""
    out: list[str] = []
    ledger_now = ledger_bytes(p)
    for path in changed_paths(p):
        if path == LEDGER and not ledger:
            continue
        old = _read(p.root / path)
        new = _wanted(p, path, ledger_now)
        a = (old or b"").decode("utf-8", "replace").splitlines(keepends=True)
        b = (new or b"").decode("utf-8", "replace").splitlines(keepends=True)
        out.extend(
            difflib.unified_diff(
                a, b, f"a/{path}" if old is not None else "/dev/null", f"b/{path}" if new is not None else "/dev/null"
            )
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def _stale(p: Plan) -> set[str]:
    return {path for path in p.ledger if path not in p.files and os.path.exists(p.root / path)}
