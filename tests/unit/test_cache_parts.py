"""An entry put in parts (``cache.InParts``: the render-unit memo) comes back as it was put,
what its head holds is one object for every part, and the pickler forgets each part
once it is written: what two parts hold that the head does not is written twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import cache as cache_module
from compiler import output
from compiler.backends import memo
from compiler.cache import Cache, InParts
from compiler.diagnostics import Span
from compiler.errors import ShipspecError


@pytest.mark.parametrize("size", ["small", "streamed"])
def test_an_entry_in_parts_comes_back_with_the_heads_objects_shared(size: str, tmp_path: Path) -> None:
    shared = {"securityContext": {"runAsNonRoot": True}}
    other = ["not", "in", "the", "head"]
    filler = "x" * (cache_module._STREAMED if size == "streamed" else 10)
    made: list[int] = []

    def parts() -> object:
        for i in range(3):
            made.append(i)  # made as it is written, not before
            mine = {"part": i}
            yield [(f"k{i}", shared, other, filler), (mine, mine)]

    Cache(tmp_path).put("units", "ab" * 32, InParts(("head", [shared]), parts()))
    assert made == [0, 1, 2]
    found = Cache(tmp_path).get("units", "ab" * 32)
    assert isinstance(found, InParts)
    assert found.head == ("head", [shared])
    assert [p[0][0] for p in found.parts] == ["k0", "k1", "k2"]
    # What a part holds twice is one object, numbered in the part as its pickler numbered it.
    assert [p[1][0] for p in found.parts] == [{"part": 0}, {"part": 1}, {"part": 2}]
    assert all(p[1][0] is p[1][1] for p in found.parts)
    assert all(p[0][1:] == (shared, other, filler) for p in found.parts)
    head_shared = found.head[1][0]
    assert all(p[0][1] is head_shared for p in found.parts)
    # Not in the head: each part's own copy (the pickler forgot the earlier parts).
    firsts = [p[0][2] for p in found.parts]
    assert firsts[0] is not firsts[1] and firsts[1] is not firsts[2]


def test_a_damaged_entry_in_parts_is_a_miss(tmp_path: Path) -> None:
    Cache(tmp_path).put("units", "cd" * 32, InParts("head", iter([[1], [2]])))
    path = next(p for p in (tmp_path / cache_module.DIR).rglob("cd*") if p.is_file())
    path.write_bytes(path.read_bytes()[:-4])
    assert Cache(tmp_path).get("units", "cd" * 32) is None


def test_a_packed_memo_shares_spans_and_facts_between_its_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Units in different parts that hold one span and one facts dict get one object each
    back, and every file's text is where its record says in the pack; the facts are kept
    apart (with what a kustomization reads of them) and read once, when first asked for."""
    monkeypatch.setattr(memo, "PART_UNITS", 2)
    span = Span("m.ship", 3, 1, 9, 2)
    facts = {"kind": "Deployment", "spec": {"replicas": 2}}
    units = memo.Units()
    texts = [f"text {i}\n" * (i + 1) for i in range(5)]
    for i, text in enumerate(texts):
        record = (f"deploy/f{i}.yaml", text, span, "k8s", (facts,), None, f"{i:064x}", len(text))
        units.used[f"key{i}"] = memo.UnitResult.of((record,), (), verdict=(), trimmed=True)
    entry, chunks = units.packed("pack")
    pack = b"".join(chunks)
    kept = b"".join(entry.facts())  # before the entry: its head holds their sha256
    store = Cache(tmp_path)
    store.put("units", "ef" * 32, entry)
    back = Cache(tmp_path).get("units", "ef" * 32)
    assert isinstance(back, InParts) and len(back.parts) == 3
    assert memo.Units.from_entry(back, lambda name: memo.TextPack(pack, name)).known == {}  # no facts: no memo
    loaded = memo.Units.from_entry(back, lambda name: memo.TextPack(pack, name, kept) if name == "pack" else None)
    records = [loaded.known[f"key{i}"].files[0] for i in range(5)]
    assert [r[4] for r in records] == [(i, 1, False, None) for i in range(5)]
    assert loaded.pack is not None and loaded.pack.loaded is None  # not read yet
    docs = [loaded.pack.facts(r[4][0]) for r in records]
    assert all(r[2] is records[0][2] and d[0] is docs[0][0] for r, d in zip(records, docs, strict=True))
    assert records[0][2] == span and docs[0][0] == facts
    damaged = memo.TextPack(pack, "pack", kept[:-1] + b"x", loaded.pack.facts_sha)
    with pytest.raises(ShipspecError, match="cache is damaged"):
        damaged.facts(0)
    for r, text in zip(records, texts, strict=True):
        offset, length = r[1]
        assert pack[offset : offset + length].decode() == text


