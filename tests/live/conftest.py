"""What several live tests share, made once per run: each costs tens of seconds.

- ``release_wheel``: the wheel a user installs. scripts/test builds it into dist/ just before
  pytest; one older than the package's code or data is built again here.
- ``installed_shipspec``: that wheel in a clean virtualenv, away from this checkout (the
  ``shipspec`` command in it). Tests run it; none installs anything more into it.

scripts/test runs the suite in xdist workers, each with its own session fixtures. These two are
made once per run, under a lock in the run's shared temporary directory, by whichever worker
asks first: two setuptools builds of this checkout at once share its build/ directory and
break each other, and a second clean install would cost half a minute more.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler import __version__

ROOT = Path(__file__).resolve().parents[2]


def _newest_source() -> float:
    # Bytecode the test run itself writes is not a change to the release.
    return max(
        p.stat().st_mtime
        for tree in ("compiler", "templates", "schemas")
        for p in (ROOT / tree).rglob("*")
        if "__pycache__" not in p.parts
    )


def _made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """``make(directory)`` once per run, whichever worker comes first; the others wait and reuse it.
    A failed ``make`` leaves nothing behind, so the next worker tries again (and reports its own error)."""
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's directory, above each worker's popen-gwN
    made = base / f"shared-{name}"
    with (base / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (made / ".made").exists():
            shutil.rmtree(made, ignore_errors=True)
            made.mkdir()
            try:
                make(made)
            except BaseException:
                shutil.rmtree(made, ignore_errors=True)
                raise
            (made / ".made").touch()
    return made


def _build_wheel(out: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


@pytest.fixture(scope="session")
def release_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = sorted((ROOT / "dist").glob(f"shipspec-{__version__}-py3-none-any.whl"))
    if built and built[-1].stat().st_mtime >= _newest_source():
        return built[-1]
    [whl] = _made_once(tmp_path_factory, "dist", _build_wheel).glob("shipspec-*.whl")
    return whl


@pytest.fixture(scope="session")
def installed_shipspec(release_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    def install(clean: Path) -> None:
        venv = clean / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        r = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", str(release_wheel)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert r.returncode == 0, r.stdout + r.stderr

    return _made_once(tmp_path_factory, "clean", install) / "venv" / "bin" / "shipspec"
