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

What a one-shot compile after an edit does of all this, at 1,000 models (issue 16):

- the spec files: each one's stat, text and ``file_key`` are kept beside the record
  (``SPECS``), and a file whose stat is the one kept is not read (``read_inputs``,
  as git's index; one recorded within ``SETTLE_NS`` of its stat is never kept);
- the tree: a large one is verified in a forked child (``Found``) while the spec is
  read and built, on the other core (its 36,800 lstats were ~0.17 s of system
  calls); what the plan then changes is compared again before it is written
  (``holds``), so a hand edit made meanwhile is still reported, not overwritten;
- the record: the head keeps its diagnostics as pickled rows (``_report``), read
  only when it answers; an edit's record is a patch over the body on disk (``PATCH``:
  the few paths that changed), not the whole body put again, until the patch
  outgrows ``PATCH_SHARE``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import stat
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import filterfalse
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.cache import Unshared, root_key
from compiler.diagnostics import Diagnostic, Severity, Span, any_error
from compiler.ledger_paths import LEDGER
from compiler.parse.sources import Store, discover, display_path, file_key
from compiler.parse.syntax import SourceFile, read_source

if TYPE_CHECKING:
    from compiler.emit import Plan
    from compiler.parallel import Forked

KIND = "settled"
BODY = "settled-tree"  # the stats, racy files and ledger of a record (``_body``)
PATCH = "settled-patch"  # what changed of the body since it was put (``_body``, ``_patched``)
SPECS = "settled-specs"  # the spec files' stats and texts as the last record read them (``spec_texts``)
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
        return any_error(self.diagnostics)


# Each spec file as it was last read settled (``read_inputs``): by the path discover gave,
# its display path, stat, text and ``file_key``.
Spec = tuple[str, LStat, str, str]


@dataclass(frozen=True, slots=True)
class Inputs:
    """The spec files as read, and the key of everything a build of them depends on."""

    sources: tuple[SourceFile, ...]
    key: str
    # The files whose stat was taken before they were read (or before their recorded text was
    # taken) and was settled then: display path -> (the path discover gave, stat, file_key).
    # A compile that records keeps their texts (``SPECS``) for the next ``read_inputs``.
    seen: Mapping[str, tuple[str, LStat, str]] = dataclasses.field(default_factory=dict)
    # Whether one of ``seen`` was read rather than taken from the record (``keep_specs``).
    fresh: bool = False


def read_inputs(
    inputs: Sequence[Path],
    template_dir: Path | None,
    validate_output: bool,
    ci_install: str | None,
    allow: frozenset[str],
    known: Mapping[str, Spec] | None = None,
) -> Inputs | None:
    """The spec files under ``inputs`` and their key; None when one cannot be read
    cleanly (the pipeline then reports why).

    ``known``: the files as the last recording compile read them (``spec_texts``). A file whose
    stat is still the one recorded is not read: its recorded text is what reading it gives, as
    git's index takes an unchanged stat for unchanged content. Only files whose stat was settled
    when taken are recorded (changed more than ``SETTLE_NS`` before: an edit within the clock's
    granularity after that could keep the stat), and a stat is taken before the file is read
    (an edit while it is read moves the stat from the recorded one)."""
    from compiler.pipeline import build_key

    files, problems = discover(inputs)
    if problems:
        return None
    sources = []
    keys = []
    seen: dict[str, tuple[str, LStat, str]] = {}
    fresh = False
    for path in files:
        name = os.fspath(path)
        now = time.time_ns()
        st = _stat(name)
        was = known.get(name) if known is not None and st is not None else None
        if was is not None and was[1] == st:
            display, _, text, key = was
        else:
            display = display_path(path)
            read, errors = read_source(path, display)
            if errors or read is None:
                return None
            text, key = read, file_key(display, read)
            fresh = True
        sources.append(SourceFile(display, text, None, ()))
        keys.append(key)
        if st is not None and not _racy(st, now):
            seen[display] = (name, st, key)
    key = with_allowed(build_key(keys, template_dir, validate_output, ci_install), allow)
    return Inputs(tuple(sources), key, seen, fresh and bool(seen))


def spec_texts(store: Store, root: Path) -> dict[str, Spec] | None:
    """The spec files as the last recording compile under ``root`` read them, when it ran
    in this working directory (their display paths depend on it); for ``read_inputs``."""
    found = store.get(SPECS, root_key(KIND, root))
    if not isinstance(found, dict) or found.get("cwd") != os.getcwd() or not isinstance(found.get("files"), dict):
        return None
    files: dict[str, Spec] = found["files"]
    return files


