"""A watching process loads shipspec's own templates once (they do not change while it runs),
and a ``--templates`` override directory every step (it may have been edited since); it lays
CODEOWNERS out again only when a line of it changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import pytest

from bench.synth import generate
from compiler.commands.watch import Watcher

REPO = Path(__file__).resolve().parents[2]


def _edit(specs: Path, n: int) -> None:
    model = specs / "models" / "m00002.ship"
    text = model.read_text()
    assert "cpu 1 " in text
    model.write_text(text.replace("cpu 1 ", f"cpu {n} ", 1))


def test_a_step_loads_no_shipped_template_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    specs = generate(tmp_path, 6)
    loaded: list[str] = []
    get_source = jinja2.FileSystemLoader.get_source

    def counted(self: jinja2.FileSystemLoader, env: jinja2.Environment, name: str) -> object:
        loaded.append(name)
        return get_source(self, env, name)

    monkeypatch.setattr(jinja2.FileSystemLoader, "get_source", counted)
    watcher = Watcher([specs], tmp_path / "out")
    assert not watcher.compile().has_errors and loaded
    loaded.clear()
    _edit(specs, 9)
    done = watcher.step()
    assert done is not None and done.plan is not None and done.plan.write
    assert loaded == []


def test_an_override_template_edited_between_steps_renders_in_the_next(tmp_path: Path) -> None:
    specs = generate(tmp_path, 6)
    override = tmp_path / "templates"
    (override / "kubernetes").mkdir(parents=True)
    shutil.copy(REPO / "templates" / "kubernetes" / "service.yaml.j2", override / "kubernetes")
    out = tmp_path / "out"
    watcher = Watcher([specs], out, templates=override)
    assert not watcher.compile().has_errors
    service = next(out.glob("deploy/*/service-m00002.yaml"))
    assert "edited-here" not in service.read_text()
    template = override / "kubernetes" / "service.yaml.j2"
    template.write_text(template.read_text().replace("metadata:\n", "metadata:\n  # edited-here\n", 1))
    _edit(specs, 9)  # a step runs when a spec file changed
    done = watcher.step()
    assert done is not None and not done.has_errors
    assert "edited-here" in service.read_text()
    # And every other model's, which no edit touched: last step's books hold their units as the
    # old template rendered them, under the same keys (a unit's key leaves the templates out).
    services = sorted(out.glob("deploy/*/service-*.yaml"))
    assert len(services) > 6 and all("edited-here" in s.read_text() for s in services)


def test_a_step_that_leaves_every_owner_keeps_codeowners_and_an_approver_edit_makes_it_again(tmp_path: Path) -> None:
    specs = generate(tmp_path, 6)
    watcher = Watcher([specs], tmp_path / "out")
    assert not watcher.compile().has_errors

    def codeowners() -> object:
        assert watcher.built is not None
        return next(f for f in watcher.built.files if f.path == ".github/CODEOWNERS")

    first = codeowners()
    _edit(specs, 9)
    assert watcher.step() is not None
    assert codeowners() is first  # laid out once: the same file
    model = specs / "models" / "m00003.ship"
    model.write_text(model.read_text().replace("approval @synth/leads", "approval @synth/owners", 1))
    assert watcher.step() is not None
    again = codeowners()
    assert again is not first and "@synth/owners" in again.text and "@synth/owners" not in first.text
    assert (tmp_path / "out" / ".github" / "CODEOWNERS").read_text().count("@synth/owners") > 0
