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


def test_display_path_is_what_users_see_in_whichever_directory_it_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.parse.sources import display_path

    inside = tmp_path / "a" / "specs"
    inside.mkdir(parents=True)
    paths = [inside / "m.ship", tmp_path / "b.ship", Path("rel/x.ship"), Path("../up.ship"), inside / ".." / "n.ship"]

    def shown(p: Path) -> str:  # relative inside the working directory, else as given
        rel = os.path.relpath(p)
        return Path(rel).as_posix() if not rel.startswith("..") else p.as_posix()

    for cwd in (tmp_path, inside, tmp_path / "a", tmp_path, inside):
        monkeypatch.chdir(cwd)
        for p in paths:
            assert display_path(p) == display_path(str(p)) == shown(p), (cwd, p)
