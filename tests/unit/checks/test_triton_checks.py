"""The checker's Triton load-time rules, each reported on the spec line it comes from."""

from __future__ import annotations

import pytest

from tests.support.helpers import codes, tuples, where

HEAD = (
    'project p { triton "2.51.0" }\n'
    'environment dev { tier development namespace "d" }\n'
    'environment stg { tier staging namespace "s" }\n'
)


def model(body: str, name: str = "m", fmt: str = "python", version: str = "1.0.0") -> str:
    artifact = "" if fmt == "ensemble" else f'  artifact "s3://b/{name}"\n'
    return f'model {name} {{\n  version "{version}"\n  format {fmt}\n{artifact}{body}  serve in dev, stg\n}}\n'


GOOD = HEAD + model("  input x: fp32[4]\n  output y: fp32[4]\n  batching { max 8 }\n")


def test_clean_model_has_no_triton_diagnostics() -> None:
    assert codes(GOOD) == []


@pytest.mark.parametrize(
    ("dims", "reshape", "message"),
    [
        ("2, -1", "2, 2", "different size for dims and reshape"),
        ("2, -1", "2, -1, 2", "different size for dims and reshape"),
        ("2, -1", "2, -1, -1", "different number of variable-size dimensions"),
    ],
)
def test_reshape_with_variable_dims(dims: str, reshape: str, message: str) -> None:
    # The cases of Triton's own negative tests (reshape_variable0/2/4).
    text = HEAD + model(f"  input x: fp32[{dims}] reshape [{reshape}]\n  output y: fp32[4]\n  batching {{ max 4 }}\n")
    from tests.support.helpers import diagnose

    diags = [d for d in diagnose(text)[1] if d.code == "SS613"]
    assert len(diags) == 1 and message in diags[0].message
    assert diags[0].check_tuple()[1:] == where(text, "input x")


def test_reshape_variable_dims_that_agree_pass() -> None:
    text = HEAD + model("  input x: fp32[2, -1, 3] reshape [6, -1]\n  output y: fp32[4]\n  batching { max 4 }\n")
    assert "SS613" in codes(text)  # segments 2 | 3 vs 6 | 1 differ
    text = HEAD + model("  input x: fp32[2, 3, -1] reshape [6, -1]\n  output y: fp32[4]\n  batching { max 4 }\n")
    assert "SS613" not in codes(text)


def test_empty_reshape_without_batching() -> None:
    text = HEAD + model("  input x: fp32[1] reshape []\n  output y: fp32[4]\n")
    assert "SS613" in codes(text)


def test_delay_below_a_microsecond() -> None:
    text = HEAD + model("  input x: fp32[4]\n  output y: fp32[4]\n  batching { max 8  delay 0.1us }\n")
    assert ("SS310",) + where(text, "delay") in tuples(text)


def test_unmappable_version_warns() -> None:
    text = HEAD + model("  input x: fp32[4]\n  output y: fp32[4]\n", version="2024-11")
    assert ("SS311",) + where(text, "version") in tuples(text)


def _ensemble(ens_batching: str, member_batching: str, member_out: str = "fp32[4]") -> str:
    member = model(f"  input x: fp32[4]\n  output y: {member_out}\n  {member_batching}\n", name="mem")
    ens = model(
        f"  input x: fp32[4]\n  output y: fp32[4]\n  {ens_batching}\n"
        "  step mem {\n    input x -> x\n    output y -> y\n  }\n",
        name="ens",
        fmt="ensemble",
    )
    return HEAD + member + ens


def test_ensemble_batches_more_than_member() -> None:
    text = _ensemble("batching { max 16 }", "batching { max 8 }")
    line, col = where(text, "step mem")
    assert ("SS611", line, col + len("step ")) in tuples(text)
    assert "SS611" not in codes(_ensemble("batching { max 8 }", "batching { max 8 }"))


def test_ensemble_tensor_type_and_shape_must_agree() -> None:
    text = _ensemble("batching { max 8 }", "batching { max 8 }", member_out="int32[4]")
    assert ("SS610",) + where(text, "output y -> y") in tuples(text)
    text = _ensemble("batching { max 8 }", "batching { max 8 }", member_out="fp32[5]")
    assert ("SS610",) + where(text, "output y -> y") in tuples(text)


def test_ensemble_has_no_dynamic_batcher_or_instances() -> None:
    text = _ensemble("batching { max 8  delay 1ms }", "batching { max 8 }")
    assert ("SS612",) + where(text, "batching { max 8  delay") in tuples(text)
    text = _ensemble("batching { max 8 }\n  instances 2", "batching { max 8 }")
    assert ("SS612",) + where(text, "instances 2") in tuples(text)


def test_gpu_model_runs_on_cpu_in_development() -> None:
    text = HEAD + model("  input x: fp32[4]\n  output y: fp32[4]\n  resources { cpu 1  memory 1Gi  gpu 1 }\n")
    assert ("SS711",) + where(text, "{ cpu 1") in tuples(text)


def test_sequence_model_may_batch_but_has_no_dynamic_batcher() -> None:
    from compiler.backends.render import Templates
    from compiler.backends.triton.validate import parse_config
    from compiler.parse.sources import load_text
    from compiler.pipeline import check_loaded, render

    text = HEAD + model("  input x: fp32[4]\n  output y: fp32[4]\n  batching { max 8 }\n  sequence { idle 1s }\n")
    assert codes(text) == []
    files, _ = render(check_loaded(load_text(text, "t.ship")), Templates.load(), only=["triton"])
    config = parse_config(next(f.text for f in files if f.path.endswith("stg/triton/m/config.pbtxt")))
    assert config.max_batch_size == 8 and config.HasField("sequence_batching")
    assert not config.HasField("dynamic_batching")
    bad = HEAD + model("  input x: fp32[4]\n  output y: fp32[4]\n  batching { max 8  delay 1ms }\n  sequence { }\n")
    assert ("SS604",) + where(bad, "batching {") in tuples(bad)


def test_cached_model_with_latency_sla_warns_before_2_52() -> None:
    prod = 'environment prod { tier production namespace "p" replicas 2..3 }\n'
    body = "  input x: fp32[4]\n  output y: fp32[4]\n  cache on\n"
    sla = "sla m in stg { latency p99 < 40ms }\n"
    text = HEAD + prod + model(body) + sla
    assert ("SS713",) + where(text, "cache on") in tuples(text)
    assert "SS713" not in codes(text.replace('triton "2.51.0"', 'triton "2.52.0"'))
    assert "SS713" not in codes(text.replace("cache on", "cache off"))
