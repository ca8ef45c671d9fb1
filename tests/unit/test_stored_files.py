"""A render unit's file an earlier build kept (``output.StoredFile``): its text is read from the
memo's text pack only when asked for, is checked when read, and the file is the same value as
the ``OutputFile`` it was rendered as."""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.synth import generate
from compiler import cache as cache_module
from compiler.backends import memo
from compiler.backends.memo import TextPack, Units
from compiler.cli import main
from compiler.diagnostics import Span
from compiler.errors import ShipspecError
from compiler.output import _DOCS, OutputFile, StoredFile, _compared, digest_of, stored, stored_each

TEXT = "kind: ConfigMap\nmetadata:\n  name: é\n"


def _pair(pack_text: str = TEXT) -> tuple[OutputFile, StoredFile]:
    plain = OutputFile("deploy/a.yaml", TEXT, Span("m.ship", 1, 1, 1, 2), "yaml", ({"kind": "ConfigMap"},), "cm")
    data = pack_text.encode()
    pack = TextPack(b"xx" + data + b"yy", "test pack")
    kept = stored(plain.path, (2, len(data)), plain.source, plain.kind, plain.documents, "cm", digest_of(plain), pack)
    return plain, kept


def test_a_stored_file_is_the_value_it_was_rendered_as() -> None:
    plain, kept = _pair()
    assert kept.text == TEXT and kept == plain and plain == kept and hash(kept) == hash(plain)
    again = pickle.loads(pickle.dumps(kept))
    assert type(again) is OutputFile and again == plain and again.digest == kept.digest
    assert _compared(plain) == tuple(getattr(plain, f.name) for f in dataclasses.fields(OutputFile) if f.compare), (
        "StoredFile compares what OutputFile compares"
    )


_RECORDS = st.lists(
    st.tuples(
        st.text(max_size=8),
        st.tuples(st.integers(0, 99), st.integers(0, 99)),
        st.builds(Span, st.text(max_size=4), *[st.integers(1, 9)] * 4),
        st.sampled_from(["yaml", "json", "pbtxt"]),
        st.sampled_from([(), ({"kind": "A"},)]),
        st.none() | st.text(max_size=4),
        st.text("0123456789abcdef", min_size=64, max_size=64),
        st.integers(0, 10**9),
    ),
    max_size=12,
)


@given(_RECORDS)
def test_files_made_together_are_the_files_made_one_by_one(records: list[tuple[object, ...]]) -> None:
    """``stored_each`` (a kept body's files, a field at a time over them all) makes what
    ``stored`` makes of each record: every field in its own slot, the pack named."""
    pack = TextPack(b"", "test pack")
    together = stored_each(records, pack)
    assert len(together) == len(records)
    for made, (path, at, source, kind, docs, config_map, sha, size) in zip(together, records, strict=True):
        one = stored(path, at, source, kind, docs, config_map, (sha, size), pack)  # type: ignore[arg-type]
        assert type(made) is StoredFile
        for slot in ("path", "source", "kind", "config_map", "digest", "size", "at"):
            assert getattr(made, slot) is getattr(one, slot) or getattr(made, slot) == getattr(one, slot), slot
        assert _DOCS.__get__(made, OutputFile) is docs and made.in_pack(pack)


def test_a_stored_text_that_is_not_what_was_written_is_refused() -> None:
    _, kept = _pair(TEXT.replace("name", "nome"))
    with pytest.raises(ShipspecError, match="build cache is damaged"):
        kept.text  # noqa: B018


def test_a_verdict_is_keyed_on_a_stored_files_digest_without_reading_its_text() -> None:
    """What validation reads of a file it does not render (an environment's 8 MB rules file, in
    the build's spool) is keyed by the sha256 of its bytes, known without reading them; a file
    of another text, or of the same text elsewhere, has another key."""

    class Unread:
        checked = False

        def text(self, offset: int, length: int) -> str:
            raise AssertionError("the text was read")

        raw = text

        def where(self) -> str:
            return "nowhere"

    plain, _ = _pair()
    kept = stored(plain.path, (0, 1), plain.source, plain.kind, plain.documents, "cm", digest_of(plain), Unread())
    other = dataclasses.replace(plain, text=TEXT + "data: {}\n")
    elsewhere = dataclasses.replace(plain, path="deploy/b.yaml")
    keys = [memo.verdict_key(f, "1.30") for f in (kept, other, elsewhere)]
    assert len(set(keys)) == 3
    assert memo.verdict_key(kept, "1.30") != memo.verdict_key(kept, "1.31")


