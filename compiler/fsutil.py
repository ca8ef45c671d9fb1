"""Atomic file writes: a reader sees the old file or the new one, never half; and syncs
of many files at once."""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import queue
    import threading


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
# disk's write cache (~0.27 ms on this project's machines, the same for a file already
# clean), and flushes issued together are merged by the block layer: 10,000 new files
# took 2.0-2.6 s one after another, 0.8-0.9 s sixteen at a time (the 33,555 of a cold
# compile at 1,000 models spent 9.0 s in fdatasync one after another).
IN_FLIGHT = 16
# Fewer descriptors than this are synced in the caller's thread: starting the lanes (~0.1 ms
# a thread) cost a watching step more than its few syncs gained (the four files and ~10
# directories of a one-model edit: +2-3 ms a step with lanes from 8 up).
_ALONE = 32


# syncfs(2), once looked up: None where there is none (not Linux, or a libc without it).
_SYNCFS: list[Callable[[int], int] | None] = []


def _syncfs() -> Callable[[int], int] | None:
    if not _SYNCFS:
        found = None
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                call = ctypes.CDLL(None, use_errno=True).syncfs
                call.argtypes, call.restype = [ctypes.c_int], ctypes.c_int
                found = call
            except (OSError, AttributeError):
                pass
        _SYNCFS.append(found)
    return _SYNCFS[0]


def can_sync_file_systems() -> bool:
    """Whether ``sync_file_systems`` can (syncfs(2), Linux)."""
    return _syncfs() is not None


# What syncfs answers where it cannot be used (a sandbox's seccomp filter, an emulated kernel
# without it): the caller syncs each file instead, and syncfs is not tried again.
_UNUSABLE = frozenset((errno.ENOSYS, errno.EPERM, errno.EOPNOTSUPP, errno.EINVAL))


def sync_file_systems(directories: Iterable[Path]) -> bool:
    """Make everything written to the file systems holding ``directories`` durable: one
    syncfs(2) for each file system among them. Where a write touches thousands of files
    this costs a fraction of a sync per file: each fdatasync on ext4 ends in a commit of
    the journal and a flush of the disk's cache, and the 33,555 files of a cold compile at
    1,000 models spent ~4 s of system time in them, against 0.6 s for one syncfs (mostly
    waiting on the disk). It also writes back what other processes left dirty on that file
    system, which is why a write of a few files syncs each instead (``Syncs``).
    False where syncfs cannot be used (nothing was made durable then: the caller syncs
    each file); raises ``OSError`` when a sync fails (Linux reports writeback errors to
    syncfs from 5.8 on)."""
    call = _syncfs()
    if call is None:
        return False
    devices: dict[int, Path] = {}
    for directory in directories:
        try:
            devices.setdefault(os.stat(directory).st_dev, directory)
        except FileNotFoundError:
            continue  # removed as empty since: the file system of its parent is among them
    for directory in devices.values():
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            if call(fd) != 0:
                import ctypes

                code = ctypes.get_errno()
                if code in _UNUSABLE:
                    _SYNCFS[:] = [None]
                    return False
                raise OSError(code, os.strerror(code), os.fspath(directory))
        finally:
            os.close(fd)
    return True


class Syncs:
    """Make the data of many descriptors durable, ``IN_FLIGHT`` at a time. Each descriptor is
    synced once ``each`` returns (or ``start``'s ``wait``), as one sync after another would
    leave it: a caller renames a file into place only then. The lanes are threads of its
    own, made on first use and ended by ``close`` (or the ``with`` block): not
    ``concurrent.futures``, whose import registers an exit handler (``logging``'s) that
    kept a one-build command from ending at once (``cli._end_now``). ``sync`` is a seam
    for tests."""

    def __init__(self, sync: Callable[[int], None] | None = None) -> None:
        self.sync = sync or fdatasync
        self._lanes: list[threading.Thread] = []
        self._work: queue.SimpleQueue[tuple[Started, Sequence[int]] | None] | None = None

    def __enter__(self) -> Syncs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the lanes, once each has done what it was given."""
        if self._work is not None:
            for _ in self._lanes:
                self._work.put(None)
            for lane in self._lanes:
                lane.join()
            self._lanes, self._work = [], None

    def each(self, fds: Sequence[int]) -> None:
        self.start(fds).wait()

    def start(self, fds: Sequence[int]) -> Started:
        """Start syncing ``fds`` (a few are synced here and now); the caller goes on writing
        and ``wait``s before it renames or closes any of them."""
        if len(fds) < _ALONE:
            for fd in fds:
                self.sync(fd)
            return Started(0)
        if self._work is None:
            import queue  # not on a one-file validate's path
            import threading

            self._work = queue.SimpleQueue()
            self._lanes = [
                threading.Thread(target=self._run, name=f"shipspec-sync-{i}", daemon=True) for i in range(IN_FLIGHT)
            ]
            for lane in self._lanes:
                lane.start()
        lanes = min(IN_FLIGHT, len(fds))
        started = Started(lanes)
        for i in range(lanes):
            self._work.put((started, fds[i::lanes]))
        return started

    def _run(self) -> None:
        work = self._work
        assert work is not None
        while (item := work.get()) is not None:
            started, fds = item
            error: BaseException | None = None
            try:
                for fd in fds:
                    self.sync(fd)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                error = exc
            started.ended(error)


class Started:
    """Syncs under way (``Syncs.start``): how many of its lanes have not ended, and their errors."""

    def __init__(self, lanes: int) -> None:
        import threading

        self._left = lanes
        self._errors: list[BaseException] = []
        self._ended = threading.Condition()

    def ended(self, error: BaseException | None) -> None:
        with self._ended:
            self._left -= 1
            if error is not None:
                self._errors.append(error)
            self._ended.notify_all()

    def wait(self) -> None:
        """Return once every lane has ended; raise the first lane's error after that (none is
        still using a descriptor then)."""
        self.settle()
        if self._errors:
            raise self._errors[0]

    def settle(self) -> None:
        """Return once every lane has ended, raising none of their errors (the caller may be
        on its way out with one)."""
        with self._ended:
            while self._left:
                self._ended.wait()
