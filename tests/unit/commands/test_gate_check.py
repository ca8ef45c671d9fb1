"""``shipspec gate check`` through the real CLI on the example spec: pass, fail,
missing metric, malformed evidence (file:line:col, exit 1), unknown gate."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from compiler.cli import main
from tests.support.helpers import where

ROOT = Path(__file__).resolve().parents[3]
SPECS = str(ROOT / "specs")

GOOD = """\
model: fraud_detector
version: "1.4.2"
metrics:
  auc: {value: 0.934, dataset: transactions_holdout}
drift:
  psi: 0.11
fairness:
  demographic_parity_difference: 0.031
load:
  percentile: 99
  latency_ms: 41.5
  rate_rps: 299.2
  duration_s: 600
  requests: 179520
  errors: 0
"""


def gate(tmp_path: Path, capsys: pytest.CaptureFixture[str], evidence: str | list[str], *extra: str,
         name: str = "ev.yaml", which: str = "preprod->prod") -> tuple[int, str, str]:  # fmt: skip
    files = []
    for i, text in enumerate([evidence] if isinstance(evidence, str) else evidence):
        path = tmp_path / (name if i == 0 else f"{i}-{name}")
        path.write_text(textwrap.dedent(text))
        files += ["--evidence", str(path)]
    rc = main(["gate", "check", SPECS, "--gate", which, "--model", "fraud_detector", *files, *extra])
    out, err = capsys.readouterr()
    return rc, out, err


def test_all_conditions_pass(tmp_path, capsys):
    rc, out, err = gate(tmp_path, capsys, GOOD)
    assert rc == 0, out + err
    assert "PASS  metric auc >= 0.92 on transactions_holdout" in out
    assert "PASS  load p99 < 50ms at 300rps for 10m" in out
    assert "NOTE  approval @kestrel/ml-leads" in out
    assert out.rstrip().endswith("PASS: 4 of 4 conditions passed")


def test_failing_condition_shows_observed_and_required(tmp_path, capsys):
    rc, out, _ = gate(tmp_path, capsys, GOOD.replace("psi: 0.11", "psi: 0.27"))
    assert rc == 1
    line = next(ln for ln in out.splitlines() if "drift psi" in ln)
    assert line.lstrip().startswith("FAIL") and "0.27 does not meet < 0.2" in line and "ev.yaml:6:8" in line
    assert "FAIL: 1 of 4 conditions failed" in out


def test_slow_load_fails(tmp_path, capsys):
    rc, out, _ = gate(tmp_path, capsys, GOOD.replace("latency_ms: 41.5", "latency_ms: 50.0"))
    assert rc == 1
    assert "50ms is not below 50ms" in out


def test_short_or_slow_load_run_fails(tmp_path, capsys):
    text = GOOD.replace("rate_rps: 299.2", "rate_rps: 120").replace("duration_s: 600", "duration_s: 60")
    rc, out, _ = gate(tmp_path, capsys, text)
    assert rc == 1
    assert "ran at 120rps, the gate needs 300rps" in out and "ran for 1m, the gate needs 10m" in out


def test_missing_metric_is_a_failure_with_a_clear_message(tmp_path, capsys):
    text = GOOD.replace("fairness:\n  demographic_parity_difference: 0.031\n", "")
    rc, out, _ = gate(tmp_path, capsys, text)
    assert rc == 1
    assert "missing: the evidence has no fairness.demographic_parity_difference" in out


def test_missing_load_measurement(tmp_path, capsys):
    rc, out, _ = gate(tmp_path, capsys, GOOD.split("load:")[0])
    assert rc == 1
    assert "missing: the evidence has no load.latency_ms" in out


def test_metric_measured_on_the_wrong_dataset(tmp_path, capsys):
    rc, out, _ = gate(tmp_path, capsys, GOOD.replace("dataset: transactions_holdout", "dataset: transactions"))
    assert rc == 1
    assert "measured on transactions" in out and "requires transactions_holdout" in out


def test_evidence_for_another_model(tmp_path, capsys):
    rc, out, _ = gate(tmp_path, capsys, GOOD.replace("model: fraud_detector", "model: offer_ranker"))
    assert rc == 1
    assert "the evidence is for model offer_ranker" in out


def test_evidence_in_two_files_merges_and_duplicates_are_errors(tmp_path, capsys):
    evaluation, load = GOOD.split("load:")
    rc, out, _ = gate(tmp_path, capsys, [evaluation, "load:" + load])
    assert rc == 0, out
    rc, out, err = gate(tmp_path, capsys, [GOOD, "drift:\n  psi: 0.1\n"])
    assert rc == 1 and out == ""
    assert "1-ev.yaml:2:8: drift.psi is already given at" in err and "ev.yaml:6:8" in err


def test_json_output(tmp_path, capsys):
    rc, out, _ = gate(tmp_path, capsys, GOOD.replace("psi: 0.11", "psi: 0.5"), "--format", "json")
    doc = json.loads(out)
    assert rc == 1 and doc["passed"] is False
    assert doc["gate"] == {"source": "preprod", "target": "prod", "model": "fraud_detector"}
    drift = next(c for c in doc["conditions"] if c["kind"] == "drift")
    assert drift == {
        "condition": "drift psi < 0.2", "kind": "drift", "required": "< 0.2", "observed": "0.5", "status": "fail",
        "message": drift["message"], "source": drift["source"],
    }  # fmt: skip
    line, col = where((ROOT / "specs/models/fraud.ship").read_text(), "drift psi < 0.2")
    assert drift["source"].endswith(f"fraud.ship:{line}:{col}")


def test_markdown_output(tmp_path, capsys):
    rc, out, _ = gate(tmp_path, capsys, GOOD, "--format", "markdown")
    assert rc == 0
    assert out.startswith("### gate preprod -> prod for fraud_detector\n")
    assert "| ✅ | drift psi < 0.2 | < 0.2 | 0.11 |" in out


@pytest.mark.parametrize(
    ("name", "text", "where", "message"),
    [
        ("ev.yaml", "metrics:\n  auc: high\n", ":2:8:", 'metrics.auc must be a finite number, not "high"'),
        ("ev.yaml", "metrics:\n  auc: [1\n", ":3:1:", "not valid YAML"),
        ("ev.json", '{"metrics": {"auc": 0.9,}}', ":1:25:", "not valid JSON"),
        ("ev.json", '{\n  "drift": {\n    "psi": "low"\n  }\n}', ":3:12:", "drift.psi must be a finite number"),
        ("ev.yaml", "- auc: 0.9\n", ":1:1:", "the evidence must be a mapping"),
        ("ev.yaml", "metric:\n  auc: 0.9\n", ":1:1:", "unknown key 'metric'"),
        ("ev.yaml", "load:\n  p99: 3\n", ":2:3:", "unknown load field 'p99'"),
        ("ev.yaml", "metrics:\n  auc: {dataset: x}\n", ":2:8:", "metrics.auc needs a 'value'"),
        ("ev.yaml", "metrics:\n  auc: .nan\n", ":2:8:", "must be a finite number"),
        ("ev.yaml", "drift:\n  psi: true\n", ":2:8:", "must be a finite number, not true"),
    ],
)
def test_malformed_evidence_is_a_clear_error(tmp_path, capsys, name, text, where, message):
    rc, out, err = gate(tmp_path, capsys, text, name=name)
    assert rc == 1 and out == ""
    assert err.startswith("shipspec: error: malformed evidence: ")
    assert f"{name}{where}" in err and message in err
    assert "Traceback" not in err


def test_unreadable_evidence(tmp_path, capsys):
    rc = main(["gate", "check", SPECS, "--gate", "preprod->prod", "--model", "fraud_detector",
               "--evidence", str(tmp_path / "nope.yaml")])  # fmt: skip
    assert rc == 1
    assert "nope.yaml: cannot read" in capsys.readouterr().err


def test_unknown_gate_names_the_real_ones(tmp_path, capsys):
    rc, out, err = gate(tmp_path, capsys, GOOD, which="dev -> prod")
    assert rc == 2
    assert (
        "no gate dev -> prod for model fraud_detector; gates for fraud_detector: preprod->prod, staging->preprod" in err
    )


def test_as_a_process(tmp_path):
    ev = tmp_path / "ev.yaml"
    ev.write_text(GOOD)
    run = subprocess.run(
        [sys.executable, "-m", "compiler", "gate", "check", "--gate", "staging->preprod", "--model", "fraud_detector",
         "--evidence", str(ev)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "gate staging -> preprod for fraud_detector" in run.stdout
    assert "load p99 < 50ms at 100rps for 5m" in run.stdout


def test_a_load_run_where_every_request_failed(tmp_path, capsys):
    text = GOOD.replace("  latency_ms: 41.5\n", "").replace("errors: 0", "errors: 179520")
    rc, out, _ = gate(tmp_path, capsys, text)
    assert rc == 1
    assert "no request succeeded: 179520 of 179520 failed" in out


def test_version_must_match_when_asked(tmp_path, capsys):
    rc, out, _ = gate(tmp_path, capsys, GOOD, "--version", "1.4.2")
    assert rc == 0 and "PASS  version 1.4.2" in out and "PASS: 5 of 5" in out
    rc, out, _ = gate(tmp_path, capsys, GOOD, "--version", "1.5.0")
    assert rc == 1 and "the evidence is for version 1.4.2" in out
    rc, out, _ = gate(tmp_path, capsys, GOOD.replace('version: "1.4.2"\n', ""), "--version", "1.5.0")
    assert rc == 1 and "missing: the evidence names no version" in out
