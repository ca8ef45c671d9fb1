"""The Triton backend's output: paths, determinism, safe strings, placement and validation."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from compiler.backends.base import OutputFile
from compiler.backends.render import Templates
from compiler.backends.triton.validate import KIND, parse_config, validate_config
from compiler.backends.triton.view import pb_string
from compiler.diagnostics import Sink, Span
from compiler.emit import file_bytes
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render, validate
from compiler.targets import layout

ROOT = Path(__file__).resolve().parents[4]


def triton_files(spec_dirs: list[Path]) -> dict[str, bytes]:
    checked = validate(spec_dirs)
    files, sink = render(checked, Templates.load(), only=["triton"])
    assert not sink.has_errors
    return {f.path: file_bytes(f) for f in files if f.kind == KIND}


def test_paths_and_config_maps() -> None:
    checked = validate([ROOT / "specs"])
    files, _ = render(checked, Templates.load(), only=["triton"])
    configs = [f for f in files if f.kind == KIND]
    assert {f.path for f in configs} == {
        layout.triton_config_path(env, model)
        for env, model in [
            ("dev", "offer_ranker"), ("preprod", "fraud_detector"),
            *[(env, m) for env in ("staging", "prod") for m in (
                "fraud_detector", "offer_ranker", "ticket_classifier", "ticket_router", "ticket_tokenizer")],
        ]
    }  # fmt: skip
    assert all(f.config_map == layout.triton_config_map(f.path.split("/")[3]) for f in configs)


def test_same_bytes_in_any_file_order(tmp_path: Path) -> None:
    first = triton_files([ROOT / "specs"])
    sources = sorted((ROOT / "specs").rglob("*.ship"))
    for seed in (1, 2):
        shuffled = tmp_path / f"s{seed}"
        order = sources[:]
        random.Random(seed).shuffle(order)
        for i, src in enumerate(order):  # new names change the order files are read in
            (shuffled / f"{i:02d}_{src.name}").parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, shuffled / f"{i:02d}_{src.name}")
        again = triton_files([shuffled])
        assert again.keys() == first.keys()
        # Only the header naming the source file may differ.
        strip = lambda b: b.split(b"\n", 2)[2]  # noqa: E731
        assert {k: strip(v) for k, v in again.items()} == {k: strip(v) for k, v in first.items()}


def test_placement_gpu_cpu_and_warmup() -> None:
    checked = validate([ROOT / "specs"])
    files, _ = render(checked, Templates.load(), only=["triton"])
    cfg = {f.path: parse_config(f.text) for f in files if f.kind == KIND}
    gpu = cfg["deploy/prod/triton/fraud_detector/config.pbtxt"]
    from tritonclient.grpc.model_config_pb2 import ModelInstanceGroup as Group

    assert [g.kind for g in gpu.instance_group] == [Group.KIND_GPU]  # the model asks for a GPU
    assert gpu.model_warmup[0].inputs["features"].dims == [64] and gpu.model_warmup[0].inputs["features"].zero_data
    assert not cfg["deploy/staging/triton/fraud_detector/config.pbtxt"].model_warmup  # production only
    cpu = cfg["deploy/dev/triton/offer_ranker/config.pbtxt"]
    assert [(g.kind, g.count) for g in cpu.instance_group] == [(Group.KIND_CPU, 2)]  # development: CPU
    assert not cfg["deploy/prod/triton/ticket_router/config.pbtxt"].instance_group  # ensembles have none
    assert "served from version directory 1004002" in next(
        f.text for f in files if f.path == "deploy/prod/triton/fraud_detector/config.pbtxt"
    )


def test_strings_cannot_inject_fields() -> None:
    hostile = 'x" } name: "evil\\'
    spec = (
        'project p { triton "2.51.0" }\nenvironment dev { tier development namespace "d" }\n'
        'model m {\n  version "1.0.0"\n  format python\n  artifact "s3://b/m.py"\n'
        "  input x: fp32[4]\n  output y: fp32[4]\n"
        f'  parameter "k" = "{hostile.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"\n'
        '  parameter "unicode" = "caf\u00e9 \u2713"\n'
        "  serve in dev\n}\n"
    )
    checked = check_loaded(load_text(spec, "t.ship"))
    assert not checked.has_errors, checked.diagnostics
    files, _ = render(checked, Templates.load(), only=["triton"])
    config = parse_config(next(f.text for f in files if f.kind == KIND))
    assert config.name == "m"
    assert config.parameters["k"].string_value == hostile
    assert config.parameters["unicode"].string_value == "caf\u00e9 \u2713"
    assert parse_config(f"name: {pb_string(hostile)}").name == hostile


def test_validator_reports_unknown_fields_on_the_spec_line() -> None:
    span = Span("specs/m.ship", 3, 1, 3, 9)
    sink = Sink()
    validate_config(OutputFile("deploy/dev/triton/m/config.pbtxt", 'name: "m"\nmax_batch_sise: 4\n', span, KIND), sink)
    (d,) = sink.items
    assert d.code == "SS810" and d.span == span and "config.pbtxt:2:" in d.message and "max_batch_sise" in d.message
    sink = Sink()
    validate_config(OutputFile("p", 'name: "m"\ninstance_group { kind: KIND_TPU }\n', span, KIND), sink)
    assert [d.code for d in sink.items] == ["SS810"]


def test_warmup_of_a_model_without_batching_has_batch_size_one() -> None:
    """Triton 2.51 silently skips a warmup sample with batch_size 0 (seen with --log-verbose=1)."""
    spec = (
        'project p { triton "2.51.0" }\nenvironment prod { tier production namespace "p" replicas 2..3 }\n'
        'model m { version "1.0.0" format python artifact "s3://b/m.py" input x: fp32[4] input s: string[-1]'
        " output y: fp32[4] serve in prod }\n"
    )
    files, _ = render(check_loaded(load_text(spec, "t.ship")), Templates.load(), only=["triton"])
    config = parse_config(next(f.text for f in files if f.kind == KIND))
    assert config.max_batch_size == 0
    (warmup,) = config.model_warmup
    assert warmup.batch_size == 1 and list(warmup.inputs["s"].dims) == [1]


def test_validating_a_config_loads_only_the_message_module() -> None:
    """A compile validates configs with tritonclient's ModelConfig; importing it through
    ``tritonclient.grpc`` would pull grpc and numpy into every compile (0.6 s). A later
    import of the package must still find the same module (one descriptor registration)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from compiler.backends.triton.validate import validate_config, KIND\n"
        "from compiler.backends.base import OutputFile\n"
        "from compiler.diagnostics import Sink, Span\n"
        "sink = Sink()\n"
        "validate_config(OutputFile('m/config.pbtxt', 'name: \"m\"\\nbackend: \"onnxruntime\"\\nmax_batch_size: 0\\n',"
        " Span.point('x'), KIND), sink)\n"
        "print(sorted(d.code for d in sink.items))\n"
        "print(sorted(m for m in ('numpy', 'grpc', 'tritonclient.grpc') if m in sys.modules))\n"
        "from tritonclient.grpc import model_config_pb2\n"
        "print(model_config_pb2 is sys.modules['tritonclient.grpc.model_config_pb2'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert out == ["[]", "[]", "True"]
