"""Crash safety and serialisation for writing an output root (issue 17, points 13, 18).

* **Lock**: one compile (or promote) writes a root at a time. ``locked(root)``
  holds an advisory ``flock`` on the root directory itself, so nothing is left
  in the tree; a second compile waits for the first.
* **Journal**: before the first file is replaced, the ledger gains a
  ``pending`` map (path -> sha256 of what is about to be written). A compile
  killed half-way leaves files that match ``pending``; the next compile counts
  them as shipspec's own (not SS901 "edited by hand") and replaces them. The
  final ledger has no ``pending``.
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

from compiler.ledger_paths import LEDGER, ensure_inside

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
    """The ``pending`` map of an interrupted compile ({} when there is none)."""
    try:
        data = json.loads((Path(root) / LEDGER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    pending = data.get("pending") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in pending.items()} if isinstance(pending, dict) else {}


def journal_bytes(ledger: dict[str, str], pending: dict[str, str]) -> bytes:
    """The ledger as a journal: what it vouches for and, as ``pending``, what is about to be written.
    One line (json's C encoder): it stands only until the write ends, and an indented dump ran
    the pure-Python encoder over every entry (a fifth of writing one file at 1,000 models)."""
    return b"".join(journal_chunks(ledger, pending))


def journal_chunks(ledger: dict[str, str], pending: dict[str, str]) -> Iterator[bytes]:
    """``journal_bytes`` a few thousand entries at a time (the same bytes): made whole, a first
    compile's journal at 1,000 models was its sorted entries, its text and its encoding at
    once (13 MB)."""
    yield b'{"generator":"shipspec","files":'
    yield from _object_chunks(ledger)
    yield b',"pending":'
    yield from _object_chunks(pending)
    yield b"}\n"


def _object_chunks(entries: dict[str, str]) -> Iterator[bytes]:
    """``json.dumps(dict(sorted(entries.items())), separators=(",", ":"))`` in parts."""
    quote = json.encoder.encode_basestring_ascii
    keys = sorted(entries)
    yield b"{"
    for start in range(0, len(keys), _ENTRIES):
        part = ",".join(f"{quote(k)}:{quote(entries[k])}" for k in keys[start : start + _ENTRIES])
        yield ("," + part if start else part).encode("utf-8")
    yield b"}"


_ENTRIES = 2048


def journal_after(ledger: bytes, pending: dict[str, str]) -> bytes | None:
    """``journal_bytes`` as read back (the same files and pending), made from the bytes of the
    ledger on disk (``emit.ledger_bytes``'s layout): the pending map is put in before its
    last brace, instead of encoding every entry again. None for another layout."""
    parts = journal_parts(ledger, pending)
    return None if parts is None else b"".join(parts)


def journal_parts(ledger: bytes, pending: dict[str, str]) -> list[bytes | memoryview] | None:
    """``journal_after``'s bytes as parts to write one after another: the ledger's own bytes
    (a view, not a copy: 4 MB at 1,000 models), then the pending map."""
    end = b"\n  }\n}\n"
    if not ledger.endswith(end):
        return None
    tail = json.dumps(dict(sorted(pending.items())), separators=(",", ":"))
    return [memoryview(ledger)[: -len(b"}\n")], b',"pending":' + tail.encode("utf-8") + b"}\n"]


def sweep_temporaries(root: Path, paths: Iterable[str]) -> list[str]:
    """Remove the temporaries a killed write left beside ``paths``; returns what was removed."""
    by_dir: dict[str, set[str]] = {}
    for path in paths:
        parent, _, name = path.rpartition("/")
        by_dir.setdefault(parent, set()).add(name)
    removed = []
    for parent, names in sorted(by_dir.items()):
        directory = Path(root) / parent if parent else Path(root)
        try:
            ensure_inside(root, directory)  # never through a symlink out of the root
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            m = _TEMP.match(entry)
            if m and m["name"] in names:
                with contextlib.suppress(FileNotFoundError):
                    (directory / entry).unlink()
                    removed.append(f"{parent}/{entry}" if parent else entry)
    return removed
