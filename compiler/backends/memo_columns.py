"""The memo's file records, kept a field at a time (``memo.Units.packed``'s parts).

A one-shot compile at 1,000 models loads the records of 33,500 files with the memo: a
tuple of eight fields each, its place in the pack a tuple of two ints, its facts a
``FactsAt``; pickled record by record that was ~770,000 of the entry's 1.4 million
opcodes, each object also put in the unpickler's memo, and about half of loading it.
Here a part's records are columns: the paths one string, the places, sizes and fact
summaries arrays of machine integers, the digests one run of bytes, and the spans, kinds
and config maps lists (the pickle shares their objects as before). The records are made
again field by field, each field's loop in C, equal to what was kept.

A part whose records do not all have the form these columns hold (a text not in the pack,
facts not numbered in order, a digest that is not a sha256's lowercase hex) is kept record
by record, as before: ``file_columns`` says so with None.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from compiler.output import FactsAt

_SEP = "\x00"  # between paths: no output path holds it (``ledger_paths`` screens every path)
_DIGEST = 32  # bytes of a sha256; the records hold its lowercase hex


def file_columns(units: Sequence[tuple[tuple[Any, ...], ...]], first: int) -> tuple[Any, ...] | None:
    """Each unit's file records of ``units`` as columns, with ``first`` the facts index of the
    first file (the others follow in order); None where a record is not of that form."""
    counts = array("q", map(len, units))
    records = [r for files in units for r in files]
    if not records:
        return (counts.tobytes(), first, "", b"", [], [], b"", b"", [], [], b"", b"")
    paths, at, spans, kinds, facts, config_maps, digests, sizes = zip(*records, strict=True)
    if not (
        all(type(p) is str and _SEP not in p for p in paths)
        and all(type(a) is tuple and len(a) == 2 for a in at)
        and all(type(f) is FactsAt and f[0] == first + i and type(f[2]) is bool for i, f in enumerate(facts))
        and all(type(g) is str and len(g) == 2 * _DIGEST for g in digests)
    ):
        return None
    hexes = "".join(digests)
    try:
        raw = bytes.fromhex(hexes)
        places = array("q", [n for a in at for n in a])
        summaries = array("q", [f[1] for f in facts])
        lengths = array("q", sizes)
    except (ValueError, TypeError, OverflowError):  # not hex, not machine integers
        return None
    if raw.hex() != hexes:  # fromhex reads upper case and skips spaces: only what hex() writes
        return None
    return (
        counts.tobytes(),
        first,
        _SEP.join(paths),
        places.tobytes(),
        list(spans),
        list(kinds),
        summaries.tobytes(),
        bytes(map(int, (f[2] for f in facts))),
        [f[3] for f in facts],
        list(config_maps),
        raw,
        lengths.tobytes(),
    )


def unit_files(columns: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], ...]]:
    """Each unit's file records, as ``file_columns`` was given them."""
    counts_data, first, paths, places_data, spans, kinds, summaries, rollouts, namespaces, config_maps, raw, sizes = (
        columns
    )
    counts = array("q", counts_data).tolist()
    ends = list(accumulate(counts))
    if not spans:
        return [()] * len(counts)
    places = iter(array("q", places_data).tolist())
    hexes = raw.hex()
    step = 2 * _DIGEST
    records = list(
        zip(
            paths.split(_SEP),
            zip(places, places, strict=False),  # each place's offset and length, in turn
            spans,
            kinds,
            map(
                FactsAt,
                zip(
                    range(first, first + len(spans)),
                    array("q", summaries).tolist(),
                    map(bool, rollouts),
                    namespaces,
                    strict=True,
                ),
            ),
            config_maps,
            [hexes[i : i + step] for i in range(0, len(hexes), step)],
            array("q", sizes).tolist(),
            strict=True,
        )
    )
    return list(map(tuple, map(records.__getitem__, map(slice, [0, *ends[:-1]], ends))))
