"""A watching process's checks (``compiler.checks.kept``): what they keep of one step never
changes what they report, and an edit checks again only the items it touched."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import generate, model_text
from compiler import ir
from compiler.cache import Cache, Memory
from compiler.checks import check
from compiler.checks.kept import Kept
from compiler.diagnostics import Diagnostic, Sink
from compiler.parse.sources import load
from compiler.pipeline import build
from compiler.resolve import Resolved, resolve

MODEL = "models/m{k:05d}.ship"
# (file, old, new): ``new`` replaces the first ``old``, is appended to the file when ``old``
# is empty, put before it when ``old`` is "^", and the file is removed when ``new`` is None.
# ``{k}`` is the model the edit is drawn for, ``{n}`` a drawn number, ``{copy}`` that model's
# file as synth wrote it. Many edits break the spec, and several make or unmake an error
# in items of files the edit leaves alone: names that resolve or not, a duplicate in
# another file, a pin in the platform file, a gate or an ensemble in another file.
EDITS: list[tuple[str, str, str | None]] = [
    (MODEL, "cpu 1 ", "cpu {n} "),
    (MODEL, "", "\n# comment {n}\n"),  # the same records, other objects
    (MODEL, "^", "# moved down {n}\n"),  # every span of the file moves
    (MODEL, "serve in staging", "serve in stagin"),  # an unknown name, with a hint
    (MODEL, "format onnx", "format"),  # a syntax error: the file's records are gone
    (MODEL, "model m{k:05d} {{", "model m{k:05d}x {{"),  # its SLA, monitor and gates name no model
    (MODEL, "availability 99.9%", "availability 9{n}%"),
    (MODEL, "over 30d", "over {n}d"),
    (MODEL, "  approval @synth/leads\n", ""),
    (MODEL, "sla m{k:05d} in prod", "sla m{k:05d} in preprod"),
    (MODEL, "gate preprod -> prod for", "gate preprod -> staging for"),  # prod reached, or not
    (MODEL, "cpu 1  memory 2Gi", "memory 2Gi"),
    (MODEL, "monitor m{k:05d} in prod", "monitor m{k:05d} in dev"),
    (MODEL, "drift psi > 0.2", "drift psi < 0.2"),
    (MODEL, "", None),
    ("extra{k}.ship", "", "{copy}"),  # every block of model k defined twice
    ("extra{k}.ship", "", "gate staging -> prod for m{k:05d} {{\n  approval @synth/leads\n}}\n"),
    (
        "ensemble{k}.ship",
        "",
        'model ens{k} {{\n  version "1.0.{n}"\n  format ensemble\n  input features: fp32[{width}]\n'
        "  output score: fp32[1]\n  step m{k:05d} {{\n    input features -> features\n"
        "    output score -> score\n  }}\n  resources {{ cpu 1  memory 1Gi }}\n  serve in staging, prod\n}}\n"
        "sla ens{k} in prod {{\n  availability 99.9% over 30d\n}}\n"
        "gate staging -> prod for ens{k} {{\n  approval @synth/leads\n}}\n",
    ),
    ("ensemble{k}.ship", "", None),
    (
        "platform.ship",
        '  gateway "istio-ingress"\n',
        '  gateway "istio-ingress"\n  override m{k:05d} {{ version "1.{k}.0" }}\n',
    ),
    ("platform.ship", '  gateway "istio-ingress"\n', ""),  # canaries split by replica counts
    ("platform.ship", "replicas 3..12", "replicas 1..{n}"),
    ("platform.ship", "tier preprod", "tier staging"),
    ("platform.ship", "environment staging {{", "environment staging2 {{"),
    ("platform.ship", "", '\nenvironment stagin {{\n  tier staging\n  namespace "ml-stagin"\n}}\n'),
    ("platform.ship", 'triton "2.51.0"', 'triton "2.5{n}.0"'),
]
MODELS = 4


def _apply(specs: Path, edit: int, k: int, n: int) -> None:
    name, old, new = EDITS[edit]
    path = specs / name.format(k=k)
    if new is None:
        path.unlink(missing_ok=True)
        return
    new = new.format(k=k, n=n, width=16 + k % 48, copy=model_text(k))
    text = path.read_text() if path.exists() else ""
    if old == "^":
        text = new + text
    elif old:
        text = text.replace(old.format(k=k), new, 1)
    else:
        text += new
    path.write_text(text)


class _Watching:
    """What ``compile --watch`` does between spec loads: each file's IR kept in memory (the
    records of a file whose text did not change are the same objects), last step's resolve
    and the checks' kept results."""

    def __init__(self, specs: Path) -> None:
        self.specs, self.store, self.kept = specs, Memory(), Kept()
        self.earlier: Resolved | None = None

    def step(self) -> list[Diagnostic]:
        self.earlier = resolve(load([self.specs], self.store).spec, self.earlier)
        sink = Sink()
        check(self.earlier, sink, self.kept)
        self.store.sweep("ir")
        return sink.items


