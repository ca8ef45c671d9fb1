"""A warm load takes its files' IR from one cache entry (``parse.ir_pack``), each file's under its
own key: the same spec and diagnostics as a load without the cache, after any edit."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler import cache as cache_module
from compiler.cache import Cache
from compiler.parse import ir_pack
from compiler.parse.sources import Loaded, load


class _Counting(Cache):
    """The cache, counting the entries it found and put by kind."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.found: Counter[str] = Counter()
        self.put_kinds: Counter[str] = Counter()

    def get(self, kind: str, key: str) -> object:
        value = super().get(kind, key)
        if value is not None:
            self.found[kind] += 1
        return value

    def put(self, kind: str, key: str, value: object) -> None:
        self.put_kinds[kind] += 1
        super().put(kind, key, value)


def _same(cached: Loaded, specs: Path) -> None:
    fresh = load([specs])
    assert (cached.spec, cached.diagnostics) == (fresh.spec, fresh.diagnostics)


def _edit(specs: Path, model: int, n: int) -> None:
    path = specs / "models" / f"m{model:05d}.ship"
    path.write_text(path.read_text().replace("cpu 1 ", f"cpu {n} ", 1))


def _loaded(tmp_path: Path, models: int) -> tuple[Path, Path]:
    specs = generate(tmp_path, models)
    out = tmp_path / "out"
    out.mkdir()
    store = _Counting(out)
    _same(load([specs], store), specs)
    assert store.put_kinds == {"irs": 1}  # one pack, no entry a file of its own
    return specs, out


def test_a_warm_load_reads_one_entry_for_every_file(tmp_path: Path) -> None:
    specs, out = _loaded(tmp_path, 40)
    store = _Counting(out)
    _same(load([specs], store), specs)
    assert store.found == {"irs": 1} and not store.put_kinds


def test_an_edit_takes_the_edited_file_from_its_own_entry_and_keeps_the_pack(tmp_path: Path) -> None:
    specs, out = _loaded(tmp_path, 40)
    _edit(specs, 3, 7)
    store = _Counting(out)
    _same(load([specs], store), specs)
    assert store.found == {"irs": 1} and store.put_kinds == {"ir": 1}
    store = _Counting(out)
    _same(load([specs], store), specs)
    assert store.found == {"irs": 1, "ir": 1} and not store.put_kinds


def test_the_pack_is_written_again_once_more_than_one_file_in_sixteen_is_not_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, out = _loaded(tmp_path, 40)  # 41 files: two edited are 2 new, 2 gone from the pack
    for model in (1, 2):
        _edit(specs, model, 5)
    store = _Counting(out)
    dumps = ir_pack.pickle.dumps
    pickled: list[object] = []
    monkeypatch.setattr(ir_pack.pickle, "dumps", lambda value, **k: pickled.append(value) or dumps(value, **k))
    _same(load([specs], store), specs)
    assert store.put_kinds == {"irs": 1}
    assert len(pickled) == 2  # the others' pickles copied from the old pack
    monkeypatch.undo()
    store = _Counting(out)
    _same(load([specs], store), specs)
    assert store.found == {"irs": 1} and not store.put_kinds
    assert ir_pack.stale(None, 1, 0) and not ir_pack.stale(None, 0, 0)


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_pack_is_a_miss(damage: str, tmp_path: Path) -> None:
    specs, out = _loaded(tmp_path, 5)
    path = next(p for p in (out / cache_module.DIR).rglob("*") if p.is_file() and p.parent.parent.name == "irs")
    data = bytearray(path.read_bytes())
    if damage == "flipped":
        data[len(data) // 2] ^= 1
    path.write_bytes(data if damage == "flipped" else data[:-5])
    store = _Counting(out)
    _same(load([specs], store), specs)
    assert not store.found and store.put_kinds == {"irs": 1}  # parsed again, and packed


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 39), st.sampled_from(["cpu 1 ", "cpu 2 ", "cpu 3 ", "cpu 4 "])), max_size=8))
def test_a_load_from_the_pack_and_the_files_own_entries_agrees_with_one_without_the_cache(
    edits: list[tuple[int, str]],
) -> None:
    """Edits back and forth over 41 files: texts the pack holds, the files' own entries hold,
    both or neither, and packs written again between them."""
    with tempfile.TemporaryDirectory() as tmp:
        specs = generate(Path(tmp), 40)
        out = Path(tmp) / "out"
        out.mkdir()
        for model, cpu in [(0, "cpu 1 "), *edits]:
            path = specs / "models" / f"m{model:05d}.ship"
            path.write_text(re.sub(r"cpu \d+ ", cpu, path.read_text(), count=1))
            _same(load([specs], Cache(out)), specs)
