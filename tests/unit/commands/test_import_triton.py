"""``shipspec import triton``: real configs -> spec text -> compile -> a protobuf-equal config.

The corpus is ../shared/triton-configs/valid (configs from Triton's own
repositories) plus configs written here for the features it only shows in
forms the language cannot express (sequence batching, priorities and queue
policy, optional inputs). Configs are compared after applying the defaults
Triton itself fills in at load time (name from the directory, one instance,
KIND_AUTO as CPU on a node without GPUs, direct sequence strategy), because
shipspec always writes those explicitly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from compiler.backends.render import Templates
from compiler.backends.triton.validate import parse_config
from compiler.commands.import_triton import import_path
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "triton-configs" / "valid"
HEAD = 'project p { triton "2.51.0" }\nenvironment stg { tier staging namespace "s" }\n'

# Every upstream valid config round-trips (issue 15: was 9 of 30).
NOT_EXPRESSIBLE: dict[str, str] = {}
INVALID = ROOT.parent / "shared" / "triton-configs" / "invalid"
INVALID_CASES = sorted(p.name for p in INVALID.iterdir()) if INVALID.is_dir() else []

EXTRA = {
    "seq_oldest": """
name: "seq_oldest"
backend: "python"
max_batch_size: 0
input { name: "x" data_type: TYPE_INT32 dims: [ 1 ] }
output { name: "y" data_type: TYPE_INT32 dims: [ 1 ] }
sequence_batching { max_sequence_idle_microseconds: 5000000 oldest { } }
""",
    "priorities": """
