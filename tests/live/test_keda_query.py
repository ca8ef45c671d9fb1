"""The ScaledObject's queue-time query, evaluated by the real promtool on
synthetic Triton counters (issue 10, point 5): it measures the mean time a
request waits in the queue, in seconds, for that model only."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.golden import GOLDEN

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool")]


def test_the_queue_trigger_measures_mean_queue_seconds(tmp_path: Path) -> None:
    so = yaml.safe_load((GOLDEN / "example/expected/deploy/prod/scaledobject-fraud-detector.yaml").read_text())
    (queue,) = [t for t in so["spec"]["triggers"] if t.get("name") == "queue-time"]
    rules = {"groups": [{"name": "keda", "rules": [{"record": "queue_seconds", "expr": queue["metadata"]["query"]}]}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    labels = 'namespace="ml-prod",model="fraud_detector",pod="fraud-detector-6d4cf56db6-x2x7k"'
    other = 'namespace="ml-prod",model="offer_ranker",pod="offer-ranker-6d4cf56db6-x2x7k"'
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": [
                    # 1 request/s, each waiting 10 ms (10,000 us of queue time per second).
                    {"series": f"nv_inference_queue_duration_us{{{labels}}}", "values": "0+150000x40"},
                    {"series": f"nv_inference_request_success{{{labels}}}", "values": "0+15x40"},
                    # Another model's long queue must not count.
                    {"series": f"nv_inference_queue_duration_us{{{other}}}", "values": "0+9000000x40"},
                    {"series": f"nv_inference_request_success{{{other}}}", "values": "0+15x40"},
                ],
                "promql_expr_test": [
                    {
                        "expr": "queue_seconds",
                        "eval_time": "5m",
                        "exp_samples": [{"labels": "queue_seconds", "value": 0.01}],
                    }
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test))
    done = subprocess.run(
        ["promtool", "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Below the threshold (12.5 ms for p99 < 50 ms): KEDA would not scale up at this load.
    assert 0.01 < float(queue["metadata"]["threshold"])
