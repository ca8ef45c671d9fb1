"""Atomic file writes: a reader sees the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, data: bytes | bytearray | Iterable[bytes | memoryview], *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (bytes, or parts written one after another: a large file
    made of slices of another is not joined in memory first) atomically; ``durable`` also
    fsyncs the file (callers writing thousands of files sync once at the end instead)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes | bytearray):
                f.write(data)
            else:
                for part in data:
                    f.write(part)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
