"""A watching process plans from what it kept of its last plan (``emit.kept``): only the
files that are not the very objects that plan was made of, and the paths they take or
leave, are looked at, and the plan is the one ``emit.plan_over`` makes over the same
tree without it (its lists in the same order, its files, sources and ledger); what the
watch reports is what a fresh compile reports."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.synth import generate, model_text
from compiler import emit
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.emit import Plan
from compiler.output import OutputFile, file_bytes
from compiler.pipeline import build
from tests.unit.test_cache import EDITS, _apply, _result


def _shape(p: Plan) -> tuple[object, ...]:
    """Everything a plan says (not its caches: ``shas``, ``sizes``), its files by value."""
    assert isinstance(p.files, emit.Contents)
    files = [(path, f.path, f.text, f.source, f.kind) for path, f in p.files.outputs.items()]
    return (p.root, files, list(p.sources.items()), p.ledger, p.write, p.replace, p.unchanged, p.delete, p.verified)


@pytest.fixture
def replans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether each plan given what was kept was made from it (or made whole: a path claimed twice)."""
    yield _spy_on_replans(monkeypatch)


def _spy_on_replans(mp: pytest.MonkeyPatch) -> list[bool]:
    made: list[bool] = []
    real = emit._replanned

    def spying(*args: Any) -> Plan | None:
        p = real(*args)
        made.append(p is not None)
        return p

    mp.setattr(emit, "_replanned", spying)
    return made


# ---------------------------------------------------------------------------------------
# emit: plan_over with and without what was kept, over random changes of the files


def _file(path: str, text: str, line: int = 1, digest: bool = True) -> OutputFile:
    plain = OutputFile(path, text, Span.point("spec.ship", line))
    if not digest:
        return plain
    return OutputFile(path, text, plain.source, digest=hashlib.sha256(file_bytes(plain)).hexdigest())


CHANGES = st.tuples(st.integers(0, 11), st.integers(0, 1000))