name: "priorities"
platform: "onnxruntime_onnx"
max_batch_size: 8
input { name: "x" data_type: TYPE_FP32 dims: [ -1, 3 ] reshape { shape: [ -1, 3, 1 ] } }
input { name: "mask" data_type: TYPE_BOOL dims: [ -1 ] optional: true }
output { name: "y" data_type: TYPE_FP16 dims: [ 2 ] }
dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 250
  priority_levels: 3
  default_priority_level: 2
  default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 2000 max_queue_size: 64 }
}
instance_group { count: 3 kind: KIND_CPU }
parameters { key: "threads" value { string_value: "4" } }
version_policy { latest { num_versions: 2 } }
""",
}


def _defaults(config: model_config_pb2.ModelConfig, name: str, is_ensemble: bool) -> None:
    """What Triton fills in at load time for fields shipspec always writes."""
    if not config.name:
        config.name = name
    if not is_ensemble:
        if not config.instance_group:
            config.instance_group.add()
        for g in config.instance_group:
            g.count = g.count or 1
            g.name = ""
            if g.kind == model_config_pb2.ModelInstanceGroup.KIND_AUTO:
                g.kind = model_config_pb2.ModelInstanceGroup.KIND_CPU
    if config.HasField("sequence_batching") and not config.sequence_batching.HasField("oldest"):
        config.sequence_batching.direct.SetInParent()


def round_trip(cfg: Path) -> tuple[list[str], model_config_pb2.ModelConfig | None, model_config_pb2.ModelConfig]:
    """(SS712 messages, recompiled config or None, original config)."""
    imported = import_path(cfg, serve_in=["stg"])
    original = text_format.Parse(cfg.read_text(), model_config_pb2.ModelConfig())
    cannot = [d.message for d in imported.diagnostics if d.code == "SS712"]
    assert not [d for d in imported.diagnostics if d.code != "SS712"], imported.diagnostics
    if not imported.models or cannot:
        return cannot, None, original
    checked = check_loaded(load_text(HEAD + imported.text, "imported.ship"))
    # Ensemble members are not part of a single imported file; everything else must check clean.
    errors = [d for d in checked.diagnostics if d.severity.value == "error" and d.code not in ("SS101", "SS605")]
    assert not errors, (imported.text, errors)
    files, _ = render(checked, Templates.load(), only=["triton"])
    (config_file,) = [f for f in files if f.path.endswith("config.pbtxt")]
    rendered = parse_config(config_file.text)
    is_ensemble = original.platform == "ensemble"
    _defaults(original, imported.models[0], is_ensemble)
    _defaults(rendered, imported.models[0], is_ensemble)
    return cannot, rendered, original


CASES = sorted(p.stem for p in CORPUS.glob("*.pbtxt"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared triton-configs corpus not present")
@pytest.mark.parametrize("stem", CASES)
def test_corpus_round_trip(stem: str) -> None:
    cannot, rendered, original = round_trip(CORPUS / f"{stem}.pbtxt")
    if stem in NOT_EXPRESSIBLE:
        assert cannot, f"{stem} was expected to be reported as not expressible"
        return
    assert not cannot, cannot
    assert rendered == original, (
        f"{text_format.MessageToString(original)}\n---\n{text_format.MessageToString(rendered)}"
    )


def test_corpus_covers_the_features() -> None:
    expressible = [s for s in CASES if s not in NOT_EXPRESSIBLE]
    texts = "\n".join((CORPUS / f"{s}.pbtxt").read_text() for s in expressible)
    for feature in (
        "ensemble_scheduling",
        "instance_group",
        "version_policy",
        "backend:",
        "platform:",
        "control_input",
        "CONTROL_SEQUENCE_CORRID",
        "decoupled",
        "format: FORMAT_",
        "tensorflow_graphdef",
        "label_filename",
        "oldest",
        "model_warmup",
        "model_metrics",
    ):
        assert feature in texts, feature
    assert len(expressible) == len(CASES) == 30
    # What the corpus only shows in inexpressible forms is covered by EXTRA.
    extra = "\n".join(EXTRA.values())
    for feature in ("sequence_batching", "priority_levels", "optional: true", "reshape", "default_queue_policy"):
        assert feature in extra, feature


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_written_configs_round_trip(name: str, tmp_path: Path) -> None:
    cfg = tmp_path / name / "config.pbtxt"
    cfg.parent.mkdir()
    cfg.write_text(EXTRA[name])
    cannot, rendered, original = round_trip(cfg)
    assert not cannot
    assert rendered == original, text_format.MessageToString(rendered)


def test_repository_import_reads_version_directories(tmp_path: Path) -> None:
    model = tmp_path / "repo" / "scorer"
    (model / "1004002").mkdir(parents=True)
    (model / "1003000").mkdir()
    (model / "config.pbtxt").write_text(EXTRA["priorities"].replace('"priorities"', '"scorer"'))
    imported = import_path(tmp_path / "repo")
    assert imported.models == ["scorer"]
    assert (
        'version "1.4.2"' in imported.text
        and 'artifact "s3://CHANGE-ME/models/scorer/1004002/model.onnx"' in imported.text
    )


def test_cli_keeps_fields_verbatim_and_drops_only_when_asked(tmp_path: Path) -> None:
    cfg = CORPUS / "tut_ort_trt_accel.pbtxt"
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "import", "triton", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "model text_recognition {" in r.stdout and 'runtime backend "onnxruntime"' in r.stdout
    assert 'triton "optimization {' in r.stdout and r.stderr == ""
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "import", "triton", str(cfg), "--drop", "optimization"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "optimization" not in r.stdout
    line = next(i for i, t in enumerate(cfg.read_text().splitlines(), 1) if "optimization" in t)
    assert "SS714" in r.stderr and f"tut_ort_trt_accel.pbtxt:{line}:" in r.stderr


RAGGED = """
name: "ragged"
backend: "python"
max_batch_size: 4
input { name: "x" data_type: TYPE_FP32 dims: [ -1 ] allow_ragged_batch: true }
output { name: "y" data_type: TYPE_FP32 dims: [ -1 ] }
batch_input { kind: BATCH_ACCUMULATED_ELEMENT_COUNT target_name: "idx" data_type: TYPE_FP32 source_input: "x" }
dynamic_batching { }
"""


def test_inexpressible_field_fails_the_import_unless_dropped(tmp_path: Path) -> None:
    cfg = tmp_path / "ragged" / "config.pbtxt"
    cfg.parent.mkdir()
    cfg.write_text(RAGGED)
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "import", "triton", str(cfg)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "SS712" in r.stderr and f"{cfg}:5:" in r.stderr and r.stdout == ""
    imported = import_path(cfg, drop=["input.allow_ragged_batch"])
    assert [d.code for d in imported.diagnostics] == ["SS714"]
    assert "  batch_input idx: fp32 from accumulated_element_count x\n" in imported.text


@pytest.mark.skipif(not INVALID_CASES, reason="shared triton-configs corpus not present")
@pytest.mark.parametrize("case", INVALID_CASES)
def test_upstream_negative_configs_are_refused_with_tritons_reason(case: str) -> None:
    """Each of Triton's own negative cases (qa/L0_model_config) is refused with the message Triton logs."""
    cfg = INVALID / case / "config.pbtxt"
    expected = (INVALID / case / "expected").read_text().strip().replace("\\[", "[").replace("\\]", "]")
    imported = import_path(cfg)
    refusals = [d for d in imported.diagnostics if d.code == "SS614"]
    assert refusals and imported.models == [] and imported.text == ""
    assert any(expected in d.message for d in refusals), (expected, refusals)
    assert all(d.severity.value == "error" and d.span.file == str(cfg) and d.span.line >= 1 for d in refusals)