def _fresh(specs: Path) -> list[Diagnostic]:
    sink = Sink()
    check(resolve(load([specs]).spec), sink)
    return sink.items


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(EDITS) - 1), st.integers(0, MODELS - 1), st.integers(1, 9)),
        min_size=1,
        max_size=8,
    )
)
def test_watching_checks_report_what_fresh_checks_do_after_any_edits(edits: list[tuple[int, int, int]]) -> None:
    """After each edit, the checks a watching process runs on what it kept report the very
    diagnostics, in the very order, of checks of a fresh load."""
    with tempfile.TemporaryDirectory() as tmp:
        specs = generate(Path(tmp), MODELS)
        watching = _Watching(specs)
        assert watching.step() == _fresh(specs)
        for number, (edit, k, n) in enumerate(edits):
            _apply(specs, edit, k, n)
            assert watching.step() == _fresh(specs), (number, EDITS[edit])


def test_each_edit_on_its_own_is_checked_as_a_fresh_check_does() -> None:
    """Every edit of ``EDITS`` at least once, whatever hypothesis draws; then undone (the
    file as synth wrote it, a file removed), which brings back what was kept before it."""
    with tempfile.TemporaryDirectory() as tmp:
        specs = generate(Path(tmp), MODELS)
        watching = _Watching(specs)
        watching.step()
        for edit, (name, _, _) in enumerate(EDITS):
            k = edit % MODELS
            before = {p: p.read_text() for p in specs.rglob("*.ship")}
            _apply(specs, edit, k, 3)
            assert watching.step() == _fresh(specs), EDITS[edit]
            for p in specs.rglob("*.ship"):
                if p not in before:
                    p.unlink()
            for p, text in before.items():
                p.write_text(text)
            assert watching.step() == _fresh(specs), ("undone", EDITS[edit], name)


def _owner(item: Any) -> str:
    """The model an item a per-item function was called for belongs to."""
    if isinstance(item, str):
        return item
    if isinstance(item, ir.Model):
        return item.name
    model = getattr(item, "model", None)
    return model.name if isinstance(model, ir.Ref) else f"{type(item).__name__} {getattr(item, 'name', '?')}"


