"""``shipspec load`` without a server: the percentile, argument errors, and evidence with no
successful request (the runs against a real tritonserver are tests/live/test_loadtest.py)."""

from __future__ import annotations

import json
import math

from compiler.cli import main
from compiler.commands import load as loadtest

MODEL = "fraud_detector"


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert loadtest.percentile_of(values, 99) == 99.0
    assert loadtest.percentile_of(values, 50) == 50.0
    assert loadtest.percentile_of([3.0, 1.0, 2.0], 100) == 3.0
    assert loadtest.percentile_of([5.0], 99.9) == 5.0
    assert math.isinf(loadtest.percentile_of([], 99))


def test_bad_arguments_are_usage_errors(capsys):
    assert main(["load", "--url", "x:1", "--model", "m", "--rate", "20", "--duration", "1s", "--percentile", "99"]) == 2
    assert "write it like 200rps" in capsys.readouterr().err
    assert main(["load", "--url", "x:1", "--model", "m", "--rate", "2rps", "--duration", "1s", "--percentile", "p999x"]) == 2


def test_evidence_without_any_success_has_no_latency():
    r = loadtest.LoadResult(MODEL, "x:1", 99, math.inf, math.inf, math.inf, 10, 10.0, 1.0, 10, 10)
    doc = r.evidence()
    assert "latency_ms" not in doc["load"] and doc["load"]["errors"] == 10
    json.dumps(doc, allow_nan=False)  # valid JSON, no Infinity
