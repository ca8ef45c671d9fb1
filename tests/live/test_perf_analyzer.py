"""``shipspec load`` driving Triton's perf_analyzer, and the built-in generator, against the same
real tritonserver (2.51, the example's fraud_detector as a python stand-in) at the same constant
rate: both count every request, neither fails one, and their percentiles agree (the figures are
printed; docs/triton.md records a run). The built-in generator stays the fallback."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.commands import load as loadtest
from tests.live.test_loadtest import MODEL, _repository
from tests.support.perf_analyzer import library_path, perf_analyzer_binary, perf_analyzer_missing
from tests.support.triton_server import TritonServer, triton_missing

pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(bool(triton_missing()) and not os.environ.get("CI"), reason=triton_missing() or ""),
    pytest.mark.skipif(
        bool(perf_analyzer_missing()) and not os.environ.get("CI"), reason=perf_analyzer_missing() or ""
    ),
]

RATE, DURATION = 20.0, 3.0  # small enough for a 2-core machine


def _kept_rate(measure: Callable[[], loadtest.LoadResult]) -> loadtest.LoadResult:
    """A run that kept the asked rate, measuring once more if the first fell behind: on a
    shared 2-core machine a stall of the neighbours can hold a 3 s run back (a CI run once
    got 15 of 20 rps over gRPC). A generator that does not keep the rate fails both times."""
    first = measure()
    return first if abs(first.rate_rps - RATE) / RATE < 0.2 else measure()


def test_perf_analyzer_and_the_builtin_generator_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", library_path())
    binary = str(perf_analyzer_binary())
    with TritonServer(_repository(tmp_path), models=[MODEL]) as server:
        builtin = _kept_rate(lambda: loadtest.run(server.http_url, MODEL, rate=RATE, duration=DURATION, percentile=99))
        perf = _kept_rate(
            lambda: loadtest.run_perf_analyzer(
                binary, server.http_url, MODEL, rate=RATE, duration=DURATION, percentile=99
            )
        )
        perf_grpc = _kept_rate(
            lambda: loadtest.run_perf_analyzer(
                binary, f"grpc://{server.grpc_url}", MODEL, rate=RATE, duration=DURATION, percentile=99
            )
        )
        # The CLI picks perf_analyzer where it is installed, and writes the same evidence.
        monkeypatch.setenv(loadtest.PERF_ANALYZER_ENV, binary)
        out = tmp_path / "evidence.json"
        rc = main(["load", "--url", server.http_url, "--model", MODEL, "--rate", "20rps", "--duration", "1500ms",
                   "--percentile", "99", "--out", str(out)])  # fmt: skip
    report = capsys.readouterr().out
    with capsys.disabled():
        for r in (builtin, perf, perf_grpc):
            print(
                f"\n{r.engine:13} {r.url:22} requests {r.requests:3}  errors {r.errors}  rate {r.rate_rps:5.1f}rps  "
                f"p50 {r.p50_ms:7.2f}ms  p99 {r.latency_ms:7.2f}ms  max {r.max_ms:7.2f}ms"
            )
    assert rc == 0 and "(perf_analyzer)" in report and out.exists()
    for r in (builtin, perf, perf_grpc):
        assert r.errors == 0, r
        # Both keep the asked rate (perf_analyzer over its three measured windows).
        assert abs(r.rate_rps - RATE) / RATE < 0.2, r
        # (perf_analyzer's windows run a little past the interval asked for: ~1.2 s for 1 s here.)
        assert abs(r.requests - RATE * DURATION) <= 0.4 * RATE * DURATION, r
    # Their medians agree within a factor of 3 (plus 5 ms for scheduling noise on a shared machine);
    # the tails may differ more: the built-in generator measures from when a request was due.
    for a, b in ((builtin, perf), (perf, perf_grpc)):
        assert a.p50_ms <= 3 * b.p50_ms + 5 and b.p50_ms <= 3 * a.p50_ms + 5, (a, b)
