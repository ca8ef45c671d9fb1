"""What a one-shot compile reads and verifies of what the last one left (compiler.settled):
spec files whose stat did not move are taken from the record, not read, unless they were
recorded within the settle time; a large tree is verified in a forked child beside the build,
which still finds an output edited, removed or replaced, or a directory swapped for a
symlink, and what the plan is about to change is compared again before it is written."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from bench.synth import generate
from compiler import parallel, pipeline, settled
from compiler.cli import main
from compiler.diagnostics import Diagnostic, Severity, Span
from compiler.parse import sources
from tests.unit.test_settled import TREE_CHANGES, change_tree

SETTLE_S = settled.SETTLE_NS / 1e9 + 0.02  # as shipspec has it (tests below change it)


def _settle() -> None:
    time.sleep(SETTLE_S)


def _compile(specs: Path, out: Path, *more: str) -> int:
    return main(["compile", str(specs), "--out", str(out), "--format", "json", *more])


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    for module in (sources, settled):
        real = module.read_source

        def counted(path: Path, display: str, real: object = real) -> object:
            reads.append(Path(display).name)
            return real(path, display)  # type: ignore[operator]

        monkeypatch.setattr(module, "read_source", counted)
    return reads


def _recorded(tmp_path: Path, models: int = 3) -> tuple[Path, Path]:
    """A spec compiled and recorded with every spec file settled."""
    specs = generate(tmp_path, models)
    out = tmp_path / "out"
    assert _compile(specs, out) == 0
    _settle()
    _touch_all(specs)  # written and read within the settle time by the first compile: settle them
    assert _compile(specs, out) == 0  # reads every file (their stat moved) and records them settled
    return specs, out


def _touch_all(specs: Path) -> None:
    for path in specs.rglob("*.ship"):
        os.utime(path)
    _settle()


def test_an_edit_reads_only_the_spec_files_whose_stat_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As git's index: a file whose stat is the one recorded is taken from the record. The
    edited file is read, and so is a file touched without a change (its stat moved)."""
    specs, out = _recorded(tmp_path)
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    os.utime(specs / "models" / "m00002.ship")  # touched, not changed
    _settle()
    reads = _counting_reads(monkeypatch)
    assert _compile(specs, out) == 0
    assert sorted(reads) == ["m00001.ship", "m00002.ship"]
    reads.clear()
    _settle()
    assert _compile(specs, out) == 0  # a no-op: nothing moved since the last record
    assert reads == []
    full = tmp_path / "full"
    assert _compile(specs, full, "--no-cache") == 0
    assert _files(out) == _files(full)


def test_a_spec_file_recorded_within_the_settle_time_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file changed within the settle time of its stat being taken could change again on a
    coarse clock without its stat moving: it is not taken from the record. Shown with a stat
    that does not move at all: recorded settled, the edit is missed; recorded racy, it is read."""
    real_stat = settled._stat
    for settle, caught in ((10**18, True), (0, False)):  # everything just written; nothing
        root = tmp_path / str(settle)
        root.mkdir()
        monkeypatch.setattr(settled, "SETTLE_NS", settle)
        monkeypatch.setattr(settled, "_stat", real_stat)
        specs, out = _recorded(root)
        model = specs / "models" / "m00001.ship"
        frozen = real_stat(os.fspath(model))
        model.write_text(model.read_text().replace("cpu 1 ", "cpu 7 "))
        name = os.fspath(model)

        def coarse(path: str, _name: str = name, _frozen: object = frozen) -> object:
            return _frozen if path == _name else real_stat(path)

        monkeypatch.setattr(settled, "_stat", coarse)  # the clock did not tick: same stat
        reads = _counting_reads(monkeypatch)
        assert _compile(specs, out) == 0
        assert ("m00001.ship" in reads) is caught
        monkeypatch.undo()


def test_spec_texts_are_kept_only_for_the_working_directory_they_were_read_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Display paths depend on the working directory: from another one, every file is read."""
    specs, out = _recorded(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    reads = _counting_reads(monkeypatch)
    assert _compile(specs, out) == 0
    assert len(reads) == len(list(specs.rglob("*.ship")))


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".shipspec/cache" not in p.relative_to(root).as_posix()
    }