def test_a_one_model_edit_checks_again_only_the_items_of_and_about_that_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 12 models, with a gate for m00005 in m00003's file: a CPU edit of m00005 calls the
    per-item functions only for m00005's model, SLA, monitor and gates, and for the gate
    that looks m00005 up from the other file; a step with no edit calls none."""
    specs = generate(tmp_path, 12)
    other = specs / "models" / "m00003.ship"
    other.write_text(other.read_text() + "gate staging -> prod for m00005 {\n  approval @synth/leads\n}\n")
    calls: list[tuple[str, str, str]] = []
    real = Kept._call

    def counting(self: Kept, fn: Any, lead: Any, item: Any, shared: Any) -> Any:
        source = getattr(item, "span", None)
        calls.append((fn.__name__, _owner(item), source.file.rsplit("/", 1)[-1] if source else "-"))
        return real(self, fn, lead, item, shared)

    monkeypatch.setattr(Kept, "_call", counting)
    asked: list[str] = []  # the sequences whose items were asked for one by one
    real_asked = Kept._asked

    def asking(self: Kept, fn: Any, *args: Any) -> Any:
        asked.append(fn.__name__)
        return real_asked(self, fn, *args)

    monkeypatch.setattr(Kept, "_asked", asking)
    watching = _Watching(specs)
    watching.step()
    assert asked  # (the first step has nothing to match by place)
    asked.clear()
    every = Counter(name for name, _, _ in calls)
    assert every["_check_gate"] == 12 * 2 + 1 and every["_check_objectives"] == 12
    calls.clear()
    assert watching.step() == _fresh(specs)
    assert calls == []  # nothing changed: nothing is checked again

    path = specs / "models" / "m00005.ship"
    path.write_text(path.read_text().replace("cpu 1 ", "cpu 2 "))
    assert watching.step() == _fresh(specs)
    assert {owner for _, owner, _ in calls} == {"m00005"}
    redone = Counter(name for name, _, _ in calls)
    assert redone["_check_gate"] == 3 and ("_check_gate", "m00005", "m00003.ship") in calls
    # Once for the model (its own checks), its SLA and monitor; the model's name for the
    # gates grouped by model (reachability, cycles).
    assert redone["_check_model"] == redone["_check_in_production"] == redone["_check_weights"] == 1
    assert redone["_check_objectives"] == redone["_check_period"] == redone["_check_directions"] == 1
    assert redone["_reached"] == redone["_check_cycle"] == 1
    # Every function over models, SLAs, monitors or gates ran again for m00005's new records.
    assert set(redone) == set(every) - {"_environment_refs"}
    assert asked == []  # every sequence was last step's items at their places, but the edited ones


def test_a_platform_edit_checks_again_the_items_that_read_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit of the platform file makes each of its records again (every environment):
    every item that looks an environment up is checked again (each gate, each model's
    placements), and none that reads no environment (an SLA's objectives, a model's tensors
    and Triton settings)."""
    specs = generate(tmp_path, 6)
    calls: list[str] = []
    real = Kept._call

    def counting(self: Kept, fn: Any, lead: Any, item: Any, shared: Any) -> Any:
        calls.append(fn.__name__)
        return real(self, fn, lead, item, shared)

    monkeypatch.setattr(Kept, "_call", counting)
    watching = _Watching(specs)
    watching.step()
    calls.clear()
    platform = specs / "platform.ship"
    platform.write_text(platform.read_text().replace("replicas 3..12", "replicas 4..12"))
    assert watching.step() == _fresh(specs)
    redone = Counter(calls)
    assert redone["_check_gate"] == 12 and redone["_check_in_production"] == redone["_check_weights"] == 6
    assert not {"_check_objectives", "_check_period", "_check_tensors", "_check_model", "_check_fields"} & set(redone)


def test_a_watching_build_carries_the_checks_kept_results_in_memory_only(tmp_path: Path) -> None:
    """``pipeline.build`` with the memory of a watching process keeps the checks' results
    there from one step to the next; with the cache on disk it keeps none (identities mean
    nothing in another process)."""
    specs = generate(tmp_path, 2)
    path = specs / "models" / "m00001.ship"
    path.write_text(path.read_text().replace("serve in staging", "serve in stagin"))  # errors: no render
    memory = Memory()
    first = build([specs], store=memory)
    kept = memory.get("carried", "checks")
    assert isinstance(kept, Kept)
    second = build([specs], store=memory, earlier=first.checked.resolved)
    assert memory.get("carried", "checks") is kept
    assert second.diagnostics == first.diagnostics == build([specs]).diagnostics
    disk = Cache(tmp_path / "out")
    build([specs], store=disk)
    assert disk.get("carried", "checks") is None


def test_items_that_look_up_a_name_another_file_removes_or_renames_are_checked_again(tmp_path: Path) -> None:
    """m00003's file holds a gate for m00005 and one for a misspelt m00005x (an unknown
    name, whose hint reads every model's name). Removing m00005's file, bringing it back
    and renaming its model leave m00003's file as it was: its gates report what a fresh
    check does (an unknown model where there was none, another hint)."""
    specs = generate(tmp_path, 12)
    other = specs / "models" / "m00003.ship"
    gates = "".join(f"gate staging -> prod for {m} {{\n  approval @synth/leads\n}}\n" for m in ("m00005", "m00005x"))
    other.write_text(other.read_text() + gates)
    path = specs / "models" / "m00005.ship"
    text = path.read_text()
    watching = _Watching(specs)
    hints = set()
    for step in ("removed", "back", "renamed"):
        if step == "removed":
            path.unlink()
        elif step == "back":
            path.write_text(text)
        else:
            path.write_text(text.replace("model m00005 {", "model m00005xy {"))
        found = watching.step()
        assert found == _fresh(specs), step
        unknown = [d for d in found if d.code == "SS101" and d.span.file.endswith("m00003.ship")]
        assert len(unknown) == (1 if step == "back" else 2), step
        hints.add(next(d.hint for d in unknown if "'m00005x'" in d.message))
    assert len(hints) == 3  # the misspelt name's hint followed the models' names
