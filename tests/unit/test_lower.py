"""Lowering types every literal and normalises units, reporting against the literal."""

from __future__ import annotations

import pytest

from compiler import ir, units
from tests.support.helpers import diagnose, tuples, where
from tests.support.specs import MINIMAL


def test_minimal_spec_is_clean_and_units_are_normalised() -> None:
    spec, diags = diagnose(MINIMAL)
    assert diags == []
    model = spec.models[0]
    assert model.batching is not None
    assert model.batching.delay == pytest.approx(0.001)
    assert model.resources == ir.Resources(model.resources.span, cpu=1.0, memory=1024**3, gpu=0)
    sla = spec.slas[0]
    assert sla.latency[0].threshold == pytest.approx(0.05) and sla.latency[0].percentile == 99
    assert sla.availability is not None
    assert sla.availability.objective == pytest.approx(0.999) and sla.availability.window == 30 * 86400
    gate = spec.gates[0]
    assert [(s.weight, s.duration) for s in gate.canary] == [(0.1, 600), (0.5, 600)]
    assert gate.load is not None and gate.load.rate == 100 and gate.load.duration == 300


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500us", 0.0005),
        ("50ms", 0.05),
        ("2s", 2),
        ("10m", 600),
        ("1h", 3600),
        ("30d", 2592000),
        ("1w", 604800),
        ("1.5h", 5400),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert units.duration(text) == (pytest.approx(seconds), None)


@pytest.mark.parametrize(
    ("text", "size"), [("4Gi", 4 * 1024**3), ("512Mi", 512 * 1024**2), ("1G", 10**9), ("1.5Gi", 1610612736)]
)
def test_sizes(text: str, size: int) -> None:
    assert units.size(text) == (size, None)


def test_percent_and_rate() -> None:
    assert units.percent("99.9%") == (pytest.approx(0.999), None)
    assert units.percent("100.1%")[1] == "percentage '100.1%' is outside 0%..100%"
    assert units.rate("200rps") == (200, None)
    assert units.rate("60rpm") == (1, None)


def _replace(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "code", "needle"),
    [
        ("latency p99 < 50ms", "latency p99 < 50mb", "SS201", "50mb"),  # not a duration
        ("memory 1Gi", "memory 1Gb", "SS201", "1Gb"),
        ("availability 99.9%", "availability 120%", "SS301", "120%"),
        ("replicas 2..4", "replicas 5..4", "SS302", "replicas 5..4"),
        ("canary 10% for 10m, 50% for 10m", "canary 50% for 10m, 10% for 10m", "SS304", "10% for 10m"),
        ("canary 10% for 10m, 50% for 10m", "canary 10% for 10m, 100% for 10m", "SS303", "100%"),
        ("cpu 1", "cpu 1Gi", "SS202", "1Gi"),
        ("latency p99 < 50ms", "latency p99 > 50ms", "SS205", ">"),
        ("tier staging", "tier stagign", "SS104", "stagign"),
        ("format onnx", "format onxx", "SS104", "onxx"),
        ("input x: fp32[4]", "input x: float[4]", "SS104", "float"),
        ("input x: fp32[4]", "input x: fp32[0]", "SS303", "0]"),
        ('version "1.0.0"', 'version "1.0.0"\n  version "1.0.1"', "SS106", 'version "1.0.1"'),
    ],
)
def test_local_errors_point_at_the_literal(old: str, new: str, code: str, needle: str) -> None:
    text = _replace(old, new)
    line, col = where(text, needle)
    assert (code, line, col) in tuples(text)


def test_missing_required_statements_are_reported_at_the_name() -> None:
    text = "project p { }\nmodel m {\n  format onnx\n}\n"
    found = tuples(text)
    assert ("SS107", 2, 7) in found  # version, artifact, inputs, outputs
    assert sum(1 for c in found if c[0] == "SS107") == 4


def test_plain_secret_value_is_refused_and_reference_is_kept() -> None:
    text = _replace(
        'artifact "s3://models/clf/1.0.0/model.onnx"',
        'artifact "s3://models/clf/1.0.0/model.onnx"\n  env API_TOKEN = "hunter2"\n  env DB = secret "vault:db#pw"',
    )
    spec, diags = diagnose(text)
    assert [d.code for d in diags] == ["SS507"]
    env = {e.name: e.value for e in spec.models[0].env}
    assert env["DB"] == ir.SecretRef("vault:db#pw", env["DB"].span)  # type: ignore[union-attr]


def test_string_escapes_are_decoded_and_bad_ones_reported() -> None:
    spec, diags = diagnose(_replace('namespace "ml-staging"', 'namespace "a\\"b\\u00e9"'))
    assert spec.environments[1].namespace == 'a"bé'
    assert "SS013" in [d.code for d in diagnose(_replace('namespace "ml-staging"', 'namespace "a\\qb"'))[1]]
