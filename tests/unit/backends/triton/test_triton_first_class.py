"""First-class statements for the Triton fields real configs use most: sequence control tensors and
strategy settings, preserve_ordering, per-priority queue policies, decoupled, batch inputs/outputs.
Each renders Triton's field, passes through fmt unchanged, exports valid IR, is judged by the same
rules (targets/triton_rules.py) at the spec line as on the rendered config, and is what import writes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from compiler.backends import file_validators
from compiler.backends.render import Templates
from compiler.backends.triton.validate import parse_config
from compiler.commands.export import export
from compiler.commands.import_triton import import_path
from compiler.parse.printer import format_source
from compiler.parse.sources import load_text
from compiler.parse.syntax import parse_text
from compiler.pipeline import check_loaded, render
from compiler.validate import validate_files
from tests.unit.backends.triton import test_triton_fidelity as fidelity

ROOT = Path(__file__).resolve().parents[4]
CORPUS = ROOT.parent / "shared" / "triton-configs" / "valid"
SCHEMA = json.loads((ROOT / "schemas" / "ir.schema.json").read_text())

RAGGED = """  decoupled
  batch_input n: int32 from element_count x
  batch_input "offsets": fp32 from accumulated_element_count_with_zero x
  batch_output y from scatter_with_input_shape x
  batching {
    max 4
    preserve_ordering
    queue { timeout 1s  on_timeout reject  allow_override }
    queue 1 { timeout 5ms  on_timeout reject  size 16 }
    priorities 1 default 1
  }"""


def _own_batching(extra: str) -> bool:
    return any(line.startswith("  batching {") for line in extra.splitlines())


def spec(extra: str, pin: str = "") -> str:
    """The fidelity tests' one-model spec; ``extra`` replaces its ``batching { max 4 }`` when it has one."""
    text = fidelity.HEAD.format(pin=pin) + fidelity.MODEL.format(extra=extra)
    return text.replace("  batching { max 4 }\n", "", 1) if _own_batching(extra) else text


def build(extra: str, pin: str = "") -> tuple[str | None, list[tuple[str, str]]]:
    original = fidelity.MODEL
    try:
        if _own_batching(extra):
            fidelity.MODEL = original.replace("  batching {{ max 4 }}\n", "", 1)
        return fidelity.build(extra, pin)
    finally:
        fidelity.MODEL = original


def rendered_anyway(text: str) -> list[tuple[str, str]]:
    """What the rendered config's validation says, the checker's verdict set aside."""
    checked = check_loaded(load_text(text, "t.ship"))
    files, sink = render(checked, Templates.load(), only=["triton"])
    validate_files(files, checked.resolved.project.kubernetes_version, sink, file_validators())
    return [(d.code, d.message) for d in sink.items]


SEQUENCE = """  sequence {
    idle 5s
    strategy oldest { candidates 8  preferred [2, 4]  delay 100us  preserve_ordering }
    control start START: int32
    control end END: fp32
    control ready READY: bool
    control corrid CORRID: uint64
  }"""


def test_ragged_priority_and_decoupled_statements_render_tritons_fields() -> None:
    text, diags = build(RAGGED)
    assert diags == []
    assert text is not None
    config = parse_config(text)
    assert config.model_transaction_policy.decoupled
    assert [(b.target_name[:], b.source_input[:]) for b in config.batch_input] == [(["n"], ["x"]), (["offsets"], ["x"])]
    assert [(b.target_name[:], b.source_input[:]) for b in config.batch_output] == [(["y"], ["x"])]
    db = config.dynamic_batching
    assert db.preserve_ordering and db.default_queue_policy.allow_timeout_override
    assert db.default_queue_policy.default_timeout_microseconds == 1_000_000
    assert dict(db.priority_queue_policy)[1].max_queue_size == 16 and db.priority_levels == 1


def test_sequence_controls_and_strategy_settings_render_tritons_fields() -> None:
    text, diags = build(SEQUENCE)
    assert diags == []
    assert text is not None
    sb = parse_config(text).sequence_batching
    controls = {ci.name: ci.control[0] for ci in sb.control_input}
    assert list(controls["START"].int32_false_true) == [0, 1]
    assert list(controls["END"].fp32_false_true) == [0.0, 1.0]
    assert list(controls["READY"].bool_false_true) == [False, True]
    from tritonclient.grpc import model_config_pb2

    assert model_config_pb2.DataType.Name(controls["CORRID"].data_type) == "TYPE_UINT64"
    ragged, _ = build(RAGGED)
    kinds = [model_config_pb2.DataType.Name(b.data_type) for b in parse_config(ragged or "").batch_input]
    assert kinds == ["TYPE_INT32", "TYPE_FP32"]
    assert (sb.oldest.max_candidate_sequences, list(sb.oldest.preferred_batch_size)) == (8, [2, 4])
    assert sb.oldest.max_queue_delay_microseconds == 100 and sb.oldest.preserve_ordering
    assert sb.max_sequence_idle_microseconds == 5_000_000
    direct, diags = build("  sequence { strategy direct { delay 2ms  utilization 0.5 } }")
    assert diags == [] and direct is not None
    d = parse_config(direct).sequence_batching.direct
    assert (d.max_queue_delay_microseconds, d.minimum_slot_utilization) == (2000, 0.5)