def _aged(out: Path) -> None:
    """Files older than the settle time, so a compile records the tree (instead of sleeping)."""
    for path in out.rglob("*"):
        if path.is_file() and cache_module.DIR not in path.as_posix():
            os.utime(path, ns=(1_000_000_000, 1_000_000_000))


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and cache_module.DIR not in p.as_posix()
    }


def _tree_of(files: object) -> dict[str, bytes]:
    from compiler.diagnostics import Sink
    from compiler.emit import ledger_bytes, plan

    planned = plan(files, Path("/nonexistent-root"), Sink())  # type: ignore[arg-type]
    return {**{p: planned.files[p] for p in planned.files}, ".shipspec/ledger.json": ledger_bytes(planned)}


def _compiled(tmp_path: Path, models: int) -> tuple[Path, Path]:
    specs = generate(tmp_path, models)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    _aged(out)
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0  # records the tree
    return specs, out


def test_a_one_model_edit_reads_only_the_texts_it_rewrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = _compiled(tmp_path, 4)
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 3 ", 1))
    read: list[tuple[int, int]] = []
    text = TextPack.text

    def counted(self: TextPack, offset: int, length: int) -> str:
        read.append((offset, length))
        return text(self, offset, length)

    monkeypatch.setattr(TextPack, "text", counted)
    capsys.readouterr()
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    written = int(capsys.readouterr().err.split("shipspec: ")[1].split(" written")[0])
    assert 0 < written < 40 and len(read) <= written, (written, len(read))
    fresh = tmp_path / "fresh"
    assert main(["compile", str(specs), "--out", str(fresh), "--format", "json", "--no-cache"]) == 0
    assert _tree(out) == _tree(fresh)


def _damage_pack(out: Path) -> None:
    (pack,) = (out / cache_module.DIR).rglob("texts/*")
    pack.write_bytes(pack.read_bytes().replace(b"name", b"nome"))


def test_a_damaged_pack_is_reported_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs, out = _compiled(tmp_path, 2)
    _damage_pack(out)
    lost = next(p for p in sorted(out.rglob("config.pbtxt")))  # a render unit's file, to be written again
    lost.unlink()
    before = _tree(out)
    capsys.readouterr()
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert "build cache is damaged" in err and "Traceback" not in err
    assert _tree(out) == before  # nothing written, the ledger included
    shutil.rmtree(out / cache_module.DIR)  # what the message says to do
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    assert lost.is_file()


