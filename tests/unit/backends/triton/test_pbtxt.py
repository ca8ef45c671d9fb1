"""``pbtxt.read`` gives exactly the ModelConfig ``text_format.Parse`` gives, or declines.
Checked over every config the golden cases expect (none may be declined: they are what
shipspec writes), over texts put together from lines, valid or not (a text text_format
refuses must be declined), and over named cases either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.protobuf import text_format
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backends.triton import pbtxt
from compiler.backends.triton.validate import model_config_pb2, parse_config
from tests.support.golden import GOLDEN

CONFIG = model_config_pb2().ModelConfig


def _text_format(text: str) -> Any:
    try:
        return text_format.Parse(text, CONFIG())
    except text_format.ParseError:
        return None


def _same(a: Any, b: Any) -> bool:
    """Equal messages, with the same fields present (an empty message set is present)."""
    return bool(a == b) and a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


GOLDEN_CONFIGS = sorted(GOLDEN.rglob("*.pbtxt"))


def test_the_golden_cases_hold_configs_to_read() -> None:
    assert len(GOLDEN_CONFIGS) >= 30


@pytest.mark.parametrize("path", GOLDEN_CONFIGS, ids=lambda p: str(p.relative_to(GOLDEN)))
def test_every_golden_config_is_read_as_text_format_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    read = pbtxt.read(text, CONFIG)
    assert read is not None, "shipspec's own output must not need text_format"
    assert _same(read, text_format.Parse(text, CONFIG()))
    one_line = text_format.MessageToString(read, as_one_line=True)
    again = pbtxt.read(one_line, CONFIG)
    assert again is not None and _same(again, read)


# Lines of ModelConfig text: most valid somewhere, many not, several outside the subset.
LINES = [
    'name: "m"',
    'name: "a b-c.d/e"',
    "name: 'single'",
    'name: "esc\\"aped"',
    'name: "a" "b"',
    'name: "caf\u00e9"',
    "name: m",
    'platform: "onnxruntime_onnx"',
    'backend: "python"',
    "max_batch_size: 8",
    "max_batch_size: 0",
    "max_batch_size: -1",
    "max_batch_size: 0x10",
    "max_batch_size: 010",
    "max_batch_size: 1.0",
    "max_batch_size: 99999999999",
    "max_batch_size: 1e3",
    "max_batch_size: 8;",
    "max_batch_size: 8,",
    "max_batch_size:8",
    "max_batch_size\t: 8",
    "input {",
    "input: {",
    "input <",
    "output {",
    "instance_group {",
    "dynamic_batching {",
    "version_policy {",
    "latest {",
    "all { }",
    "specific { versions: [ 1, 2 ] }",
    "num_versions: 2",
    "num_versions: -2",
    "}",
    ">",
    "{",
    'name: "features"',
    "data_type: TYPE_FP32",
    "data_type: TYPE_NOPE",
    "data_type: 11",
    "dims: [ 18 ]",
    "dims: [ -1, 3 ]",
    "dims: []",
    "dims: [ 1, ]",
    "dims: 4",
    "dims: [ 1 2 ]",
    "kind: KIND_GPU",
    "kind: KIND_CPU",
    "count: 2",
    "gpus: [ 0, 1 ]",
    "preferred_batch_size: [ 8, 16 ]",
    "max_queue_delay_microseconds: 100",
    "max_queue_delay_microseconds: 18446744073709551616",
    "optional: true",
    "optional: false",
    "optional: t",
    "optional: True",
    "response_cache { enable: true }",
    'parameters { key: "k" value { string_value: "v" } }',
    'parameters { value { string_value: "v" } key: "k" }',
    'parameters { key: "k" }',
    "model_warmup {",
    'name: "w"',
    "batch_size: 1",
    "inputs {",
    'key: "x"',
    "value { data_type: TYPE_FP32 dims: [ 1 ] zero_data: true }",
    "value { data_type: TYPE_FP32 dims: [ 1 ] random_data: true zero_data: true }",
    "reshape { shape: [ -1, 2 ] }",
    "sequence_batching {",
    "oldest { }",
    "direct { }",
    "max_sequence_idle_microseconds: 5000000",
    "priority_levels: 2",
    "default_queue_policy { timeout_action: DELAY max_queue_size: 4 default_timeout_microseconds: 10 }",
    'rate_limiter { resources [ { name: "r" count: 1 } ] }',
    "model_transaction_policy { decoupled: true }",
    "model_metrics { metric_control { histogram_options { buckets: [ 0.005, 1, 2.5 ] } } }",
    "model_metrics { metric_control { histogram_options { buckets: [ 1e-3, inf, 1_0 ] } } }",
    "sequence_batching { direct { minimum_slot_utilization: 0.75 } }",
    "sequence_batching { direct { minimum_slot_utilization: -0.0 } }",
    "sequence_batching { direct { minimum_slot_utilization: 1.5f } }",
    "# a comment",
    "  # an indented comment",
    "",
    "[ext] { }",
]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=14), st.sampled_from(["\n", " ", "\n  "]))
def test_texts_of_lines_are_read_as_text_format_reads_them_or_declined(lines: list[str], sep: str) -> None:
    text = sep.join(lines)
    read, expected = pbtxt.read(text, CONFIG), _text_format(text)
    if expected is None:
        assert read is None, f"text_format refuses it: {text!r}"
    elif read is not None:
        assert _same(read, expected), text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=14))
def test_what_text_format_writes_of_a_config_is_read_back(lines: list[str]) -> None:
    config = _text_format("\n".join(lines))
    if config is None:
        return
    for one_line in (False, True):
        text = text_format.MessageToString(config, as_one_line=one_line)
        read = pbtxt.read(text, CONFIG)
        if read is not None:
            assert _same(read, config), text
        else:  # only what it writes outside the subset: escapes, exponents
            assert "\\" in text or "e" in text.replace("true", "").lower(), text


READ = [
    'name: "m"\nmax_batch_size: 8\ninput {\n  name: "x"\n  data_type: TYPE_FP32\n  dims: [ 1, -1 ]\n}\n',
    "# only a comment\n",
    "",
    "version_policy { all { } }",
    "version_policy { latest { num_versions: 1 } }",
    'parameters { key: "a" value { string_value: "1" } } parameters { key: "a" value { string_value: "2" } }',
    "instance_group { }",
    "input { dims: [ ] }",
    "model_metrics { metric_control { histogram_options { buckets: [ 0.005, 1, 2.5, -0.0 ] } } }",
    'model_warmup { inputs { key: "x" value { dims: [ 2 ] zero_data: true } } }',
    # A key given again: its value replaces the first, whole (text_format copies it in).
    'model_warmup { inputs { key: "x" value { dims: [ 2 ] zero_data: true } }'
    ' inputs { key: "x" value { dims: [ 3 ] random_data: true } } }',
]


@pytest.mark.parametrize("text", READ)
def test_named_texts_are_read(text: str) -> None:
    read = pbtxt.read(text, CONFIG)
    assert read is not None and _same(read, text_format.Parse(text, CONFIG()))


DECLINED = {
    "an escape": 'name: "a\\tb"',
    "single quotes": "name: 'm'",
    "adjacent strings": 'name: "a" "b"',
    "a hex integer": "max_batch_size: 0x10",
    "an octal integer": "max_batch_size: 010",
    "an exponent": "dynamic_batching { max_queue_delay_microseconds: 1e3 }",
    "angle brackets": 'input < name: "x" >',
    "a colon before a brace": 'input: { name: "x" }',
    "a separator": "max_batch_size: 8;",
    "a tab": "max_batch_size:\t8",
    "non-ASCII": 'name: "caf\u00e9"',
    "a field set twice": 'name: "a"\nname: "b"',
    "a field set twice to its default": "max_batch_size: 0\nmax_batch_size: 0",
    "a message set twice": "dynamic_batching { }\ndynamic_batching { }",
    "two members of a oneof": "version_policy { all { } latest { num_versions: 1 } }",
    "an int32 out of range": "max_batch_size: 2147483648",
    "a negative unsigned": "dynamic_batching { max_queue_delay_microseconds: -1 }",
    "an enum by number": "input { data_type: 11 }",
    "an unknown enum name": "input { data_type: TYPE_NOPE }",
    "an unknown field": "nope: 1",
    "a list for a single field": "max_batch_size: [ 8 ]",
    "a trailing comma in a list": "input { dims: [ 1, ] }",
    "a list without commas": "input { dims: [ 1 2 ] }",
    "a float with an underscore": "sequence_batching { direct { minimum_slot_utilization: 1_0 } }",
    "an octal float": "sequence_batching { direct { minimum_slot_utilization: 01.5 } }",
    "a float as f": "sequence_batching { direct { minimum_slot_utilization: 1.5f } }",
    "bool as t": "response_cache { enable: t }",
    "an unclosed message": "input {",
    "a stray close": "}",
    "an extension": "[ext] { }",
}


@pytest.mark.parametrize("text", DECLINED.values(), ids=DECLINED.keys())
def test_named_texts_are_declined_and_parse_config_answers_as_text_format(text: str) -> None:
    assert pbtxt.read(text, CONFIG) is None
    expected = _text_format(text)
    if expected is None:
        with pytest.raises(text_format.ParseError):
            parse_config(text)
    else:
        assert _same(parse_config(text), expected)
