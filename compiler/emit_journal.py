"""Crash safety and serialisation for writing an output root (issue 17, points 13, 18).

* **Lock**: one compile (or promote) writes a root at a time. ``locked(root)``
  holds an advisory ``flock`` on the root directory itself, so nothing is left
  in the tree; a second compile waits for the first.
* **Journal**: before the first file is replaced, ``.shipspec/journal.json``
  holds a ``pending`` map (path -> sha256 of what is about to be written); it
  goes once the new ledger is written. A compile killed half-way leaves files
  that match ``pending``; the next compile counts them as shipspec's own (not
  SS901 "edited by hand") and replaces them. A file of its own, not the ledger
  with ``pending`` put in: the ledger is 4 MB at 1,000 models, and writing it
  twice was half of a one-model edit's write. A ledger with ``pending`` (what
  shipspec wrote before) is still read as a journal.
* **Temporaries**: a kill between creating a temporary and renaming it leaves
  ``.NAME.<pid or random>.tmp`` beside an output; the next compile removes those
  (under the lock, so none can belong to a running compile).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from compiler.fsutil import write_atomic
from compiler.ledger_paths import JOURNAL, LEDGER, MAX_LEDGER_BYTES, ensure_inside, symlink_problem

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?:\d+|[A-Za-z0-9_]{8})\.tmp$")


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the root's write lock (waiting for another shipspec to finish)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_pending(root: Path) -> dict[str, str]:
    """The ``pending`` map of an interrupted compile ({} when there is none): the journal's,
    and the ledger's own where an earlier shipspec put it there."""
    pending = _pending_in(Path(root) / LEDGER)
    if symlink_problem(root, JOURNAL) is None:
        # (it names only files one compile writes: never larger than a ledger)
        pending.update(_pending_in(Path(root) / JOURNAL, MAX_LEDGER_BYTES))
    return pending


def _pending_in(path: Path, limit: int | None = None) -> dict[str, str]:
    try:
        if limit is not None and path.stat().st_size > limit:
            return {}  # not a journal shipspec wrote
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    pending = data.get("pending") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in pending.items()} if isinstance(pending, dict) else {}


def write_journal(root: Path, pending: dict[str, str]) -> None:
    """Put the journal of what is about to be written (made durable before any file is)."""
    write_atomic(Path(root) / JOURNAL, journal_chunks(pending))


def journal_chunks(pending: dict[str, str]) -> Iterator[bytes]:
    """``json.dumps({"generator": "shipspec", "pending": dict(sorted(pending.items()))},
    separators=(",", ":"))`` and a newline, a few thousand entries at a time: made whole, a
    first compile's journal (every file pending, 33,500 at 1,000 models) was its sorted
    entries, its text and its encoding at once, 5 MiB over a cold compile's peak."""
    quote = json.encoder.encode_basestring_ascii
    keys = sorted(pending)
    yield b'{"generator":"shipspec","pending":{'
    for start in range(0, len(keys), _ENTRIES):
        part = ",".join(f"{quote(k)}:{quote(pending[k])}" for k in keys[start : start + _ENTRIES])
        yield ("," + part if start else part).encode("utf-8")
    yield b"}}\n"


_ENTRIES = 2048  # journal entries made into bytes at a time


def end_journal(root: Path) -> None:
    """The write is over (the new ledger vouches for every file): no journal stands."""
    with contextlib.suppress(FileNotFoundError):
        (Path(root) / JOURNAL).unlink()


def sweep_temporaries(root: Path, paths: Iterable[str]) -> list[str]:
    """Remove the temporaries a killed write left beside ``paths``; returns what was removed."""
    by_dir: dict[str, set[str]] = {}
    for path in paths:
        parent, _, name = path.rpartition("/")
        by_dir.setdefault(parent, set()).add(name)
    removed = []
    base = os.fspath(root)
    for parent, names in sorted(by_dir.items()):
        # Listed first, which only reads: a directory not there (each of a first compile's
        # 4,000 at 1,000 models) costs a failed open, not the resolving of every component
        # that the check below costs (0.18 s for them all).
        try:
            entries = os.listdir(f"{base}/{parent}" if parent else base)
        except OSError:
            continue
        found = [entry for entry in entries if (m := _TEMP.match(entry)) and m["name"] in names]
        if not found:
            continue
        directory = Path(root) / parent if parent else Path(root)
        try:
            ensure_inside(root, directory)  # never removed through a symlink out of the root
        except OSError:
            continue
        for entry in found:
            with contextlib.suppress(FileNotFoundError):
                (directory / entry).unlink()
                removed.append(f"{parent}/{entry}" if parent else entry)
    return removed