def test_a_memo_whose_pack_is_gone_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs, out = _compiled(tmp_path, 2)
    for pack in (out / cache_module.DIR).rglob("texts/*"):
        pack.unlink()
    assert list((out / cache_module.DIR).rglob("units/*/*")), "the memo's entry is still there"
    known: list[int] = []
    run = Units.run

    def counting(self: Units, *args: object) -> object:
        known.append(len(self.known))
        return run(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(memo.Units, "run", counting)
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 3 ", 1))
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    assert known and set(known) == {0}  # no memo without its texts: every unit rendered again
    fresh = tmp_path / "fresh"
    assert main(["compile", str(specs), "--out", str(fresh), "--format", "json", "--no-cache"]) == 0
    assert _tree(out) == _tree(fresh)


def test_a_memo_written_again_leaves_one_pack(tmp_path: Path) -> None:
    specs, out = _compiled(tmp_path, 2)
    (first,) = (out / cache_module.DIR).rglob("texts/*")
    platform = specs / "platform.ship"
    platform.write_text(
        platform.read_text().replace('runbooks "https://runbooks.synth.example"', 'runbooks "https://rb"')
    )
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    (second,) = (out / cache_module.DIR).rglob("texts/*")  # the entry it was beside went with it
    assert second.name != first.name and not first.exists()


def test_a_build_with_a_cache_on_disk_keeps_no_rendered_text_in_memory(tmp_path: Path) -> None:
    """Texts a build renders go to its spool as each unit is rendered (a cold compile held
    them all until it wrote the tree); the files read them back when asked."""
    from compiler.cache import Cache
    from compiler.pipeline import build

    specs = generate(tmp_path, 2)
    (tmp_path / "out").mkdir()
    store = Cache(tmp_path / "out")
    built = build([specs], store=store)
    fresh = build([specs])
    spooled = [f for f in built.files if isinstance(f, StoredFile)]
    assert len(spooled) > len(built.files) / 2 and not any(f.checked for f in spooled)
    assert [(f.path, f.text) for f in built.files] == [(f.path, f.text) for f in fresh.files]
    store.close()


def test_a_spool_that_cannot_be_written_leaves_the_texts_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full temporary directory is no error: from the first failed write on, texts stay in memory."""
    from compiler.backends.memo import Spool
    from compiler.pipeline import build

    calls: list[int] = []
    add = Spool.add

    def full_after_ten(self: Spool, text: str) -> object:
        calls.append(1)
        if len(calls) > 10:
            raise OSError(28, "No space left on device")
        return add(self, text)

    monkeypatch.setattr(Spool, "add", full_after_ten)
    specs = generate(tmp_path, 2)
    assert main(["compile", str(specs), "--out", str(tmp_path / "out"), "--format", "json"]) == 0
    fresh = build([specs])
    assert _tree(tmp_path / "out") == _tree_of(fresh.files) and len(calls) == 11


def _memo_entry(out: Path) -> tuple[dict[str, memo.UnitResult], Path]:
    from compiler.pipeline import units_key

    store = cache_module.Cache(out)
    entry = store.get("units", units_key(None, True, None))
    assert isinstance(entry, cache_module.InParts)
    _, name, _, _ = entry.head
    return {key: result for part in entry.parts for key, result in memo._pairs(part)}, store.dir / "texts" / name


def test_a_values_long_texts_are_kept_in_the_pack_and_checked_when_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model's rule groups' YAML (a value's text) is in the memo's pack, not its entry; an
    SLA edit lays the rules file out again from the other models' texts, read from the pack
    and checked there: a damaged one is refused before anything is written."""
    specs, out = _compiled(tmp_path, 3)
    known, pack = _memo_entry(out)
    values = [v for r in known.values() if isinstance(r.value, tuple) for v in r.value]
    kept = [v for v in values if isinstance(v, memo.PackedText)]
    assert kept and not [v for v in values if isinstance(v, str) and len(v) >= memo.PACKED_TEXT]
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("latency p99 < 80ms", "latency p99 < 70ms", 1))
    fresh = tmp_path / "fresh"
    assert main(["compile", str(specs), "--out", str(fresh), "--format", "json", "--no-cache"]) == 0
    data = bytearray(pack.read_bytes())
    for v in kept:  # every kept text, the other models' included
        start = v.offset + v.length // 2
        data[start] = ord("#") if data[start] != ord("#") else ord("%")
    pack.write_bytes(bytes(data))
    before = _tree(out)
    capsys.readouterr()
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert "build cache is damaged" in err and "Traceback" not in err
    assert _tree(out) == before
    shutil.rmtree(out / cache_module.DIR)
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    assert _tree(out) == _tree(fresh)
    # Made again from texts read back from the pack (not damaged this time): the same files.
    model.write_text(model.read_text().replace("latency p99 < 70ms", "latency p99 < 60ms", 1))
    again = tmp_path / "again"
    assert main(["compile", str(specs), "--out", str(again), "--format", "json", "--no-cache"]) == 0
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    assert _tree(out) == _tree(again)


def test_a_first_compile_writes_spooled_files_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first compile's texts are in its spool; emit writes each file as its header, its text
    read from the spool and a newline, never joined into one more copy (a prod rules file is
    8 MB at 1,000 models), and the tree is the one a build without a cache writes."""
    specs = generate(tmp_path, 3)
    fresh = tmp_path / "fresh"
    assert main(["compile", str(specs), "--out", str(fresh), "--format", "json", "--no-cache"]) == 0

    def joined(self: StoredFile) -> bytes:
        raise AssertionError(f"{self.path}: its bytes were joined")

    monkeypatch.setattr(StoredFile, "spooled_bytes", joined)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    assert _tree(out) == _tree(fresh)
    monkeypatch.undo()
    spool = memo.Spool.open()
    assert spool is not None
    plain = OutputFile("deploy/r.yml", "groups:\r\n- a\n\n\n", Span("m.ship", 1, 1, 1, 2), "prometheus-rules")
    at = spool.add(plain.text)
    kept = stored(plain.path, (at.offset, at.length), plain.source, plain.kind, (), None, digest_of(plain), spool)
    parts = kept.spooled_parts()
    assert b"".join(parts) == kept.spooled_bytes() == _bytes_of(plain)


def _bytes_of(f: OutputFile) -> bytes:
    from compiler.output import file_bytes

    return file_bytes(f)
