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
    labels = 'namespace="ml-prod",model="fraud_detector",pod="fraud-detector-6d4cf56db6-x2x7k"'
    other = 'namespace="ml-prod",model="offer_ranker",pod="offer-ranker-6d4cf56db6-x2x7k"'
    series = [
        # 1 request/s, each waiting 10 ms (10,000 us of queue time per second).
        (f"nv_inference_queue_duration_us{{{labels}}}", "0+150000x40"),
        (f"nv_inference_request_success{{{labels}}}", "0+15x40"),
        # Another model's long queue must not count.
        (f"nv_inference_queue_duration_us{{{other}}}", "0+9000000x40"),
        (f"nv_inference_request_success{{{other}}}", "0+15x40"),
    ]
    _evaluates_to(tmp_path, queue["metadata"]["query"], series, 0.01)
    # Below the threshold (12.5 ms for p99 < 50 ms): KEDA would not scale up at this load.
    assert 0.01 < float(queue["metadata"]["threshold"])


GPU_SCALERS = sorted(
    path.relative_to(GOLDEN)
    for path in GOLDEN.glob("*/expected/deploy/*/scaledobject-*.yaml")
    if "gpu-utilisation" in path.read_text()
)


@pytest.mark.parametrize("path", GPU_SCALERS, ids=[p.parts[0] for p in GPU_SCALERS])
def test_the_gpu_trigger_averages_its_own_pods_in_the_unit_of_its_threshold(tmp_path: Path, path: Path) -> None:
    """Triton's nv_gpu_utilization is a fraction (0.0-1.0) per GPU, labelled with the pod (not
    the model): the trigger must average only its workload's pods, ``<name>-<hash>-<id>``, and
    compare the fraction against a threshold that is a fraction too."""
    so = yaml.safe_load((GOLDEN / path).read_text())
    (gpu,) = [t for t in so["spec"]["triggers"] if t.get("name") == "gpu-utilisation"]
    name, ns = so["spec"]["scaleTargetRef"]["name"], so["metadata"]["namespace"]
    series = [
        # Its two pods, at 50 % and 90 %.
        (f'nv_gpu_utilization{{namespace="{ns}",pod="{name}-6d4cf56db6-x2x7k",gpu_uuid="GPU-0"}}', "0.5x40"),
        (f'nv_gpu_utilization{{namespace="{ns}",pod="{name}-6d4cf56db6-q9w8e",gpu_uuid="GPU-1"}}', "0.9x40"),
        # Busy GPUs that are not its: a model whose name extends its own, and its namesake elsewhere.
        (f'nv_gpu_utilization{{namespace="{ns}",pod="{name}-v2-7f9c6b8d4-abcde",gpu_uuid="GPU-2"}}', "1x40"),
        (f'nv_gpu_utilization{{namespace="other",pod="{name}-6d4cf56db6-x2x7k",gpu_uuid="GPU-3"}}', "1x40"),
    ]
    _evaluates_to(tmp_path, gpu["metadata"]["query"], series, 0.7)
    assert 0 < float(gpu["metadata"]["threshold"]) < 1, "a fraction, as the metric is"


def _evaluates_to(tmp_path: Path, query: str, series: list[tuple[str, str]], value: float) -> None:
    """promtool finds ``query`` equal to ``value`` at 5m over ``series`` (15s samples)."""
    rules = {"groups": [{"name": "keda", "rules": [{"record": "trigger", "expr": query}]}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    test = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": [{"series": name, "values": values} for name, values in series],
                "promql_expr_test": [
                    {"expr": "trigger", "eval_time": "5m", "exp_samples": [{"labels": "trigger", "value": value}]}
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test))
    done = subprocess.run(
        ["promtool", "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
