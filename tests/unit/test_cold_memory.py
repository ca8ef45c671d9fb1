"""What a cold compile holds (issue 16, target 6), each cut with the bytes unchanged: a
spooled file is written in pieces, facts' strings are interned, a value's long text is
in the spool, and a first compile's memo is laid out only when it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler import cache as cache_module
from compiler import output
from compiler.backends import memo
from compiler.cli import main
from compiler.diagnostics import Span
from compiler.output import OutputFile, digest_of, file_bytes, file_parts, stored
from compiler.pipeline import units_key


@settings(max_examples=300)
@given(text=st.text(alphabet="a\r\né", max_size=40), read=st.integers(1, 7))
def test_a_spooled_file_read_in_pieces_is_the_files_bytes(text: str, read: int) -> None:
    """CRLFs and trailing newlines split anywhere between pieces: the same bytes as the text made whole."""
    spool = memo.Spool.open()
    assert spool is not None
    plain = OutputFile("deploy/r.yml", text, Span("m.ship", 1, 1, 1, 2), "prometheus-rules")
    spool.add("x" * 5)  # not at the spool's start
    at = spool.add(text)
    kept = stored(plain.path, (at.offset, at.length), plain.source, plain.kind, (), None, digest_of(plain), spool)
    saved = output._READ
    output._READ = read
    try:
        parts = list(file_parts(kept))
    finally:
        output._READ = saved
    assert b"".join(parts) == file_bytes(plain)
    # A piece of text is at most a read and the CR held from the one before (a run of LFs
    # held until the text goes on is as long as it is).
    assert all(len(p) <= read + 1 for p in parts[1:] if p.strip(b"\n"))


def test_a_large_spooled_file_is_never_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    spool = memo.Spool.open()
    assert spool is not None
    text = "".join(f"- rule: {i}\r\n" for i in range(200_000)) + "\n\n"  # ~3 MB
    plain = OutputFile("deploy/r.yml", text, Span("m.ship", 1, 1, 1, 2), "prometheus-rules")
    at = spool.add(text)
    kept = stored(plain.path, (at.offset, at.length), plain.source, plain.kind, (), None, digest_of(plain), spool)
    reads: list[int] = []
    raw = memo.Spool.raw
    monkeypatch.setattr(memo.Spool, "raw", lambda self, o, n: reads.append(n) or raw(self, o, n))
    parts = list(file_parts(kept))
    assert b"".join(parts) == file_bytes(plain) and max(reads) <= output._READ
    assert kept.spooled_bytes() == file_bytes(plain)  # iterable again


def test_facts_kept_share_each_string() -> None:
    """Two documents parsed apart: their facts' equal strings are one object each."""
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {}\n  namespace: ml-prod\n"
    # libyaml makes a string object per scalar (yaml_block shares a repeated line's).
    first, second = (yaml.load(text.format(n), Loader=yaml.CSafeLoader) for n in "ab")
    assert first["apiVersion"] is not second["apiVersion"]
    record = ("p.yaml", "t", Span("m.ship", 1, 1, 1, 2), "k8s", (first,), None, "0" * 64, 1)
    other = ("q.yaml", "t", Span("m.ship", 1, 1, 1, 2), "k8s", (second,), None, "0" * 64, 1)
    shared: dict[str, object] = {}
    a = memo.UnitResult.of((record,), ()).kept(shared).files[0][4][0]
    b = memo.UnitResult.of((other,), ()).kept(shared).files[0][4][0]
    assert a == first and b == second and a is not b
    assert a["apiVersion"] is b["apiVersion"] and a["metadata"]["namespace"] is b["metadata"]["namespace"]
    assert next(iter(a)) is next(iter(b))


