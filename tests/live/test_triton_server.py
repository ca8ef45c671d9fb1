"""The rendered model repositories of specs/, loaded by a real tritonserver with python stand-ins.

Every model of every serving environment must become READY and answer one
inference with the declared output types and shapes, honouring the batch
dimension. A broken config is refused by both our checker and the server.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from compiler.backends.render import Templates
from compiler.backends.triton.validate import parse_config
from compiler.commands.smoke import request_shape, synthetic_inputs
from compiler.emit import file_bytes
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from tests.support.helpers import codes
from tests.support.standin import gpu_present, standin_repository
from tests.support.triton_render import render_triton, server_specs
from tests.support.triton_server import TritonServer, triton_missing

ROOT = Path(__file__).resolve().parents[2]
# Skipped where the server cannot run, except in CI, where a missing server must fail loudly.
pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(bool(triton_missing()) and not os.environ.get("CI"), reason=triton_missing() or ""),
]

NUMPY = {"TYPE_FP32": np.float32, "TYPE_INT64": np.int64, "TYPE_STRING": np.object_}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    # specs/ targets the current release; the live server is 2.51 (tests/support/triton_render.py).
    specs = server_specs(ROOT / "specs", tmp_path_factory.mktemp("specs") / "specs")
    assert render_triton(specs, out) == ["dev", "preprod", "prod", "staging"]
    return out


@pytest.mark.parametrize("env", ["dev", "preprod", "prod", "staging"])
def test_every_model_ready_and_answers(rendered: Path, tmp_path: Path, env: str) -> None:
    _serve_and_answer(rendered / "deploy" / env / "triton", tmp_path, env)


# The other golden cases whose model repositories no other live test loads (specs/ is the
# example's; triton-features has tests/live/test_triton_features.py).
OTHER_CASES = ("github-promotion", "k8s-gitops", "monitoring-histogram")
CASE_ENVS = [
    (case, triton.parent.name)
    for case in OTHER_CASES
    for triton in sorted((ROOT / "golden" / case / "expected" / "deploy").glob("*/triton"))
]


@pytest.fixture(scope="module")
def golden_rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for case in OTHER_CASES:
        source = ROOT / "golden" / case / "specs"
        dest = tmp_path_factory.mktemp(case) / "specs"
        if not any('triton "' in p.read_text() for p in source.rglob("*.ship")):
            # Unpinned, it targets the current release: pin one for server_specs to re-pin.
            shutil.copytree(source, dest.parent / "unpinned")
            for path in (dest.parent / "unpinned").rglob("*.ship"):
                text = path.read_text()
                path.write_text(re.sub(r"^(project \w+ \{)$", r'\1\n  triton "2.51.0"', text, count=1, flags=re.M))
            source = dest.parent / "unpinned"
        specs = server_specs(source, dest)
        out[case] = tmp_path_factory.mktemp(f"{case}-out")
        render_triton(specs, out[case])
    return out


@pytest.mark.parametrize(("case", "env"), CASE_ENVS, ids=[f"{c}-{e}" for c, e in CASE_ENVS])
def test_every_golden_case_loads_and_answers(
    golden_rendered: dict[str, Path], tmp_path: Path, case: str, env: str
) -> None:
    _serve_and_answer(golden_rendered[case] / "deploy" / env / "triton", tmp_path, env)


def _serve_and_answer(source: Path, tmp_path: Path, env: str) -> None:
    """Every model of ``source`` (a rendered environment's model repository) becomes ready in a
    real server, with stand-in backends, and answers one inference as its config declares."""
    import tritonclient.http as httpclient

    repo = standin_repository(source, tmp_path / "repo")
    names = sorted(p.name for p in source.iterdir())
    # Verbose logging in production shows that every rendered warmup sample really runs.
    extra = ["--log-verbose=1"] if env == "prod" else []
    with TritonServer(repo, extra_args=extra) as server:
        client = httpclient.InferenceServerClient(server.http_url)
        log = server.log_tail(1_000_000)
        for name in names:
            assert client.is_model_ready(name), server.log_tail()
            config = parse_config((source / name / "config.pbtxt").read_text())
            # Only the backend differs from what shipspec rendered.
            served = parse_config((repo / name / "config.pbtxt").read_text())
            assert served.max_batch_size == config.max_batch_size and served.input == config.input
            for warmup in config.model_warmup:
                assert f"is running warmup sample '{warmup.name}'" in log, (name, warmup.name)
            assert bool(config.model_warmup) == (env == "prod" and config.platform != "ensemble"), name
            batch = 2 if config.max_batch_size else None
            result = client.infer(name, synthetic_inputs(config, batch))
            for out in config.output:
                value = result.as_numpy(out.name)
                assert value is not None, (name, out.name)
                expected = request_shape(list(out.dims), batch, variable=1)
                assert list(value.shape) == expected, (name, out.name, value.shape)
                type_name = (
                    type(config)
                    .DESCRIPTOR.fields_by_name["output"]
                    .message_type.fields_by_name["data_type"]
                    .enum_type.values_by_number[out.data_type]
                    .name
                )
                assert value.dtype == NUMPY[type_name], (name, out.name, value.dtype)


_HEAD = 'project p { triton "2.51.0" }\nenvironment dev { tier development namespace "d" }\n'


def _model(name: str, body: str, fmt: str = "python") -> str:
    artifact = "" if fmt == "ensemble" else f'  artifact "s3://b/{name}.py"\n'
    return f'model {name} {{\n  version "1.0.0"\n  format {fmt}\n{artifact}{body}  serve in dev\n}}\n'


_ENSEMBLE = "  step mem {\n    input x -> x\n    output y -> y\n  }\n"

# (spec, our code, Triton's words): each config is refused by the checker and by the real server.
BROKEN = {
    "preferred-above-max": (
        _model("m", "  input x: fp32[4]\n  output y: fp32[4]\n  batching { max 4  preferred [8] }\n"),
        "SS604",
        "dynamic batching preferred size must be <= max batch size",
    ),
    "reshape-variable-dims": (
        _model("m", "  input x: fp32[2, -1] reshape [2, 2]\n  output y: fp32[4]\n  batching { max 4 }\n"),
        "SS613",
        "has different size for dims and reshape",
    ),
    "ensemble-batch-above-member": (
        _model("mem", "  input x: fp32[4]\n  output y: fp32[4]\n  batching { max 8 }\n")
        + _model("m", "  input x: fp32[4]\n  output y: fp32[4]\n  batching { max 16 }\n" + _ENSEMBLE, "ensemble"),
        "SS611",
        "which only allows maximum batch size to be 8",
    ),
    "ensemble-tensor-type": (
        _model("mem", "  input x: fp32[4]\n  output y: int32[4]\n  batching { max 8 }\n")
        + _model("m", "  input x: fp32[4]\n  output y: fp32[4]\n  batching { max 8 }\n" + _ENSEMBLE, "ensemble"),
        "SS610",
        "inconsistent data type",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_refused_by_checker_and_server(tmp_path: Path, case: str) -> None:
    body, code, triton_says = BROKEN[case]
    spec = _HEAD + body
    assert code in codes(spec)
    # What the renderer makes of it if the checker's verdict were ignored.
    checked = check_loaded(load_text(spec, "t.ship"))
    files, _ = render(checked, Templates.load(), only=["triton"])
    for f in (f for f in files if "/triton/" in f.path):
        path = tmp_path / "rendered" / f.path.split("/triton/")[1]
        path.parent.mkdir(parents=True)
        path.write_bytes(file_bytes(f))
    stand = standin_repository(tmp_path / "rendered", tmp_path / "repo")
    with pytest.raises(RuntimeError, match=triton_says):
        with TritonServer(stand):
            pass


def test_standin_changes_only_the_backend(rendered: Path, tmp_path: Path) -> None:
    source = rendered / "deploy" / "dev" / "triton"
    repo = standin_repository(source, tmp_path / "repo", cpu_only=False)
    for cfg in source.glob("*/config.pbtxt"):
        original = parse_config(cfg.read_text())
        swapped = parse_config((repo / cfg.parent.name / "config.pbtxt").read_text())
        swapped.backend, swapped.platform = original.backend, original.platform
        assert swapped == original
    shutil.rmtree(repo)


def test_standin_fails_the_asked_fraction(tmp_path: Path) -> None:
    import tritonclient.http as httpclient
    from tritonclient.utils import InferenceServerException

    source = tmp_path / "rendered" / "m"
    source.mkdir(parents=True)
    (source / "config.pbtxt").write_text(
        'name: "m"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 4\n'
        'input { name: "x" data_type: TYPE_FP32 dims: [ 4 ] }\n'
        'output { name: "y" data_type: TYPE_INT64 dims: [ -1 ] }\n'
        "instance_group { count: 1 kind: KIND_CPU }\n"
    )
    repo = standin_repository(source.parent, tmp_path / "repo", fail_fraction=0.25)
    config = parse_config((source / "config.pbtxt").read_text())
    outcomes = []
    with TritonServer(repo) as server:
        client = httpclient.InferenceServerClient(server.http_url)
        for _ in range(8):
            try:
                outcomes.append(client.infer("m", synthetic_inputs(config, 3)).as_numpy("y").shape)
            except InferenceServerException as err:
                assert "deliberate failure" in err.message()
                outcomes.append(None)
    assert outcomes == [(3, 1), (3, 1), (3, 1), None] * 2


@pytest.mark.skipif(gpu_present(), reason="shows what a node without GPUs does with a GPU group")
def test_development_gets_cpu_instances_because_gpu_groups_need_gpus(tmp_path: Path) -> None:
    """A GPU model renders KIND_CPU in development; its KIND_GPU staging config cannot load without GPUs."""
    spec = (
        'project p { triton "2.51.0" }\nenvironment dev { tier development namespace "d" }\n'
        'environment stg { tier staging namespace "s" toleration "nvidia.com/gpu" }\n'
        + _model("m", "  input x: fp32[4]\n  output y: fp32[4]\n  resources { cpu 1  memory 1Gi  gpu 1 }\n").replace(
            "serve in dev", "serve in dev, stg"
        )
    )
    out = tmp_path / "out"
    files, _ = render(check_loaded(load_text(spec, "t.ship")), Templates.load(), only=["triton"])
    for f in (f for f in files if f.path.endswith(".pbtxt")):
        (out / f.path).parent.mkdir(parents=True)
        (out / f.path).write_bytes(file_bytes(f))
    # cpu_only=False: the configs exactly as rendered, GPU groups included.
    dev = standin_repository(out / "deploy" / "dev" / "triton", tmp_path / "dev", cpu_only=False)
    with TritonServer(dev):
        pass
    stg = standin_repository(out / "deploy" / "stg" / "triton", tmp_path / "stg", cpu_only=False)
    with pytest.raises(RuntimeError, match="has kind KIND_GPU but no GPUs are available"):
        with TritonServer(stg):
            pass
