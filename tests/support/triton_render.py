"""Render the Triton backend's model repositories of a spec directory, for the real-server tests."""

from __future__ import annotations

import re
import shutil
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


# The live tests' server: the nvidia-pytriton 0.7.0 wheel's tritonserver. specs/ targets the
# current release (model_metrics, latency histograms), which that server cannot load or
# export, so a live test that serves specs/ renders a copy pinned to this release.
SERVER_RELEASE = "2.51.0"
_PIN = re.compile(r'^(\s*)triton\s+"[^"]*"', re.MULTILINE)


def server_specs(spec_dir: Path, dest: Path) -> Path:
    """A copy of ``spec_dir`` whose project pins the live server's release; returns the copy."""
    shutil.copytree(spec_dir, dest)
    pinned = 0
    for path in sorted(dest.rglob("*.ship")):
        text = path.read_text()
        if text.lstrip().startswith("project") or "\nproject " in text:
            new, n = _PIN.subn(rf'\1triton "{SERVER_RELEASE}"', text, count=1)
            path.write_text(new)
            pinned += n
    assert pinned == 1, f"expected one project 'triton' pin under {spec_dir}"
    return dest
