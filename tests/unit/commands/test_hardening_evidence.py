"""Issue 17, point 7 (and 9 for evidence): hostile evidence files are refused with
file:line:col, bounded in memory, stack and time, through the real CLI."""

from __future__ import annotations

import pytest

from compiler.cli import main
from tests.unit.commands.test_gate_check import SPECS, gate

LAUGHS = (
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9))
    + "metrics:\n  auc: 0.9\n"
)


@pytest.mark.parametrize(
    ("name", "text", "where", "message"),
    [
        ("ev.yaml", LAUGHS, ":1:4:", "YAML anchors (&name) are not accepted"),
        ("ev.yaml", "metrics:\n  auc: *a\n", ":2:8:", "YAML aliases (*name) are not accepted"),
        ("ev.yaml", "metrics: &m\n  auc: *m\n", ":1:10:", "anchors"),
        ("ev.yaml", "metrics:\n  auc: " + "[" * 20000 + "]" * 20000 + "\n", ":2:", "nested more than 32 deep"),
        ("ev.json", '{"metrics": ' + "[" * 100_000 + "]" * 100_000 + "}", ":1:", "nested more than 32 deep"),
        ("ev.yaml", "metrics:\n  auc: 0.9\n  auc: 0.95\n", ":3:3:", "key 'auc' is given twice"),
        ("ev.json", '{"metrics": {"auc": 0.9},\n "metrics": {"auc": 0.1}}', ":2:2:", "key 'metrics' is given twice"),
        ("ev.yaml", "metrics:\n  auc: " + "9" * 5000 + "\n", ":2:8:", "has 5000 digits"),
        ("ev.yaml", "metrics:\n  auc: 1.0e+999999999\n", ":2:8:", "exponent out of range"),
        ("ev.json", '{"metrics": {"auc": ' + "9" * 5000 + "}}", "ev.json:", "has 5000 digits"),
        ("ev.yaml", "metrics:\n  auc: 1.0e+300\n", ":2:8:", "larger than 1e+15"),
        ("ev.yaml", "load:\n  latency_ms: -5\n", ":2:15:", "load.latency_ms cannot be negative"),
        ("ev.yaml", "load:\n  requests: -1\n", ":2:13:", "load.requests cannot be negative"),
        ("ev.yaml", "load:\n  errors: 1.5\n", ":2:11:", "load.errors is a count"),
        ("ev.yaml", "load:\n  percentile: 140\n", ":2:15:", "between 0 and 100"),
        ("ev.json", '{"model": "\\ud800x", "metrics": {"auc": 0.9}}', ":1:11:", "lone surrogate"),
        ("ev.yaml", 'metrics:\n  "\\udc00": 0.9\n', ":2:3:", "lone surrogate"),
    ],
    ids=[
        "billion-laughs",
        "alias",
        "self-reference",
        "deep-yaml",
        "deep-json",
        "dup-yaml",
        "dup-json",
        "5000-digits",
        "huge-exponent",
        "5000-digits-json",
        "above-range",
        "negative-latency",
        "negative-count",
        "fractional-count",
        "percentile",
        "surrogate-json",
        "surrogate-yaml",
    ],
)
def test_hostile_evidence_is_refused_with_a_position(tmp_path, capsys, name, text, where, message):
    rc, out, err = gate(tmp_path, capsys, text, name=name)
    assert rc == 1 and out == "", err
    assert err.startswith("shipspec: error: malformed evidence: ")
    assert where in err and message in err, err[:400]
    assert "Traceback" not in err


def test_an_endless_evidence_file_is_not_read_whole(capsys):
    rc = main(["gate", "check", SPECS, "--gate", "preprod->prod", "--model", "fraud_detector",
               "--evidence", "/dev/zero"])  # fmt: skip
    assert rc == 1
    assert "/dev/zero: larger than 4194304 bytes" in capsys.readouterr().err


def test_a_large_sparse_evidence_file_is_refused_by_its_size(tmp_path, capsys):
    big = tmp_path / "ev.json"
    with open(big, "wb") as f:
        f.truncate(2 * 1024**3)  # 2 GB, no blocks on disk
    rc = main(["gate", "check", SPECS, "--gate", "preprod->prod", "--model", "fraud_detector",
               "--evidence", str(big)])  # fmt: skip
    assert rc == 1 and "larger than 4194304 bytes" in capsys.readouterr().err
