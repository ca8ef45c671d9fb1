"""What the checks of a watching process keep of one step for the next.

A check whose work is per item (a model, a gate, an SLA) does each item's work in a
function of nothing but its arguments: the item, the tables it looks names up in (the
environments by name, the models by name, each model's placements), and values.
``Kept`` keeps each call's result with what it read: the item and the values, as the
very objects, and each name it looked up in each table. A call of the next step takes
the kept result without calling the function when its item and values are the very
objects of the kept call (``is``, never ``==``: two equal records may point at
different lines) and no name it looked up names another record than it did (which
names of a table do is found once a step, ``Memo.table``). ``resolve`` leaves every
record of a spec file whose text did not change the same object, and a placement too
where it still holds, so after a one-model edit only the items that are, or look up,
that model's records are checked again (``compile --watch``). The check puts the
results together in the order it always did: its diagnostics are the same, in the same
order, as those of a check that keeps nothing.

A one-shot check keeps nothing: ``ONE_SHOT`` calls every function, once per item, with
the tables as they are.

The calls go through the memo a whole sequence at a time (``each``, ``results``): at
1,000 models the checks make some 25,000 of them in a step, and a Python call per item
to look one up cost as much as most checks' own work.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, compress
from operator import is_not
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, TypeVarTuple

from compiler.diagnostics import Sink

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")
K = TypeVar("K", bound=Hashable)
K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)
V_co = TypeVar("V_co", covariant=True)
Ts = TypeVarTuple("Ts")


class Lookup(Protocol[K_contra, V_co]):
    """A table a per-item function looks names up in (a dict, or what ``Memo.table`` hands out)."""

    def get(self, key: K_contra, /) -> V_co | None: ...

    def __contains__(self, key: object, /) -> bool: ...

    def __iter__(self) -> Iterator[Any]: ...


class Memo(Protocol):
    """How a check's per-item functions are called: with a watching process's kept results
    (``Kept``), or without (``ONE_SHOT``)."""

    def each(self, fn: Callable[[Sink, T, *Ts], None], sink: Sink, items: Iterable[T], *shared: *Ts) -> None:
        """``fn(sink, item, *shared)`` for each item, in order; ``shared``: tables (``table``)
        and values every item reads."""
        ...

    def results(self, fn: Callable[[T, *Ts], R], items: Iterable[T], *shared: *Ts) -> list[R]:
        """``fn(item, *shared)`` for each item, in order."""
        ...

    def table(self, kind: str, table: Mapping[K, V]) -> Lookup[K, V]:
        """``table`` (its values records, tuples of records, or frozensets of names) as the
        functions ``each`` and ``results`` call look names up in it: each name they look up
        is kept with their result. ``kind``: what the table holds, one table a step."""
        ...


class _OneShot:
    """Nothing kept: every function called."""

    def each(self, fn: Callable[[Sink, T, *Ts], None], sink: Sink, items: Iterable[T], *shared: *Ts) -> None:
        for item in items:
            fn(sink, item, *shared)

    def results(self, fn: Callable[[T, *Ts], R], items: Iterable[T], *shared: *Ts) -> list[R]:
        return [fn(item, *shared) for item in items]

    def table(self, kind: str, table: Mapping[K, V]) -> Lookup[K, V]:
        return table


ONE_SHOT: Memo = _OneShot()

# A name a function looked up, with its table's kind (``_read``): a string, whose hash is
# kept with it, so that comparing what a call read with what changed hashes nothing again.
_Read = str
_NOTHING: frozenset[_Read] = frozenset()
_EVERY = object()  # the key a function that went through every name of a table read


def _read(kind: str, key: object) -> _Read:
    return f"{kind}\0*" if key is _EVERY else f"{kind}\0{key!r}"  # no key's repr is ``*``


# (the item, the result, what the call looked up). A hit keeps its item alive, so no other
# object takes its id while it is kept.
_Hit = tuple[Any, Any, tuple[_Read, ...]]
# Where a sequence's entries are kept: its function, and for each shared argument a table's
# kind or a value's id (the value kept alive with them).
_Key = tuple[Callable[..., Any], tuple[object, ...]]


class _Table(Generic[K, V]):
    """A table as ``Kept`` hands it out: the keys whose values are not last step's."""

    __slots__ = ("changed", "kind", "table")

    def __init__(self, kind: str, table: Mapping[K, V], changed: frozenset[_Read]) -> None:
        self.kind, self.table, self.changed = kind, table, changed

    def get(self, key: K, /) -> V | None:
        return self.table.get(key)

    def __contains__(self, key: object, /) -> bool:
        return key in self.table

    def __iter__(self) -> Iterator[K]:
        return iter(self.table)


