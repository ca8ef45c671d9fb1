"""The memo's documents' facts kept apart from its entry (``memo._Packed.facts``): a one-shot
compile reads them only where the Kubernetes policy is verified (in a large build, its forked
child), lists each directory's kustomization from what the memo kept beside them
(``output.FactsAt``), and writes what a compile without a cache writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler import cache as cache_module
from compiler.backends import memo
from compiler.backends.kubernetes import policy
from compiler.cli import main
from tests.unit.test_stored_files import _compiled, _tree


def _loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each load of the facts in this process (a child's loads are its own): "rewrite" where
    the memo was written again (at 4 models an edit is a quarter of the units: the new
    memo's facts are made from the old), else "build"."""
    made: list[str] = []
    rewriting: list[bool] = []
    real, real_facts = memo.TextPack._load_facts, memo._Packed.facts

    def counted(self: memo.TextPack) -> list[tuple[dict[str, object], ...]]:
        made.append("rewrite" if rewriting else "build")
        return real(self)

    def facts(self: memo._Packed) -> Iterator[bytes]:
        rewriting.append(True)
        try:
            yield from real_facts(self)
        finally:
            rewriting.pop()

    monkeypatch.setattr(memo.TextPack, "_load_facts", counted)
    monkeypatch.setattr(memo._Packed, "facts", facts)
    return made


@pytest.mark.parametrize("apart", [True, False])
def test_a_one_shot_compile_reads_the_facts_only_to_verify_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, apart: bool
) -> None:
    specs, out = _compiled(tmp_path, 4)
    monkeypatch.setattr(policy, "APART_FROM", 0 if apart else 10**9)
    loads = _loads(monkeypatch)
    model = specs / "models" / "m00002.ship"
    for cpu in ("cpu 3 ", "cpu 1 "):  # a CPU edit, and back: both one-shots over the memo
        model.write_text(model.read_text().replace("cpu 1 " if cpu == "cpu 3 " else "cpu 3 ", cpu, 1))
        loads.clear()
        assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
        assert [made for made in loads if made == "build"] == ([] if apart else ["build"])
        fresh = tmp_path / f"fresh-{cpu.strip()}"
        assert main(["compile", str(specs), "--out", str(fresh), "--format", "json", "--no-cache"]) == 0
        assert _tree(out) == _tree(fresh)


def test_damaged_facts_are_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = _compiled(tmp_path, 3)
    monkeypatch.setattr(policy, "APART_FROM", 10**9)  # verified in this process
    (blob,) = (out / cache_module.DIR).glob("*/facts/*")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.write_bytes(bytes(data))
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 ", 1))
    before = _tree(out)
    capsys.readouterr()
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert "build cache is damaged" in err and "facts" in err and "Traceback" not in err
    assert _tree(out) == before
    blob.unlink()  # missing: no memo, so everything is rendered again
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    fresh = tmp_path / "fresh"
    assert main(["compile", str(specs), "--out", str(fresh), "--format", "json", "--no-cache"]) == 0
    assert _tree(out) == _tree(fresh)


def test_what_the_memo_keeps_beside_the_facts_is_what_a_kustomization_reads_of_them(tmp_path: Path) -> None:
    """Every kept file's ``FactsAt`` says what ``facts.summary`` says of its facts, and its
    kustomization part is the one its documents give (Rollouts and ConfigMaps included)."""
    from compiler.backends.facts import summary
    from compiler.backends.kubernetes import kustomize
    from compiler.output import FactsAt, facts_at
    from compiler.pipeline import _texts, units_key

    _, out = _compiled(tmp_path, 5)
    store = cache_module.Cache(out)
    loaded = memo.Units.from_entry(store.get("units", units_key(None, True, None)), _texts(store))
    assert loaded.pack is not None
    records = [r for result in loaded.known.values() for r in result.files]
    assert len(records) > 100 and all(isinstance(r[4], FactsAt) for r in records)
    assert any(r[4].rollout for r in records) and any(r[5] for r in records)  # Rollouts, config maps
    for r in records:
        docs = loaded.pack.facts(r[4].at)
        assert tuple(r[4])[1:] == summary(docs)
        kept = loaded._file(*r)
        assert facts_at(kept) == r[4]
        top = r[0].split("/")[0] + "/" + r[0].split("/")[1] if r[0].startswith("deploy/") else "x"
        part = kustomize._part(kept, top)
        assert kept.documents == docs and facts_at(kept) is None  # read once asked for, then kept
        assert kustomize._part(kept, top) == part