def test_refusal_points_at_the_config_line() -> None:
    cfg = INVALID / "preserve_ordering1" / "config.pbtxt"
    (d,) = [d for d in import_path(cfg).diagnostics if d.code == "SS614"]
    line = cfg.read_text().splitlines()[d.span.line - 1]
    assert "DELAY" in line


def test_cli_unreadable_config_is_a_diagnostic(tmp_path: Path) -> None:
    bad = tmp_path / "config.pbtxt"
    bad.write_text('name: "x"\nmax_batch_size: eight\n')
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "import", "triton", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "SS812" in r.stderr and f"{bad}:2:" in r.stderr and "Traceback" not in r.stderr


def test_quoted_tensor_names_survive_fmt_and_compile(tmp_path: Path) -> None:
    """ONNX exports name tensors 'input.1' or '308': imported as quoted names, kept by fmt."""
    from compiler.parse.printer import format_source
    from compiler.parse.syntax import parse_text

    imported = import_path(CORPUS / "tut_ensemble_model.pbtxt", serve_in=["stg"])
    assert 'input preprocessed_image -> "input_images:0"' in imported.text
    source, diags = parse_text(HEAD + imported.text, "t.ship")
    assert diags == []
    once = format_source(source)
    assert format_source(parse_text(once, "t.ship")[0]) == once and '"input.1"' in once


def test_imported_text_is_canonical() -> None:
    from compiler.parse.printer import format_source
    from compiler.parse.syntax import parse_text

    for cfg in sorted(CORPUS.glob("*.pbtxt")):
        text = import_path(cfg).text
        source, diags = parse_text(text, "t.ship")
        assert diags == [] and format_source(source) == text, cfg.name


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_own_repository_round_trips(tmp_path: Path, env: str) -> None:
    """specs/ -> repository (5 models, one ensemble; warmup in prod) -> import -> compile -> equal configs."""
    from compiler.emit import file_bytes
    from compiler.pipeline import validate

    files, _ = render(validate([ROOT / "specs"]), Templates.load(), only=["triton"])
    first = {}
    for f in files:
        if f.path.startswith(f"deploy/{env}/triton/"):
            path = tmp_path / f.path
            path.parent.mkdir(parents=True)
            path.write_bytes(file_bytes(f))
            first[f.path] = parse_config(f.text)
    imported = import_path(tmp_path / "deploy" / env / "triton", serve_in=["stg"])
    assert imported.diagnostics == [] and len(imported.models) == 5
    tier = "production" if env == "prod" else "staging"
    declared = f'environment stg {{ tier {tier} namespace "s" toleration "nvidia.com/gpu" }}\n'
    checked = check_loaded(load_text('project p { triton "2.51.0" }\n' + declared + imported.text, "imported.ship"))
    # Production policy (replicas, SLAs, gates: SS4xx, SS5xx) is not what this test is about.
    errors = [d for d in checked.diagnostics if d.severity.value == "error" and d.code[:3] not in ("SS4", "SS5")]
    assert not errors, errors
    again, _ = render(checked, Templates.load(), only=["triton"])
    second = {f.path.replace("/stg/", f"/{env}/"): parse_config(f.text) for f in again if f.path.endswith(".pbtxt")}
    assert second == first