def test_first_class_equals_the_verbatim_field_it_replaces() -> None:
    first, _ = build(SEQUENCE)
    raw = parse_config(first or "").sequence_batching
    from google.protobuf import text_format

    again, diags = build(
        '  triton "sequence_batching { '
        + text_format.MessageToString(raw, as_one_line=True).replace('"', '\\"')
        + ' }"'
    )
    assert diags == []
    assert parse_config(again or "").sequence_batching == raw


def test_fmt_is_idempotent_and_export_validates() -> None:
    text = spec(RAGGED) + fidelity.MODEL.replace("model m ", "model s ").format(extra=SEQUENCE)
    source, errors = parse_text(text, "t.ship")
    assert not errors
    once = format_source(source)
    source2, _ = parse_text(once, "t.ship")
    assert format_source(source2) == once
    assert "strategy oldest { candidates 8  preferred [2, 4]  delay 100us  preserve_ordering }" in once
    checked = check_loaded(load_text(once, "t.ship"))
    assert not checked.has_errors, checked.diagnostics
    doc = json.loads(json.dumps(export(checked.resolved.spec)))
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    m = next(x for x in doc["spec"]["models"] if x["name"] == "m")
    assert m["decoupled"] and [b["kind"] for b in m["batch_inputs"]] == [
        "element_count",
        "accumulated_element_count_with_zero",
    ]
    s = next(x for x in doc["spec"]["models"] if x["name"] == "s")
    assert [c["kind"] for c in s["sequence"]["controls"]] == ["start", "end", "ready", "corrid"]


# (statements, the rule's message, Triton's words): the checker's verdict at the spec line
# is the one the same rule gives on the config rendered anyway.
BROKEN = {
    "unknown-source": ("  batch_input n: int32 from element_count z", "unknown source input name 'z'"),
    "unknown-target": ("  batch_output z from scatter_with_input_shape x", "unknown target output name 'z'"),
    "ordering-priorities": (
        "  batching { max 4  priorities 2 default 1  preserve_ordering }",
        "Only one priority level is allowed when 'preserve_ordering' is true",
    ),
    "ordering-delay": (
        "  batching { max 4  preserve_ordering  queue { timeout 1ms  on_timeout delay } }",
        "Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true",
    ),
    "priority-level": (
        "  batching { max 4  priorities 2 default 1  queue 3 { timeout 1ms  on_timeout reject } }",
        "priority queue policy must have priority level in range [1, 2]",
    ),
    "two-starts": (
        "  sequence { control start A: int32  control start B: int32 }",
        "sequence batching specifies multiple CONTROL_SEQUENCE_START tensors",
    ),
    "one-tensor-two-kinds": (
        "  sequence { control start A: int32  control end A: int32 }",
        "sequence batching control tensor 'A' is specified for multiple control kinds",
    ),
    "oldest-preferred": (
        "  sequence { strategy oldest { preferred [8] } }",
        "sequence batching preferred batch size must be <= max batch size",
    ),
    "utilization": (
        "  sequence { strategy direct { utilization 1.5 } }",
        "sequence batching minimum slot utilization must be in range (0.0, 1.0]",
    ),
    "decoupled-cache": (
        "  decoupled\n  cache on",
        "Response Cache does not currently support model m with 'decoupled' transaction policy",
    ),
    "sequence-cache": (
        "  sequence { strategy direct }\n  cache on",
        "Response Cache does not currently support model m with sequence batching scheduler",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_setting_is_refused_at_the_spec_line_with_tritons_words(case: str) -> None:
    statements, message = BROKEN[case]
    text = spec(statements)
    checked = check_loaded(load_text(text, "t.ship"))
    found = [(d.code, d.message, d.span.line) for d in checked.diagnostics if d.code == "SS614"]
    assert len(found) == 1 and message in found[0][1], checked.diagnostics
    line = found[0][2]
    assert text.splitlines()[line - 1].strip().split()[0] in statements, (line, text)
    # The same rule on the config rendered anyway (the validator's SS614) gives the same words.
    rendered = rendered_anyway(text)
    assert any(code == "SS614" and message in said for code, said in rendered), rendered


def test_queue_levels_without_priorities_have_no_effect() -> None:
    checked = check_loaded(
        load_text(spec("  batching { max 4  queue 1 { timeout 1ms  on_timeout reject } }"), "t.ship")
    )
    assert [d.code for d in checked.diagnostics] == ["SS606"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared triton-configs corpus not present")
def test_import_writes_the_first_class_statements() -> None:
    text = import_path(CORPUS / "simple_dyna_sequence.pbtxt").text
    assert "strategy oldest { candidates 1024  delay 10ms }" in text
    assert "control start START: int32" in text and "control corrid CORRID: uint64" in text
    assert 'triton "' not in text
    assert "  decoupled\n" in import_path(CORPUS / "pb_decoupled_repeat.pbtxt").text
    assert (
        "queue { timeout 1s  on_timeout reject  allow_override }"
        in import_path(CORPUS / "qa_identity_fp32_timeout.pbtxt").text
    )
    # Implicit state (growable memory) and iterative sequences stay verbatim.
    assert 'triton "sequence_batching {' in import_path(CORPUS / "qa_growable_memory.pbtxt").text
