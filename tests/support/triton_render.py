"""Render the Triton backend's model repositories of a spec directory, for the real-server tests."""

from __future__ import annotations

from pathlib import Path

from compiler.backends.render import Templates
from compiler.emit import file_bytes
from compiler.pipeline import render, validate


def render_triton(spec_dir: Path, out: Path) -> list[str]:
    """Render the triton backend of a spec into ``out``; the environments it serves."""
    checked = validate([spec_dir])
    assert not checked.has_errors, checked.diagnostics
    files, sink = render(checked, Templates.load(), only=["triton"])
    assert not sink.has_errors
    envs = set()
    for f in files:
        path = out / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file_bytes(f))
        envs.add(f.path.split("/")[1])
    return sorted(envs)
