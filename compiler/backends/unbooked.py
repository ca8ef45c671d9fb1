"""Which of a watching step's files no render unit made, from last step's answer.

Validation passes over the files no unit booked (``memo.Units.unbooked``); a unit's verdict
stands for the others. Asking each of 33,500 files at 1,000 models whether its id is booked
was ~6 ms of a one-model step: the answer is a lookup in a table of 33,500 ids for each, and
each misses the processor's caches. Most files of a step are last step's very objects at the
same places, and a file's answer changes only where the books changed: the bodies replayed
then and not now or now and not then (``moved``), and the units booked one by one then or now.
So a step asks only the places whose file is not last step's, and the places of the files
whose answer may have changed, found through each file's place by id carried from step to
step; every other place keeps last step's answer.

Exact, or it asks every file: the place of each file is known only where no object is at two
places (the carried table then has as many ids as there are files), and only over a list of
the same length as last step's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from itertools import chain, compress
from operator import is_not, not_
from typing import NamedTuple

from compiler.output import OutputFile


class Carried(NamedTuple):
    """What a step leaves for the next: its files (held: the ids below are theirs alone), the
    place of each by id (None where an object was at two places), the ids of those no unit
    made, and the ids of the files units booked one by one."""

    files: list[OutputFile]
    places: dict[int, int] | None
    rest: frozenset[int]
    local: frozenset[int]


def unbooked(
    files: list[OutputFile],
    counts: Mapping[int, int],
    local: Set[int],
    moved: Iterable[int] | None,
    carried: list[Carried],
) -> tuple[list[OutputFile], Carried]:
    """The files of ``files`` whose id is neither in ``counts`` (the files of the bodies replayed)
    nor in ``local`` (those units booked one by one), in order, and what to carry to the next
    step. ``moved``: the ids of the files of the bodies replayed last step and not now, and now and not
    then (None: not known, so every file is asked); ``carried``: the list holding last step's
    ``Carried`` (or empty), emptied as it is taken: its table of places is changed in place, so
    no other step may take it after."""
    last = carried[0] if carried else None
    carried.clear()
    if last is None or moved is None or last.places is None or len(last.files) != len(files):
        return _asked(files, counts, local)
    before, places = last.files, last.places
    changed = list(compress(range(len(files)), map(is_not, files, before)))
    for at in changed:
        del places[id(before[at])]  # (one place each: the table has as many ids as places)
    for at in changed:
        places[id(files[at])] = at
    if len(places) != len(files):  # an object at two places now
        return _asked(files, counts, local)
    if len(last.local) + len(local) > max(_FEW, len(files) // 8):
        # Many files booked one by one then or now (a watcher's first two steps: every unit of
        # the compile before ran): asking every file in two passes is quicker than making each
        # of them a suspect (33,500 at 1,000 models: 24-26 -> 9-11 ms), and the table of
        # places is kept as moved on for the steps after.
        rest = _every(files, counts, local)
        return rest, Carried(files, places, frozenset(map(id, rest)), frozenset(local))
    suspects = set(changed)
    for i in chain(moved, last.local, local):
        place = places.get(i)
        if place is not None:
            suspects.add(place)
    rest_at = {p for i in last.rest if (p := places.get(i)) is not None and p not in suspects}
    rest_at.update(p for p in suspects if (i := id(files[p])) not in counts and i not in local)
    rest = [files[at] for at in sorted(rest_at)]
    return rest, Carried(files, places, frozenset(map(id, rest)), frozenset(local))


# Below this many files booked one by one (then and now), the suspects are asked one by one.
_FEW = 64


def _every(files: list[OutputFile], counts: Mapping[int, int], local: Set[int]) -> list[OutputFile]:
    maybe = compress(files, map(not_, map(counts.__contains__, map(id, files))))
    return [f for f in maybe if id(f) not in local]


def _asked(files: list[OutputFile], counts: Mapping[int, int], local: Set[int]) -> tuple[list[OutputFile], Carried]:
    """Every file asked, and the table of places made afresh."""
    rest = _every(files, counts, local)
    places: dict[int, int] | None = {id(f): at for at, f in enumerate(files)}
    if places is not None and len(places) != len(files):
        places = None
    return rest, Carried(files, places, frozenset(map(id, rest)), frozenset(local))
