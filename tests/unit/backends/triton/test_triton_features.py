"""The version gate on latency histograms: model_metrics only from Triton 2.52 (the features
loaded by a real server are tests/live/test_triton_features.py)."""

from __future__ import annotations

from pathlib import Path

from compiler.backends.render import Templates
from compiler.backends.triton.validate import parse_config
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render

FEATURES = Path(__file__).resolve().parents[4] / "golden" / "triton-features" / "specs"


def _spec(triton: str) -> str:
    return (FEATURES / "features.ship").read_text().replace('triton "2.51.0"', f'triton "{triton}"')


def test_histogram_buckets_only_from_triton_2_52(tmp_path: Path) -> None:
    """2.52+: bucket edges that include the 40ms SLA threshold; 2.51: none (the monitoring backend warns SS740)."""
    configs = {}
    for version in ("2.51.0", "2.52.0"):
        checked = check_loaded(load_text(_spec(version), "features.ship"))
        files, sink = render(checked, Templates.load(), only=["triton"])
        (ranker,) = [f for f in files if f.path == "deploy/prod/triton/ranker/config.pbtxt"]
        configs[version] = parse_config(ranker.text)
    assert not configs["2.51.0"].HasField("model_metrics")
    (control,) = configs["2.52.0"].model_metrics.metric_control
    assert control.metric_identifier.family == "nv_inference_first_response_histogram_ms"
    assert 40.0 in control.histogram_options.buckets
    assert list(control.histogram_options.buckets) == sorted(control.histogram_options.buckets)
