"""Issue 12, point 1: CI installs shipspec exactly as the rendered step says, from the
source the project pins. A wheel built from this checkout stands in for the release;
the rendered `run:` line runs with bash in a clean virtual environment, then the
installed `shipspec` validates a spec away from the checkout."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler import __version__
from tests.support.specs import MINIMAL
from tests.support.workflows import render_workflows

pytestmark = pytest.mark.realtools

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ci") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    return path


def _install_step(tmp_path: Path, source: str) -> str:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "demo.ship").write_text(
        MINIMAL.replace("  owners @demo/ml\n", f'  owners @demo/ml\n  compiler "{source}"\n')
    )
    wf = yaml.safe_load(render_workflows(specs)[".github/workflows/shipspec.yml"])
    [step] = [s["run"] for s in wf["jobs"]["shipspec"]["steps"] if "pip install" in s.get("run", "")]
    return step


def _run(venv: Path, cwd: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv)}
    # GitHub runs `run:` with `bash -e {0}`.
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_a_tampered_release_is_refused(release_wheel: Path, venv: Path, tmp_path: Path) -> None:
    wheel = release_wheel
    step = _install_step(tmp_path, f"{wheel.as_uri()}#sha256={'0' * 64}")
    r = _run(venv, tmp_path, step)
    assert r.returncode != 0 and "DO NOT MATCH THE HASHES" in r.stdout + r.stderr, r.stdout + r.stderr
    assert not (venv / "bin" / "shipspec").exists()


def test_the_rendered_step_installs_the_pinned_release(release_wheel: Path, venv: Path, tmp_path: Path) -> None:
    wheel = release_wheel
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    step = _install_step(tmp_path, f"{wheel.as_uri()}#sha256={digest}")
    assert step == f"python -m pip install 'shipspec[render] @ {wheel.as_uri()}#sha256={digest}'"
    r = _run(venv, tmp_path, step)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r = _run(venv, tmp_path, "shipspec --version && shipspec validate specs")
    assert r.returncode == 0 and r.stdout == f"shipspec {__version__}\n", r.stdout + r.stderr
    # The render extra came along: compile (which needs it) works from the installed package.
    r = _run(venv, tmp_path, "shipspec compile specs --out out")
    assert r.returncode == 0 and (tmp_path / "out" / ".github" / "workflows" / "shipspec.yml").is_file(), r.stderr
    probe = _run(venv, tmp_path, "python -c 'import compiler; print(compiler.__file__)'")
    assert str(venv) in probe.stdout and str(ROOT) not in probe.stdout
