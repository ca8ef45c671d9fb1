"""Atomic file writes: a reader sees the old file or the new one, never half; and syncs
of many files at once."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor


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


fdatasync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)
# How many syncs are in flight at once. On ext4 every fdatasync ends in a flush of the
# disk's write cache (~0.25 ms on this project's machines, the same for a file already
# clean), and flushes issued together are merged into one by the block layer: 33,555
# new files at 1,000 models took 9.0 s one after another, ~2 s sixteen at a time.
IN_FLIGHT = 16
_ALONE = 8  # fewer descriptors than this are synced in the caller's thread (a watching step's few)


class Syncs:
    """Make the data of many descriptors durable, ``IN_FLIGHT`` at a time. Each descriptor is
    synced once ``each`` returns (or ``start``'s ``wait``), as one sync after another would
    leave it: a caller renames a file into place only then. Threads are made on first use
    and end with ``close`` (or the ``with`` block); ``sync`` is a seam for tests."""

    def __init__(self, sync: Callable[[int], None] | None = None) -> None:
        self.sync = sync or fdatasync
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Syncs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # no thread is left holding a descriptor the caller closes
            self._pool = None

    def each(self, fds: Sequence[int]) -> None:
        self.start(fds).wait()

    def start(self, fds: Sequence[int]) -> Started:
        """Start syncing ``fds`` (a few are synced here and now); the caller goes on writing
        and ``wait``s before it renames or closes any of them."""
        if len(fds) < _ALONE:
            for fd in fds:
                self.sync(fd)
            return Started([])
        from concurrent.futures import ThreadPoolExecutor  # not on a one-file validate's path

        if self._pool is None:
            self._pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="shipspec-sync")
        lanes = min(IN_FLIGHT, len(fds))
        return Started([self._pool.submit(self._lane, fds[i::lanes]) for i in range(lanes)])

    def _lane(self, fds: Sequence[int]) -> None:
        for fd in fds:
            self.sync(fd)


class Started:
    """Syncs under way (``Syncs.start``)."""

    def __init__(self, lanes: list[Future[None]]) -> None:
        self.lanes = lanes

    def wait(self) -> None:
        """Return once every lane has ended; raise the first lane's error after that (none is
        still using a descriptor then)."""
        from concurrent.futures import wait

        try:
            wait(self.lanes)
        except BaseException:  # (an interrupt while waiting)
            for lane in self.lanes:
                lane.cancel()
            wait(self.lanes)
            raise
        for lane in self.lanes:
            lane.result()

    def settle(self) -> None:
        """Return once every lane has ended, raising none of their errors (the caller is
        already on its way out with one)."""
        from concurrent.futures import wait

        wait(self.lanes)