class _Reading(Generic[K, V]):
    """A table as a function being called reads it: each key it looks up is noted."""

    __slots__ = ("kind", "read", "table")

    def __init__(self, kind: str, table: Mapping[K, V], read: list[tuple[str, object]]) -> None:
        self.kind, self.table, self.read = kind, table, read

    def get(self, key: K, /) -> V | None:
        self.read.append((self.kind, key))
        return self.table.get(key)

    def __contains__(self, key: object, /) -> bool:
        self.read.append((self.kind, key))
        return key in self.table

    def __iter__(self) -> Iterator[K]:
        self.read.append((self.kind, _EVERY))
        return iter(self.table)


class Kept:
    """A watching process's kept results: the last step's, and, while ``check`` runs, this
    step's (``begin``; ``end`` makes them the ones the next step finds). A step that fails
    midway leaves the last step's, which still hold: they are kept by identity."""

    def __init__(self) -> None:
        self._entries: dict[_Key, tuple[tuple[object, ...], list[_Seq]]] = {}
        self._values: dict[tuple[str, str], Any] = {}
        self._entries_now: dict[_Key, tuple[tuple[object, ...], list[_Seq]]] = {}
        self._values_now: dict[tuple[str, str], Any] = {}
        self._made: dict[tuple[object, ...], Any] = {}  # what _shared handed out this step, and last
        self._made_last: dict[tuple[object, ...], Any] = {}

    def begin(self) -> Memo:
        self._entries_now, self._values_now, self._made = {}, {}, {}
        return self

    def end(self) -> None:
        self._entries, self._values, self._made_last = self._entries_now, self._values_now, self._made
        self._entries_now, self._values_now, self._made = {}, {}, {}

    def table(self, kind: str, table: Mapping[K, V]) -> Lookup[K, V]:
        at = ("table", kind)
        handed: _Table[K, V] | None = self._values_now.get(at)
        if handed is not None and handed.table is table:
            return handed
        last: _Table[K, V] | None = self._values.get(at)
        changed = _changed(None if last is None else last.table, table)
        reads = frozenset(_read(kind, key) for key in changed)
        handed = self._values_now[at] = _Table(kind, table, reads | {_read(kind, _EVERY)} if reads else _NOTHING)
        return handed

    def _hits(
        self, fn: Callable[..., Any], sink: Sink | None, items: Iterable[Any], shared: tuple[object, ...]
    ) -> list[_Hit]:
        """(item, result, what it looked up) for each of ``items``, last step's where it holds
        (``sink``: where ``fn`` reports, None for ``results``). A function's calls over the same
        shared arguments are matched with last step's in the order they come. Most of a step's
        sequences are last step's items at the same places but a few: their hits are last
        step's list with the places of new items, and of items that looked up a changed name
        (``_Seq.index``), called again; no item is asked in Python (at 1,000 models, ~25,000
        asked were ~7 ms of a one-model step)."""
        key = (fn, tuple(s.kind if isinstance(s, _Table) else id(s) for s in shared))
        last = self._entries.get(key)
        calls = self._entries_now.setdefault(key, (shared, []))[1]  # (shared: kept alive with them)
        changed = _NOTHING.union(*(s.changed for s in shared if isinstance(s, _Table)))
        items = items if type(items) is tuple else tuple(items)  # (a list its caller may change after)
        before = last[1][len(calls)] if last is not None and len(calls) < len(last[1]) else None
        if before is not None and len(before.items) == len(items):
            moved = list(compress(range(len(items)), map(is_not, items, before.items)))
            if len(moved) <= max(_FEW, len(items) // 4):
                hits, index = list(before.hits), before.places
                again = set(moved)
                if changed:
                    if index is None:
                        index = _index(hits)
                    for name in changed.intersection(index):
                        again.update(index[name])
                for at in sorted(again):
                    hit = hits[at] = self._one(fn, sink, items[at], shared)
                    if index is not None:
                        for name in hit[2]:
                            index.setdefault(name, set()).add(at)
                calls.append(_Seq(items, hits, index))
                return hits
        hits = self._asked(fn, sink, items, shared, [] if last is None else last[1], changed)
        calls.append(_Seq(items, hits, None))
        return hits

    def _asked(
        self,
        fn: Callable[..., Any],
        sink: Sink | None,
        items: Sequence[Any],
        shared: tuple[object, ...],
        last: list[_Seq],
        changed: frozenset[_Read],
    ) -> list[_Hit]:
        """``_hits`` where the items are not last step's at their places: each item asked for
        by identity among all of last step's calls."""
        earlier: dict[int, _Hit] = {}
        for seq in last:
            earlier.update(zip(map(id, seq.items), seq.hits, strict=True))
        hits = []
        for item in items:
            kept = earlier.get(id(item))
            if kept is None or kept[0] is not item or (changed and not changed.isdisjoint(kept[2])):
                kept = self._one(fn, sink, item, shared)
            hits.append(kept)
        return hits

    def _one(self, fn: Callable[..., Any], sink: Sink | None, item: object, shared: tuple[object, ...]) -> _Hit:
        """``fn`` called on ``item``: its result (with a sink, what it reported there, taken
        back out: the caller puts every item's in order) and what it looked up."""
        if sink is None:
            found, read = self._call(fn, (), item, shared)
            return item, found, read
        out = sink.items
        start = len(out)
        _, read = self._call(fn, (sink,), item, shared)
        reported = tuple(out[start:])
        del out[start:]
        return item, reported, read

    def _call(
        self, fn: Callable[..., R], lead: tuple[object, ...], item: object, shared: tuple[object, ...]
    ) -> tuple[R, tuple[_Read, ...]]:
        """``fn(*lead, item, *shared)``, and the names it looked up in the tables among ``shared``."""
        if not any(isinstance(s, _Table) for s in shared):
            return fn(*lead, item, *shared), ()
        read: list[tuple[str, object]] = []
        reading = [_Reading(s.kind, s.table, read) if isinstance(s, _Table) else s for s in shared]
        found = fn(*lead, item, *reading)
        names = tuple(dict.fromkeys(self._shared(looked_up, _read(*looked_up)) for looked_up in read))
        return found, self._shared(names, names)

    def _shared(self, key: tuple[object, ...], value: V) -> V:
        """``value``, or the one made for ``key`` this step or last: thousands of items read
        the same names (a model's environments), and each read would be a string, and each
        call's reads a tuple, of their own. (A read's key, a kind and a key, has no string
        with a NUL in it first; a tuple of reads has nothing else.)"""
        found: V | None = self._made.get(key)
        if found is None:
            found = self._made[key] = self._made_last.get(key, value)
        return found

    def each(self, fn: Callable[[Sink, T, *Ts], None], sink: Sink, items: Iterable[T], *shared: *Ts) -> None:
        sink.items.extend(chain.from_iterable(map(_RESULT, self._hits(fn, sink, items, shared))))

    def results(self, fn: Callable[[T, *Ts], R], items: Iterable[T], *shared: *Ts) -> list[R]:
        return list(map(_RESULT, self._hits(fn, None, items, shared)))


class _Seq(NamedTuple):
    """One call of ``each`` or ``results`` as the next step finds it: its items, their hits at
    the same places, and (once a step needed it) for each name looked up, the places whose
    item looked it up (or did before it was called again: a place too many is called again,
    never one too few)."""

    items: Sequence[Any]
    hits: list[_Hit]
    places: dict[_Read, set[int]] | None


# The most items a sequence may have moved (by identity) and still be matched by place.
_FEW = 8
_RESULT = operator.itemgetter(1)


def _index(hits: list[_Hit]) -> dict[_Read, set[int]]:
    index: dict[_Read, set[int]] = {}
    for at, hit in enumerate(hits):
        for name in hit[2]:
            index.setdefault(name, set()).add(at)
    return index


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _changed(last: Mapping[Any, Any] | None, now: Mapping[Any, Any]) -> set[Any]:
    """The keys of ``now`` whose values are not ``last``'s, and those it no longer has."""
    if last is None:
        return set(now)
    keys = list(now)
    if len(keys) == len(last) and keys == list(last):
        # Most steps: the same keys in the same order, most values the very objects they were:
        # those are passed over in C, not asked one by one (a table of 1,000-3,000 a check).
        moved = compress(zip(keys, last.values(), now.values(), strict=True), map(is_not, last.values(), now.values()))
        return {key for key, was, value in moved if not _held(was, value)}
    changed = {key for key, value in now.items() if not _held(last.get(key, _NONE), value)}
    changed.update(key for key in last if key not in now)
    return changed


def _held(a: object, b: object) -> bool:
    """Whether ``a`` is what ``b`` is: the same record, a tuple of the same records, or an
    equal set of names."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(b, tuple):
        return _same(a, b)  # type: ignore[arg-type]  # a tuple, of the same type as b
    return isinstance(b, frozenset) and a == b


_NONE = object()
