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
def hooks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """This checkout's working tree as a hook repository at one commit, and a pre-commit home.

    Every run below names the same repository and rev, so pre-commit builds the hooks'
    environment (a pip install of shipspec, about half a minute) once; ``try-repo`` makes a
    new commit, and so a new environment, on each call."""
    repo = tmp_path_factory.mktemp("hooks-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out, as it is there
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "hooks")
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()
    return repo, rev, tmp_path_factory.mktemp("pre-commit-home")


def _run_hook(repo: Path, hooks: tuple[Path, str, Path], hook: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit run HOOK --all-files`` in ``repo``, as a project that uses shipspec's hooks runs it."""
    source, rev, home = hooks
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or "pre-commit"
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    config = repo.parent / f"{repo.name}-pre-commit-config.yaml"  # outside the repository: not a spec change
    config.write_text(f"repos:\n- repo: {source}\n  rev: {rev}\n  hooks: [{{id: {hook}}}]\n")
    return subprocess.run(
        [pre_commit, "run", hook, "--all-files", "--color", "never", "--config", str(config)],
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


def test_validate_hook_passes_good_and_fails_bad_spec(tmp_path: Path, hooks: tuple[Path, str, Path]) -> None:
    good = _repo(tmp_path, "good", MINIMAL)
    r = _run_hook(good, hooks, "shipspec-validate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "shipspec validate" in r.stdout and "Passed" in r.stdout

    bad = _repo(tmp_path, "bad", BROKEN)
    r = _run_hook(bad, hooks, "shipspec-validate")
    assert r.returncode == 1
    assert "Failed" in r.stdout
    assert "specs/demo.ship:" in r.stdout and "error[SS101]: unknown environment 'prdo'" in r.stdout


def test_fmt_hook_rewrites_and_fails_then_passes(tmp_path: Path, hooks: tuple[Path, str, Path]) -> None:
    repo = _repo(tmp_path, "fmt", MINIMAL.replace("  tier staging\n", "  tier    staging   \n"))
    r = _run_hook(repo, hooks, "shipspec-fmt")
    assert r.returncode == 1 and "files were modified by this hook" in r.stdout
    assert (repo / "specs" / "demo.ship").read_text() == MINIMAL
    _git(repo, "add", ".")
    assert _run_hook(repo, hooks, "shipspec-fmt").returncode == 0
