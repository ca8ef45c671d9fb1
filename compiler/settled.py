"""A compile or check of a tree that is exactly what the last compile left.

Most runs change nothing: a pre-commit hook or a CI step over an unchanged spec,
an editor saving a file twice. Such a run answers from a record instead of
lowering, checking, rendering and planning (issue 16: a no-op at 1,000 models
in well under a second).

The record (one per output root, in the build cache) holds what the last
successful compile under that root depended on and what it left:

- the build key: every spec file's path and text, shipspec's code and data, the
  template overrides and the switches a build reads (``pipeline.build_key``),
  plus the allowed codes;
- the diagnostics that compile reported;
- the ``lstat`` (size, mtimes, inode, mode) of the ledger, of every file it wrote
  and of every directory holding one.

Any difference is a miss and the whole pipeline runs: a byte of a spec or a
template, an output touched or replaced, a directory swapped for a symlink. A
file changed within ``SETTLE_NS`` of being recorded could keep its stat on a
coarse clock after a later edit (git's "racily clean" entries): such a file is
recorded with the sha256 of what was written, and is read and compared as well
as stat-ed. The record never decides a verdict the pipeline would not:
tests/unit/test_settled.py compares both after random edits.

When only the inputs changed (a spec edit) and the tree is still as recorded,
``tree`` hands the recorded ledger to the plan (``emit.plan_over``): every file
the last compile wrote holds the bytes the ledger names, and every directory on
the way is the one it wrote through, so the plan neither reads nor screens
those paths again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.cache import Unshared, root_key
from compiler.diagnostics import Diagnostic, Severity
from compiler.ledger_paths import LEDGER
from compiler.parse.sources import Store, discover, display_path, file_key
from compiler.parse.syntax import SourceFile, read_source

if TYPE_CHECKING:
    from compiler.emit import Plan

KIND = "settled"
BODY = "settled-tree"  # the stats, racy files and ledger of a record (``_body``)
SETTLE_NS = 50_000_000
# An lstat as recorded: size, mtime and ctime (ns), inode and mode, packed (``_lstat``). As a
# tuple of five ints it was ~250 bytes a path: 9 MiB for the 36,800 paths of a 1,000-model
# tree, held at the end of a cold compile and loaded by every warm one (issue 16).
LStat = bytes
_STAT = struct.Struct("<QqqQQ")


@dataclass(frozen=True, slots=True)
class Settled:
    """What the recorded compile reported: its diagnostics and how many files it keeps."""

    sources: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: int

    @property
    def texts(self) -> dict[str, str]:
        return {s.path: s.text for s in self.sources}

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


@dataclass(frozen=True, slots=True)
class Inputs:
    """The spec files as read, and the key of everything a build of them depends on."""

    sources: tuple[SourceFile, ...]
    key: str


def read_inputs(
    inputs: Sequence[Path],
    template_dir: Path | None,
    validate_output: bool,
    ci_install: str | None,
    allow: frozenset[str],
) -> Inputs | None:
    """The spec files under ``inputs`` and their key; None when one cannot be read
    cleanly (the pipeline then reports why)."""
    files, problems = discover(inputs)
    if problems:
        return None
    sources = []
    for path in files:
        display = display_path(path)
        text, errors = read_source(path, display)
        if errors or text is None:
            return None
        sources.append(SourceFile(display, text, None, ()))
    return keyed(tuple(sources), template_dir, validate_output, ci_install, allow)


def keyed(
    sources: tuple[SourceFile, ...],
    template_dir: Path | None,
    validate_output: bool,
    ci_install: str | None,
    allow: frozenset[str],
) -> Inputs:
    from compiler.pipeline import build_key

    keys = [file_key(s.path, s.text) for s in sources]
    return Inputs(sources, with_allowed(build_key(keys, template_dir, validate_output, ci_install), allow))


def with_allowed(build_key: str, allow: frozenset[str]) -> str:
    """A build's key with the codes it was told not to report: what the record is keyed on."""
    from compiler.cache import digest

    return digest(build_key, "allow", *sorted(allow))


def _lstat(path: str) -> LStat | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    fields = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)
    try:
        return _STAT.pack(*fields)
    except struct.error:  # a field past 64 bits (an inode on some file systems): its text, then,
        text = repr(fields).encode()  # never as long as a packed one (``_fields`` tells them apart)
        return text if len(text) != _STAT.size else text + b" "


def _fields(seen: LStat) -> tuple[int, ...]:
    """A recorded lstat's size, mtime, ctime, inode and mode."""
    if len(seen) == _STAT.size:
        return _STAT.unpack(seen)
    import ast

    found: tuple[int, ...] = ast.literal_eval(seen.decode())
    return found


