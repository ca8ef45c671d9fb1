"""``workdir.relative``: ``os.path.relpath`` kept per working directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.workdir import relative


def test_relative_is_relpath_in_whichever_directory_it_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = tmp_path / "a" / "specs"
    inside.mkdir(parents=True)
    paths = [
        inside / "m.ship",
        tmp_path / "b.ship",
        Path("rel/x.ship"),
        Path("../up.ship"),
        str(inside / ".." / "n.ship"),
    ]
    for cwd in (tmp_path, inside, tmp_path / "a", tmp_path, inside):  # again: a kept answer must follow the directory
        monkeypatch.chdir(cwd)
        for p in paths:
            assert relative(p) == os.path.relpath(p), (cwd, p)
