"""What several live tests share, made once per run: each costs tens of seconds.

- ``release_wheel``: the wheel a user installs. scripts/test builds it into dist/ just before
  pytest; one older than the package's code or data is built again here.
- ``installed_shipspec``: that wheel in a clean virtualenv, away from this checkout (the
  ``shipspec`` command in it). Tests run it; none installs anything more into it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compiler import __version__

ROOT = Path(__file__).resolve().parents[2]


def _newest_source() -> float:
    return max(p.stat().st_mtime for tree in ("compiler", "templates", "schemas") for p in (ROOT / tree).rglob("*"))


@pytest.fixture(scope="session")
def release_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = sorted((ROOT / "dist").glob(f"shipspec-{__version__}-py3-none-any.whl"))
    if built and built[-1].stat().st_mtime >= _newest_source():
        return built[-1]
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [whl] = out.glob("shipspec-*.whl")
    return whl


@pytest.fixture(scope="session")
def installed_shipspec(release_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("clean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    r = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(release_wheel)], capture_output=True, text=True, timeout=900
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return venv / "bin" / "shipspec"