@dataclass(frozen=True, slots=True)
class Tree:
    """An output root exactly as the recorded compile left it: the ``lstat`` of each path
    it recorded (as found again now) and its ledger (path -> sha256 of the file)."""

    stats: dict[str, LStat]
    ledger: dict[str, str]
    racy: dict[str, str] = dataclasses.field(default_factory=dict)


def entry(store: Store, root: Path) -> Any:
    """The head of ``root``'s record as stored: the key, the diagnostics and the count, without
    the stats and the ledger (``_body``: a few MiB at 1,000 models, read only when the head
    matches or once a build needs the tree; held through a one-model edit's build, they were
    a tenth of its peak memory)."""
    return store.get(KIND, root_key(KIND, root))


_READ: Any = object()


def _body(store: Store, root: Path, head: Any) -> dict[str, Any] | None:
    """The stats, racy files and ledger recorded with ``head`` (None: none, or another record's:
    a record is put body first, so a head whose body was replaced since is no record)."""
    if not isinstance(head, dict) or not isinstance(head.get("tree"), str):
        return None
    body: Any = store.get(BODY, root_key(KIND, root))
    if not isinstance(body, dict) or body.get("token") != head["tree"] or not isinstance(body.get("ledger"), dict):
        return None
    return body


def lookup(store: Store, root: Path, inputs: Inputs, found: Any = _READ) -> Settled | None:
    """The recorded outcome when ``root`` holds exactly what the last compile of ``inputs`` left
    (``found``: the head ``entry`` read, else it is read here)."""
    if found is _READ:
        found = entry(store, root)
    if not isinstance(found, dict) or found.get("key") != inputs.key:
        return None
    body = _body(store, root, found)
    if body is None or _verified(body, root) is None:
        return None
    return Settled(inputs.sources, found["diagnostics"], found["files"])


def tree(store: Store, root: Path, found: Any = _READ) -> Tree | None:
    """The tree under ``root`` when it is still what the recorded compile wrote, whatever
    that compile's inputs were (``found`` as ``lookup`` takes it)."""
    if found is _READ:
        found = entry(store, root)
    body = _body(store, root, found)
    if body is None:
        return None
    stats = _verified(body, root)
    return Tree(stats, body["ledger"], body.get("racy", {})) if stats is not None else None


def recorded(store: Store, root: Path) -> Tree | None:
    """The record of ``root`` as it was made, unverified: for a caller that checks only
    the paths it is about to change (``holds``), as ``compile --watch`` does."""
    body = _body(store, root, entry(store, root))
    if body is None:
        return None
    return Tree(body["stats"], body["ledger"], body.get("racy", {}))


def holds(tree: Tree, root: Path, paths: Sequence[str]) -> bool:
    """Whether ``paths`` (files of the record) and every directory on their way, and the
    ledger, are still as recorded."""
    wanted = {LEDGER}
    for path in paths:
        wanted.add(path)
        parent = os.path.dirname(path)
        while parent and parent not in wanted:
            wanted.add(parent)
            parent = os.path.dirname(parent)
    stats = {p: tree.stats[p] for p in wanted if p in tree.stats}
    return _verified({"stats": stats, "racy": tree.racy}, root, wanted) is not None


def _verified(found: dict[str, Any], root: Path, only: set[str] | None = None) -> dict[str, LStat] | None:
    base = os.fspath(root)
    stats: dict[str, LStat] = found["stats"]
    for path, seen in stats.items():
        if _lstat(os.path.join(base, path)) != seen:
            return None
    for path, sha in found.get("racy", {}).items():
        if only is not None and path not in only:
            continue
        try:
            with open(os.path.join(base, path), "rb") as fh:
                if hashlib.sha256(fh.read()).hexdigest() != sha:
                    return None
        except OSError:
            return None
    return stats


def record(
    store: Store,
    root: Path,
    inputs: Inputs,
    diagnostics: Sequence[Diagnostic],
    plan: Plan,
    before: Tree | None = None,
) -> bool:
    """After a compile applied ``plan`` under ``root`` without errors: what the next run compares
    (False: nothing recorded). ``before``: the tree the plan was made over; the files it did
    not write keep the stat found then (an edit since makes the next run miss, never hit wrongly)."""
    ledger_sha = plan.ledger_sha
    if ledger_sha is None:
        return False  # not applied: nothing on disk to vouch for
    prepare = getattr(store, "prepare", None)
    if prepare is not None:
        prepare(KIND)  # before the stats: making the cache's directories moves .shipspec's mtime
        prepare(BODY)
    made = _changed(root, plan, ledger_sha, before) if before is not None else None
    if made is None:
        made = _whole(root, plan, ledger_sha, before)
    if made is None:
        return False  # something is gone already: nothing to vouch for
    stats, racy, ledger = made
    token = os.urandom(16).hex()  # binds the head to this body: each is put atomically, not both at once
    # Unshared: its paths are written again as the ledger's keys (3 MB more at 1,000 models, and
    # copies once loaded), which costs less than the pickler's table of its 110,000 objects.
    body = {"token": token, "stats": stats, "racy": racy, "ledger": ledger}
    store.put(BODY, root_key(KIND, root), Unshared(body))
    head = {"key": inputs.key, "diagnostics": tuple(diagnostics), "files": len(plan.files), "tree": token}
    store.put(KIND, root_key(KIND, root), head)
    return True


