"""The one place shipspec forks: worker pools for the stages that split work
across cores (loading many spec files, rendering many Kubernetes environments).

Workers are forked, not spawned, so they inherit what the parent built (the
parser, a spec's resolved placements, the templates) instead of pickling it;
where fork is unavailable the callers run the work in-process.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # concurrent.futures imports multiprocessing: one spec file never forks
    from concurrent.futures import ProcessPoolExecutor

# More workers than this only add fork and pickling costs on the machines we measured.
MAX_WORKERS = 8


def worker_count(tasks: int) -> int:
    """How many workers ``tasks`` pieces of work can use here (1 means: do not fork)."""
    return max(1, min(os.cpu_count() or 1, tasks, MAX_WORKERS))


def fork_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of ``workers`` forked processes, or None where fork is unavailable or pointless."""
    if workers < 2:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
