"""Loop bodies over render units (``memo.group``), kept on disk for the next process.

A one-shot compile after a one-model edit asks all ~18,000 units of 1,000 models for
their keys, one pickle of each unit's inputs, to find the dozen the edit changed. A
body over units (a block of ``memo.unit_each``, a monitoring placement) reads nothing
but its arguments, so its result is decided by the digest of those (the body's key,
one pickle for all its units' inputs, which mostly stand in by digest). Kept with
that key: the keys of the units it used, in order, its diagnostics, and its result
pickled with every file and packed text it took from those units standing in by where
in them it is (``Kept``). A later build whose body key is kept, and whose units are all in the
memo, books those units as used and remakes the result from their files, without
running the body or keying its units. Anything else (a unit missing, a result holding
what no unit made) runs the body: a kept body can only save work.
"""

from __future__ import annotations

import io
import pickle
import struct
from collections.abc import Sequence
from itertools import chain
from operator import is_
from typing import Any, NamedTuple

from compiler.diagnostics import Diagnostic

KIND = "groups"  # the cache kind the kept bodies are stored under, by the memo's key

_KEY = 32  # bytes of a unit's key (a sha256; the memo's dict holds its hex)
_COUNT = struct.Struct(">I")

# A body as kept, in one bytes object (3,400 of them at 1,000 models, loaded by every
# one-shot compile: objects of their own for each part were a third of what they held):
# the number of its units, a byte per unit (``v``: a value, ``f``: files), each unit's key,
# then its diagnostics and result pickled together (nothing: no diagnostics, and a result
# that is every file its units handed out, in order, as a block of ``memo.unit_each``'s).
Kept = bytes


class Bodies(dict[bytes, Any]):
    """A build's kept bodies by key, each new one's bytes in the build's spool where it has
    one (``memo.Spool``; an ``InSpool`` in its place here): held in memory until the cache was
    written, a cold compile's were 1.4 MiB of its peak at 1,000 models (issue 16, target 6).
    ``get`` and the pickle give the bytes back (the pickle loads as a plain dict)."""

    spool: Any = None
    _last: tuple[Kept, Any] | None = None

    def keep(self, key: bytes, kept: Kept) -> None:
        """Keep ``kept`` under ``key`` (a body kept under two keys is spooled once)."""
        last, spool = self._last, self.spool
        if last is not None and last[0] is kept:
            self[key] = last[1]
            return
        held: Any = kept
        if spool is not None and not spool.failed:
            try:
                held = spool.put(kept)
            except OSError:  # a full or failing temporary directory: kept in memory from here on
                spool.failed = True
        self._last = kept, held
        self[key] = held

    def get(self, key: bytes, default: Any = None) -> Any:
        held = super().get(key)
        if held is None:
            return default
        return held if type(held) is bytes else self.spool.raw(held.offset, held.length)

    def __reduce__(self) -> Any:
        return dict, (), None, None, ((key, self.get(key)) for key in self)


def unit_kinds(kept: Kept) -> bytes:
    (count,) = _COUNT.unpack_from(kept)
    return kept[_COUNT.size : _COUNT.size + count]


def unit_keys(kept: Kept) -> list[str]:
    (count,) = _COUNT.unpack_from(kept)
    at = _COUNT.size + count
    return [kept[i : i + _KEY].hex() for i in range(at, at + count * _KEY, _KEY)]


class Traced(NamedTuple):
    """A unit a body used while it ran: its key (None: not memoised), whether it is a value,
    and what it handed the body (its files, or its value)."""

    key: str | None
    is_value: bool
    made: Any


class _Unkept(Exception):
    """The result holds something no unit of the body made: it is not kept."""


# What a result may hold only as something one of its units made: files and texts point
# into this build's spool or the memo's pack, which another process does not have.
_ONLY_MADE: tuple[type, ...] = ()


def kept_of(trace: Sequence[Traced], result: Any, diagnostics: Sequence[Diagnostic]) -> Kept | None:
    """What to keep of a body that used ``trace``'s units and made ``result`` (None: it cannot be
    kept: a unit not memoised, or a result that holds what none of its units made)."""
    where: dict[int, tuple[str, int, int]] = {}
    keys = bytearray()
    kinds = bytearray()
    for i, used in enumerate(trace):
        if used.key is None or len(used.key) != 2 * _KEY:
            return None
        keys += bytes.fromhex(used.key)
        kinds += b"v" if used.is_value else b"f"
        if used.is_value:
            if type(used.made) is tuple:
                for j, v in enumerate(used.made):
                    if isinstance(v, _only_made()):
                        where[id(v)] = ("v", i, j)
        else:
            for j, f in enumerate(used.made):
                where[id(f)] = ("f", i, j)
    head = _COUNT.pack(len(trace)) + kinds + keys
    if not diagnostics and _all_files(trace, result):
        return head
    only = _only_made()

    def persistent_id(obj: Any) -> Any:
        ref = where.get(id(obj))
        if ref is not None:
            return ref
        if isinstance(obj, only):
            raise _Unkept
        return None

    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.persistent_id = persistent_id  # type: ignore[method-assign]
    try:
        pickler.dump((tuple(diagnostics), result))
    except Exception:  # noqa: BLE001 - what does not pickle (or points into this build) runs again
        return None
    return head + out.getvalue()


def result_of(kept: Kept, made: Sequence[Any]) -> tuple[tuple[Diagnostic, ...], Any]:
    """``kept``'s diagnostics and result, each file or text the result took from its units
    taken from ``made`` (per unit: its files, or its value, as this build's units handed
    them out)."""
    (count,) = _COUNT.unpack_from(kept)
    at = _COUNT.size + count * (1 + _KEY)
    if at == len(kept):
        return (), tuple(chain.from_iterable(made))

    def persistent_load(ref: Any) -> Any:
        _, i, j = ref
        return made[i][j]

    unpickler = pickle.Unpickler(io.BytesIO(memoryview(kept)[at:]))
    unpickler.persistent_load = persistent_load  # type: ignore[method-assign]
    found: tuple[tuple[Diagnostic, ...], Any] = unpickler.load()
    return found


def _all_files(trace: Sequence[Traced], result: Any) -> bool:
    if type(result) is not tuple or any(used.is_value for used in trace):
        return False
    files = list(chain.from_iterable(used.made for used in trace))
    return len(files) == len(result) and all(map(is_, files, result))


def _only_made() -> tuple[type, ...]:
    global _ONLY_MADE
    if not _ONLY_MADE:
        from compiler.backends.memo import LazyText, Spool, TextPack, Units
        from compiler.output import OutputFile

        _ONLY_MADE = (OutputFile, LazyText, Spool, TextPack, Units)
    return _ONLY_MADE
