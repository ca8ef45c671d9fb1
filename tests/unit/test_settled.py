"""A compile or check of a tree the last compile left answers from its record
(compiler.settled) and never differently from the whole pipeline: after random
edits of the spec and of the output, a cached and an uncached tree give the same
exit codes, reports and bytes."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler import pipeline, settled
from compiler.cli import main
from tests.unit.test_cache import EDITS, _apply

SETTLE_S = settled.SETTLE_NS / 1e9 + 0.02  # as shipspec has it (tests below change it)


def _settle() -> None:
    """Past the settle time, so a compile records its files (their ctime cannot be aged)."""
    time.sleep(SETTLE_S)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    got = capsys.readouterr()
    return rc, got.out, got.err


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".shipspec/cache" not in p.relative_to(root).as_posix()
    }


def _fail_if_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pipeline ran")

    monkeypatch.setattr(pipeline, "build", refuse)


def test_a_no_op_compile_and_check_run_no_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    first = _run(capsys, "compile", str(specs), "--out", str(out), "--format", "json")
    assert first[0] == 0
    _settle()
    written = first[2].split(" written")[0].rsplit(" ", 1)[-1]
    no_op = (0, first[1], f"shipspec: 0 written, 0 removed, {written} unchanged under {out}\n")
    assert _run(capsys, "compile", str(specs), "--out", str(out), "--format", "json") == no_op  # records
    with monkeypatch.context() as m:
        _fail_if_built(m)
        assert _run(capsys, "compile", str(specs), "--out", str(out), "--format", "json") == no_op
        assert _run(capsys, "check", str(specs), "--out", str(out), "--format", "json")[:2] == (0, first[1])


# What ``change_tree`` changes of a compiled tree, each a change the record must notice.
TREE_CHANGES = ("output", "output-removed", "directory-symlink", "ledger")


def change_tree(tmp_path: Path, out: Path, change: str) -> None:
    """Change the compiled tree under ``out`` as ``change`` (one of ``TREE_CHANGES``) says."""
    some = next(p for p in sorted((out / "deploy").rglob("*.yaml")))
    if change == "output":
        some.write_bytes(some.read_bytes().replace(b"a", b"b", 1))  # same size
    elif change == "output-removed":
        some.unlink()
    elif change == "directory-symlink":
        moved = tmp_path / "elsewhere"
        shutil.move(str(some.parent), moved)
        some.parent.symlink_to(moved, target_is_directory=True)  # same files, same inodes
    elif change == "ledger":
        ledger = out / ".shipspec" / "ledger.json"
        ledger.write_bytes(ledger.read_bytes())


@pytest.mark.parametrize(
    "change",
    ["spec", *TREE_CHANGES, "allow", "templates"],
)
def test_any_change_it_depends_on_runs_the_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    args = ["compile", str(specs), "--out", str(out), "--format", "json"]
    assert _run(capsys, *args)[0] == 0
    _settle()
    assert _run(capsys, *args)[0] == 0  # records
    calls: list[int] = []
    real = pipeline.build

    def counted(*a: object, **k: object) -> pipeline.Build:
        calls.append(1)
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "build", counted)
    if change == "spec":
        _apply(specs / "models" / "m00000.ship", 7, 3)  # a comment: same IR, other text
    elif change in TREE_CHANGES:
        change_tree(tmp_path, out, change)
    elif change == "allow":
        args += ["--allow", "SS520"]
    elif change == "templates":
        overrides = tmp_path / "templates"
        overrides.mkdir()
        (overrides / "unused.j2").write_text("x")
        args += ["--templates", str(overrides)]
    _run(capsys, *args)
    assert calls, f"a compile after a {change} change was answered from the record"


OPS = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 1), st.integers(0, len(EDITS) - 1), st.integers(1, 9)),
    st.tuples(st.just("hand-edit"), st.integers(0, 50), st.just(0), st.just(0)),
    st.tuples(st.just("remove"), st.integers(0, 50), st.just(0), st.just(0)),
    st.tuples(st.just("compile"), st.just(0), st.just(0), st.just(0)),
    st.tuples(st.just("check"), st.just(0), st.just(0), st.just(0)),
)


# As shipspec has it; and a tree verified in a forked child (``settled.Found``), recorded as
# patches over its body whatever their size (``settled.PATCH_SHARE``).
@pytest.mark.parametrize("apart", [False, True])
@settings(max_examples=6, deadline=None)
@given(st.lists(OPS, min_size=1, max_size=5))
def test_a_cached_tree_and_an_uncached_one_agree_after_random_edits(
    apart: bool, ops: list[tuple[str, int, int, int]]
) -> None:
    old = settled.APART_FROM, settled.PATCH_SHARE
    if apart:
        settled.APART_FROM, settled.PATCH_SHARE = 0, 1
    try:
        _agree_after(ops)
    finally:
        settled.APART_FROM, settled.PATCH_SHARE = old


def _agree_after(ops: list[tuple[str, int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        specs = generate(root, 2)
        trees = {"cached": root / "cached", "uncached": root / "uncached"}
        flags = {"cached": [], "uncached": ["--no-cache"]}
        for name, out in trees.items():
            assert main(["compile", str(specs), "--out", str(out), "--format", "json", *flags[name]]) == 0
        _settle()
        for op, a, b, n in [("compile", 0, 0, 0), *ops]:  # the first compile records: every later no-op is settled
            if op == "edit":
                _apply(specs / "models" / f"m{a:05d}.ship", b, n)
                continue
            if op in ("hand-edit", "remove"):
                for out in trees.values():
                    files = sorted(p for p in (out / "deploy").rglob("*.yaml"))
                    if not files:
                        continue
                    victim = files[a % len(files)]
                    if op == "remove":
                        victim.unlink()
                    else:
                        victim.write_bytes(victim.read_bytes().replace(b"e", b"E", 1))
                continue
            seen = {}
            for name, out in trees.items():
                with tempfile.TemporaryFile("w+") as report:
                    err = io.StringIO()
                    with contextlib.redirect_stdout(report), contextlib.redirect_stderr(err):
                        rc = main([op, str(specs), "--out", str(out), "--format", "json", *flags[name]])
                    report.seek(0)
                    seen[name] = (rc, report.read(), err.getvalue().replace(str(out), "OUT"), _tree(out))
            assert seen["cached"] == seen["uncached"], op
            _settle()


def test_a_racily_clean_file_is_compared_by_its_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file younger than the settle time could be edited again without its stat changing
    (a coarse clock): the record keeps its sha256 and the lookup reads it. Without that
    (nothing racy), the same stat-preserving edit would pass as settled."""
    from compiler.cache import Cache

    specs = generate(tmp_path, 1)
    out = tmp_path / "out"
    real_lstat = settled._lstat
    for settle, caught in ((10**18, True), (0, False)):  # everything is "just written", then nothing
        monkeypatch.setattr(settled, "SETTLE_NS", settle)
        monkeypatch.setattr(settled, "_lstat", real_lstat)
        shutil.rmtree(out, ignore_errors=True)
        assert main(["compile", str(specs), "--out", str(out)]) == 0
        inputs = settled.read_inputs([specs], None, True, None, frozenset())
        assert inputs is not None
        assert settled.lookup(Cache(out), out, inputs) is not None
        victim = next(p for p in sorted(out.rglob("*.yaml")) if ".shipspec" not in p.parts)
        rel = victim.relative_to(out).as_posix()
        before = real_lstat(str(victim))
        data = victim.read_bytes()
        victim.write_bytes(data.replace(b"a", b"b", 1))  # same size
        assert victim.read_bytes() != data

        def coarse(path: str, _rel: str = rel, _before: object = before) -> object:
            return _before if path.endswith("/" + _rel) else real_lstat(path)

        monkeypatch.setattr(settled, "_lstat", coarse)  # the clock did not tick: same stat
        assert (settled.lookup(Cache(out), out, inputs) is None) is caught
        assert (settled.tree(Cache(out), out) is None) is caught


