"""The build cache never changes a result: cached and uncached compiles agree
after any sequence of edits (same files, same bytes, same diagnostics), and an
entry the cache cannot vouch for is a miss."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler import cache as cache_module
from compiler.cache import Cache, Memory
from compiler.cli import main
from compiler.diagnostics import Sink
from compiler.emit import plan
from compiler.pipeline import Build, build, emit
from compiler.pipeline import plan as pipeline_plan

# (old, new) text edits of one model file; {n} is drawn. Some break the spec.
EDITS = [
    ('version "1.1.0"', 'version "1.1.{n}"'),
    ("cpu 1 ", "cpu {n} "),
    ("auc >= 0.8", "auc >= 0.{n}"),
    ("latency p99 < 80ms", "latency p99 < {n}0ms"),
    ("format onnx", "format"),  # a syntax error
    ("serve in staging", "serve in stagin"),  # an unknown name
    ("batching { max 32", "batching { max {n}"),
    ("", "\n# comment {n}\n"),  # same IR, other text (spans move)
]


def _result(built: Build) -> tuple[object, ...]:
    files = tuple((f.path, f.text, f.kind, f.source, f.config_map) for f in built.files)
    return files, built.diagnostics


def _apply(path: Path, edit: int, n: int) -> None:
    old, new = EDITS[edit]
    text = path.read_text()
    new = new.replace("{n}", str(n))
    path.write_text(text.replace(old, new, 1) if old else text + new)


@settings(max_examples=12)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, len(EDITS) - 1), st.integers(1, 9)), min_size=1, max_size=4)
)
def test_cached_and_uncached_compiles_agree_after_random_edits(edits: list[tuple[int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        specs = generate(root, 3)
        memory = Memory()
        disk = Cache(root / "out")
        for model, edit, n in [(0, 0, 0), *edits]:  # the first step edits nothing new: a warm no-op
            if (model, edit, n) != (0, 0, 0):
                _apply(specs / "models" / f"m{model:05d}.ship", edit, n)
            fresh = build([specs])
            for store in (memory, disk):
                cached = build([specs], store=store)
                assert _result(cached) == _result(fresh)
                planned = pipeline_plan(cached, root / "out", store=disk)
                uncached_plan = plan(fresh.files, root / "out", Sink()) if not fresh.has_errors else None
                if uncached_plan is not None:
                    assert planned.plan is not None
                    assert (planned.plan.write, planned.plan.unchanged, planned.plan.delete) == (
                        uncached_plan.write,
                        uncached_plan.unchanged,
                        uncached_plan.delete,
                    )
                emit(planned, disk)
        disk.close()
        assert disk.hits > 0  # the cache was used, not bypassed


def test_an_entry_from_another_key_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries are pickles, so one the user's key did not sign (committed to a
    repository, copied from elsewhere) is never loaded."""
    store = Cache(tmp_path)
    store.put("ir", "ab" * 32, ([], []))
    assert Cache(tmp_path).get("ir", "ab" * 32) == ([], [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-home"))
    assert Cache(tmp_path).get("ir", "ab" * 32) is None


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    store = Cache(tmp_path)
    store.put("build", "cd" * 32, "value")
    path = next(p for p in (tmp_path / cache_module.DIR).rglob("cd*") if p.is_file())
    path.write_bytes(path.read_bytes()[:-3])
    assert Cache(tmp_path).get("build", "cd" * 32) is None


def test_the_cache_is_bounded_and_drops_other_versions(tmp_path: Path) -> None:
    stale_version = tmp_path / cache_module.DIR / "0.0.0-old"
    stale_version.mkdir(parents=True)
    (stale_version / "entry").write_bytes(b"x")
    store = Cache(tmp_path, limit=10_000)
    for i in range(20):
        store.put("ir", f"{i:064x}", b"y" * 1000)
    store.close()
    entries = [p for p in (tmp_path / cache_module.DIR).rglob("*") if p.is_file() and p.name != ".gitignore"]
    assert 0 < sum(p.stat().st_size for p in entries) <= 10_000
    assert not stale_version.exists()
    assert (tmp_path / cache_module.DIR / ".gitignore").read_text().endswith("*\n")


def test_a_warm_no_op_compile_writes_nothing_and_reads_no_output(tmp_path: Path) -> None:
    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    # Files older than the settle time are recorded; age them instead of sleeping.
    import os

    for path in out.rglob("*"):
        if path.is_file() and ".shipspec/cache" not in path.as_posix():
            os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0  # records the stats
    store = Cache(out)
    built = build([specs], store=store)
    assert store.hits == 1 + 3  # the whole build and the three spec files' IR
    planned = pipeline_plan(built, out, store=store)
    assert planned.plan is not None and not planned.plan.write and len(planned.plan.unchanged) == len(built.files)
    # A hand edit of the same size: the stat changes, so the plan reads it and reports it.
    victim = out / built.files[0].path
    victim.write_bytes(victim.read_bytes().replace(b"#", b"%", 1))
    planned = pipeline_plan(built, out, store=store)
    assert any(d.code == "SS901" for d in planned.checked.diagnostics)


def test_check_never_writes_the_cache(tmp_path: Path) -> None:
    specs = generate(tmp_path, 1)
    out = tmp_path / "out"
    assert main(["check", str(specs), "--out", str(out), "--format", "json"]) == 1  # nothing compiled yet
    assert not out.exists()