def keep_specs(store: Store, root: Path, read: Inputs) -> None:
    """After a compile answered from the record (nothing recorded): keep the texts of the spec
    files it read settled, when it read one (touched since, or racy when last recorded)."""
    if read.fresh:
        _keep_specs(store, root, read.sources, read)


def _keep_specs(store: Store, root: Path, built: Sequence[SourceFile], read: Inputs) -> None:
    """Put the texts of the spec files ``read`` saw settled, as the build used them."""
    texts = {s.path: s.text for s in read.sources}
    files: dict[str, Spec] = {}
    for source in built:
        seen = read.seen.get(source.path)
        if seen is not None and texts.get(source.path) == source.text:  # built from what was read
            name, st, key = seen
            files[name] = (source.path, st, source.text, key)
    store.put(SPECS, root_key(KIND, root), {"cwd": os.getcwd(), "files": files})


def with_allowed(build_key: str, allow: frozenset[str]) -> str:
    """A build's key with the codes it was told not to report: what the record is keyed on."""
    from compiler.cache import digest

    return digest(build_key, "allow", *sorted(allow))


def _lstat(path: str) -> LStat | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return _packed(st)


def _stat(path: str) -> LStat | None:
    """``_lstat`` of what ``path`` names (a spec file may be a symlink: it is read through it)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _packed(st)


def _packed(st: os.stat_result) -> LStat:
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
    # Verified apart, while the build ran (``Found``): what a plan changes is compared again
    # (``holds``) before it is written, as when it was verified once the build was done.
    early: bool = False
    # Where it is stored (``_body``): the body it is made from (its token) and the patch over
    # it (None: the body alone), which the next record adds to rather than putting a body.
    base: str | None = None
    patch: dict[str, Any] | None = None


def entry(store: Store, root: Path) -> Any:
    """The head of ``root``'s record as stored: the key, the diagnostics and the count, without
    the stats and the ledger (``_body``: a few MiB at 1,000 models, read only when the head
    matches or once a build needs the tree; held through a one-model edit's build, they were
    a tenth of its peak memory)."""
    return store.get(KIND, root_key(KIND, root))


_READ: Any = object()


def _body(store: Store, root: Path, head: Any) -> dict[str, Any] | None:
    """The stats, racy files and ledger recorded with ``head`` (None: none, or another record's:
    a record is put body first, so a head whose body was replaced since is no record).

    A head with a ``base`` was recorded as a patch over the body of that token (``PATCH``:
    the stats and ledger entries that changed since, None for a path gone, and the racy
    files): the body is read with the patch applied. The patch names its head's token and
    its base's, so a body or patch replaced since is no record either."""
    if not isinstance(head, dict) or not isinstance(head.get("tree"), str):
        return None
    base = head.get("base")
    patch: Any = None
    if base is not None:
        patch = store.get(PATCH, root_key(KIND, root))
        if not isinstance(patch, dict) or patch.get("token") != head["tree"] or patch.get("base") != base:
            return None
    body: Any = store.get(BODY, root_key(KIND, root))
    if (
        not isinstance(body, dict)
        or body.get("token") != (head["tree"] if base is None else base)
        or not isinstance(body.get("ledger"), dict)
    ):
        return None
    if patch is not None:  # the body was loaded for this call (patches are put only on disk: ``_patching``)
        stats, ledger = body["stats"], body["ledger"]
        for path, seen in patch["stats"].items():
            if seen is None:
                stats.pop(path, None)
            else:
                stats[path] = seen
        for path, sha in patch["ledger"].items():
            if sha is None:
                ledger.pop(path, None)
            else:
                ledger[path] = sha
        body = {**body, "token": head["tree"], "racy": patch["racy"], "base": base, "patch": patch}
    found: dict[str, Any] = body
    return found


# A record of this many files or more is verified in a forked child (``Found``), beside the
# reading of the spec and the build: at 1,000 models its 36,800 lstats were ~0.17 s of a
# one-model edit's compile, nearly all of it system calls (~4 us each), not Python.
APART_FROM = 2_000
# The most a compile waits for that child's answer once it needs it; then it verifies itself.
APART_WAIT_S = 30.0