@given(st.lists(CHANGES, min_size=1, max_size=12))
@example([(0, 0), (6, 0), (6, 1), (8, 0), (7, 1), (7, 2), (4, 3)])  # refused after a plan from what was kept
@example([(0, 0), (10, 1), (10, 6), (11, 2), (9, 3), (8, 0), (1, 5), (3, 7), (4, 0), (5, 1)])
def test_a_plan_from_what_was_kept_is_the_whole_plan(changes: list[tuple[int, int]]) -> None:
    """Each step changes the files as a build can (a file made again as it was or with other
    bytes, a path added or gone or one for another, a path claimed twice (SS903) or the same
    file given twice, an unsafe path (SS905), a file shipspec does not own in the way (SS902),
    nothing) and plans from what the last
    applied plan left, as ``compile --watch`` does; the plan and what it reports are the
    whole ``plan_over``'s. A plan without errors is applied and recorded, one with errors
    is not (the next plans from the one before)."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        made = _spy_on_replans(mp)
        root = Path(tmp)
        files = [_file(f"deploy/{d}/f{i}.yaml", f"{d}{i}: 1\n", digest=i % 2 == 0) for d in "ab" for i in range(4)]
        ledger: dict[str, str] = {}
        kept: emit.Kept | None = None
        for step, (change, n) in enumerate(changes):
            files = list(files)
            i = n % len(files)
            old = files[i]
            if change == 0:
                files[i] = _file(old.path, old.text, digest=n % 2 == 0)
            elif change in (1, 2):
                files[i] = _file(old.path, f"{old.text}x: {n}\n", line=n % 3 + 1, digest=n % 2 == 0)
            elif change == 3:
                files.append(_file(f"deploy/{'abc'[n % 3]}/new{step}.yaml", f"new: {n}\n"))
            elif change == 4 and len(files) > 1:
                files.pop(i)
            elif change == 5:
                files.insert(i + 1, _file(old.path, f"twice: {n}\n", line=2))  # a second claim
            elif change == 6:
                files.append(_file(["deploy/../x.yaml", "elsewhere/x.yaml"][n % 2], "unsafe\n"))
            elif change == 7:
                foreign = f"deploy/a/foreign{step}.yaml"
                (root / foreign).parent.mkdir(parents=True, exist_ok=True)
                (root / foreign).write_bytes(b"someone's\n" if n % 2 else file_bytes(_file(foreign, "same\n")))
                files.append(_file(foreign, "same\n"))
            elif change == 8:
                files = [f for f in files if f.path.startswith("deploy/") and ".." not in f.path]
                files = list({f.path: f for f in files}.values())  # claimed once each again
            elif change == 9:
                files.insert(i, old)  # the very same file twice
            elif change == 10:
                files[i] = _file(f"deploy/{'abc'[n % 3]}/moved{step}.yaml", old.text)  # as many, one elsewhere
            elif change == 11:
                files[i] = files[(i + 1) % len(files)]  # as many, one of them twice
            files.sort(key=lambda f: f.path)  # as render hands them out
            whole_sink, sink = Sink(), Sink()
            whole = emit.plan_over(files, root, whole_sink, ledger)
            tried = len(made)
            p = emit.plan_over(files, root, sink, ledger, kept)
            assert _shape(p) == _shape(whole), step
            assert sink.items == whole_sink.items, step
            claimed_twice = len({f.path for f in files}) != len(files)
            if kept is not None:
                assert made[tried:] == [not claimed_twice], step
            if not whole_sink.has_errors:
                emit.apply(p)
                ledger = {path: p.sha(path) for path in p.files}  # what settled.record keeps
                kept = emit.kept(p, files, ledger)
                assert kept is not None


def test_what_was_kept_is_used_only_over_the_ledger_recorded_from_it(tmp_path: Path) -> None:
    """A ledger that is not the very one recorded from the kept plan (another record) makes the
    plan whole, even when it is equal."""
    files = [_file(f"deploy/a/f{i}.yaml", f"a: {i}\n") for i in range(3)]
    p = emit.plan_over(files, tmp_path, Sink(), {})
    emit.apply(p)
    ledger = {path: p.sha(path) for path in p.files}
    kept = emit.kept(p, files, ledger)
    assert kept is not None
    calls: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        real = emit._replanned
        mp.setattr(emit, "_replanned", lambda *a: calls.append("kept") or real(*a))
        emit.plan_over(files, tmp_path, Sink(), dict(ledger), kept)
        assert calls == []
        emit.plan_over(files, tmp_path, Sink(), ledger, kept)
        assert calls == ["kept"]
    refused = emit.plan_over([*files, _file("deploy/a/f0.yaml", "twice\n")], tmp_path, Sink(), {})
    assert emit.kept(refused, [*files, _file("deploy/a/f0.yaml", "twice\n")], ledger) is None


def test_a_file_given_twice_among_files_given_in_another_order_is_claimed_twice(
    tmp_path: Path, replans: list[bool]
) -> None:
    """In as many files as were kept, one given twice where the others changed places is a
    path claimed twice (SS903), as the whole plan reports it, not a file that moved."""
    x, b, c = (_file(f"deploy/a/{name}.yaml", f"{name}: 1\n") for name in "xbc")
    p = emit.plan_over([x, b, c], tmp_path, Sink(), {})
    emit.apply(p)
    ledger = {path: p.sha(path) for path in p.files}
    kept = emit.kept(p, [x, b, c], ledger)
    whole_sink, sink = Sink(), Sink()
    whole = emit.plan_over([b, x, x], tmp_path, whole_sink, ledger)
    again = emit.plan_over([b, x, x], tmp_path, sink, ledger, kept)
    assert _shape(again) == _shape(whole) and sink.items == whole_sink.items and replans == [False]
    assert [d.code for d in sink.items] == ["SS903"] and again.delete == ["deploy/a/c.yaml"]


def test_files_that_only_changed_places_are_not_looked_at_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replans: list[bool]
) -> None:
    """A path for another in as many files moves the ones after it: only the new one is looked
    at, and the one that went is deleted."""
    judged: list[str] = []
    real = emit._judged
    monkeypatch.setattr(emit, "_judged", lambda p, path, *rest: judged.append(path) or real(p, path, *rest))
    a, b, c, d, e = (_file(f"deploy/a/{name}.yaml", f"{name}: 1\n") for name in "abcde")
    p = emit.plan_over([a, b, c, d], tmp_path, Sink(), {})
    emit.apply(p)
    ledger = {path: p.sha(path) for path in p.files}
    kept = emit.kept(p, [a, b, c, d], ledger)
    whole = emit.plan_over([a, c, d, e], tmp_path, Sink(), ledger)
    judged.clear()
    again = emit.plan_over([a, c, d, e], tmp_path, Sink(), ledger, kept)
    assert _shape(again) == _shape(whole) and judged == ["deploy/a/e.yaml"] and replans == [True]
    assert (again.write, again.delete) == (["deploy/a/e.yaml"], ["deploy/a/b.yaml"])


def test_a_record_holds_a_file_of_its_plan_found_on_disk_as_planned(tmp_path: Path) -> None:
    """A new path whose file is already on disk as planned is left unwritten, and the record
    made from the last one still holds it (the plan's files, not its ledger and writes):
    the next plan from what was kept stands on that ledger."""
    from compiler import settled
    from compiler.cache import Memory

    store, inputs = Memory(), settled.Inputs((), "key")
    first = [_file("deploy/a/f0.yaml", "a: 0\n")]
    p = emit.plan_over(first, tmp_path, Sink(), {})
    emit.apply(p)
    assert settled.record(store, tmp_path, inputs, (), p)
    tree = settled.recorded(store, tmp_path)
    assert tree is not None
    there = _file("deploy/a/f1.yaml", "a: 1\n")
    (tmp_path / there.path).write_bytes(file_bytes(there))
    files = [*first, there]
    p = emit.plan_over(files, tmp_path, Sink(), tree.ledger)
    assert p.unchanged == ["deploy/a/f0.yaml", "deploy/a/f1.yaml"] and p.write == []
    emit.apply(p)
    assert settled.record(store, tmp_path, inputs, (), p, tree)
    now = settled.recorded(store, tmp_path)
    assert now is not None and now.ledger == {path: p.sha(path) for path in p.files}
    assert emit.kept(p, files, now.ledger) is not None


# ---------------------------------------------------------------------------------------
# compile --watch: random spec edits and hand edits of the output


def _rename(path: Path, n: int) -> None:
    """The model of ``path`` under another name: each of its outputs moves to another path."""
    if path.exists():
        name = path.stem
        path.write_text(path.read_text().replace(name, f"r{name[1:]}"))


def _add(specs: Path, n: int) -> None:
    (specs / "models" / f"m{40 + n:05d}.ship").write_text(model_text(40 + n))


def _allowance(path: Path, n: int) -> None:
    """An inline allowance: used (SS640 is reported on gates), unused (SS020) or malformed (SS021)."""
    if path.exists():
        code = ["SS640", "SS740", "SS999"][n % 3]
        text = path.read_text()
        path.write_text(text.replace("gate staging", f"# shipspec: allow({code})\ngate staging", 1))


OPS = st.one_of(
    st.tuples(st.just("edit"), st.integers(0, 2), st.integers(0, len(EDITS) - 1), st.integers(1, 9)),
    st.tuples(st.sampled_from(["rename", "remove", "allow"]), st.integers(0, 2), st.just(0), st.integers(0, 9)),
    st.tuples(st.sampled_from(["add", "hand", "again"]), st.just(0), st.just(0), st.integers(0, 9)),
)


@settings(max_examples=8)
@given(st.lists(OPS, min_size=1, max_size=6))
def test_a_watching_plan_and_report_are_a_fresh_compiles(ops: list[tuple[str, int, int, int]]) -> None:
    """After each step of random edits (some break the spec, rename a model, add or remove a
    model file, add inline allowances; a generated file edited by hand between steps; a step
    with nothing changed), the watcher's plan is the whole ``plan_over`` of a fresh build's
    files over the same tree, and its build and report are a fresh compile's."""
    from compiler.commands.watch import Watcher

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        root = Path(tmp)
        specs = generate(root, 3)
        out = root / "out"
        watcher = Watcher([specs], out)
        watcher.compile()
        fresh: Any = None
        plans: list[tuple[object, list[Diagnostic]]] = []
        made: list[bool] = []
        real_over, real_plan, real_replanned = emit.plan_over, emit.plan, emit._replanned

        def over(files: Any, at: Path, sink: Sink, ledger: Any, kept: Any = None) -> Plan:
            # Over the tree it recorded last, with what it kept of the plan recorded there.
            assert kept is not None and kept.ledger is ledger
            mark, tried = len(sink.items), len(made)
            p = real_over(files, at, sink, ledger, kept)
            assert made[tried:] == [True]
            whole_sink = Sink()
            whole = real_over(fresh.files, at, whole_sink, ledger)
            assert (_shape(p), sink.items[mark:]) == (_shape(whole), whole_sink.items)
            plans.append((p, whole_sink.items))
            return p

        def planned(files: Any, at: Path, sink: Sink, *args: Any, **kwargs: Any) -> Plan:
            mark = len(sink.items)
            p = real_plan(files, at, sink, *args, **kwargs)
            plans.append((p, sink.items[mark:]))
            return p

        def replanned(*args: Any) -> Plan | None:
            p = real_replanned(*args)
            made.append(p is not None)
            return p

        mp.setattr(emit, "plan_over", over)
        mp.setattr(emit, "plan", planned)
        mp.setattr(emit, "_replanned", replanned)
        for op, model, edit, n in ops:
            path = specs / "models" / f"m{model:05d}.ship"
            if op == "edit" and path.exists():
                _apply(path, edit, n)
            elif op == "rename":
                _rename(path, n)
            elif op == "remove":
                path.unlink(missing_ok=True)
            elif op == "allow":
                _allowance(path, n)
            elif op == "add":
                _add(specs, n)
            elif op == "hand":
                written = sorted(p for p in (out / "deploy").rglob("*.yaml"))
                victim = written[n % len(written)]
                victim.write_bytes(victim.read_bytes() + b"# by hand\n")
            fresh = build([specs])
            plans.clear()
            result = watcher.compile()
            assert watcher.built is not None and _result(watcher.built) == _result(fresh), op
            if fresh.has_errors:
                assert result.plan is None and plans == []
                expected = tuple(sorted(set(fresh.diagnostics), key=Diagnostic.sort_key))
            else:
                assert result.plan is plans[-1][0]
                found = [*fresh.diagnostics, *plans[-1][1]]
                expected = tuple(sorted(set(found), key=Diagnostic.sort_key))
            assert result.checked.diagnostics == expected, op


def test_a_one_model_edit_looks_only_at_the_files_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replans: list[bool]
) -> None:
    """After a one-model CPU edit the plan looks at (``_judged``) exactly the files that were
    not handed out again, screens no path, and writes what changed; a step with nothing
    changed looks at the files some backends make again every build (per environment, not
    handed out again), and a plan of the very files it kept looks at none."""
    from compiler import ledger_paths, pipeline, settled
    from compiler.commands.watch import Watcher

    judged: list[str] = []
    screened: list[str] = []
    real_judged, real_screen = emit._judged, ledger_paths.screen_output

    def judging(p: Plan, path: str, *args: Any) -> Any:
        judged.append(path)
        return real_judged(p, path, *args)

    def screening(path: str, *args: Any) -> bool:
        screened.append(path)
        return real_screen(path, *args)

    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    watcher = Watcher([specs], out)
    watcher.compile()
    monkeypatch.setattr(emit, "_judged", judging)
    monkeypatch.setattr(ledger_paths, "screen_output", screening)

    def made_again(step: Any) -> list[str]:
        assert watcher.built is not None
        held = watcher.built.files  # their ids stay theirs while compared
        before = {id(f) for f in held}
        judged.clear()
        planned = step()
        assert planned.plan is not None and planned.plan.verified and not planned.has_errors
        again = [f.path for f in watcher.built.files if id(f) not in before]
        assert sorted(judged) == sorted(again) and screened == []
        assert set(planned.plan.write) <= set(again) and len(again) < len(held)
        return list(planned.plan.write)

    counted: list[int] = []  # records that counted the plan's paths against the ledger
    real_accounts = settled._accounts

    def accounting(ledger: Any, gone: Any, written: Any, files: Any) -> bool:
        counted.append(len(files))
        return bool(real_accounts(ledger, gone, written, files))

    monkeypatch.setattr(settled, "_accounts", accounting)
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    was = settled.recorded(watcher.store, out)
    assert was is not None
    was_ledger = dict(was.ledger)
    assert made_again(watcher.compile) and replans == [True]
    assert counted == []  # no path came or went: the plan's paths are the ledger's
    # The plan held the last record's very ledger (not a copy): applying it changed none of it.
    assert was.ledger == was_ledger
    recorded = settled.recorded(watcher.store, out)
    assert recorded is not None and recorded.ledger == emit.read_ledger(out)
    # The ledger it left, which the next step's ``holds`` compares a racy ledger with.
    assert watcher.ledger is not None and watcher.ledger[1] == (out / emit.LEDGER).read_bytes()
    # Named by a token, not hashed (4 MB at 1,000 models); the record vouches for it by that.
    assert watcher.ledger[0].startswith(emit.LEFT) and recorded.racy.get(emit.LEDGER) == watcher.ledger[0]
    hashed: list[int] = []
    real_sha = emit._sha

    def hashing(data: bytes | bytearray) -> str:
        hashed.append(len(data))
        return real_sha(data)

    monkeypatch.setattr(emit, "_sha", hashing)
    assert made_again(watcher.compile) == [] and replans == [True, True]
    ledger_size = (out / emit.LEDGER).stat().st_size
    assert ledger_size not in hashed  # nor the ledger it left this time
    assert settled.holds(settled.recorded(watcher.store, out), out, [], watcher.ledger)  # type: ignore[arg-type]
    assert watcher.built is not None
    judged.clear()
    tree = settled.recorded(watcher.store, out)
    planned = pipeline.plan(watcher.built, out, store=watcher.store, tree=tree, kept=watcher.kept)
    assert planned.plan is not None and planned.plan.unchanged == list(planned.plan.files)
    assert judged == [] and screened == [] and replans == [True, True, True]