def test_a_racy_ledger_is_compared_with_the_bytes_a_watching_process_left(tmp_path: Path) -> None:
    """``holds`` given the digest and bytes of the ledger a process left compares a ledger
    recorded racy with them: equal holds, a same-size edit does not; bytes of another digest
    are not trusted (the ledger is hashed)."""
    import hashlib

    from compiler import emit
    from compiler.emit import LEDGER

    ledger = tmp_path / LEDGER
    ledger.parent.mkdir(parents=True)
    data = b'{\n  "generator": "shipspec",\n  "files": {}\n}\n'
    ledger.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    tree = settled.Tree({}, {}, {LEDGER: sha})  # (no stat: the racy entry alone decides)
    assert settled.holds(tree, tmp_path, [], (sha, data))
    assert settled.holds(tree, tmp_path, [], None)
    ledger.write_bytes(data.replace(b"shipspec", b"shipSpec"))
    assert not settled.holds(tree, tmp_path, [], (sha, data))
    assert not settled.holds(tree, tmp_path, [], None)
    ledger.write_bytes(data)
    assert settled.holds(tree, tmp_path, [], ("0" * 64, data.upper()))  # another digest's bytes: hashed
    assert not settled.holds(tree, tmp_path, [], (sha, data.upper()))
    # A watching process names the ledger it left by a token (``emit.LEFT``), never hashed:
    # only the bytes it holds vouch for it; any other reader hashes and plans whole.
    token = f"{emit.LEFT}1-1"
    left = settled.Tree({}, {}, {LEDGER: token})
    assert settled.holds(left, tmp_path, [], (token, data))
    assert not settled.holds(left, tmp_path, [], None)
    assert not settled.holds(left, tmp_path, [], (sha, data))
    ledger.write_bytes(data.replace(b"shipspec", b"shipSpec"))
    assert not settled.holds(left, tmp_path, [], (token, data))


