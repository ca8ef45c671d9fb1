"""Work done beside a one-shot build, in a forked child (``parallel.Beside``): the checks
while the build loads what the last one kept (``pipeline.CHECKS_APART_FROM``), the
Kubernetes policy while the other backends render (``policy.APART_FROM``). What a build
reports is the same whether the child answered or the build did the work itself."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench.synth import generate
from compiler import parallel, pipeline
from compiler.backends.kubernetes import policy
from compiler.cache import Cache
from compiler.pipeline import build
from compiler.resources import templates_dir
from tests.unit.test_cache import _result


def test_beside_answers_from_the_child_or_computes_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    here = os.getpid()
    assert parallel.Beside(os.getpid).result(10) != here  # the child's answer
    real = parallel.fork_call
    for fork in (
        lambda work: None,  # no fork
        lambda work: real(lambda: b"not a pickle"),  # a child that died writing
        lambda work: real(lambda: b""),  # a child that failed
    ):
        monkeypatch.setattr(parallel, "fork_call", fork)
        assert parallel.Beside(os.getpid).result(10) == here
    monkeypatch.setattr(parallel, "fork_call", real)
    slow = parallel.Beside(lambda: (os.getpid() != here and time.sleep(30)) or os.getpid())  # slow in the child
    child = slow.child
    assert child is not None
    started = time.monotonic()
    assert slow.result(0.2) == here and time.monotonic() - started < 20
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)  # killed and reaped


def test_a_child_not_asked_for_its_answer_is_stopped() -> None:
    beside = parallel.Beside(lambda: time.sleep(30))
    child = beside.child
    assert child is not None
    beside.close()
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)


def test_pending_tells_a_child_at_work_from_one_that_has_answered() -> None:
    here = os.getpid()
    slow = parallel.Beside(lambda: (os.getpid() != here and time.sleep(30)) or 1)
    assert slow.pending()
    slow.close()
    assert not slow.pending()
    quick = parallel.Beside(lambda: 2)
    deadline = time.monotonic() + 20
    while quick.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not quick.pending() and quick.result(10) == 2


def test_a_build_waiting_for_its_checks_loads_what_rendering_takes_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checks slow in the child: the build loads the backends and templates, and places every
    served model, while it waits (``pipeline._meanwhile``), and builds what a build in one
    process builds."""
    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(pipeline, "CHECKS_APART_FROM", 0)
    here, real, loading = os.getpid(), pipeline._found, pipeline._meanwhile

    def slow(resolved: object, kept: object = None) -> object:
        if os.getpid() != here:
            time.sleep(1)
        return real(resolved, kept)  # type: ignore[arg-type]

    called: list[object] = []
    placed: list[int] = []

    def meanwhile(*args: object) -> None:
        called.append(args)
        resolved = args[-1]
        loading(*args)  # type: ignore[arg-type]
        placed.append(len(resolved._placed))  # type: ignore[attr-defined]
        served = resolved.served_placements.values()  # type: ignore[attr-defined]
        assert placed[-1] == sum(map(len, served)) > 0

    monkeypatch.setattr(pipeline, "_found", slow)
    monkeypatch.setattr(pipeline, "_meanwhile", meanwhile)
    with Cache(out) as store:
        built = build([specs], store=store)
    assert called and placed
    assert _result(built) == _result(build([specs]))


