"""Every rendered workflow of specs/ and of the golden cases passes the real actionlint, the
real workflow JSON schema (check-jsonschema) and zizmor's offline audits; the rest of the
GitHub backend is tests/unit/backends/github/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.workflows import ROOT, example  # noqa: F401  (example: a fixture)

pytestmark = pytest.mark.realtools
BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"
CHECK_JSONSCHEMA = BIN / "check-jsonschema"
ZIZMOR = BIN / "zizmor"


def _actionlint(paths: list[str], github_dir: Path) -> subprocess.CompletedProcess[str]:
    # The rendered actionlint.yaml names the spec's self-hosted runner labels.
    config = github_dir / "actionlint.yaml"
    extra = ["-config-file", str(config)] if config.exists() else []
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *extra, "-ignore", 'runtime "node20" is deprecated', *paths],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _zizmor(paths: list[str]) -> subprocess.CompletedProcess[str]:
    # --offline: no GitHub API; every finding (any severity, any confidence) fails.
    return subprocess.run([str(ZIZMOR), "--offline", "--no-progress", "--format", "plain", *paths],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_actionlint_accepts_every_workflow(example):
    _, out = example
    paths = sorted(str(p) for p in (out / ".github/workflows").glob("*.yml"))
    run = _actionlint(paths, out / ".github")
    assert run.returncode == 0, run.stdout + run.stderr


def test_actionlint_catches_a_broken_workflow(example, tmp_path):
    # The oracle is real: an expression on an unknown context fails.
    _, out = example
    text = (
        (out / ".github/workflows/shipspec.yml").read_text().replace("github.event.pull_request.base.sha", "gihtub.sha")
    )
    bad = tmp_path / "bad.yml"
    bad.write_text(text)
    run = subprocess.run([str(ACTIONLINT), "-no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "gihtub" in run.stdout


def test_workflow_json_schema_accepts_every_workflow(example):
    _, out = example
    paths = sorted(str(p) for p in (out / ".github/workflows").glob("*.yml"))
    run = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _golden_workflow_dirs() -> list[Path]:
    return sorted(p for p in (ROOT / "golden").glob("*/expected/.github/workflows") if p.is_dir())


@pytest.mark.parametrize("workflows", _golden_workflow_dirs(), ids=lambda p: p.parent.parent.parent.name)
def test_golden_workflows_pass_actionlint_and_the_schema(workflows):
    paths = sorted(str(p) for p in workflows.glob("*.yml"))
    lint = _actionlint(paths, workflows.parent)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr


@pytest.mark.parametrize("workflows", _golden_workflow_dirs(), ids=lambda p: p.parent.parent.parent.name)
def test_zizmor_finds_nothing_in_golden_workflows(workflows):
    run = _zizmor(sorted(str(p) for p in workflows.glob("*.yml")))
    assert run.returncode == 0 and "No findings to report" in run.stdout + run.stderr, run.stdout + run.stderr


def test_zizmor_finds_nothing_in_the_example(example):
    _, out = example
    run = _zizmor(sorted(str(p) for p in (out / ".github/workflows").glob("*.yml")))
    assert run.returncode == 0 and "No findings to report" in run.stdout + run.stderr, run.stdout + run.stderr


def test_zizmor_is_a_real_oracle(example, tmp_path):
    # A tag instead of the SHA is what the issue found 40 times: zizmor must report it.
    _, out = example
    text = (out / ".github/workflows/shipspec.yml").read_text()
    bad = tmp_path / "shipspec.yml"
    bad.write_text(re.sub(r"actions/checkout@[0-9a-f]{40} # (v[\d.]+)", r"actions/checkout@\1", text))
    run = _zizmor([str(bad)])
    assert run.returncode != 0 and "unpinned-uses" in run.stdout, run.stdout + run.stderr


def test_a_split_testing_workflow_passes_actionlint_and_zizmor(tmp_path):
    """300 datasets: testing.yml and testing-2.yml (tests/unit/backends/github/test_workflow_limits.py)."""
    from compiler.backends.render import Templates
    from compiler.parse.sources import load_text
    from compiler.pipeline import check_loaded, render
    from tests.unit.backends.github.test_workflow_limits import _with_datasets

    files, sink = render(check_loaded(load_text(_with_datasets(300), "t.ship")), Templates.load(), only=("github",))
    assert not sink.has_errors, sink.items
    for f in files:
        (tmp_path / f.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f.path).write_text(f.text)
    paths = sorted(str(p) for p in (tmp_path / ".github/workflows").glob("testing*.yml"))
    assert [Path(p).name for p in paths] == ["testing-2.yml", "testing.yml"]
    lint = _actionlint(paths, tmp_path / ".github")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    run = _zizmor(paths)
    assert run.returncode == 0 and "No findings to report" in run.stdout + run.stderr, run.stdout + run.stderr