def test_an_edit_plans_over_the_recorded_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a spec edit over a tree as the last compile left it, the plan reads and screens
    only new paths, and writes exactly what a full plan writes."""
    from compiler import emit, ledger_paths

    specs = generate(tmp_path, 3)
    out, full = tmp_path / "out", tmp_path / "full"
    for root in (out, full):
        assert main(["compile", str(specs), "--out", str(root)]) == 0
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    screened: list[str] = []
    real_screen = ledger_paths.screen_output

    def counting(path: str, *a: object, **k: object) -> bool:
        screened.append(path)
        return real_screen(path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_paths, "screen_output", counting)
    over = emit.plan_over
    used: list[emit.Plan] = []

    def spying(*a: object, **k: object) -> emit.Plan:
        p = over(*a, **k)  # type: ignore[arg-type]
        used.append(p)
        return p

    monkeypatch.setattr(emit, "plan_over", spying)
    assert main(["compile", str(specs), "--out", str(out)]) == 0
    assert len(used) == 1 and screened == [] and 0 < len(used[0].write) < 10
    assert main(["compile", str(specs), "--out", str(full), "--no-cache"]) == 0
    assert _tree(out) == _tree(full)


@pytest.mark.parametrize("command", ["compile", "check"])
def test_an_edit_reads_each_spec_file_once(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The look for a settled tree reads every spec file; the build that follows uses what it
    read (and records that: the key is of the texts built) instead of reading them again."""
    monkeypatch.setattr(settled, "SETTLE_NS", 10**18)  # no text kept: every file is read (test_settled_reads)
    specs = generate(tmp_path, 3)
    out = tmp_path / "out"
    assert _run(capsys, "compile", str(specs), "--out", str(out))[0] == 0
    _apply(specs / "models" / "m00001.ship", 1, 7)
    from compiler.parse import sources

    reads: list[str] = []
    for module in (sources, settled):
        read = module.read_source

        def counted(path: Path, display: str, read: object = read) -> object:
            reads.append(display)
            return read(path, display)  # type: ignore[operator]

        monkeypatch.setattr(module, "read_source", counted)
    _run(capsys, command, str(specs), "--out", str(out))
    files = sorted(p for p in specs.rglob("*.ship"))
    assert len(files) > 3 and sorted(reads) == sorted(set(reads)) and len(reads) == len(files)


