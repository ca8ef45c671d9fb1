"""The one place shipspec forks: worker pools for the stages that split work
across cores (loading many spec files, rendering many Kubernetes environments),
and a child that does a piece of work beside the caller (``fork_call``: a
compile's check that its output tree is as recorded, while it builds; ``Beside``:
a large one-shot build's checks and Kubernetes policy verification).

Workers are forked, not spawned, so they inherit what the parent built (the
parser, a spec's resolved placements, the templates) instead of pickling it;
where fork is unavailable the callers run the work in-process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:  # concurrent.futures imports multiprocessing: one spec file never forks
    from concurrent.futures import ProcessPoolExecutor

# More workers than this only add fork and pickling costs on the machines we measured.
MAX_WORKERS = 8


def worker_count(tasks: int) -> int:
    """How many workers ``tasks`` pieces of work can use here (1 means: do not fork)."""
    return max(1, min(os.cpu_count() or 1, tasks, MAX_WORKERS))


def workers_beside(tasks: int) -> int:
    """``worker_count`` for work forked while this process goes on with other work, which
    keeps a core for it (0: do not fork). On 2 cores, two Kubernetes workers and the parent
    rendering the other backends shared them until the workers were done, and the parent
    then rendered alone for 2.7 s of a 5.7 s render; with one worker it took 4.4 s."""
    return max(0, min((os.cpu_count() or 1) - 1, tasks, MAX_WORKERS))


def fork_pool(workers: int, least: int = 2) -> ProcessPoolExecutor | None:
    """A pool of ``workers`` forked processes, or None where fork is unavailable or
    pointless (fewer than ``least``: 1 where the caller works beside them)."""
    if workers < max(1, least):
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


class Forked:
    """What a function run in a forked child sent back (``fork_call``): bytes through a pipe.

    Each wait is bounded: a child that has not answered in time is killed, and the caller
    does the work itself. A child that failed sends nothing (``result`` is None)."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self.answer: bytes | None = None
        self.done = False

    def result(self, timeout: float) -> bytes | None:
        """What the child sent, once it closed the pipe within ``timeout`` seconds; else None."""
        if self.done:
            return self.answer
        self.answer = _read_all(self.fd, timeout)
        self.close()
        return self.answer

    def close(self) -> None:
        """Stop the child if it still runs (it holds nothing of the caller's), and reap it."""
        if self.done:
            return
        self.done = True
        import signal

        os.close(self.fd)
        try:
            os.kill(self.pid, signal.SIGKILL)  # our own child, not yet reaped: no other process
        except OSError:
            pass
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)  # killed, or exiting: it has closed the pipe

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_all(fd: int, timeout: float) -> bytes | None:
    """What comes through ``fd`` until the writer closes it, within ``timeout`` seconds; else None."""
    import select
    import time

    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError:
        pass
    return None


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Staged:
    """A forked child's work in two stages (``fork_staged``): the first runs at once and
    ``answer`` reads what it sent; the second runs once the caller says ``go``, and ``then``
    reads what it sent. Each wait is bounded; a stage that failed sends nothing (None), and
    the child does not go on to the second stage unless told."""

    def __init__(self, pid: int, first: int, go: int, second: int) -> None:
        self.pid, self.first, self.go_fd, self.second = pid, first, go, second
        self.closed = False

    def answer(self, timeout: float) -> bytes | None:
        return _read_all(self.first, timeout)

    def go(self) -> None:
        """Let the child run its second stage (an error here: it will not, and ``then`` says so)."""
        with contextlib.suppress(OSError):
            os.write(self.go_fd, b"g")

    def then(self, timeout: float) -> bytes | None:
        said = _read_all(self.second, timeout)
        self.close()
        return said

    def close(self) -> None:
        """Stop the child if it still runs, and reap it."""
        if self.closed:
            return
        self.closed = True
        import signal

        for fd in (self.first, self.go_fd, self.second):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def fork_staged(first: Callable[[], bytes], second: Callable[[], bytes]) -> Staged | None:
    """``first`` run in a forked child at once, then ``second`` in the same child once the
    caller says ``Staged.go`` (the child waits for it; a caller that closes it instead ends
    it); None where fork is unavailable or fails. The child ends with ``os._exit``: it runs
    none of the caller's cleanup."""
    if not hasattr(os, "fork"):  # pragma: no cover - platforms without fork
        return None
    pipes = [os.pipe() for _ in range(3)]  # the first answer, the go, the second answer
    try:
        pid = os.fork()
    except OSError:
        for r, w in pipes:
            os.close(r)
            os.close(w)
        return None
    (first_r, first_w), (go_r, go_w), (second_r, second_w) = pipes
    if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
        code = 1
        try:
            for fd in (first_r, go_w, second_r):
                os.close(fd)
            _send(first_w, first())
            os.close(first_w)
            if os.read(go_r, 1) == b"g":
                _send(second_w, second())
                code = 0
        finally:
            os._exit(code)
    for fd in (first_w, go_r, second_w):
        os.close(fd)
    return Staged(pid, first_r, go_w, second_r)


def fork_call(work: Callable[[], bytes]) -> Forked | None:
    """Run ``work`` in a forked child while the caller goes on; None where fork is unavailable
    or fails (the caller then does the work itself). The child ends with ``os._exit``: it
    runs none of the caller's cleanup (a lock's release, a cache's close, buffered output)."""
    if not hasattr(os, "fork"):  # pragma: no cover - platforms without fork
        return None
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
        code = 1
        try:
            os.close(read)
            _send(write, work())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return Forked(pid, read)


_T = TypeVar("_T")


class Beside(Generic[_T]):
    """``compute()`` under way in a forked child (``fork_call``) while the caller goes on, for
    work whose answer is small and pickles (diagnostics): ``result`` is what the child sent,
    or ``compute()`` run by the caller where there is no child, it sent no whole answer within
    the wait, or its answer does not load. Either way the same value: ``compute`` must read
    only what was there at the fork, which the caller must not change before ``result``."""

    def __init__(self, compute: Callable[[], _T]) -> None:
        import pickle

        self.compute = compute
        self.child = fork_call(lambda: pickle.dumps(compute(), protocol=pickle.HIGHEST_PROTOCOL))

    def result(self, timeout: float) -> _T:
        child, self.child = self.child, None
        if child is not None:
            answer = child.result(timeout)
            if answer:
                import pickle

                try:
                    found: _T = pickle.loads(answer)
                except Exception:  # noqa: BLE001 - a child that died writing: computed here instead
                    pass
                else:
                    return found
        return self.compute()

    def pending(self) -> bool:
        """Whether the child is still at work: it has sent nothing yet (``result`` would wait)."""
        child = self.child
        if child is None or child.done:
            return False
        import select

        return not select.select([child.fd], [], [], 0)[0]

    def close(self) -> None:
        """Stop the child if nothing took its answer."""
        if self.child is not None:
            self.child.close()
            self.child = None
