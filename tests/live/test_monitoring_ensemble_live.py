"""An ensemble's error ratio, live: a real tritonserver 2.51 serves the
example's ticket_router ensemble whose classifier member fails every 4th
request; a real Prometheus with the rendered rules must record 0.25 +- 0.03
for the ensemble (Triton counts each failed ensemble request twice, so a
plain sum would say ~0.4). Then Triton is stopped and the absence alert for
the ensemble fires (its `for:` shortened to 1s in the test's copy of the
rules, from the rendered 10m)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from compiler.backends.render import Templates
from compiler.pipeline import render, validate
from tests.support.prometheus_server import PrometheusServer, prometheus_missing
from tests.support.standin import standin_repository
from tests.support.triton_render import server_specs
from tests.support.triton_server import TritonServer, triton_missing

pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(
        bool(triton_missing() or prometheus_missing()), reason=str(triton_missing() or prometheus_missing())
    ),
]

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = ("ticket_router", "ticket_tokenizer", "ticket_classifier")
FAIL_FRACTION, TOLERANCE, WAIT = 0.25, 0.03, 60.0


def _value(result: list[dict]) -> float | None:
    return float(result[0]["value"][1]) if result else None


def _eventually(probe, wait: float = 30.0):
    deadline = time.monotonic() + wait
    while True:
        got = probe()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.25)


def _repository(rendered: Path, tmp: Path) -> Path:
    """The three models as stand-ins; only the classifier (a member) fails."""
    src = tmp / "src"
    for m in MEMBERS:
        shutil.copytree(rendered / m, src / m)
    repo = standin_repository(src, tmp / "repo")
    failing = standin_repository(src, tmp / "failing", fail_fraction=FAIL_FRACTION)
    for version in (failing / "ticket_classifier").iterdir():
        if version.is_dir():
            shutil.copy(version / "model.py", repo / "ticket_classifier" / version.name / "model.py")
    return repo


def test_an_ensemble_counts_each_failed_request_once_and_its_absence_alerts(tmp_path: Path) -> None:
    import numpy as np
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException

    # The live server is 2.51 (summaries, no histograms): the example pinned to it.
    checked = validate([server_specs(ROOT / "specs", tmp_path / "specs")])
    files, sink = render(checked, Templates.load(), only=("triton", "monitoring"))
    assert not sink.has_errors, sink.items
    for f in files:
        if f.path.startswith("deploy/prod/"):
            (tmp_path / f.path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / f.path).write_text(f.text)
    repo = _repository(tmp_path / "deploy/prod/triton", tmp_path)
    doc = yaml.safe_load((tmp_path / "deploy/prod/monitoring/rules.yml").read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "ModelMetricsAbsent":
                assert rule["for"] == "10m"
                rule["for"] = "1s"
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(doc))
    ratio_q = 'model:request_errors:ratio_rate5m{model="ticket_router", environment="prod"}'
    sli_q = 'slo:sli_error:ratio_rate5m{model="ticket_router", environment="prod", slo="availability"}'
    absent_q = 'ALERTS{alertname="ModelMetricsAbsent", model="ticket_router", alertstate="firing"}'
    triton = TritonServer(repo, models=["ticket_router"])
    with triton:
        target = triton.metrics_url.removeprefix("http://").removesuffix("/metrics")
        with PrometheusServer(targets=[target], rule_files=[rules], labels={"namespace": "ml-prod"}) as prom:
            assert [r for r in prom.rule_health() if r[1] == "err"] == []
            client = httpclient.InferenceServerClient(triton.http_url)
            sent = failed = 0
            ratio = sli = None
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                for _ in range(20):
                    text = httpclient.InferInput("text", [1, 1], "BYTES")
                    text.set_data_from_numpy(np.array([[b"my card was charged twice"]], dtype=object))
                    sent += 1
                    try:
                        client.infer("ticket_router", [text])
                    except InferenceServerException:
                        failed += 1
                ratio, sli = _value(prom.query(ratio_q)), _value(prom.query(sli_q))
                if (
                    sent >= 100
                    and ratio is not None
                    and sli is not None
                    and abs(ratio - FAIL_FRACTION) <= TOLERANCE
                    and abs(sli - FAIL_FRACTION) <= TOLERANCE
                ):
                    break
                time.sleep(0.5)
            client.close()
            assert failed / sent == pytest.approx(FAIL_FRACTION, abs=0.01)
            # What Triton exports: each failure twice over the ensemble's series.
            raw = _value(prom.query('sum(nv_inference_request_failure{model="ticket_router"})'))
            assert raw is not None and raw == pytest.approx(2 * failed, abs=2 * 20)
            assert ratio == pytest.approx(FAIL_FRACTION, abs=TOLERANCE), prom.log_tail()
            assert sli == pytest.approx(FAIL_FRACTION, abs=TOLERANCE)
            assert prom.query(absent_q) == []
            triton._stop()  # the target goes down; its series go stale at the next scrape
            assert _eventually(lambda: prom.query(absent_q), 30.0), prom.log_tail()