def test_a_tree_edited_by_hand_is_planned_with_the_records_hints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settled record holds each file's stat and sha256, so a recording compile keeps no
    second copy of them (the ``stat`` entry), and a plan over a tree that no longer verifies
    (an output edited by hand) reads only the files whose stat moved, as with that entry."""
    from compiler import emit
    from compiler.cache import Cache

    specs = generate(tmp_path, 3)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out)]) == 0
    _settle()
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    assert main(["compile", str(specs), "--out", str(out)]) == 0
    assert (Cache(out).dir / settled.KIND).is_dir() and not (Cache(out).dir / "stat").exists()
    _settle()
    victim = next(p for p in sorted(out.rglob("*.yaml")) if ".shipspec" not in p.parts and "m00000" in p.name)
    victim.write_text(victim.read_text() + "# by hand\n")
    model.write_text(model.read_text().replace("cpu 2 ", "cpu 3 "))
    reads: list[str] = []
    real_read = emit._read

    def counting(path: Path) -> bytes | None:
        reads.append(path.relative_to(out).as_posix())
        return real_read(path)

    monkeypatch.setattr(emit, "_read", counting)
    assert main(["compile", str(specs), "--out", str(out)]) == 1  # the hand edit: SS901
    files = [p for p in out.rglob("*") if p.is_file() and ".shipspec" not in p.parts]
    assert victim.relative_to(out).as_posix() in reads
    assert 0 < len(reads) < 20 < len(files)
    assert victim.read_text().endswith("# by hand\n")


@pytest.mark.parametrize("share", [1, settled.PATCH_SHARE])  # a patch over the body; the body put again
@pytest.mark.parametrize("settle", [0, 10**18])  # nothing racy; everything racy
def test_a_record_made_from_the_last_one_is_the_whole_record(
    settle: int, share: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an edit over a recorded tree, the record is made from the last one (only what
    was written or removed, the ledger and their directories stat-ed again) and equals the
    record made from every path: files rewritten, a model gone (its files and emptied
    directories removed) and back (new directories)."""
    from compiler.cache import Cache

    monkeypatch.setattr(settled, "SETTLE_NS", settle)
    monkeypatch.setattr(settled, "PATCH_SHARE", share)
    specs = generate(tmp_path, 3)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out)]) == 0
    model = specs / "models" / "m00002.ship"
    text = model.read_text()
    made: list[object] = []
    real_changed = settled._changed

    def spying(*a: object) -> object:
        made.append(result := real_changed(*a))  # type: ignore[arg-type]
        return result

    monkeypatch.setattr(settled, "_changed", spying)
    real_record = settled.record
    wholes: list[object] = []

    def recording(
        store: object, root: Path, inputs: object, diagnostics: object, plan: object, before: object, *rest: object
    ) -> bool:
        done = real_record(store, root, inputs, diagnostics, plan, before, *rest)  # type: ignore[arg-type]
        wholes.append(settled._whole(root, plan, plan.ledger_sha, None))  # type: ignore[attr-defined]
        return done

    monkeypatch.setattr(settled, "record", recording)
    for change in (
        lambda: model.write_text(text.replace("cpu 1 ", "cpu 2 ")),
        model.unlink,
        lambda: model.write_text(text),
    ):
        change()
        made.clear()
        assert main(["compile", str(specs), "--out", str(out)]) == 0
        assert len(made) == 1 and made[0] is not None  # made from the last record, not from scratch
        found = settled._body(Cache(out), out, settled.entry(Cache(out), out))
        assert found is not None
        stats, racy, ledger = wholes[-1]  # type: ignore[misc]
        assert (found["stats"], found["racy"], found["ledger"]) == (stats, racy, ledger)


