"""``backends.unbooked``: a watching step's files no unit booked, from last step's answer,
are exactly those a pass over every file finds, however the files and the books changed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from compiler.backends.unbooked import Carried, unbooked
from compiler.diagnostics import Span
from compiler.output import OutputFile

POOL = 12  # the files any step may hold (by index), each a separate object

# One step: for each of up to 10 places, which file of the pool is there, or a new object;
# which files of the pool the replayed bodies made, and which units booked one by one.
steps = st.lists(
    st.tuples(
        st.lists(st.one_of(st.integers(0, POOL - 1), st.none()), min_size=0, max_size=10),
        st.frozensets(st.integers(0, POOL - 1)),
        st.frozensets(st.integers(0, POOL - 1)),
        st.booleans(),  # whether the books' changes are known (else every file is asked)
    ),
    min_size=1,
    max_size=6,
)


def _file(n: int) -> OutputFile:
    return OutputFile(f"f{n}.yaml", "a: 1\n", Span.point("x.ship"))


@settings(max_examples=300, deadline=None)
@given(steps)
@example([([0], frozenset(), frozenset({0}), True), ([0], frozenset(), frozenset(), True)])  # booked alone, then not
@example([([0, 1], frozenset({0}), frozenset(), True), ([0, 1], frozenset(), frozenset({1}), True)])
def test_the_files_no_unit_booked_are_those_every_file_asked_finds(plan: list[Any]) -> None:
    _steps(plan)


@settings(max_examples=300, deadline=None)
@given(steps)
@example([([0], frozenset(), frozenset({0}), True), ([0], frozenset(), frozenset(), True)])
@example([([0, 1], frozenset({0}), frozenset(), True), ([0, 1], frozenset(), frozenset({1}), True)])
# Asked in passes where the files swapped places, then one by one from the places moved on.
@example(
    [
        ([0, 1], frozenset(), frozenset({0}), True),
        ([1, 0], frozenset(), frozenset(), True),
        ([1, 0], frozenset({1}), frozenset(), True),
    ]
)
def test_past_a_few_files_booked_one_by_one_every_file_is_asked_and_places_still_move_on(plan: list[Any]) -> None:
    """Where many files were booked one by one (the step after a watcher's first), every file
    is asked in passes: the same files, and the places carried on to later steps still hold."""
    from compiler.backends import unbooked as module

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, "_FEW", 0)
        _steps(plan)


def _steps(plan: list[Any]) -> None:
    pool = [_file(n) for n in range(POOL)]
    last: Carried | None = None
    held: list[Carried] = []
    counted: set[int] = set()
    for places, replayed, local_at, known in plan:
        files = [pool[n] if n is not None else _file(100) for n in places]
        counts = {id(pool[n]): 1 for n in replayed}
        local = {id(pool[n]) for n in local_at}
        # What moved: the files counted in or out since last step (exactly what the books know).
        moved = list(counted ^ counts.keys()) if known else None
        consumed: list[Any] = [last] if last is not None else []
        rest, carried = unbooked(files, counts, local, moved, consumed)
        assert rest == [f for f in files if id(f) not in counts and id(f) not in local]
        assert consumed == []  # (taken: no other step takes what was changed in place)
        held.append(carried)
        last, counted = carried, set(counts)


def test_a_step_that_asks_only_the_changed_places_still_finds_a_file_no_longer_booked() -> None:
    """A file at the place it was, whose body is no longer replayed: found through ``moved``."""
    pool = [_file(n) for n in range(4)]
    counts = {id(f): 1 for f in pool[:3]}
    rest, carried = unbooked(pool, counts, set(), None, [])
    assert rest == [pool[3]] and carried.places is not None
    del counts[id(pool[1])]
    rest, _ = unbooked(pool, counts, set(), [id(pool[1])], [carried])
    assert rest == [pool[1], pool[3]]


def test_an_object_at_two_places_is_asked_at_every_place() -> None:
    pool = [_file(n) for n in range(3)]
    rest, carried = unbooked([pool[0], pool[1], pool[0]], {}, set(), None, [])
    assert rest == [pool[0], pool[1], pool[0]] and carried.places is None
    rest, carried = unbooked(pool, {id(pool[0]): 1}, set(), [], [carried])
    assert rest == [pool[1], pool[2]] and carried.places is not None
    twice = [pool[1], pool[1], pool[2]]  # now twice: the table cannot say where; every place asked
    rest, carried = unbooked(twice, {id(pool[0]): 1}, set(), [], [carried])
    assert rest == twice and carried.places is None
