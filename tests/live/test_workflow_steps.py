"""The promotion workflow's own `run:` steps, executed with bash in a scratch
repository (real git, the real shipspec on PATH): what CI will run is a
command line this shipspec accepts and that does the promotion."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "golden" / "github-promotion"
WORKFLOW = ".github/workflows/promote-scorer-staging-to-preprod.yml"

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")]  # fmt: skip


def _env(repo: Path, **extra: str) -> dict[str, str]:
    bindir = Path(sys.executable).parent
    return {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "GITHUB_STEP_SUMMARY": str(repo / "summary.md"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        **extra,
    }  # fmt: skip


def _step(job: dict, name_part: str) -> str:
    return next(s["run"] for s in job["steps"] if name_part in s.get("name", ""))


def _bash(repo: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # GitHub runs `run:` with `bash -e {0}`.
    return subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(CASE / "specs", tmp_path / "specs")
    compiled = subprocess.run([sys.executable, "-m", "compiler", "compile"], cwd=tmp_path, env=_env(tmp_path),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    subprocess.run(["git", "init", "-q", "."], cwd=tmp_path, check=True, timeout=30)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True, timeout=30)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=tmp_path, check=True, timeout=30, env=_env(tmp_path))
    return tmp_path


def test_gate_and_promote_steps_run_as_written(repo: Path) -> None:
    wf = yaml.safe_load((repo / WORKFLOW).read_text())
    (repo / "eval.yaml").write_text("model: scorer\nversion: 1.2.0\nmetrics:\n  auc: {value: 0.93, dataset: holdout}\n")
    load = {"model": "scorer", "load": {"percentile": 99, "latency_ms": 31.0, "rate_rps": 50.0, "duration_s": 300}}
    (repo / "load-evidence.json").write_text(json.dumps(load))
    env = _env(repo, MODEL="scorer", VERSION="1.2.0", EVIDENCE="eval.yaml")

    gate = wf["jobs"]["gate"]
    fetched = _bash(repo, _step(gate, "fetch the evidence"), env)
    assert fetched.returncode == 0, fetched.stderr
    checked = _bash(repo, _step(gate, "gate check"), env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    summary = (repo / "summary.md").read_text()
    assert "### gate staging -> preprod for scorer" in summary and "**PASS: 3 of 3 conditions passed**" in summary

    promoted = _bash(repo, _step(wf["jobs"]["promote"], "shipspec promote"), env)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    diff = subprocess.run(["git", "diff", "--unified=0", "--", "specs"], cwd=repo, capture_output=True, text=True,
                          timeout=30).stdout  # fmt: skip
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ['-  override scorer { version "1.1.0" }', '+  override scorer { version "1.2.0" }']


def test_a_failing_gate_stops_the_job(repo: Path) -> None:
    wf = yaml.safe_load((repo / WORKFLOW).read_text())
    (repo / "eval.yaml").write_text("metrics:\n  auc: 0.5\n")
    (repo / "load-evidence.json").write_text("{}")
    env = _env(repo, MODEL="scorer", VERSION="1.2.0", EVIDENCE="eval.yaml")
    assert _bash(repo, _step(wf["jobs"]["gate"], "fetch the evidence"), env).returncode == 0
    checked = _bash(repo, _step(wf["jobs"]["gate"], "gate check"), env)
    assert checked.returncode == 1
    summary = (repo / "summary.md").read_text()
    assert "0.5 does not meet >= 0.9" in summary and "missing: the evidence has no load.latency_ms" in summary


def test_the_model_input_must_match_the_workflow(repo: Path) -> None:
    wf = yaml.safe_load((repo / WORKFLOW).read_text())
    guard = _step(wf["jobs"]["load"], "the inputs name this gate's model")
    assert _bash(repo, guard, _env(repo, MODEL="scorer")).returncode == 0
    wrong = _bash(repo, guard, _env(repo, MODEL="other"))
    assert wrong.returncode == 1 and "this workflow promotes scorer, not other" in wrong.stdout


def test_the_pull_request_step_commits_and_pushes_the_promotion(repo: Path, tmp_path_factory) -> None:
    """Everything the PR step does before `gh pr create`, against a real bare remote."""
    if shutil.which("gh"):
        pytest.skip("a real gh would try to reach GitHub")
    wf = yaml.safe_load((repo / WORKFLOW).read_text())
    remote = tmp_path_factory.mktemp("remote") / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, timeout=30)
    subprocess.run(["git", "remote", "add", "origin", str(remote)], cwd=repo, check=True, timeout=30)
    env = _env(repo, MODEL="scorer", VERSION="1.2.0")
    promote = wf["jobs"]["promote"]
    assert _bash(repo, _step(promote, "shipspec promote"), env).returncode == 0
    step = next(s for s in promote["steps"] if s.get("name") == "open a pull request")
    step_env = {k: v for k, v in step["env"].items() if "${{" not in v}
    assert step_env == {"TARGET": "preprod", "APPROVERS": "no approvers declared", "SPECS": "specs"}
    opened = _bash(repo, step["run"], {**env, **step_env, "RUN_URL": "https://example.invalid/run/1"})
    assert opened.returncode == 127 and "gh: command not found" in opened.stderr  # the only step left
    branch = "shipspec/promote-scorer-1.2.0-preprod"
    log = subprocess.run(["git", "log", "--format=%s", "-1", branch], cwd=remote, capture_output=True, text=True,
                         timeout=30, check=True).stdout  # fmt: skip
    assert log.strip() == "Promote scorer 1.2.0 to preprod"
    files = subprocess.run(["git", "diff", "--name-only", "HEAD~1", "HEAD"], cwd=repo, capture_output=True,
                           text=True, timeout=30, check=True).stdout.split()  # fmt: skip
    # The spec, what it renders for preprod, the next gate's default version, and the ledger
    # (without it the next compile would take the new files for hand edits).
    assert {"specs/scorer.ship", ".shipspec/ledger.json", ".github/workflows/promote-scorer-preprod-to-prod.yml"} <= set(files)
    assert all(f.startswith(("specs/", "deploy/preprod/", ".shipspec/", ".github/")) for f in files), files
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True,
                          timeout=30).stdout == ""  # fmt: skip
