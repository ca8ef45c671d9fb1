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
coarse clock, so a compile whose files are that fresh records nothing (the next
compile, a full no-op, does). The record never decides a verdict the pipeline
would not: tests/unit/test_settled.py compares both after random edits.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.cache import root_key
from compiler.diagnostics import Diagnostic, Severity
from compiler.ledger_paths import LEDGER
from compiler.parse.sources import Store, discover, display_path, file_key
from compiler.parse.syntax import SourceFile, read_source

KIND = "settled"
SETTLE_NS = 50_000_000
LStat = tuple[int, int, int, int, int]


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
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)


def lookup(store: Store, root: Path, inputs: Inputs) -> Settled | None:
    """The recorded outcome when ``root`` holds exactly what the last compile of ``inputs`` left."""
    record: Any = store.get(KIND, root_key(KIND, root))
    if not isinstance(record, dict) or record.get("key") != inputs.key:
        return None
    base = os.fspath(root)
    for path, seen in record["stats"].items():
        if _lstat(os.path.join(base, path)) != seen:
            return None
    return Settled(inputs.sources, record["diagnostics"], record["files"])


def record(store: Store, root: Path, inputs: Inputs, diagnostics: Sequence[Diagnostic], files: Sequence[str]) -> None:
    """After a compile wrote ``files`` under ``root`` without errors: what the next run compares."""
    base = os.fspath(root)
    now = time.time_ns()
    paths = [LEDGER, *files]
    dirs: set[str] = set()
    for path in paths:  # every directory on the way: a symlink swapped in for any of them is a miss
        parent = os.path.dirname(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    stats: dict[str, LStat] = {}
    for path in [*paths, *sorted(dirs)]:
        seen = _lstat(os.path.join(base, path))
        if seen is None or (not stat.S_ISDIR(seen[4]) and now - max(seen[1], seen[2]) <= SETTLE_NS):
            return  # missing, or too fresh to be told apart from a later edit by its stat
        stats[path] = seen
    store.put(KIND, root_key(KIND, root), {"key": inputs.key, "diagnostics": tuple(diagnostics), "files": len(files),
                                       "stats": stats})  # fmt: skip