_Made = tuple[dict[str, LStat], dict[str, str], dict[str, str]]


def _racy(seen: LStat, now: int) -> bool:
    """Whether a later edit within the clock's granularity could keep this stat."""
    _, mtime, ctime, _, mode = _fields(seen)
    return not stat.S_ISDIR(mode) and now - max(mtime, ctime) <= SETTLE_NS


def _whole(root: Path, plan: Plan, ledger_sha: str, before: Tree | None) -> _Made | None:
    """The record of every path ``plan`` left, and of every directory on their way."""
    base = os.fspath(root)
    now = time.time_ns()
    paths = [LEDGER, *plan.files]
    dirs: set[str] = set()
    for path in paths:  # every directory on the way: a symlink swapped in for any of them is a miss
        parent = os.path.dirname(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    written = set(plan.write) | {LEDGER}
    kept = before.stats if before is not None else {}
    stats: dict[str, LStat] = {}
    racy: dict[str, str] = {}
    for path in [*paths, *sorted(dirs)]:
        seen = kept.get(path) if path not in written and path not in dirs else None
        if seen is None:
            seen = _lstat(os.path.join(base, path))
        if seen is None:
            return None
        stats[path] = seen
        if _racy(seen, now):
            # A later edit within the clock's granularity could keep this stat: compare bytes too.
            racy[path] = ledger_sha if path == LEDGER else plan.sha(path)
    return stats, racy, {path: plan.sha(path) for path in plan.files}


def _changed(root: Path, plan: Plan, ledger_sha: str, before: Tree) -> _Made | None:
    """``_whole``'s record, made from ``before`` (the record the plan was made over, still as
    found): only what the plan wrote or removed, the ledger and the directories on their way
    are stat-ed again; the rest is copied. A one-model edit at 1,000 models rewrites a handful
    of 32k paths, and the whole record was most of recording it. None where ``before`` does
    not account for the plan's files, or a path is gone (then ``_whole`` decides)."""
    gone = set(plan.delete)
    written = set(plan.write)
    base = os.fspath(root)
    now = time.time_ns()
    stats, racy, ledger = dict(before.stats), dict(before.racy), dict(before.ledger)
    dirs: set[str] = set()
    for path in [*written, *gone, LEDGER]:
        parent = os.path.dirname(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    for path in gone:
        stats.pop(path, None)
        racy.pop(path, None)
        ledger.pop(path, None)
    for path in [*sorted(written), LEDGER, *sorted(dirs)]:
        seen = _lstat(os.path.join(base, path))
        if seen is None:
            if path in dirs and _emptied(path, gone):
                stats.pop(path, None)  # removed with the last file a deletion left in it
                continue
            return None
        stats[path] = seen
        racy.pop(path, None)
        if _racy(seen, now):
            racy[path] = ledger_sha if path == LEDGER else plan.sha(path)
        if path in written:
            ledger[path] = plan.sha(path)
    # A plan's files are its ``emit.Contents``: their dict's keys compare in C, a Mapping's
    # keys view path by path in Python (~0.008 s of a watching step at 1,000 models).
    files: Mapping[str, object] = getattr(plan.files, "outputs", plan.files)
    if ledger.keys() != files.keys():
        return None  # not the tree this plan was made over
    for path in list(racy):  # aged past the settle time: the stat alone tells again
        if path not in written and path != LEDGER and not _racy(stats[path], now):
            del racy[path]
    return stats, racy, ledger


def _emptied(directory: str, gone: set[str]) -> bool:
    prefix = directory + "/"
    return any(path.startswith(prefix) for path in gone)


def known(store: Store, root: Path) -> dict[str, tuple[tuple[int, int, int, int], str]] | None:
    """The record's files as ``emit.plan`` takes hints (``known``): each file's stat and the
    sha256 it was recorded with, but for the racy ones (a later edit could keep their stat).
    A hint is never a verdict: the plan reads a file whose stat moved. The record holds what
    ``emit.observed`` kept apart before, so a compile that records it writes only the one."""
    found = _body(store, root, entry(store, root))
    if found is None:
        return None
    stats, ledger, racy = found.get("stats"), found.get("ledger"), found.get("racy", {})
    if not isinstance(stats, dict) or not isinstance(ledger, dict):
        return None
    hints = {}
    for path, sha in ledger.items():
        seen = stats.get(path)
        if seen is not None and path not in racy:
            size, mtime, ctime, ino, _ = _fields(seen)
            hints[path] = ((size, mtime, ctime, ino), sha)
    return hints
