"""``shipspec load`` against a real tritonserver serving the Triton backend's
rendered config for fraud_detector (with a python stand-in for the artifact),
at a small rate; its evidence then goes through ``shipspec gate check``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.backends.render import Templates
from compiler.cli import main
from compiler.commands import load as loadtest
from compiler.pipeline import render, validate
from tests.support.standin import standin_repository
from tests.support.triton_render import server_specs
from tests.support.triton_server import TritonServer, triton_missing

pytestmark = pytest.mark.realtools

ROOT = Path(__file__).resolve().parents[2]
MODEL = "fraud_detector"
RATE, DURATION = 20.0, 2.0  # 40 requests: small enough for a 2-core machine


def _repository(tmp: Path, fail_fraction: float = 0.0) -> Path:
    # The live server is 2.51: serve the example pinned to it (tests/support/triton_render.py).
    checked = validate([server_specs(ROOT / "specs", tmp / f"specs-{fail_fraction}")])
    assert not checked.has_errors
    files, sink = render(checked, Templates.load(), only=("triton",))
    assert not sink.has_errors, sink.items
    rendered = tmp / "rendered"
    for f in files:
        if f.path.startswith(f"deploy/staging/triton/{MODEL}/"):
            target = rendered / f.path.removeprefix("deploy/staging/triton/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f.text)
    assert (rendered / MODEL / "config.pbtxt").is_file()
    return standin_repository(rendered, tmp / f"repo-{fail_fraction}", fail_fraction=fail_fraction)


@pytest.fixture(scope="module")
def triton(tmp_path_factory: pytest.TempPathFactory):
    if why := triton_missing():
        pytest.skip(why)
    with TritonServer(_repository(tmp_path_factory.mktemp("load")), models=[MODEL]) as server:
        yield server


def test_load_at_the_declared_rate_measures_the_percentile(triton):
    result = loadtest.run(f"http://{triton.http_url}", MODEL, rate=RATE, duration=DURATION, percentile=99)
    assert result.requests == 40 and result.errors == 0
    assert 0 < result.p50_ms <= result.latency_ms <= result.max_ms < 10_000
    assert result.rate_rps > RATE * 0.8  # open loop: the schedule holds unless the machine stalls
    assert result.duration_s >= DURATION * 0.95


def test_load_over_grpc(triton):
    result = loadtest.run(f"grpc://{triton.grpc_url}", MODEL, rate=RATE, duration=1.0, percentile=95)
    assert result.requests == 20 and result.errors == 0 and result.latency_ms > 0


def test_cli_writes_evidence_that_gate_check_reads(triton, tmp_path, capsys):
    out = tmp_path / "load.json"
    rc = main(["load", "--url", triton.http_url, "--model", MODEL, "--rate", "20rps", "--duration", "2s",
               "--percentile", "p99", "--threshold", "10s", "--out", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "40 requests" in text and "PASS: p99" in text
    doc = json.loads(out.read_text())
    assert doc["model"] == MODEL and doc["load"]["requests"] == 40 and doc["load"]["percentile"] == 99
    # The staging -> preprod gate wants 100rps for 5m: a 2 s run at 20rps must not pass it.
    metrics = tmp_path / "eval.yaml"
    metrics.write_text("metrics:\n  auc: {value: 0.95, dataset: transactions_holdout}\n")
    rc = main(["gate", "check", str(ROOT / "specs"), "--gate", "staging->preprod", "--model", MODEL,
               "--evidence", str(metrics), "--evidence", str(out)])  # fmt: skip
    report = capsys.readouterr().out
    assert rc == 1
    assert "PASS  metric auc >= 0.92" in report
    assert "ran at 20rps, the gate needs 100rps" in report and "ran for 2s, the gate needs 5m" in report


def test_cli_fails_over_the_threshold(triton, capsys):
    rc = main(["load", "--url", triton.http_url, "--model", MODEL, "--rate", "10rps", "--duration", "1s",
               "--percentile", "99", "--threshold", "1us"])  # fmt: skip
    assert rc == 1
    assert "FAIL: p99" in capsys.readouterr().out


def test_failed_requests_are_counted(tmp_path):
    if why := triton_missing():
        pytest.skip(why)
    with TritonServer(_repository(tmp_path, fail_fraction=0.25), models=[MODEL]) as server:
        result = loadtest.run(server.http_url, MODEL, rate=RATE, duration=1.0, percentile=99)
    assert result.requests == 20 and result.errors == 5


def test_unknown_model_and_unreachable_server_are_usage_errors(triton, capsys):
    rc = main(["load", "--url", triton.http_url, "--model", "nope", "--rate", "1rps", "--duration", "1s",
               "--percentile", "99"])  # fmt: skip
    assert rc == 2 and "nope" in capsys.readouterr().err
    rc = main(["load", "--url", "127.0.0.1:9", "--model", MODEL, "--rate", "1rps", "--duration", "1s",
               "--percentile", "99", "--timeout", "2s"])  # fmt: skip
    err = capsys.readouterr().err
    assert rc == 2 and "cannot reach fraud_detector at 127.0.0.1:9" in err
