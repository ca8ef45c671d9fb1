"""``file_order.by_path``: a watching build puts last step's files where they went, and a
fresh sort of the same files gives the very same list."""

from __future__ import annotations

import random

import pytest

from compiler.backends import file_order
from compiler.backends.base import OutputFile
from compiler.backends.memo import Units
from compiler.diagnostics import Span


def _file(path: str, n: int = 0) -> OutputFile:
    return OutputFile(path, f"{path} {n}", Span.point("t.ship", n + 1))


def _next(units: Units) -> Units:
    following = Units()
    following.resume(units.step())
    return following


def test_a_watching_order_is_a_fresh_sort_after_any_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over 300 random steps (a file made again at its path, moved to another path, two files
    of one path, files added, removed or reordered), what a watching build hands out is the
    stable sort of the step's files, object for object."""
    rng = random.Random(16)
    files = [_file(f"deploy/{d}/f{i}.yaml") for d in "abc" for i in range(6)]
    rng.shuffle(files)
    units = Units(by_identity=True)
    taken: list[bool] = []
    real = file_order._again

    def again(files: list[OutputFile], last: object) -> list[OutputFile] | None:
        out = real(files, last)  # type: ignore[arg-type]
        taken.append(out is not None)
        return out

    monkeypatch.setattr(file_order, "_again", again)
    for step in range(300):
        i = rng.randrange(len(files))
        change = rng.randrange(8)
        if change <= 2:  # most steps: a file or two made again where it was
            files[i] = _file(files[i].path, step)
            if change == 0:
                j = rng.randrange(len(files))
                files[j] = _file(files[j].path, step)
        elif change == 3:
            files[i] = _file(rng.choice(["deploy/a/moved.yaml", "deploy/z/moved.yaml", files[0].path]), step)
        elif change == 4:
            files.insert(i, _file(f"deploy/{rng.choice('abd')}/new{step}.yaml", step))
        elif change == 5 and len(files) > 2:
            files.pop(i)
        elif change == 6:
            files.append(_file(files[i].path, step))  # two files claim one path (the plan reports it)
        else:
            rng.shuffle(files)
        units = _next(units)
        got = file_order.by_path(list(files), units)
        expected = sorted(files, key=lambda f: f.path)
        assert len(got) == len(expected) and all(a is b for a, b in zip(got, expected, strict=True)), step
    assert sum(taken) > 100  # most steps took the shortcut


def test_a_build_that_is_not_watching_sorts_and_keeps_nothing() -> None:
    files = [_file("b"), _file("a"), _file("a", 1)]
    units = Units()
    assert [f.text for f in file_order.by_path(files, units)] == ["a 0", "a 1", "b 0"]
    assert [f.text for f in file_order.by_path(files)] == ["a 0", "a 1", "b 0"]
    assert not units.state