class Found:
    """A root's record as a compile first reads it: the head (``entry``) and, for a large tree,
    its verification under way in a forked child (``parallel.fork_call``), whose verdict
    ``lookup`` or ``tree`` takes. ``close`` stops that child if nothing took it."""

    def __init__(self, store: Store, root: Path) -> None:
        self.head: Any = entry(store, root)
        self.child: Forked | None = None
        self.answer: bool | None = None
        head = self.head
        if isinstance(head, dict) and isinstance(head.get("tree"), str) and _count(head) >= APART_FROM:
            from compiler.parallel import fork_call

            token = head["tree"]

            def verify() -> bytes:  # in the child: its answer names the body it verified
                body = _body(store, root, head)
                return b"1" + token.encode() if body is not None and _verified(body, root) is not None else b"0"

            self.child = fork_call(verify)

    def verdict(self) -> bool | None:
        """Whether the child found the tree as recorded (None: no child, or no answer in time)."""
        if self.child is not None:
            answer = self.child.result(APART_WAIT_S)
            self.child = None
            self.answer = False if answer == b"0" else True if answer == b"1" + self.head["tree"].encode() else None
        return self.answer

    def close(self) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None


def _count(head: dict[str, Any]) -> int:
    files = head.get("files")
    return files if isinstance(files, int) else 0


def lookup(store: Store, root: Path, inputs: Inputs, found: Any = _READ) -> Settled | None:
    """The recorded outcome when ``root`` holds exactly what the last compile of ``inputs`` left
    (``found``: the head ``entry`` read, or a ``Found``; else it is read here)."""
    head = found.head if isinstance(found, Found) else entry(store, root) if found is _READ else found
    if not isinstance(head, dict) or head.get("key") != inputs.key:
        return None
    apart = found.verdict() if isinstance(found, Found) else None
    if apart is None:
        body = _body(store, root, head)
        if body is None or _verified(body, root) is None:
            return None
    elif not apart:
        return None
    return Settled(inputs.sources, _reported(head["diagnostics"]), head["files"])


def tree(store: Store, root: Path, found: Any = _READ) -> Tree | None:
    """The tree under ``root`` when it is still what the recorded compile wrote, whatever
    that compile's inputs were (``found`` as ``lookup`` takes it). Verified apart (``Found``),
    it is verified as of then: the plan's own paths are compared again (``Tree.early``)."""
    head = found.head if isinstance(found, Found) else entry(store, root) if found is _READ else found
    apart = found.verdict() if isinstance(found, Found) else None
    if apart is False:
        return None
    body = _body(store, root, head)
    if body is None:
        return None
    stored = _stored(body)
    if apart:
        return Tree(body["stats"], body["ledger"], body.get("racy", {}), early=True, **stored)
    stats = _verified(body, root)
    return Tree(stats, body["ledger"], body.get("racy", {}), **stored) if stats is not None else None


def _stored(body: dict[str, Any]) -> dict[str, Any]:
    """Where ``_body``'s answer is stored: its base body's token and its patch (``Tree``)."""
    return {"base": body.get("base", body["token"]), "patch": body.get("patch")}


def recorded(store: Store, root: Path) -> Tree | None:
    """The record of ``root`` as it was made, unverified: for a caller that checks only
    the paths it is about to change (``holds``), as ``compile --watch`` does."""
    body = _body(store, root, entry(store, root))
    if body is None:
        return None
    return Tree(body["stats"], body["ledger"], body.get("racy", {}), **_stored(body))


def holds(tree: Tree, root: Path, paths: Sequence[str], ledger: tuple[str, bytes | bytearray] | None = None) -> bool:
    """Whether ``paths`` (files of the record) and every directory on their way, and the
    ledger, are still as recorded. ``ledger``: a sha256 and the bytes it is the digest of,
    those of the ledger this process left (``Plan.ledger_left``): a ledger recorded racy
    with that digest is compared with them, not hashed again (4 MB at 1,000 models, ~2 ms
    of a watching step)."""
    wanted = {LEDGER}
    for path in paths:
        wanted.add(path)
        parent = os.path.dirname(path)
        while parent and parent not in wanted:
            wanted.add(parent)
            parent = os.path.dirname(parent)
    stats = {p: tree.stats[p] for p in wanted if p in tree.stats}
    return _verified({"stats": stats, "racy": tree.racy}, root, wanted, ledger) is not None


