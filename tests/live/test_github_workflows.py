"""Every rendered workflow of specs/ and of the golden cases passes the real actionlint and the
real workflow JSON schema (check-jsonschema); the rest of the GitHub backend is
tests/unit/backends/github/test_github_workflows.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.workflows import ROOT, example  # noqa: F401  (example: a fixture)

pytestmark = pytest.mark.realtools
BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"
CHECK_JSONSCHEMA = BIN / "check-jsonschema"


def test_actionlint_accepts_every_workflow(example):
    _, out = example
    paths = sorted(str(p) for p in (out / ".github/workflows").glob("*.yml"))
    run = subprocess.run(
        [str(ACTIONLINT), "-no-color", "-ignore", 'runtime "node20" is deprecated', *paths],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_actionlint_catches_a_broken_workflow(example, tmp_path):
    # The oracle is real: an expression on an unknown context fails.
    _, out = example
    text = (out / ".github/workflows/shipspec.yml").read_text().replace("github.event.pull_request.base.sha", "gihtub.sha")
    bad = tmp_path / "bad.yml"
    bad.write_text(text)
    run = subprocess.run([str(ACTIONLINT), "-no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "gihtub" in run.stdout


def test_workflow_json_schema_accepts_every_workflow(example):
    _, out = example
    paths = sorted(str(p) for p in (out / ".github/workflows").glob("*.yml"))
    run = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *paths],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _golden_workflow_dirs() -> list[Path]:
    return sorted(p for p in (ROOT / "golden").glob("*/expected/.github/workflows") if p.is_dir())


@pytest.mark.parametrize("workflows", _golden_workflow_dirs(), ids=lambda p: p.parent.parent.parent.name)
def test_golden_workflows_pass_actionlint_and_the_schema(workflows):
    paths = sorted(str(p) for p in workflows.glob("*.yml"))
    lint = subprocess.run(
        [str(ACTIONLINT), "-no-color", "-ignore", 'runtime "node20" is deprecated', *paths],
        capture_output=True, text=True, timeout=60,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    schema = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *paths],
        capture_output=True, text=True, timeout=120,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
