"""Every rendered Triton pod loads its model set with exactly its own devices
(issue 10, point 2).

An ensemble's pod loads its members too. It must carry the union of their
needs: a member with ``KIND_GPU`` instances in a pod that requests no GPU is
refused by the real server ("has kind KIND_GPU but no GPUs are available").
Each pod's ``--load-model`` set is served by a real tritonserver with the
configs exactly as rendered (kinds untouched) where the pod requests no GPU;
pods that request GPUs run where a GPU is visible (a lent GPU machine).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.k8s_support import compile_to, errors, write_spec
from tests.support.specs import MINIMAL
from tests.support.standin import gpu_present, standin_repository
from tests.support.triton_render import server_specs
from tests.support.triton_server import TritonServer, triton_missing

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(bool(triton_missing()) and not os.environ.get("CI"), reason=triton_missing() or ""),
]

# An ensemble in staging whose encoder needs a GPU; the encoder has no `serve in` of its own.
GPU_MEMBER = (
    MINIMAL
    + """
model enc {
  version "1.0.0"
  format onnx
  artifact "s3://models/enc/1.0.0/model.onnx"
  input x: fp32[4]
  output z: fp32[4]
  batching { max 8 }
  resources { cpu 1  memory 2Gi  gpu 1 }
}

model pipe {
  version "1.0.0"
  format ensemble
  input x: fp32[4]
  output y: fp32[2]
  batching { max 8 }
  resources { cpu 0.5  memory 512Mi }
  step enc {
    input x -> x
    output z -> z
  }
  step clf {
    input z -> x
    output y -> y
  }
  serve in staging
}
"""
)


def _pods(deploy: Path) -> list[tuple[Path, list[str], int]]:
    """(environment dir, models the pod loads, GPUs it requests) for every Triton workload."""
    out = []
    for path in sorted(deploy.glob("*/*.yaml")):
        if not path.name.startswith(("deployment-", "rollout-")):
            continue
        obj: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        pod = obj["spec"]["template"]["spec"]
        triton = next((c for c in pod["containers"] if c["name"] == "triton"), None)
        if triton is None:
            continue
        models = [a.split("=", 1)[1] for a in triton["args"] if a.startswith("--load-model=")]
        gpus = int(triton["resources"].get("limits", {}).get("nvidia.com/gpu", "0"))
        out.append((path.parent, models, gpus))
    return out


def _load_each_pod(deploy: Path, tmp: Path) -> int:
    """Serve each pod's model set; return how many pods ran. Fails on a pod the server refuses."""
    ran = 0
    for i, (env_dir, models, gpus) in enumerate(_pods(deploy)):
        if gpus and not gpu_present():
            continue  # runs on a GPU machine
        pod_repo = tmp / f"pod-{i}" / "rendered"
        for name in models:
            source = env_dir / "triton" / name / "config.pbtxt"
            (pod_repo / name).mkdir(parents=True)
            (pod_repo / name / "config.pbtxt").write_text(source.read_text())
        # The kinds stay as rendered: a KIND_GPU model must find the pod's GPU.
        repo = standin_repository(pod_repo, tmp / f"pod-{i}" / "repo", cpu_only=False)
        env = {} if gpus else {"CUDA_VISIBLE_DEVICES": ""}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with TritonServer(repo, models=models) as server:
                assert server.load_seconds >= 0
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        ran += 1
    return ran


def test_an_ensemble_pod_carries_its_gpu_member_and_cpu_pods_load(tmp_path: Path) -> None:
    out = tmp_path / "out"
    diags = compile_to(write_spec(tmp_path / "specs", GPU_MEMBER), out)
    assert not errors(diags), diags
    deploy = out / "deploy"
    pods = {(d.name, tuple(m)): g for d, m, g in _pods(deploy)}
    # The member has no Deployment of its own; the ensemble's pod loads it and requests its GPU.
    assert ("staging", ("enc",)) not in pods
    assert pods[("staging", ("clf", "enc", "pipe"))] == 1
    assert _load_each_pod(deploy, tmp_path) >= 1  # the CPU pods (clf) at least


def test_every_pod_of_specs_loads_with_its_own_devices(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # specs/ targets a current release; the server installed here is 2.51 (tests/support/triton_render.py)
    diags = compile_to(server_specs(ROOT / "specs", tmp_path / "specs"), out)
    assert not errors(diags), diags
    assert _load_each_pod(out / "deploy", tmp_path) >= 3


@pytest.mark.skipif(gpu_present(), reason="needs a machine without a GPU")
def test_the_server_refuses_a_gpu_member_in_a_pod_without_gpus(tmp_path: Path) -> None:
    """The oracle: what the pods above are protected from really fails."""
    out = tmp_path / "out"
    assert not errors(compile_to(write_spec(tmp_path / "specs", GPU_MEMBER), out))
    rendered = tmp_path / "rendered" / "enc"
    rendered.mkdir(parents=True)
    (rendered / "config.pbtxt").write_text((out / "deploy" / "staging" / "triton" / "enc" / "config.pbtxt").read_text())
    repo = standin_repository(rendered.parent, tmp_path / "repo", cpu_only=False)
    with pytest.raises(RuntimeError, match="KIND_GPU"):
        with TritonServer(repo, models=["enc"]):
            pass
