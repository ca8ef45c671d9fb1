"""The GitHub backend's workflows of a spec directory, rendered in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.backends.render import Templates
from compiler.pipeline import render, validate

ROOT = Path(__file__).resolve().parents[2]


def render_workflows(specs: Path, templates: Path | None = None) -> dict[str, str]:
    """Path -> text of every file the GitHub backend renders for ``specs``."""
    checked = validate([specs])
    assert not checked.has_errors, checked.diagnostics
    files, sink = render(checked, Templates.load(templates), only=["github"])
    assert not sink.has_errors
    return {f.path: f.text for f in files}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """The workflows of the repository's specs/, as texts and written under a temporary root."""
    files = render_workflows(ROOT / "specs")
    out = tmp_path_factory.mktemp("gh")
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return files, out