@pytest.fixture
def apart(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every recorded tree verified in a forked child; the forks made, counted."""
    monkeypatch.setattr(settled, "APART_FROM", 0)
    forks: list[int] = []
    real = parallel.fork_call

    def counted(work: object) -> object:
        child = real(work)  # type: ignore[arg-type]
        forks.append(0 if child is None else 1)
        return child

    monkeypatch.setattr(parallel, "fork_call", counted)
    return forks


@pytest.mark.parametrize("change", [*TREE_CHANGES, None])
@pytest.mark.parametrize("spec_edit", [False, True])
def test_a_tree_verified_apart_still_finds_any_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, apart: list[int], change: str | None, spec_edit: bool
) -> None:
    """The child's verdict stands for the in-process one: a changed tree is planned as a
    fresh compile plans it (no-op or edit), and an unchanged one answers from the record."""
    specs, out = _recorded(tmp_path, 2)
    if change is not None:
        change_tree(tmp_path, out, change)
    if spec_edit:
        model = specs / "models" / "m00001.ship"
        model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    calls: list[int] = []
    real = pipeline.build
    monkeypatch.setattr(pipeline, "build", lambda *a, **k: calls.append(1) or real(*a, **k))
    forks_before = len(apart)
    trees: list[object] = []
    real_tree = settled.tree
    monkeypatch.setattr(settled, "tree", lambda *a, **k: trees.append(t := real_tree(*a, **k)) or t)
    rc = _compile(specs, out)
    assert apart[forks_before:] == [1]  # verified in a child
    assert bool(calls) is (change is not None or spec_edit)  # answered from the record only when nothing changed
    if calls:
        assert len(trees) == 1 and (trees[0] is None) is (change is not None)
    twin = tmp_path / "twin"
    shutil.copytree(out, twin, symlinks=True, ignore=shutil.ignore_patterns("cache"))
    assert _compile(specs, twin, "--no-cache") == rc
    assert _files(out) == _files(twin)


def test_an_output_edited_while_it_builds_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, apart: list[int]
) -> None:
    """Verified apart before the build, the tree is compared again where the plan writes:
    a file edited by hand since is reported (SS901) and kept, as when verified after it."""
    specs, out = _recorded(tmp_path, 2)
    probe = tmp_path / "probe"
    shutil.copytree(out, probe)
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    before = _files(probe)
    assert _compile(specs, probe) == 0
    rewritten = sorted(p for p, data in _files(probe).items() if before.get(p) != data and "ledger" not in p)
    assert rewritten
    victim = out / rewritten[0]
    real_tree = settled.tree

    def then_edited(*a: object, **k: object) -> object:
        found = real_tree(*a, **k)  # type: ignore[arg-type]
        assert found is not None and found.early  # the child's verdict: as recorded
        victim.write_text(victim.read_text() + "# by hand\n")
        return found

    monkeypatch.setattr(settled, "tree", then_edited)
    forks = len(apart)
    assert _compile(specs, out) == 1  # SS901
    assert victim.read_text().endswith("# by hand\n")
    assert apart[forks:] == [1]


def test_a_child_that_cannot_be_had_or_fails_leaves_the_verification_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No fork (or a child that sends nothing, or a wrong answer): verified in the process, as before."""
    monkeypatch.setattr(settled, "APART_FROM", 0)
    specs, out = _recorded(tmp_path, 2)
    some = next(p for p in sorted((out / "deploy").rglob("*.yaml")))
    some.write_bytes(some.read_bytes().replace(b"a", b"b", 1))
    verified: list[int] = []
    real_verified = settled._verified
    monkeypatch.setattr(settled, "_verified", lambda *a: verified.append(1) or real_verified(*a))
    real_fork = parallel.fork_call
    for fork in (lambda work: None, lambda work: real_fork(lambda: b"1" + b"0" * 32)):
        monkeypatch.setattr(parallel, "fork_call", fork)
        verified.clear()
        calls: list[int] = []
        real = pipeline.build
        monkeypatch.setattr(pipeline, "build", lambda *a, _r=real, _c=calls, **k: _c.append(1) or _r(*a, **k))
        assert _compile(specs, out, "--force") == 0
        assert calls and verified  # the edit was found in-process: the pipeline ran
        monkeypatch.setattr(pipeline, "build", real)
        some.write_bytes(some.read_bytes().replace(b"b", b"c", 1))


def test_a_forked_call_answers_fails_or_is_stopped_in_time() -> None:
    done = parallel.fork_call(lambda: b"answer")
    assert done is not None and done.result(10) == b"answer" and done.result(0) == b"answer"

    def fails() -> bytes:
        raise RuntimeError("in the child")

    failed = parallel.fork_call(fails)
    assert failed is not None and failed.result(10) == b""
    slow = parallel.fork_call(lambda: time.sleep(30) or b"late")
    assert slow is not None
    started = time.monotonic()
    assert slow.result(0.2) is None and time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(slow.pid, 0)  # killed and reaped


@pytest.mark.parametrize("on_disk", [True, False])
def test_diagnostics_kept_in_a_head_read_back_as_they_were(tmp_path: Path, on_disk: bool) -> None:
    """A cache on disk keeps them as rows of plain fields; a watching process's store in
    memory, as the records themselves (it never pickles them)."""
    from compiler.cache import Cache, Memory

    made = (
        Diagnostic("SS640", Severity.WARNING, "a message", Span("specs/a.ship", 3, 4, 5, 6), "a hint"),
        Diagnostic("SS101", Severity.ERROR, "ünïcode", Span.point("specs/b.ship"), None),
    )
    with Cache(tmp_path) as cache:
        kept = settled._report(cache if on_disk else Memory(), made)
    assert isinstance(kept, bytes) is on_disk
    assert settled._reported(kept) == made
    # The rows hold every field: one added to either record must be added to them.
    assert Diagnostic.__slots__ == ("code", "severity", "message", "span", "hint")
    assert Span.__match_args__ == ("file", "line", "column", "end_line", "end_column")


def test_a_plan_over_a_recorded_tree_made_in_passes_is_the_one_made_file_by_file(tmp_path: Path) -> None:
    """``emit.plan_over`` over a sequence of files (its passes) and over an iterable of the same
    files (a loop over each) make the same plan and report the same: files unchanged, changed,
    without a digest, new (screened), gone, out of order, and one claimed twice."""
    import dataclasses

    from compiler import emit
    from compiler.cache import Memory
    from compiler.diagnostics import Sink
    from compiler.output import digest_of

    specs = generate(tmp_path, 3)
    built = pipeline.build([specs], store=Memory()).files
    files = [f if f.digest else dataclasses.replace(f, digest=digest_of(f)[0]) for f in built]
    ledger = {f.path: f.digest for f in files}
    out = tmp_path / "out"
    out.mkdir()
    (out / "unsafe").symlink_to(tmp_path)
    other = "0" * 64
    cases = {
        "same": (files, ledger),
        "changed": (files, {**ledger, files[5].path: other}),
        "no digest": ([dataclasses.replace(f, digest=None) if i % 7 == 0 else f for i, f in enumerate(files)], ledger),
        "no digest, changed": (
            [dataclasses.replace(files[3], digest=None), *files[4:]],
            {**ledger, files[3].path: other},
        ),
        "new": ([*files, dataclasses.replace(files[0], path="zz/new.yaml")], ledger),
        "new, no digest": ([*files, dataclasses.replace(files[0], path="zz/new.yaml", digest=None)], ledger),
        "none with a digest": ([dataclasses.replace(f, digest=None) for f in files[1:]], ledger),
        "unsafe": ([*files, dataclasses.replace(files[0], path="unsafe/x.yaml")], ledger),
        "gone": (files[2:], ledger),
        "shuffled": (files[::-1], ledger),
        "twice": ([*files, files[4]], ledger),
    }
    for name, (given, recorded) in cases.items():
        made = []
        for shape in (tuple, iter):
            sink = Sink()
            p = emit.plan_over(shape(given), out, sink, recorded)  # type: ignore[operator]
            made.append((p.write, p.delete, p.unchanged, p.replace, list(p.files), p.sources, p.ledger, sink.items))
        assert made[0] == made[1], name


def test_a_record_made_from_the_last_one_is_put_as_a_patch_over_its_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an edit, the paths that changed are put as a patch over the body on disk (the body
    is not put again) until the patch outgrows its share; a head reads its body only with the
    very patch it was recorded with. (test_settled: the record read back is the whole record.)"""
    from compiler.cache import Cache, root_key

    monkeypatch.setattr(settled, "PATCH_SHARE", 1)  # a small tree: a patch as large as its body is let be
    specs, out = _recorded(tmp_path, 3)
    where = root_key(settled.KIND, out)
    body_file = Cache(out)._path(settled.BODY, where)
    body = body_file.read_bytes()
    model = specs / "models" / "m00001.ship"
    for cpu in (2, 3, 4):
        model.write_text(model.read_text().replace(f"cpu {cpu - 1} ", f"cpu {cpu} "))
        assert _compile(specs, out) == 0
        head = settled.entry(Cache(out), out)
        assert body_file.read_bytes() == body and head["base"] != head["tree"]
    inputs = settled.read_inputs([specs], None, True, None, frozenset())
    assert inputs is not None and settled.lookup(Cache(out), out, inputs) is not None
    patch = Cache(out).get(settled.PATCH, where)
    store = Cache(out)
    store.put(settled.PATCH, where, {**patch, "token": "another record's"})
    store.close()
    assert settled.lookup(Cache(out), out, inputs) is None and settled.tree(Cache(out), out) is None
    monkeypatch.setattr(settled, "PATCH_SHARE", 10**9)  # any patch outgrows its share: the body is put
    model.write_text(model.read_text().replace("cpu 4 ", "cpu 5 "))
    assert _compile(specs, out) == 0  # no record to patch (the patch was replaced): a whole body
    model.write_text(model.read_text().replace("cpu 5 ", "cpu 6 "))
    assert _compile(specs, out) == 0
    assert body_file.read_bytes() != body and "base" not in settled.entry(Cache(out), out)
    full = tmp_path / "full"
    assert _compile(specs, full, "--no-cache") == 0
    assert _files(out) == _files(full)
