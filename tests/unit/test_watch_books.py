"""A watching process carries its memo's books (``keys``, ``used``, ``made``) from step to step
(``memo.Units.books_carried``): a step adds to last step's dicts instead of booking every unit it
hands back into fresh ones. What they gather is bounded, and a build over them is a fresh build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.synth import generate
from compiler.backends import memo
from compiler.backends import unbooked as unbooked_files
from compiler.cache import Memory
from compiler.output import OutputFile
from compiler.pipeline import Build, build

REPO = Path(__file__).resolve().parents[2]


def _result(built: Build) -> tuple[object, ...]:
    return tuple((f.path, f.text, f.kind, f.source, f.config_map) for f in built.files), built.diagnostics


def _books(store: Memory) -> tuple[object, ...]:
    books = store.get("carried", "step")["books"]
    assert isinstance(books, tuple)
    return books


def _edit(specs: Path, model: int, cpu: int) -> None:
    path = specs / "models" / f"m{model:05d}.ship"
    text = path.read_text()
    start = text.index("cpu ") + 4
    end = text.index(" ", start)
    path.write_text(text[:start] + str(cpu) + text[end:])


def test_a_step_adds_to_last_steps_books_and_renders_what_a_fresh_build_renders(tmp_path: Path) -> None:
    specs = generate(tmp_path, 12)
    store = Memory()
    last = build([specs], store=store)
    first = _books(store)
    for step in range(3):
        _edit(specs, 3 + step, 2 + step)
        last = build([specs], store=store, earlier=last.checked.resolved)
        assert not last.has_errors
        books = _books(store)
        assert books[3] is first[3] and books[2] is first[2] and books[4] is first[4]  # the same dicts
        assert _result(last) == _result(build([specs]))


def test_books_that_gather_more_than_they_may_are_made_afresh_and_stay_bounded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no floor (``_STALE`` 0), books may gather a quarter more than they held when made."""
    monkeypatch.setattr(memo, "_STALE", 0)
    specs = generate(tmp_path, 12)
    store = Memory()
    last = build([specs], store=store)
    base = len(_books(store)[3])  # type: ignore[arg-type]
    afresh = 0
    used = _books(store)[3]
    for step in range(12):
        _edit(specs, step % 12, 2 + step % 3)  # a new CPU each step: new units, last step's left behind
        last = build([specs], store=store, earlier=last.checked.resolved)
        assert not last.has_errors
        books = _books(store)
        if books[3] is not used:
            afresh += 1
            used = books[3]
        assert len(used) <= base + base // 4 + 64  # type: ignore[arg-type]  # (one step's units past the bound)
        assert _result(last) == _result(build([specs]))
    assert afresh >= 1


def _invalid_templates(root: Path) -> Path:
    """Overrides that make every Service and model's PrometheusRule (render units' files) and
    every environment's shared SLO PrometheusRule (a file no unit makes) fail validation: each
    step's report says so for every one of them."""
    templates = root / "templates"
    invalid = (("kubernetes/service.yaml.j2", "  type: ClusterIP\n"), ("monitoring/prometheusrule.yaml.j2", "spec:\n"))
    for name, after in invalid:
        text = (REPO / "templates" / name).read_text()
        assert after in text
        (templates / name).parent.mkdir(parents=True, exist_ok=True)
        (templates / name).write_text(text.replace(after, after + "  bogusField: 1\n", 1))
    return templates


@pytest.mark.parametrize("sizes", [(4, 2), (64, 8)])
def test_each_step_reports_the_verdicts_of_units_replayed_run_and_of_files_no_unit_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sizes: tuple[int, int]
) -> None:
    """Blocks and parts replayed whole, run again and handed back over steps: what validation
    is told of them (``Units.unit_verdicts``, ``unbooked``) is what a fresh build finds; and the
    counts the books carry of the replayed bodies' files are exactly theirs."""
    from collections import Counter
    from itertools import chain

    monkeypatch.setattr(memo, "BLOCK", sizes[0])
    monkeypatch.setattr(memo, "PART", sizes[1])
    unbooked: list[int] = []  # how many files each build validates past its units' verdicts
    passed = memo.Units.unbooked

    def asked(units: memo.Units, files: list[OutputFile]) -> list[OutputFile]:
        found = passed(units, files)
        counts, local = units._file_counts(), units.file_ids  # every file asked, for comparison
        assert found == [f for f in files if id(f) not in counts and id(f) not in local]
        unbooked.append(len(found))
        return found

    monkeypatch.setattr(memo.Units, "unbooked", asked)
    every: list[int] = []  # the builds that asked every file, not last step's answer moved on
    whole = unbooked_files._asked

    def asked_every(*args: Any) -> Any:
        every.append(len(unbooked))
        return whole(*args)

    monkeypatch.setattr(unbooked_files, "_asked", asked_every)
    specs = generate(tmp_path, 12)
    templates = _invalid_templates(tmp_path)
    store = Memory()
    last = build([specs], templates, store=store)
    bogus = [d for d in last.diagnostics if "bogusField" in d.message]
    assert {d.message.split(": ")[1].split(" ")[0] for d in bogus} == {"Service", "PrometheusRule"}
    assert any("/rules/" in d.message for d in bogus) and any("prometheusrule-slo" in d.message for d in bogus)
    edits = [3, 3, 7, 0, 11, 3]
    for step, model in enumerate(edits):
        _edit(specs, model, 2 + step)  # (a CPU the dev quota admits: else the build stops before validating)
        last = build([specs], templates, store=store, earlier=last.checked.resolved)
        assert unbooked[-1] == unbooked[0]  # (the first build's: it replayed nothing)
        assert _result(last) == _result(build([specs], templates))
        replayed, counts = store.get("carried", "step")["files"]
        assert counts == Counter(chain.from_iterable(g.file_ids for g in replayed.values()))
    assert len(unbooked) == 1 + len(edits)  # every build validated
    assert every == [0]  # only the first: each step of the same length moved last step's answer on
