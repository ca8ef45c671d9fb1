"""The rendered Triton pod, played on this machine against a real tritonserver:
its config mounts (resolved through the real kustomization), the version
directories its init containers create and the artifact paths they fetch to
form a model repository that the server, started with the pod's own
arguments, loads and reports ready on the probe paths the pod uses."""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.targets.layout import MODEL_REPOSITORY
from tests.support.k8s_support import SPECS, compile_to, errors
from tests.support.standin import standin_repository
from tests.support.triton_render import server_specs
from tests.support.triton_server import TritonServer, triton_missing

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(bool(triton_missing()), reason=str(triton_missing()))]

# Set by the test harness for loopback instead: where to listen, and GPU metrics.
_HARNESS = ("--model-repository=", "--http-port=", "--grpc-port=", "--metrics-port=", "--allow-gpu-metrics=")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pod")
    # The pods' args run on the live 2.51 server: the example pinned to it (tests/support/triton_render.py).
    specs = server_specs(SPECS, tmp_path_factory.mktemp("specs") / "specs")
    assert errors(compile_to(specs, root)) == []
    return root


def _local(path: str, root: Path) -> Path:
    assert path.startswith(MODEL_REPOSITORY + "/"), path
    return root / path.removeprefix(MODEL_REPOSITORY + "/")


def play_pod(env_dir: Path, workload: dict[str, Any], root: Path) -> tuple[Path, list[str], set[Path]]:
    """Lay out the pod's /models under ``root``; return it, the server args and the fetch targets."""
    pod = workload["spec"]["template"]["spec"]
    kustomization = yaml.safe_load((env_dir / "kustomization.yaml").read_text())
    generated = {g["name"]: dict(f.split("=", 1) for f in g["files"]) for g in kustomization["configMapGenerator"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    triton = next(c for c in pod["containers"] if c["name"] == "triton")
    for mount in triton["volumeMounts"]:
        if "subPath" in mount:  # a config.pbtxt from its ConfigMap
            source = generated[volumes[mount["name"]]["configMap"]["name"]][mount["subPath"]]
            target = _local(mount["mountPath"], root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(env_dir / source, target)
    fetched: set[Path] = set()
    for init in pod["initContainers"]:
        if init["name"] == "model-dirs":
            assert init["command"][:2] == ["mkdir", "-p"]
            for directory in init["command"][2:]:
                _local(directory, root).mkdir(parents=True, exist_ok=True)
        else:  # fetch-<model>: sh -c SCRIPT fetch URI TARGET [SHA256]
            fetched.add(_local(init["command"][5], root))
    args = [a for a in triton["args"] if not a.startswith(_HARNESS)]
    return root, args, fetched


@pytest.mark.parametrize(
    ("env", "kind", "name"), [("prod", "deployment", "ticket-router"), ("staging", "deployment", "fraud-detector")]
)
def test_the_pod_layout_and_args_serve_on_a_real_triton(
    out: Path, tmp_path: Path, env: str, kind: str, name: str
) -> None:
    env_dir = out / "deploy" / env
    workload = yaml.safe_load((env_dir / f"{kind}-{name}.yaml").read_text())
    layout, args, fetched = play_pod(env_dir, workload, tmp_path / "models")
    models = [a.split("=", 1)[1] for a in args if a.startswith("--load-model=")]
    assert sorted(p.name for p in layout.iterdir()) == sorted(models)
    # Stand-ins go where the Triton backend says versions live; that must be where the pod fetches to.
    repo = standin_repository(layout, tmp_path / "repo")
    for target in fetched:
        model_dir = target.parent.parent.name
        version_dirs = [p.name for p in (repo / model_dir).iterdir() if p.is_dir()]
        assert version_dirs == [target.parent.name], (model_dir, version_dirs, target)
        assert target.parent.is_dir()  # created by the model-dirs init container
    for model in models:
        assert (repo / model / "config.pbtxt").read_text().count("\n") > 3
    with TritonServer(repo, models=models, extra_args=args) as server:
        for probe in ("/v2/health/ready", "/v2/health/live"):
            with urllib.request.urlopen(f"http://{server.http_url}{probe}", timeout=5) as resp:
                assert resp.status == 200
        assert all(server.ready(m) for m in models)
        # The server took every pod argument (it exits on an unknown one), metrics included.
        with urllib.request.urlopen(server.metrics_url, timeout=5) as resp:
            metrics = resp.read().decode()
        for model in models:
            assert f'nv_inference_request_success{{model="{model}"' in metrics