def test_a_values_long_text_made_by_a_build_with_a_spool_is_kept_there() -> None:
    units = memo.Units()
    units.spool = memo.Spool.open()
    long, short = "groups:\n" + "- a\n" * 300, "x"
    key, value = units.keyed_value("v", lambda _sink, *_: (long, short, ["g"]), memo.Sink(), "in")
    assert isinstance(value[0], memo.LazyText) and value[0].source is units.spool
    assert value[1:] == (short, ["g"]) and memo.text(value[0]) == long
    assert units.used[key].value is value
    entry, chunks = units.packed("pack")
    pack = b"".join(chunks)
    packed = next(iter(entry.written()[1]))[1].value[0]
    assert isinstance(packed, memo.PackedText) and pack[packed.offset : packed.offset + packed.length] == long.encode()
    plain = memo.Units()  # no spool (a watching process): the text stays as it is
    assert plain.keyed_value("v", lambda _sink, *_: (long,), memo.Sink(), "in")[1] == (long,)


def test_a_first_compile_lays_its_memo_out_only_once_its_tree_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first compile's render-unit memo is deferred until its tree exists; what laying it out
    takes (the units in order, the walk for what parts share) is taken then, not at the end
    of the build and held through emit. And the memo it writes is the one the next build reads."""
    out = tmp_path / "out"
    when: list[bool] = []
    walk = memo._shared_between

    def noting(*args: Any) -> Any:
        when.append((out / ".shipspec" / "ledger.json").is_file())
        return walk(*args)

    monkeypatch.setattr(memo, "_shared_between", noting)
    specs = generate(tmp_path, 3)
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    assert when == [True]
    loaded = memo.Units.from_entry(
        cache_module.Cache(out).get("units", units_key(None, True, None)),
        lambda name: memo.TextPack(_blob(out, "texts", name), name, _blob(out, "facts", name)),
    )
    assert len(loaded.known) > 20


def _blob(out: Path, kind: str, name: str) -> bytes:
    return next((out / cache_module.DIR).glob(f"*/{kind}/{name}")).read_bytes()


def test_a_cold_compile_leaves_no_large_cyclic_garbage(tmp_path: Path) -> None:
    """A one-build command runs without the cyclic collector (``cli.run``), so what a cycle
    holds stays to the end: the walk for the facts the memo's parts share was a nested
    function calling itself, a cycle that kept its table of every fact's id (~6 MiB at 1,000
    models). Here every cycle a cold compile makes is found, and none holds a large dict."""
    import gc
    from types import CellType

    specs = generate(tmp_path, 6)
    gc.collect()
    gc.disable()
    try:
        assert main(["compile", str(specs), "--out", str(tmp_path / "out"), "--format", "json"]) == 0
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        # (a dict of ints only is not tracked by the collector: what holds it is, a closure's cell)
        held = [o.cell_contents if type(o) is CellType and o.cell_contents is not None else o for o in gc.garbage]
        large = [type(o) for o in held if isinstance(o, dict | list | set) and len(o) > 200]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert large == []


def test_kept_bodies_wait_in_the_spool_and_pickle_as_their_bytes() -> None:
    import pickle

    from compiler.backends.memo_groups import Bodies

    spool = memo.Spool.open()
    assert spool is not None
    bodies = Bodies()
    bodies.spool = spool
    one, two = b"\x00\x00\x00\x01f" + bytes(range(32)), b"\x00\x00\x00\x00"
    bodies.keep(b"k1", one)
    bodies.keep(b"k1-owners", one)  # one body under two keys: in the spool once
    bodies.keep(b"k2", two)
    assert all(type(v) is memo.InSpool for v in dict.values(bodies)) and spool.size == len(one) + len(two)
    assert bodies.get(b"k1") == bodies.get(b"k1-owners") == one and bodies.get(b"k2") == two
    assert bodies.get(b"none") is None and b"k2" in bodies
    loaded = pickle.loads(pickle.dumps(bodies, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(loaded) is dict and loaded == {b"k1": one, b"k1-owners": one, b"k2": two}
    spool.failed = True  # a failing temporary directory: kept in memory from there on
    three = b"\x00\x00\x00\x02"
    bodies.keep(b"k3", three)
    assert dict.get(bodies, b"k3") is three and bodies.get(b"k3") is three