def _besides(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts each ``Beside`` made (one per piece of work sent to a child)."""
    made: list[int] = []
    real = parallel.Beside.__init__

    def counted(self: parallel.Beside[object], compute: object) -> None:
        made.append(1)
        real(self, compute)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel.Beside, "__init__", counted)
    return made


def _damaged_templates(root: Path) -> Path:
    """Overrides that drop what the policy requires: SS522 for each Triton pod, SS523 for each
    production namespace."""
    override = root / "tpl" / "kubernetes"
    override.mkdir(parents=True)
    for template, old, new in [
        ("triton-pod.yaml.j2", "  automountServiceAccountToken: false\n", ""),
        ("triton-pod.yaml.j2", "{% if p.spread %}", "{% if false %}"),
    ]:
        at = override / template if (override / template).exists() else templates_dir() / "kubernetes" / template
        text = at.read_text()
        assert old in text
        (override / template).write_text(text.replace(old, new))
    return root / "tpl"


@pytest.mark.parametrize("damaged", [False, True])
def test_a_build_reports_the_same_with_its_work_done_apart_or_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged: bool
) -> None:
    """Each one-shot build over a cache on disk (cold, warm, then after an edit that makes a
    check error) reports the same files and diagnostics with its checks and policy done in
    a child as in the process; each of those builds sent both pieces of work to a child."""
    specs = generate(tmp_path, 4)
    templates = _damaged_templates(tmp_path) if damaged else None
    made = _besides(monkeypatch)
    results: dict[bool, list[object]] = {}
    for apart in (True, False):
        monkeypatch.setattr(pipeline, "CHECKS_APART_FROM", 0 if apart else 10**9)
        monkeypatch.setattr(policy, "APART_FROM", 0 if apart else 10**9)
        model = specs / "models" / "m00001.ship"
        original = model.read_text()
        out = tmp_path / f"out-{apart}"
        out.mkdir()
        found = results[apart] = []
        for edit in ("", "cpu 1 ", "serve in staging"):
            if edit:
                model.write_text(original.replace(edit, "cpu 3 " if edit.startswith("cpu") else "serve in stagin", 1))
            made.clear()
            with Cache(out) as store:
                built = build([specs], templates, store=store)
            found.append(_result(built))
            checked_apart = 1 if apart else 0
            policy_apart = 1 if apart and not built.checked.has_errors else 0
            assert len(made) == checked_apart + policy_apart
        model.write_text(original)
    assert results[True] == results[False]
    codes = {d.code for _, diagnostics in results[True] for d in diagnostics}  # type: ignore[union-attr, misc]
    assert ("SS522" in codes and "SS523" in codes) is damaged
    assert "SS101" in codes or "SS109" in codes  # the unknown environment


def test_a_one_shot_render_waits_for_the_policy_child_once_its_files_are_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Kubernetes files are at hand while their verification is under way beside: the
    render assembles the kustomizations and orders every file before it waits for the child
    (at 1,000 models that wait was 40-90 ms of a one-model edit's compile), and reports what
    verifying in the process reports, in the same order (the backend's SS522, then the
    kustomizations' SS733)."""
    from compiler.backends.kubernetes import kustomize
    from compiler.backends.memo import Units
    from compiler.backends.render import Templates
    from compiler.parse.sources import load

    specs = generate(tmp_path, 4)
    templates = Templates.load(_damaged_templates(tmp_path))
    checked = pipeline.check_loaded(load([specs]))
    monkeypatch.setattr(kustomize, "APPLICATION_OBJECTS", 1)  # an SS733 for each directory
    events: list[str] = []
    assemble, report = kustomize.assemble, policy.Apart.report

    def assembled(*args: object) -> object:
        events.append("assembled")
        return assemble(*args)  # type: ignore[arg-type]

    def waited(self: policy.Apart, sink: object) -> None:
        events.append("waited")
        report(self, sink)  # type: ignore[arg-type]

    monkeypatch.setattr(kustomize, "assemble", assembled)
    monkeypatch.setattr(policy.Apart, "report", waited)
    rendered = {}
    for apart in (True, False):
        monkeypatch.setattr(policy, "APART_FROM", 0 if apart else 10**9)
        events.clear()
        files, sink = pipeline.render(checked, templates, units=Units())
        rendered[apart] = [(f.path, f.text) for f in files], [(d.code, d.message, d.span) for d in sink.items]
        assert events == (["assembled", "waited"] if apart else ["assembled"])
    assert rendered[True] == rendered[False]
    codes = [code for code, _, _ in rendered[True][1]]
    assert "SS522" in codes and "SS733" in codes
    assert max(i for i, c in enumerate(codes) if c == "SS522") < min(i for i, c in enumerate(codes) if c == "SS733")
