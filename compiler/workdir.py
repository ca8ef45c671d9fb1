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
    return os.path.relpath(path, cwd)
