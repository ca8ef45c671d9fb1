"""The hooks of .pre-commit-hooks.yaml, run by real pre-commit on a real git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.specs import MINIMAL

pytestmark = pytest.mark.realtools

ROOT = Path(__file__).resolve().parents[2]
BROKEN = MINIMAL.replace("serve in staging, prod", "serve in staging, prdo")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Hook environments are built once per run (pip installs shipspec into it).
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(repo: Path, home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or "pre-commit"
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [pre_commit, "try-repo", str(ROOT), hook, "--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _repo(tmp_path: Path, name: str, spec: str) -> Path:
    repo = tmp_path / name
    (repo / "specs").mkdir(parents=True)
    (repo / "specs" / "demo.ship").write_text(spec)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "spec")
    return repo


def test_validate_hook_passes_good_and_fails_bad_spec(tmp_path: Path, pre_commit_home: Path) -> None:
    good = _repo(tmp_path, "good", MINIMAL)
    r = _try_repo(good, pre_commit_home, "shipspec-validate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "shipspec validate" in r.stdout and "Passed" in r.stdout

    bad = _repo(tmp_path, "bad", BROKEN)
    r = _try_repo(bad, pre_commit_home, "shipspec-validate")
    assert r.returncode == 1
    assert "Failed" in r.stdout
    assert "specs/demo.ship:" in r.stdout and "error[SS101]: unknown environment 'prdo'" in r.stdout


def test_fmt_hook_rewrites_and_fails_then_passes(tmp_path: Path, pre_commit_home: Path) -> None:
    repo = _repo(tmp_path, "fmt", MINIMAL.replace("  tier staging\n", "  tier    staging   \n"))
    r = _try_repo(repo, pre_commit_home, "shipspec-fmt")
    assert r.returncode == 1 and "files were modified by this hook" in r.stdout
    assert (repo / "specs" / "demo.ship").read_text() == MINIMAL
    _git(repo, "add", ".")
    assert _try_repo(repo, pre_commit_home, "shipspec-fmt").returncode == 0
