"""The generated rules against real components: a real tritonserver serves a
stand-in that fails every 4th request, a real prometheus on loopback scrapes
it with the generated rules file loaded, and the recording rules must report
an error ratio of 25% within a bounded wait; every panel of the model's rendered
Grafana dashboard then has data."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import yaml

from compiler.backends.render import Templates
from compiler.pipeline import render, validate
from tests.support.prometheus_server import PrometheusServer, prometheus_missing
from tests.support.standin import standin_repository
from tests.support.triton_server import TritonServer, triton_missing

pytestmark = pytest.mark.realtools

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "golden" / "monitoring-slo" / "specs"
FAIL_FRACTION = 0.25
TOLERANCE = 0.03
T = TypeVar("T")
WAIT = 60.0  # seconds for scraped counters to reach the recording rules


def _render(out: Path) -> None:
    checked = validate([SPEC])
    assert not checked.has_errors
    files, sink = render(checked, Templates.load(), only=("triton", "monitoring"))
    assert not sink.has_errors, sink.items
    for f in files:
        path = out / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text)


def _eventually(probe: Callable[[], T | None], wait: float = 15.0) -> T | None:
    """The probe's first non-None answer within a bounded wait (rule groups
    evaluate at their own offsets within the 1s interval)."""
    deadline = time.monotonic() + wait
    while True:
        got = probe()
        if got is not None or time.monotonic() > deadline:
            return got
        time.sleep(0.25)


def _value(result: list[dict]) -> float | None:
    return float(result[0]["value"][1]) if result else None


# Skipped where the servers cannot run, except in CI, where a missing one must fail loudly.
@pytest.mark.skipif(
    bool(triton_missing() or prometheus_missing()) and not os.environ.get("CI"),
    reason=str(triton_missing() or prometheus_missing()),
)
def test_recording_rules_report_the_error_ratio_of_a_real_triton(tmp_path: Path) -> None:
    import numpy as np
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException

    _render(tmp_path / "out")
    env = tmp_path / "out" / "deploy" / "prod"
    repo = standin_repository(env / "triton", tmp_path / "repo", fail_fraction=FAIL_FRACTION)
    rules = env / "monitoring" / "rules.yml"
    with TritonServer(repo, models=["scorer"]) as triton:
        target = triton.metrics_url.removeprefix("http://").removesuffix("/metrics")
        # The operator adds `namespace` from the ServiceMonitor; a static label stands in for it.
        with PrometheusServer(targets=[target], rule_files=[rules], labels={"namespace": "ml-prod"}) as prom:
            assert [r for r in prom.rule_health() if r[1] == "err"] == []
            client = httpclient.InferenceServerClient(triton.http_url)
            sent = failed = 0
            ratio = None
            deadline = time.monotonic() + WAIT
            sli = 'slo:sli_error:ratio_rate5m{model="scorer", environment="prod", slo="availability"}'
            while time.monotonic() < deadline:
                for _ in range(20):
                    x = httpclient.InferInput("x", [1, 4], "FP32")
                    x.set_data_from_numpy(np.ones((1, 4), dtype=np.float32))
                    sent += 1
                    try:
                        client.infer("scorer", [x])
                    except InferenceServerException:
                        failed += 1
                ratio = _value(prom.query(sli))
                if ratio is not None and abs(ratio - FAIL_FRACTION) <= TOLERANCE and sent >= 100:
                    break
                time.sleep(0.5)
            client.close()
            assert failed / sent == pytest.approx(FAIL_FRACTION, abs=0.01)
            assert ratio is not None, f"no {sli} after {WAIT:.0f}s:\n{prom.log_tail()}"
            assert ratio == pytest.approx(FAIL_FRACTION, abs=TOLERANCE)
            # Every window sees the same traffic, so the 1h SLI agrees too.
            hour = _eventually(lambda: _value(prom.query(sli.replace("rate5m", "rate1h"))))
            assert hour == pytest.approx(FAIL_FRACTION, abs=TOLERANCE)
            # 25% errors against a 0.1% budget: the budget is spent and the 1h page alert fires.
            remaining = _eventually(
                lambda: _value(prom.query('slo:error_budget_remaining:ratio{model="scorer", slo="availability"}'))
            )
            assert remaining is not None and remaining < 0
            burning = _eventually(
                lambda: (
                    {
                        (a["labels"]["window"], a["labels"]["severity"])
                        for a in prom.api("alerts")["alerts"]
                        if a["labels"]["alertname"] == "ModelErrorBudgetBurn" and a["labels"]["model"] == "scorer"
                    }
                    or None
                )
            )
            assert burning is not None and ("1h", "page") in burning
            # A different rule group from the ones waited for above: wait for it too.
            rate = _eventually(lambda: _value(prom.query('model:requests:rate5m{model="scorer", environment="prod"}')))
            assert rate is not None and rate > 0, prom.log_tail()
            # Triton 2.51's request summary (summary_latencies=true) feeds the latency recording rule.
            p99 = _eventually(lambda: _value(prom.query('model:request_latency_seconds:p99{model="scorer"}')))
            assert p99 is not None and 0 < p99 < 5
            queue = _eventually(lambda: _value(prom.query('model:queue_time_seconds:mean5m{model="scorer"}')))
            assert queue is not None and queue >= 0
            # Grafana shows what the rendered dashboard's panels query: every one has data.
            dashboard = yaml.safe_load((env / "monitoring" / "dashboard-scorer.yaml").read_text())
            queries = [
                t["expr"]
                for board in dashboard["data"].values()
                for panel in json.loads(board)["panels"]
                for t in panel.get("targets", [])
            ]
            empty = [q for q in queries if _eventually(lambda q=q: prom.query(q) or None) is None]
            assert queries and empty == [], empty
