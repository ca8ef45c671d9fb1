"""A first compile's deferred cache entries (the render memo, its texts and facts, the
IR) are written by a forked child while the parent emits a large plan
(``Cache.write_apart``), and by the parent itself wherever the child did not say it
wrote them all. Either way the next build finds them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.synth import generate
from compiler import cache as cache_module
from compiler import emit as emit_module
from compiler import parallel
from compiler.cache import Cache
from compiler.cli import main
from compiler.pipeline import build
from tests.support.cache_reads import record_hits


def _log_writes(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Each entry written, with the process that wrote it (a child's appends reach the file)."""
    write, write_blob = Cache._write, Cache._write_blob

    def logged(self: Cache, kind: str, key: str, *rest: object) -> None:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()} {kind}\n")
        (write_blob if len(rest) == 2 else write)(self, kind, key, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(Cache, "_write", logged)
    monkeypatch.setattr(Cache, "_write_blob", logged)


def _writers(log: Path) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        pid, kind = line.split()
        out.setdefault(kind, set()).add(int(pid))
    return out


def _found_kinds(specs: Path, out: Path) -> list[str]:
    store = Cache(out)
    kinds = record_hits(store)
    built = build([specs], store=store)
    assert not built.has_errors
    return kinds


@pytest.mark.parametrize("bulk", [1, 10**9])
def test_a_first_compiles_memo_is_written_beside_a_large_emit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: int
) -> None:
    specs, out, log = generate(tmp_path, 2), tmp_path / "out", tmp_path / "writes.log"
    monkeypatch.setattr(emit_module, "BULK", bulk)
    _log_writes(monkeypatch, log)
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    writers = _writers(log)
    deferred = {"units", "texts", "facts", "irs"}
    assert deferred <= set(writers)
    if bulk == 1:  # a large plan: a child wrote them, the compiling process none
        assert all(os.getpid() not in writers[k] and len(writers[k]) == 1 for k in deferred)
    else:
        assert all(writers[k] == {os.getpid()} for k in deferred)
    assert {"units", "irs"} <= set(_found_kinds(specs, out))
    assert not [p for p in (out / cache_module.DIR).rglob("*.tmp")]


def test_where_the_child_wrote_nothing_the_compile_writes_its_memo_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, out, log = generate(tmp_path, 2), tmp_path / "out", tmp_path / "writes.log"
    monkeypatch.setattr(emit_module, "BULK", 1)
    _log_writes(monkeypatch, log)
    fork_call = parallel.fork_call
    monkeypatch.setattr(parallel, "fork_call", lambda work: fork_call(lambda: b""))  # a child that fails
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    assert all(_writers(log)[k] == {os.getpid()} for k in ("units", "texts", "facts", "irs"))
    assert {"units", "irs"} <= set(_found_kinds(specs, out))
