"""Per-release validation: each supported Triton release's own ModelConfig protobuf
(vendored in compiler/backends/triton/protos, checked here against the release's
tritonclient wheel) decides which fields a config for that target may set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.backends.triton.protos import (
    config_class,
    descriptor_path,
    descriptor_text,
    release_for,
    wheel_descriptor,
)
from compiler.targets.triton import RELEASES
from tests.unit.backends.triton.test_triton_fidelity import build

ROOT = Path(__file__).resolve().parents[4]
# scripts/bootstrap installs each older release's tritonclient (no dependencies) here.
SIDE = ROOT / ".venv" / "triton-releases"
METRICS = (
    '  triton "model_metrics { metric_control: [ { metric_identifier: { family: '
    '\\"nv_inference_first_response_histogram_ms\\" } histogram_options: { buckets: [ 1, 10 ] } } ] }"'
)


def _wheel_pb2(version: str) -> Path | None:
    import tritonclient

    installed = Path(tritonclient.__file__).parent / "grpc" / "model_config_pb2.py"
    from importlib.metadata import version as dist_version

    if dist_version("tritonclient") == version:
        return installed
    side = SIDE / version / "tritonclient" / "grpc" / "model_config_pb2.py"
    return side if side.is_file() else None


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_vendored_model_config_is_the_release_wheels(version: str) -> None:
    pb2 = _wheel_pb2(version)
    if pb2 is None:
        if os.environ.get("CI"):
            pytest.fail(f"tritonclient {version} is not installed under {SIDE} (scripts/bootstrap)")
        pytest.skip(f"tritonclient {version} not installed under {SIDE} (scripts/bootstrap installs it)")
    assert descriptor_path(version).read_text() == descriptor_text(wheel_descriptor(pb2))


def test_each_release_has_the_fields_the_table_says() -> None:
    for version, release in RELEASES.items():
        fields = set(config_class(version).DESCRIPTOR.fields_by_name)
        assert ("model_metrics" in fields) == release.model_metrics, version
        assert {"input", "output", "batch_input", "sequence_batching", "model_transaction_policy"} <= fields


def test_a_target_is_checked_against_the_newest_release_not_newer_than_it() -> None:
    assert [release_for(v) for v in ("2.40.0", "2.51.0", "2.51.3", "2.60.0", "2.73.0")] == [
        "2.51.0",
        "2.51.0",
        "2.51.0",
        "2.52.0",
        "2.73.0",
    ]


def test_a_field_newer_than_the_target_release_is_refused() -> None:
    text, diags = build(METRICS, pin='triton "2.51.0"')
    assert [code for code, _ in diags] == ["SS702"]
    assert 'has no field named "model_metrics"' in diags[0][1] and "2.51.0" in diags[0][1]
    for pin in ('triton "2.52.0"', 'triton "2.73.0"', ""):
        text, diags = build(METRICS, pin=pin)
        assert diags == [] and text is not None and "model_metrics" in text, pin


def test_a_field_newer_than_the_target_release_is_reported_at_its_triton_text() -> None:
    """SS702 points at the model's first ``triton`` statement (the field it sets), not the model."""
    from compiler.backends.render import Templates
    from compiler.parse.sources import load_text
    from compiler.pipeline import check_loaded, render
    from tests.unit.backends.triton.test_triton_fidelity import HEAD, MODEL

    text = HEAD.format(pin='triton "2.51.0"') + MODEL.format(extra=METRICS)
    checked = check_loaded(load_text(text, "t.ship"))
    _files, sink = render(checked, Templates.load(), only=["triton"])
    [d] = [d for d in sink.items if d.code == "SS702"]
    line = text[: text.index(METRICS.strip())].count("\n") + 1
    assert (d.span.line, d.span.column) == (line, 3)
