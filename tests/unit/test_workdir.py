"""``workdir.relative``: ``os.path.relpath`` kept per working directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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
    from compiler.parse.sources import display_path, display_paths

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
        # The batch asks the working directory once: it follows a chdir as each one does.
        assert display_paths(paths) == display_paths(map(str, paths)) == [shown(p) for p in paths], cwd


_SEGMENTS = ["a", "b", ".", "..", "", "..a", "a..", "~"]


@given(
    at_root=st.booleans(),
    where=st.sampled_from(["relative", "under", "sibling"]),
    segments=st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=5),
    trailing=st.booleans(),
)
@example(at_root=False, where="under", segments=["", "x"], trailing=False)  # the directory, then "//x"
@example(at_root=False, where="sibling", segments=["ab"], trailing=False)  # a name that starts with the directory's
@example(at_root=True, where="relative", segments=["..", "a"], trailing=False)  # "..": the root itself
def test_a_path_s_own_tail_is_taken_only_where_relpath_gives_it(
    at_root: bool, where: str, segments: list[str], trailing: bool
) -> None:
    """The shortcut (a normalised path under the working directory is its own tail) gives
    what ``os.path.relpath`` gives for paths with empty, ``.`` and ``..`` segments, names
    that merely start with the directory's, trailing separators, and at the root."""
    from compiler.workdir import _relative

    here = os.getcwd()
    cwd = "/" if at_root else here
    tail = "/".join(segments) + ("/" if trailing else "")
    path = {"relative": tail, "under": f"{cwd.rstrip('/')}/{tail}", "sibling": f"{cwd.rstrip('/')}{tail}"}[where]
    if not path:
        return
    os.chdir(cwd)
    try:
        _relative.cache_clear()
        assert _relative(path, cwd) == os.path.relpath(path, cwd), (cwd, path)
    finally:
        os.chdir(here)


@given(
    where=st.sampled_from(["relative", "under", "sibling", "above", "back in", "root"]),
    segments=st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=5),
    trailing=st.booleans(),
    at_root=st.booleans(),
)
@example(where="back in", segments=["x"], trailing=False, at_root=False)  # outside as written, under once normalised
@example(where="sibling", segments=["ab"], trailing=False, at_root=False)  # a name that starts with the directory's
@example(where="under", segments=["..", "..", "x"], trailing=False, at_root=False)  # under as written, not normalised
@example(where="root", segments=["x"], trailing=False, at_root=True)
def test_a_path_outside_the_working_directory_is_shown_as_given_without_relpath(
    where: str, segments: list[str], trailing: bool, at_root: bool
) -> None:
    """``_display``'s shortcut for an absolute path outside the working directory gives what
    relpath-then-``..`` gives: the path as given (``Path.as_posix``); inside it, the relative path."""
    from compiler.parse.sources import _display

    here = os.getcwd()
    cwd = "/" if at_root else here
    tail = "/".join(segments) + ("/" if trailing else "")
    path = {
        "relative": tail,
        "under": f"{cwd.rstrip('/')}/{tail}",
        "sibling": f"{cwd.rstrip('/')}{tail}",
        "above": f"{os.path.dirname(cwd.rstrip('/')) or '/'}/{tail}",
        "back in": f"{os.path.dirname(cwd.rstrip('/')).rstrip('/')}/x/../{os.path.basename(cwd.rstrip('/'))}/{tail}",
        "root": f"/{tail}",
    }[where]
    if not path:
        return
    os.chdir(cwd)
    try:
        rel = os.path.relpath(path, cwd)
        expected = Path(path).as_posix() if rel.startswith("..") else Path(rel).as_posix()
        _display.cache_clear()
        assert _display(path, cwd) == expected, (cwd, path)
    finally:
        os.chdir(here)
