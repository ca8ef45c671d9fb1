"""Paths relative to the working directory, as ``os.path.relpath`` makes them."""

from __future__ import annotations

import functools
import os


def relative(path: str | os.PathLike[str]) -> str:
    """``os.path.relpath(path)``, kept per working directory: a watching process asks it of
    every spec file each step, twice (display paths, CODEOWNERS), and each call made both
    paths absolute and split them again."""
    return _relative(os.fspath(path), os.getcwd())


@functools.lru_cache(maxsize=1 << 16)
def _relative(path: str, cwd: str) -> str:
    # A normalised path under the working directory is its own tail: what relpath gives,
    # without making both paths absolute and splitting them (1,001 spec files in a one-shot
    # compile at 1,000 models: ~10 ms).
    tail = path[len(cwd) + 1 :] if path.startswith(cwd) and path[len(cwd) : len(cwd) + 1] == os.sep else path
    if tail and not os.path.isabs(tail) and not tail.startswith("..") and os.path.normpath(tail) == tail:
        return tail
    return os.path.relpath(path, cwd)


def outside(path: str, cwd: str) -> bool:
    """Whether an absolute ``path`` lies outside ``cwd`` (lexically, as relpath sees it): its
    relative path would begin with ``..``. Asked before making one: spec files outside the
    working directory took ~15 ms of relpath at 1,001 files, for each who asked."""
    if not os.path.isabs(path):
        return False
    # Case folded where the file system folds it (Windows), as relpath compares.
    normal, here = os.path.normcase(os.path.normpath(path)), os.path.normcase(cwd)
    return normal != here and not normal.startswith(here if here.endswith(os.sep) else here + os.sep)