def _verified(
    found: dict[str, Any],
    root: Path,
    only: set[str] | None = None,
    ledger: tuple[str, bytes | bytearray] | None = None,
) -> dict[str, LStat] | None:
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
                if ledger is not None and path == LEDGER and ledger[0] == sha:
                    if fh.read() != ledger[1]:
                        return None
                elif hashlib.sha256(fh.read()).hexdigest() != sha:
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
    read: Inputs | None = None,
) -> bool:
    """After a compile applied ``plan`` under ``root`` without errors: what the next run compares
    (False: nothing recorded). ``before``: the tree the plan was made over; the files it did
    not write keep the stat found then (an edit since makes the next run miss, never hit wrongly).
    ``read``: the spec files as ``read_inputs`` read them for this compile; the texts of those
    it saw settled are kept for the next one."""
    ledger_sha = plan.ledger_sha
    if ledger_sha is None:
        return False  # not applied: nothing on disk to vouch for
    prepare = getattr(store, "prepare", None)
    if prepare is not None:
        prepare(KIND)  # before the stats: making the cache's directories moves .shipspec's mtime
        prepare(BODY)
    token = os.urandom(16).hex()  # binds the head to this body: each is put atomically, not both at once
    head = {"key": inputs.key, "diagnostics": _report(store, diagnostics), "files": len(plan.files), "tree": token}
    delta = _changed(root, plan, ledger_sha, before) if before is not None else None
    patch = _patched(store, before, delta, token) if before is not None and delta is not None else None
    if patch is not None:
        # A handful of paths changed: put them as a patch over the body on disk, not the body again.
        store.put(PATCH, root_key(KIND, root), patch)
        head["base"] = patch["base"]
    else:
        made = _applied(before, delta) if before is not None and delta is not None else None
        if made is None:
            made = _whole(root, plan, ledger_sha, before)
        if made is None:
            return False  # something is gone already: nothing to vouch for
        stats, racy, ledger = made
        # Unshared: its paths are written again as the ledger's keys (3 MB more at 1,000 models, and
        # copies once loaded), which costs less than the pickler's table of its 110,000 objects.
        body = {"token": token, "stats": stats, "racy": racy, "ledger": ledger}
        store.put(BODY, root_key(KIND, root), Unshared(body))
    store.put(KIND, root_key(KIND, root), head)
    if read is not None:
        _keep_specs(store, root, inputs.sources, read)
    return True


_SPAN = attrgetter("file", "line", "column", "end_line", "end_column")


def _report(store: Store, diagnostics: Sequence[Diagnostic]) -> bytes | tuple[Diagnostic, ...]:
    """The diagnostics as a head keeps them: pickled as rows of plain fields, loaded only when
    the head answers (``_reported``). Pickled as they are, each went through its record's
    reduce: 3,004 at 1,000 models were 12-19 ms to put and 16 ms to load with every head,
    most of reading one when the spec had changed. A store in memory (a watching process's)
    keeps the records themselves: pickling them was 4 ms of each step, for a head it never
    reads (its next step builds again)."""
    from compiler.cache import Memory

    if isinstance(store, Memory):
        return tuple(diagnostics)
    rows = [(d.code, d.severity.value, d.message, _SPAN(d.span), d.hint) for d in diagnostics]
    return pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


def _reported(report: bytes | tuple[Diagnostic, ...]) -> tuple[Diagnostic, ...]:
    if isinstance(report, tuple):
        return report
    severity = {s.value: s for s in Severity}
    rows = pickle.loads(report)  # a signed entry of this user's cache (``Cache.get``)
    return tuple(
        Diagnostic(code, severity[level], message, Span(*span), hint) for code, level, message, span, hint in rows
    )


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
    kept = before.stats if before is not None else {}
    # Only against a record to keep stats from: a cold compile writes every path (a set of
    # them was 1-2 MiB of its peak at 1,000 models, which this record is; issue 16, target 6).
    written = set(plan.write) | {LEDGER} if kept else set()
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
    return stats, racy, _ledger(plan)


def _ledger(plan: Plan) -> dict[str, str]:
    """Each of ``plan``'s paths and its sha256: the plan's own digests where it holds exactly
    those (a cold compile's; another dict of 33,500 was 1.3 MiB of its peak), else made."""
    shas = plan.shas
    if len(shas) == len(plan.files) and shas.keys() == plan.files.keys():
        return shas
    return {path: plan.sha(path) for path in plan.files}


@dataclass(frozen=True, slots=True)
class Delta:
    """What a plan changed of the record it was made over (``_changed``): the stats and ledger
    entries of the paths stat-ed again (None: gone), and the racy files now."""

    stats: dict[str, LStat | None]
    ledger: dict[str, str | None]
    racy: dict[str, str]