def test_a_step_builds_the_spec_files_its_poll_found_walking_the_directories_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The poll's discovery is the build's (``watch.Snapshot.found``): a model file added
    since the last step is built, and no directory is walked twice for it."""
    from compiler.commands import watch
    from compiler.parse import sources

    specs = generate(tmp_path, 3)
    watcher = watch.Watcher([specs], tmp_path / "out")
    assert not watcher.compile().has_errors
    walks: list[object] = []
    real = sources.discover

    def counted(inputs: Any) -> Any:
        walks.append(inputs)
        return real(inputs)

    monkeypatch.setattr(sources, "discover", counted)
    monkeypatch.setattr(watch, "discover", counted)
    _add(specs, 1)
    done = watcher.step()
    assert done is not None and not done.has_errors
    assert len(walks) == 1
    assert watcher.built is not None and _result(watcher.built) == _result(build([specs]))
    assert any(s.path.endswith("m00041.ship") for s in watcher.built.checked.sources)


def test_a_step_keeps_the_source_records_of_the_files_it_did_not_read_again(tmp_path: Path) -> None:
    """A watching step builds the spec files its poll found unchanged from last step's records
    of them (the very objects: nothing is made again for 1,000 files); an edited file's is new."""
    from compiler.commands import watch

    specs = generate(tmp_path, 3)
    watcher = watch.Watcher([specs], tmp_path / "out")
    assert not watcher.compile().has_errors
    assert watcher.built is not None
    before = {s.path: s for s in watcher.built.checked.sources}
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    done = watcher.step()
    assert done is not None and not done.has_errors and watcher.built is not None
    after = watcher.built.checked.sources
    edited = [s for s in after if s.path.endswith("m00001.ship")]
    assert len(edited) == 1 and edited[0] is not before[edited[0].path] and "cpu 2 " in edited[0].text
    kept = [s for s in after if s is not edited[0]]
    assert kept and all(s is before[s.path] for s in kept)
    assert _result(watcher.built) == _result(build([specs]))
