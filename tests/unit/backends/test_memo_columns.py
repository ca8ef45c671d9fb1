"""``memo_columns``: a part's file records kept a field at a time come back as they were kept,
field for field and type for type; records of another form are not taken; and a real build's
memo keeps its parts that way."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler.backends import memo
from compiler.backends.memo_columns import file_columns, unit_files
from compiler.cache import Cache
from compiler.diagnostics import Span
from compiler.output import FactsAt
from compiler.pipeline import build, units_key

SPANS = [Span("specs/models/a.ship", 1, 1, 12, 2), Span("specs/models/b.ship", 3, 5, 3, 9), Span.point("p.ship")]
_BIG = 2**62


@st.composite
def _units(draw: st.DrawFn) -> tuple[list[tuple[tuple[Any, ...], ...]], int]:
    first = draw(st.integers(0, 10_000))
    sizes = draw(st.lists(st.integers(0, 4), max_size=8))
    index = first
    units = []
    for size in sizes:
        files = []
        for _ in range(size):
            files.append(
                (
                    draw(st.text(st.characters(blacklist_characters="\x00"), max_size=12)),
                    (draw(st.integers(0, _BIG)), draw(st.integers(0, _BIG))),
                    draw(st.sampled_from(SPANS)),
                    draw(st.sampled_from(["yaml", "triton-config", "rules"])),
                    FactsAt(
                        (index, draw(st.integers(0, 50)), draw(st.booleans()), draw(st.none() | st.text(max_size=5)))
                    ),
                    draw(st.none() | st.text(max_size=8)),
                    hashlib.sha256(draw(st.binary(max_size=8))).hexdigest(),
                    draw(st.integers(0, _BIG)),
                )
            )
            index += 1
        units.append(tuple(files))
    return units, first


def _typed(value: Any) -> Any:
    """``value`` with the type of each part beside it: ``True == 1`` and a tuple equals a FactsAt."""
    if isinstance(value, tuple):
        return (type(value).__name__, tuple(_typed(v) for v in value))
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, value)


@settings(max_examples=200)
@given(_units())
def test_records_kept_as_columns_come_back_as_they_were(given_units: tuple[list[Any], int]) -> None:
    units, first = given_units
    columns = file_columns(units, first)
    assert columns is not None
    back = unit_files(columns)
    assert _typed(back) == _typed(units)


def _one(**changes: Any) -> list[tuple[tuple[Any, ...], ...]]:
    record = {
        "path": "deploy/dev/a.yaml",
        "at": (0, 10),
        "span": SPANS[0],
        "kind": "yaml",
        "facts": FactsAt((0, 1, False, None)),
        "config_map": None,
        "digest": hashlib.sha256(b"x").hexdigest(),
        "size": 11,
    }
    record.update(changes)
    return [(tuple(record.values()),)]


def test_records_of_another_form_are_kept_record_by_record() -> None:
    assert file_columns(_one(), 0) is not None
    digest = hashlib.sha256(b"x").hexdigest()
    for changes in [
        {"path": "deploy/a\x00b"},
        {"at": "text kept in the entry"},
        {"at": (0, 1, 2)},
        {"facts": FactsAt((1, 1, False, None))},  # not the index the part starts at
        {"facts": (0, 1, False, None)},
        {"facts": FactsAt((0, 1, 0, None))},
        {"digest": digest.upper()},
        {"digest": digest[:-2] + " 0"},
        {"digest": None},
        {"size": 2**64},
        {"size": "11"},
    ]:
        assert file_columns(_one(**changes), 0) is None, changes


def test_a_builds_memo_keeps_its_file_records_as_columns(tmp_path: Path) -> None:
    specs = generate(tmp_path, 3)
    out = tmp_path / "out"
    out.mkdir()
    with Cache(out) as store:
        build([specs], store=store)
    with Cache(out) as store:
        entry = store.get("units", units_key(None, True, None))
    assert entry is not None and entry.parts
    assert all(type(part) is tuple for part in entry.parts)
    units = dict(kv for part in entry.parts for kv in memo._units_of(part))
    files = [f for result in units.values() for f in result.files]
    assert len(files) > 50 and all(type(f[4]) is FactsAt for f in files)
    assert sorted(f[4].at for f in files) == list(range(len(files)))  # each file's facts, in order
