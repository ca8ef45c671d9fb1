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
    assert (
        main(["load", "--url", "x:1", "--model", "m", "--rate", "2rps", "--duration", "1s", "--percentile", "p999x"])
        == 2
    )


def test_evidence_without_any_success_has_no_latency():
    r = loadtest.LoadResult(MODEL, "x:1", 99, math.inf, math.inf, math.inf, 10, 10.0, 1.0, 10, 10)
    doc = r.evidence()
    assert "latency_ms" not in doc["load"] and doc["load"]["errors"] == 10
    json.dumps(doc, allow_nan=False)  # valid JSON, no Infinity


# ---- perf_analyzer: its profile export as evidence, and the command shipspec runs ------------------


def _profile(latencies_ms: list[float | None], bounds_s: list[float]) -> dict:
    """A request_rate profile export: one request every 50 ms from t=0, with these latencies (None: no answer)."""
    requests = []
    for i, lat in enumerate(latencies_ms):
        sent = int(i * 50e6)
        requests.append({"timestamp": sent, "response_timestamps": [] if lat is None else [sent + int(lat * 1e6)]})
    return {
        "experiments": [
            {
                "experiment": {"mode": "request_rate", "value": 20.0},
                "requests": requests,
                "window_boundaries": [int(b * 1e9) for b in bounds_s],
            }
        ],
        "version": "2.51.0",
    }


def test_profile_export_reads_the_three_measured_windows():
    # 40 requests over 2 s; windows [0, 0.5) warm-up, then [0.5, 1), [1, 1.5), [1.5, 2): 30 measured.
    lat = [100.0] * 10 + [float(i) for i in range(1, 31)]
    lat[20] = None  # one measured request never answered
    r = loadtest.from_profile_export(_profile(lat, [0, 0.5, 1.0, 1.5, 2.0]), MODEL, "h:1", 90)
    assert (r.requests, r.errors, r.engine) == (30, 1, "perf_analyzer")
    assert r.duration_s == 1.5 and r.rate_rps == 20.0 and r.target_rate == 20.0
    answered = sorted(v for v in lat[10:] if v is not None)  # the warm-up's 100 ms are not read
    assert r.latency_ms == loadtest.percentile_of(answered, 90) == 28.0 and r.max_ms == 30.0
    assert r.evidence()["load"]["requests"] == 30


def test_profile_export_of_another_mode_or_shape_is_a_usage_error(tmp_path, capsys):
    doc = _profile([1.0], [0, 1])
    doc["experiments"][0]["experiment"]["mode"] = "concurrency"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    args = [
        "load",
        "--url",
        "h:1",
        "--model",
        "m",
        "--rate",
        "20rps",
        "--duration",
        "1s",
        "--percentile",
        "99",
        "--from-perf-analyzer",
        str(path),
    ]
    assert main(args) == 2 and "concurrency mode" in capsys.readouterr().err
    path.write_text("{}")
    assert main(args) == 2 and "not a perf_analyzer profile export" in capsys.readouterr().err


def test_profile_export_is_evidence_for_the_gate(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_profile([2.0] * 40, [0, 0.5, 1.0, 1.5, 2.0])))
    out = tmp_path / "evidence.json"
    rc = main(
        [
            "load",
            "--url",
            "h:1",
            "--model",
            MODEL,
            "--rate",
            "20rps",
            "--duration",
            "1500ms",
            "--percentile",
            "99",
            "--threshold",
            "5ms",
            "--from-perf-analyzer",
            str(path),
            "--out",
            str(out),
        ]
    )
    assert rc == 0 and "(perf_analyzer)" in capsys.readouterr().out
    assert json.loads(out.read_text())["load"] == {
        "percentile": 99.0,
        "rate_rps": 20.0,
        "duration_s": 1.5,
        "requests": 30,
        "errors": 0,
        "latency_ms": 2.0,
    }


def test_perf_analyzer_command_runs_the_asked_rate_for_the_asked_duration(tmp_path):
    from pathlib import Path

    cmd = loadtest.perf_analyzer_command(
        "pa",
        "grpc://h:9",
        MODEL,
        rate=20,
        duration=3,
        percentile=99,
        version="2",
        shapes=["--shape", "x:1,4"],
        profile=Path("p.json"),
    )
    assert cmd[:7] == ["pa", "-m", MODEL, "-u", "h:9", "-i", "grpc"]
    text = " ".join(cmd)
    assert "--request-rate-range 20:20:1 --request-distribution constant" in text
    assert "--measurement-interval 1000" in text and "--max-trials 4" in text and "--percentile 99" in text
    assert "--shape x:1,4" in text and text.endswith("-x 2")


def test_engine_perf_analyzer_without_one_is_a_usage_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(loadtest.PERF_ANALYZER_ENV, raising=False)
    assert loadtest.find_perf_analyzer() is None
    args = ["load", "--url", "h:1", "--model", "m", "--rate", "2rps", "--duration", "1s", "--percentile", "99"]
    assert main([*args, "--engine", "perf_analyzer"]) == 2 and "no perf_analyzer" in capsys.readouterr().err
    assert main([*args, "--perf-analyzer", str(tmp_path / "nope")]) == 2
    assert "not an executable file" in capsys.readouterr().err
