"""Issue 15: the release table, verbatim ``triton`` fields, and Triton's load-time rules on rendered configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.backends import file_validators
from compiler.backends.render import Templates
from compiler.backends.triton.validate import parse_config
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from compiler.targets import triton as triton_target
from compiler.validate import validate_files

HEAD = 'project p {{ {pin} }}\nenvironment stg {{ tier staging namespace "s" }}\n'
MODEL = """
model m {{
  version "1.0.0"
  format python
  artifact "s3://b/m/model.py"
  input x: fp32[-1]
  output y: fp32[-1]
  batching {{ max 4 }}
{extra}
  serve in stg
}}
"""


def build(extra: str, pin: str = "") -> tuple[str | None, list[tuple[str, str]]]:
    checked = check_loaded(load_text(HEAD.format(pin=pin) + MODEL.format(extra=extra), "t.ship"))
    assert not checked.has_errors, checked.diagnostics
    files, sink = render(checked, Templates.load(), only=["triton"])
    validate_files(files, checked.resolved.project.kubernetes_version, sink, file_validators())
    configs = [f.text for f in files if f.path.endswith("config.pbtxt")]
    return (configs[0] if configs else None), [(d.code, d.message) for d in sink.items]


def test_release_table_maps_each_release_to_its_container_and_features() -> None:
    releases = triton_target.RELEASES
    assert {"2.51.0", "2.52.0"} <= set(releases) and triton_target.DEFAULT_RELEASE == max(
        releases, key=triton_target.version_tuple
    )
    for r in releases.values():
        assert triton_target.triton_release(r.version) == r.container
        assert triton_target.supports_model_metrics(r.version) == r.model_metrics
        assert triton_target.has_histograms(r.version) == r.latency_histograms
    assert not releases["2.51.0"].model_metrics and releases["2.52.0"].model_metrics


def test_verbatim_field_replaces_the_rendered_one() -> None:
    text, diags = build(
        '  triton "dynamic_batching { preserve_ordering: true max_queue_delay_microseconds: 100 }"\n'
        '  triton "batch_input { kind: BATCH_ELEMENT_COUNT target_name: \\"n\\" data_type: TYPE_INT32 '
        'source_input: \\"x\\" }"'
    )
    assert diags == []
    assert text is not None
    config = parse_config(text)
    assert config.dynamic_batching.preserve_ordering and config.dynamic_batching.max_queue_delay_microseconds == 100
    assert [b.source_input[0] for b in config.batch_input] == ["x"] and config.max_batch_size == 4


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (
            '  triton "dynamic_batching { preserve_ordering: true priority_levels: 2 default_priority_level: 1 }"',
            "Only one priority level is allowed when 'preserve_ordering' is true",
        ),
        (
            '  triton "batch_input { kind: BATCH_ELEMENT_COUNT target_name: \\"n\\" data_type: TYPE_INT32 }"',
            "batch input kind 'BATCH_ELEMENT_COUNT' expects 1 source input, got 0",
        ),
        (
            '  triton "sequence_batching { control_input { name: \\"S\\" control { kind: CONTROL_SEQUENCE_READY } } }"',
            "must specify either 'int32_false_true'",
        ),
        (
            '  triton "instance_group { kind: KIND_CPU gpus: [ 0 ] }"',
            "instance group m_0 of model m has kind KIND_CPU but specifies one or more GPUs",
        ),
    ],
)
def test_rendered_config_gets_tritons_load_time_rules(extra: str, reason: str) -> None:
    _, diags = build(extra)
    assert any(code == "SS614" and reason in message for code, message in diags), diags


def test_verbatim_text_may_not_set_what_statements_own() -> None:
    _, diags = build('  triton "max_batch_size: 8"')
    assert [c for c, _ in diags] == ["SS614"] and "max_batch_size" in diags[0][1]
    _, diags = build('  triton "no_such_field: 1"')
    assert [c for c, _ in diags] == ["SS614"] and "not ModelConfig protobuf text" in diags[0][1]


def test_model_metrics_only_for_releases_that_have_them() -> None:
    sla = "\nsla m in stg {\n  latency p99 < 50ms\n  availability 99.9% over 30d\n}\n"
    for pin, wanted in (('triton "2.51.0"', False), ('triton "2.52.0"', True), ("", True)):
        checked = check_loaded(load_text(HEAD.format(pin=pin) + MODEL.format(extra="") + sla, "t.ship"))
        assert not checked.has_errors, checked.diagnostics
        files, _ = render(checked, Templates.load(), only=["triton"])
        (text,) = [f.text for f in files if f.path.endswith("config.pbtxt")]
        assert parse_config(text).HasField("model_metrics") == wanted, pin


def test_example_specs_name_a_release_in_the_table() -> None:
    from compiler.pipeline import validate

    checked = validate([Path(__file__).resolve().parents[4] / "specs"])
    assert checked.resolved.project.triton_version in triton_target.RELEASES