def _changed(root: Path, plan: Plan, ledger_sha: str, before: Tree) -> Delta | None:
    """``_whole``'s record, as what changed of ``before`` (the record the plan was made over,
    still as found): only what the plan wrote or removed, the ledger and the directories on
    their way are stat-ed again; the rest stands. A one-model edit at 1,000 models rewrites a
    handful of 32k paths, and the whole record was most of recording it. None where ``before``
    does not account for the plan's files, or a path is gone (then ``_whole`` decides)."""
    gone = set(plan.delete)
    written = set(plan.write)
    base = os.fspath(root)
    now = time.time_ns()
    stats: dict[str, LStat | None] = {}
    ledger: dict[str, str | None] = {}
    racy = dict(before.racy)
    dirs: set[str] = set()
    for path in [*written, *gone, LEDGER]:
        parent = os.path.dirname(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    for path in sorted(gone):
        stats[path] = None
        racy.pop(path, None)
        ledger[path] = None
    for path in [*sorted(written), LEDGER, *sorted(dirs)]:
        seen = _lstat(os.path.join(base, path))
        if seen is None:
            if path in dirs and _emptied(path, gone):
                stats[path] = None  # removed with the last file a deletion left in it
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
    # A watching plan over this very ledger, where no path came or went, has its paths: they
    # need not be counted (33,500 lookups, ~4 ms of a step at 1,000 models).
    same = not gone and plan.same_paths_as is before.ledger and all(map(files.__contains__, written))
    if not same and not _accounts(before.ledger, gone, written, files):
        return None  # not the tree this plan was made over
    for path in list(racy):  # aged past the settle time: the stat alone tells again
        if path not in written and path != LEDGER:
            seen = stats[path] if path in stats else before.stats.get(path)
            if seen is None or not _racy(seen, now):
                del racy[path]
    return Delta(stats, ledger, racy)


def _accounts(ledger: Mapping[str, str], gone: set[str], written: set[str], files: Mapping[str, object]) -> bool:
    """Whether ``ledger`` less ``gone`` and with ``written`` has the keys of ``files``, told by
    counting (in passes in C): no set of the 33,000 paths made (~5 ms a record at 1,000
    models). Every path of ``files`` that the ledger lacks is written, none gone is in
    ``files``, and as many are left of the ledger as ``files`` has of it: then the ledger's
    paths not gone are all in ``files``, and with those written they are its paths."""
    new = list(filterfalse(ledger.__contains__, files))
    if not written.issuperset(new) or not all(map(files.__contains__, written)) or any(map(files.__contains__, gone)):
        return False
    return len(files) - len(new) == len(ledger) - sum(map(ledger.__contains__, gone))


def _applied(before: Tree, delta: Delta) -> _Made:
    """``before`` with ``delta`` applied, as new dicts (``before`` may be a store's own: ``Memory``)."""
    stats, ledger = dict(before.stats), dict(before.ledger)
    for path, seen in delta.stats.items():
        if seen is None:
            stats.pop(path, None)
        else:
            stats[path] = seen
    for path, sha in delta.ledger.items():
        if sha is None:
            ledger.pop(path, None)
        else:
            ledger[path] = sha
    return stats, delta.racy, ledger


# A patch over a record's body is put instead of a body while it holds at most this share of
# the body's paths (``_patched``): each record made from the last adds to it; past that, the
# whole body is put again, and the patch starts over. At 1,000 models a body was ~7 MB to
# pickle, sign and write after each one-model edit (20-30 ms), its patch a few KB.
PATCH_SHARE = 16


def _patched(store: Store, before: Tree, delta: Delta, token: str) -> dict[str, Any] | None:
    """The patch to put for ``delta`` over the body ``before`` was made from, or None (put the
    whole body): a store in memory holds the body itself, and a patch grown past its share
    costs every read of the record more than putting the body once."""
    from compiler.cache import Cache

    if not isinstance(store, Cache) or before.base is None:
        return None
    stats = dict(before.patch["stats"]) if before.patch is not None else {}
    ledger = dict(before.patch["ledger"]) if before.patch is not None else {}
    stats.update(delta.stats)
    ledger.update(delta.ledger)
    if len(stats) * PATCH_SHARE > len(before.stats):
        return None
    return {"token": token, "base": before.base, "stats": stats, "ledger": ledger, "racy": delta.racy}


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
