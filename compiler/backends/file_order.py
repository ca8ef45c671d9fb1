"""Rendered files in path order, as the render hands them to validation and the plan.

A watching build keeps last step's files and where each one went (``Units.state``): a step
at 1,000 models sorts 33,500 files (~10 ms), though an edit of one model gives back the very
objects of last step in the same places but for a few files, of the same paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress
from operator import attrgetter, is_not
from typing import TYPE_CHECKING, NamedTuple

from compiler.backends.base import OutputFile

if TYPE_CHECKING:
    from compiler.backends.memo import Units

_PATH = attrgetter("path")
_STATE = "file order"


class _Ordered(NamedTuple):
    """A step's files as rendered, where each one went in path order, and that order."""

    files: tuple[OutputFile, ...]
    at: list[int]
    out: tuple[OutputFile, ...]


def by_path(files: Sequence[OutputFile], units: Units | None = None) -> list[OutputFile]:
    """``sorted(files, key=path)`` (stable: files of one path keep their order). Where
    ``units`` is a watching build's and ``files`` are last step's but for a few places whose
    files have the paths theirs had (compared object by object, in C), those few are put where
    theirs went; anything else is sorted whole."""
    if units is None or not units.by_identity:
        return sorted(files, key=_PATH)
    last = units.carried_state.get(_STATE)
    if isinstance(last, _Ordered):
        out = _again(files, last)
        if out is not None:
            units.state[_STATE] = last._replace(files=tuple(files), out=tuple(out))
            return out
    paths = list(map(_PATH, files))
    order = sorted(range(len(files)), key=paths.__getitem__)
    out = [files[i] for i in order]
    units.state[_STATE] = _Ordered(tuple(files), sorted(range(len(order)), key=order.__getitem__), tuple(out))
    return out


def changed_places(files: Sequence[OutputFile], last: Sequence[OutputFile]) -> list[int] | None:
    """The places where ``files`` hold other objects than ``last`` (compared object by object,
    in C), where the two are as long and those places few (at most one in eight); else None:
    what a watching build's aggregates over every file take to patch last step's result."""
    if len(files) != len(last):
        return None
    changed = list(compress(range(len(files)), map(is_not, files, last)))
    return None if len(changed) * 8 > len(files) else changed


def _again(files: Sequence[OutputFile], last: _Ordered) -> list[OutputFile] | None:
    changed = changed_places(files, last.files)
    if changed is None:
        return None
    out = list(last.out)
    for i in changed:
        f = files[i]
        if f.path != last.files[i].path:
            return None
        out[last.at[i]] = f
    return out