def test_a_head_answers_only_with_the_body_it_was_recorded_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is two entries (the head: key, diagnostics, count; the body: stats and
    ledger), each put atomically, the body first. A head beside another record's body (a
    compile killed between the two puts) is no record: the pipeline runs."""
    from compiler.cache import Cache, root_key

    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    assert _run(capsys, "compile", str(specs), "--out", str(out))[0] == 0
    _settle()
    assert _run(capsys, "compile", str(specs), "--out", str(out))[0] == 0  # records every stat
    store = Cache(out)
    head = settled.entry(store, out)
    body = settled._body(store, out, head)
    inputs = settled.read_inputs([specs], None, True, None, frozenset())
    assert body is not None and inputs is not None
    assert settled.lookup(store, out, inputs) is not None and settled.tree(store, out) is not None
    store.put(settled.BODY, root_key(settled.KIND, out), {**body, "token": "another record's"})
    store.close()
    store = Cache(out)
    assert settled.lookup(store, out, inputs) is None
    assert settled.tree(store, out) is None and settled.recorded(store, out) is None
    assert settled.known(store, out) is None
    built: list[object] = []
    real_build = pipeline.build
    monkeypatch.setattr(pipeline, "build", lambda *a, **k: built.append(a) or real_build(*a, **k))
    assert _run(capsys, "compile", str(specs), "--out", str(out))[0] == 0
    assert built  # no record: the pipeline ran


def test_an_edit_reads_the_recorded_tree_only_once_it_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compile after an edit reads the record's head before the build (is it a no-op?) and
    its body (stats, ledger: a tenth of a one-model edit's peak memory at 1,000 models) only
    after the build, and still plans over it."""
    from compiler import emit
    from compiler.cache import Cache

    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    assert _run(capsys, "compile", str(specs), "--out", str(out))[0] == 0
    _settle()
    assert _run(capsys, "compile", str(specs), "--out", str(out))[0] == 0
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 3 "))
    order: list[str] = []
    real_get, real_build, real_over = Cache.get, pipeline.build, emit.plan_over

    def get(self: Cache, kind: str, key: str) -> object:
        if kind in (settled.KIND, settled.BODY):
            order.append(kind)
        return real_get(self, kind, key)

    monkeypatch.setattr(Cache, "get", get)
    monkeypatch.setattr(pipeline, "build", lambda *a, **k: order.append("build") or real_build(*a, **k))
    monkeypatch.setattr(emit, "plan_over", lambda *a, **k: order.append("plan over") or real_over(*a, **k))
    assert _run(capsys, "compile", str(specs), "--out", str(out))[0] == 0
    assert order == [settled.KIND, "build", settled.BODY, "plan over"]


def test_a_recorded_lstat_is_packed_and_reads_back_as_its_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path's lstat is 40 packed bytes (a tuple of five ints was ~250 bytes a path), and one
    with a field past 64 bits is kept as text: both read back as the fields os.lstat gave."""
    path = tmp_path / "f"
    path.write_text("x")
    st = os.lstat(path)
    fields = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)
    seen = settled._lstat(str(path))
    assert isinstance(seen, bytes) and len(seen) == 40 and settled._fields(seen) == fields
    big = (2**70, *fields[1:])

    class Huge:
        st_size, st_mtime_ns, st_ctime_ns, st_ino, st_mode = big

    monkeypatch.setattr(settled.os, "lstat", lambda _p: Huge)
    wide = settled._lstat(str(path))
    assert wide is not None and len(wide) != 40 and settled._fields(wide) == big
    assert wide == settled._lstat(str(path))  # the same stat, the same record
