"""The one YAML scalar policy (``serialize.plain_safe``): a string is written
plain only where PyYAML, Go's YAML 1.1 resolver and YAML 1.2 readers all read
it back as that string. The real kubectl decodes rendered files in
tests/live/test_kubectl_decode.py; these pin the policy's cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backends.monitoring.rules_yaml import scalar
from compiler.serialize import load, plain_safe, to_yaml

# Read as non-strings by at least one of PyYAML, Go yaml.v2 (kubectl) or yaml.v3 (kustomize).
QUOTED = [
    "y",
    "Y",
    "n",
    "yes",
    "On",
    "off",
    "TRUE",
    "null",
    "~",
    "",
    "0o17",
    "0x1F",
    "0b101",
    "017",
    "1_000",
    "1e5",
    "2e-05",
    "1E+3",
    ".5",
    "1.",
    "+1",
    "-2",
    ".inf",
    "-.INF",
    ".NaN",
    "12:30",
    "2026-10-01",
    "2026-10-01T10:00:00Z",
]
PLAIN = ["250m", "1Gi", "1.0.0", "9f2c6a1e", "abc", "fraud_detector", "s3://bucket/x", "v1", "nan", "Infinity"]


@pytest.mark.parametrize("value", QUOTED)
def test_strings_some_reader_takes_for_numbers_are_quoted(value: str) -> None:
    assert not plain_safe(value)
    text = to_yaml({"k": value})
    assert text.split(": ", 1)[1][0] in "'\"", text
    assert load(text) == {"k": value}
    assert scalar(value)[0] in "'\""


@pytest.mark.parametrize("value", PLAIN)
def test_strings_every_reader_takes_for_strings_stay_plain(value: str) -> None:
    assert plain_safe(value)
    assert to_yaml({"k": value}) == f"k: {value}\n"


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="aNyYeEsSoOlLuUtTrf019._/-: #'", min_size=1, max_size=12))
def test_a_string_is_written_as_pyyaml_writes_it(value: str) -> None:
    """A new string's text is PyYAML's: written as it is where it is a plain word
    (``serialize._PLAIN_WORD``, a letter and then letters, digits and ``._/-``, and
    ``plain_safe``), else as PyYAML's emitter writes it."""
    from compiler import serialize

    serialize.forget_scalars()  # each example's strings new to the layout
    doc = {"k": [value, {"v": value}]}
    assert to_yaml(doc) == serialize._pyyaml(doc, False)
