"""The PR workflow's diff step, run with bash as written in the rendered workflow, in a
scratch repository (real git, the real shipspec on PATH) against a loopback stand-in
for GitHub's comments API: it writes the job summary and keeps one sticky comment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler.commands.diff import MARKER
from tests.support.github_comments import CommentsStandIn

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")]  # fmt: skip


def _env(repo: Path, **extra: str) -> dict[str, str]:
    bindir = Path(sys.executable).parent
    return {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        **extra,
    }


def _run(args: list[str], repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=180)


def test_diff_step_writes_the_summary_and_one_sticky_comment(tmp_path: Path) -> None:
    repo = tmp_path
    shutil.copytree(ROOT / "specs", repo / "specs")
    env = _env(repo)
    assert _run([sys.executable, "-m", "compiler", "compile"], repo, env).returncode == 0
    for cmd in (["git", "init", "-q", "."], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "base"]):
        assert _run(cmd, repo, env).returncode == 0
    base = _run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    envs = repo / "specs" / "environments.ship"
    envs.write_text(
        envs.read_text().replace(
            'override ticket_router { version "2.1.0" }', 'override ticket_router { version "2.2.0" }'
        )
    )
    workflow = yaml.safe_load((repo / ".github/workflows/shipspec.yml").read_text())
    job = workflow["jobs"]["shipspec"]
    assert job["permissions"]["pull-requests"] == "write"
    step = next(s for s in job["steps"] if "--comment" in s.get("run", ""))
    assert step["if"] == "always()"
    with CommentsStandIn(["LGTM"]) as gh:
        step_env = _env(
            repo,
            BASE_SHA=base,
            PR="12",
            GITHUB_TOKEN="t0k",
            GITHUB_REPOSITORY="o/r",
            GITHUB_API_URL=gh.url,
            GITHUB_STEP_SUMMARY=str(repo / "summary.md"),
        )
        for _ in range(2):  # a second push to the pull request updates the same comment
            r = _run(["bash", "-e", "-c", step["run"]], repo, step_env)
            assert r.returncode == 0, r.stderr
        ours = [c for c in gh.comments if c["body"].startswith(MARKER)]
        assert len(ours) == 1 and len(gh.comments) == 2
        assert [m for m, _, _ in gh.requests if m != "GET"] == ["POST", "PATCH"]
        body = ours[0]["body"]
    assert "**2.1.0 → 2.2.0**" in body and "production touched: `prod`" in body
    summary = (repo / "summary.md").read_text()
    assert summary.count(MARKER) == 2 and "<summary><b>prod</b> (production)" in summary