def test_a_text_longer_than_a_chunk_is_read_into_the_pack_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    spool = memo.Spool.open()
    assert spool is not None
    big = "".join(f"line {i}\n" for i in range(300_000))  # ~3.5 MB: an environment's rules file
    at = spool.add(big)
    reads: list[int] = []
    raw = memo.Spool.raw
    monkeypatch.setattr(memo.Spool, "raw", lambda self, o, n: reads.append(n) or raw(self, o, n))
    chunks = list(memo._chunks(["small", (spool, at.offset, at.length), "tail"]))
    assert b"".join(chunks) == b"small" + big.encode() + b"tail"
    assert max(reads) <= output._READ and max(map(len, chunks)) <= 2 * memo._CHUNK


def test_a_compile_after_a_one_model_edit_takes_every_other_unit_from_a_memo_in_many_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memo a first compile wrote in parts of 7 units loads whole: after one model's CPU
    changed, the units rendered again are a few (that model's), not all."""
    from bench.synth import generate
    from compiler.cli import main

    monkeypatch.setattr(memo, "PART_UNITS", 7)
    loaded: list[memo.Units] = []
    from_entry = memo.Units.from_entry.__func__  # type: ignore[attr-defined]

    def spy(cls: type[memo.Units], *args: object) -> memo.Units:
        made: memo.Units = from_entry(cls, *args)
        loaded.append(made)
        return made

    monkeypatch.setattr(memo.Units, "from_entry", classmethod(spy))
    specs = generate(tmp_path, 6)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    everything = loaded[-1].rendered
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 3 ", 1))
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    units = loaded[-1]
    assert len(units.known) > 7 * 3  # more than three parts' worth came back
    assert 0 < units.rendered < everything / 3
    fresh = tmp_path / "fresh"
    assert main(["compile", str(specs), "--out", str(fresh), "--format", "json", "--no-cache"]) == 0
    assert _tree(out) == _tree(fresh)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and cache_module.DIR not in str(p.relative_to(root))
    }


def test_an_unshared_entry_is_pickled_without_a_memo_and_comes_back_as_its_value(tmp_path: Path) -> None:
    """``Unshared`` (the settled record's body): the value itself comes back, and what it holds
    twice comes back as two copies (the pickler remembered nothing); in memory, it is kept as is."""
    from compiler.cache import Memory, Unshared

    path = "deploy/prod/deployment-m00001.yaml"
    value = {"stats": {path: (1, 2, 3, 4, 5)}, "ledger": {path: "ab" * 32}}
    Cache(tmp_path).put("settled-tree", "ab" * 32, Unshared(value))
    found = Cache(tmp_path).get("settled-tree", "ab" * 32)
    assert found == value
    first, second = next(iter(found["stats"])), next(iter(found["ledger"]))
    assert first == second and first is not second
    shared = Cache(tmp_path)
    shared.put("settled-tree", "cd" * 32, value)
    again = Cache(tmp_path).get("settled-tree", "cd" * 32)
    assert next(iter(again["stats"])) is next(iter(again["ledger"]))
    memory = Memory()
    memory.put("settled-tree", "ef", Unshared(value))
    assert memory.get("settled-tree", "ef") is value
