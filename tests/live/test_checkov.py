"""checkov over every rendered Kubernetes object (issue 10): production objects
fail no check except the documented allowlist (tests/live/checkov-allowlist.yaml,
one reason per check id). checkov runs from its own virtualenv (.tools/checkov,
installed by scripts/bootstrap) and scans the core kinds (not Rollouts or
PyTorchJobs, which it does not know)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.golden import GOLDEN, ROOT, render_case

CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
ALLOWLIST = Path(__file__).with_name("checkov-allowlist.yaml")
pytestmark = [pytest.mark.realtools, pytest.mark.skipif(not CHECKOV.exists(), reason="run scripts/bootstrap (checkov)")]


def _production_dirs(deploy: Path) -> list[Path]:
    """Environment trees of tier production: the ones with a default-deny ingress policy."""
    return sorted(p.parent for p in deploy.glob("*/networkpolicy-default-deny-ingress.yaml"))


def _failed(dirs: list[Path]) -> list[dict[str, Any]]:
    args = [str(CHECKOV), "--framework", "kubernetes", "--compact", "--quiet", "-o", "json"]
    for d in dirs:
        args += ["-d", str(d)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    reports: list[Any] = []  # one JSON document per directory, back to back
    decoder, text, at = json.JSONDecoder(), done.stdout.strip(), 0
    while at < len(text):
        doc, at = decoder.raw_decode(text, at)
        reports += doc if isinstance(doc, list) else [doc]
        while at < len(text) and text[at].isspace():
            at += 1
    failed: list[dict[str, Any]] = []
    for report in reports:
        if isinstance(report, dict) and "results" in report:
            assert report["summary"]["parsing_errors"] == 0
            assert report["summary"]["resource_count"] > 0
            failed += report["results"]["failed_checks"]
    return failed


def _allowed() -> dict[str, str]:
    allowed = yaml.safe_load(ALLOWLIST.read_text(encoding="utf-8"))
    assert all(isinstance(reason, str) and len(reason) > 40 for reason in allowed.values())
    return allowed


def test_production_objects_of_every_golden_case_fail_only_allowlisted_checks() -> None:
    dirs = [d for case in sorted(GOLDEN.iterdir()) for d in _production_dirs(case / "expected" / "deploy")]
    assert len(dirs) >= 4
    failed = _failed(dirs)
    allowed = _allowed()
    unexpected = sorted(
        {(f["check_id"], f["check_name"], f["resource"]) for f in failed}
        - {(f["check_id"], f["check_name"], f["resource"]) for f in failed if f["check_id"] in allowed}
    )
    assert not unexpected, unexpected
    # No stale entry: every allowlisted check is still one some production object needs.
    assert set(allowed) <= {f["check_id"] for f in failed}


def test_specs_production_renders_without_unexpected_findings(tmp_path: Path) -> None:
    for rel, data in render_case("example").items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    dirs = _production_dirs(tmp_path / "deploy")
    assert dirs
    assert {f["check_id"] for f in _failed(dirs)} <= set(_allowed())
