"""Every rendered object read back as Kubernetes reads it (issue 10, point 1).

PyYAML (YAML 1.1) reads ``y``, ``1e5`` and ``0o17`` as strings; Go's decoder in
kubectl and the API server reads them as a bool, a float and an int, and the
API server then refuses the object ("cannot unmarshal number into Go struct
field EnvVar.value of type string"). So every object file of every golden case
and of ``specs/`` is decoded by the real ``kubectl`` (``kubectl label --local``
decodes offline, as ``kubectl create`` does against a cluster) and by
``kubectl kustomize``, and the decoded form must equal PyYAML's reading and
pass the strict schemas.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.validate import validator_for
from tests.support.golden import GOLDEN, cases, render_case
from tests.support.k8s_support import KUBECTL, compile_to, errors, write_spec
from tests.support.specs import MINIMAL

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]

LABEL = "shipspec.test/decoded"
K8S = "1.33"


def _concatenated(text: str) -> list[dict[str, Any]]:
    """kubectl prints one JSON object per input object, back to back."""
    decoder, out, at = json.JSONDecoder(), [], 0
    text = text.strip()
    while at < len(text):
        obj, end = decoder.raw_decode(text, at)
        out.append(obj)
        at = end
        while at < len(text) and text[at].isspace():
            at += 1
    return out


def kubectl_decode(paths: list[Path] | None = None, stdin: str | None = None) -> list[dict[str, Any]]:
    """Objects as kubectl's Go decoder reads them (our marker label removed again)."""
    assert KUBECTL is not None
    files = ["-f", "-"] if stdin is not None else [a for p in paths or [] for a in ("-f", str(p))]
    done = subprocess.run(
        [KUBECTL, "label", "--local", *files, f"{LABEL}=1", "-o", "json"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    objects = _concatenated(done.stdout)
    for obj in objects:
        labels = obj["metadata"]["labels"]
        del labels[LABEL]
        if not labels:
            del obj["metadata"]["labels"]
    return objects


def _object_files(deploy: Path) -> list[Path]:
    """Kubernetes object files (kustomizations and raw Prometheus/Alertmanager files are not objects)."""
    return [
        p for p in sorted(deploy.rglob("*.yaml")) if p.name != "kustomization.yaml" and "kustomizeconfig" not in p.parts
    ]


def _assert_same(paths: list[Path]) -> None:
    read_by_pyyaml = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]
    read_by_go = kubectl_decode(paths)
    assert len(read_by_go) == len(read_by_pyyaml)
    for path, ours, go in zip(paths, read_by_pyyaml, read_by_go, strict=True):
        assert go == ours, f"{path}: kubectl decodes it differently from PyYAML"
        _assert_valid(path, go)


def _assert_valid(where: object, obj: dict[str, Any]) -> None:
    validate = validator_for(obj, K8S)
    if validate is not None:
        problems = validate(obj)
        assert not problems, f"{where}: {problems}"


def _assert_kustomize_reads_back(env_dir: Path) -> None:
    """kustomize re-emits every object (kyaml, YAML 1.2): what it writes must
    still read the same in Go and in PyYAML, and strings must stay strings."""
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "kustomize", str(env_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ours = [d for d in yaml.safe_load_all(done.stdout) if d]
    go = kubectl_decode(stdin=done.stdout)
    assert go == ours, f"{env_dir}: kustomize output decodes differently in Go"
    for obj in go:
        _assert_valid(env_dir, obj)


def _deploy_trees() -> list[tuple[str, Path]]:
    trees = []
    for case in cases():
        deploy = GOLDEN / case / "expected" / "deploy"
        if deploy.is_dir():
            trees.append((case, deploy))
    return trees


@pytest.mark.parametrize(("case", "deploy"), _deploy_trees(), ids=[c for c, _ in _deploy_trees()])
def test_every_golden_object_decodes_in_kubectl_as_in_pyyaml(case: str, deploy: Path) -> None:
    files = _object_files(deploy)
    assert files
    _assert_same(files)
    for kustomization in sorted(deploy.glob("*/kustomization.yaml")):
        _assert_kustomize_reads_back(kustomization.parent)


def test_specs_directory_renders_objects_kubectl_reads_as_pyyaml(tmp_path: Path) -> None:
    """specs/ rendered now (not the stored golden copy)."""
    for rel, data in render_case("example").items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    _assert_same(_object_files(tmp_path / "deploy"))


# Strings each YAML reader disagrees about (issue 10, point 1).
TRICKY = ["y", "n", "on", "0o17", "1e5", "2e-05", ".inf", "0x1F", "1_000", "2026-10-01", "12:30", "+1", "1.0"]


def test_strings_that_look_like_numbers_reach_kubernetes_as_strings(tmp_path: Path) -> None:
    env_lines = "\n".join(f'  env V{i} = "{v}"' for i, v in enumerate(TRICKY))
    spec = MINIMAL.replace("  serve in staging, prod\n", f"  serve in staging, prod\n{env_lines}\n")
    spec += """
environment train {
  tier training
  namespace "ml-train"
}

training clf {
  in train
  image "ghcr.io/demo/train:1"
  command ["python", "-m", "train"]
  hyperparameters { lr 0.00002  epochs 20  flag "y"  mode "0o17" }
}
"""
    out = tmp_path / "out"
    diags = compile_to(write_spec(tmp_path / "specs", spec), out)
    assert not errors(diags), diags
    deploy = out / "deploy"
    files = _object_files(deploy)
    _assert_same(files)
    _assert_kustomize_reads_back(deploy / "staging")
    _assert_kustomize_reads_back(deploy / "train")
    decoded = {(o["kind"], o["metadata"]["name"]): o for o in kubectl_decode(files)}
    pod = decoded[("Deployment", "clf")]["spec"]["template"]["spec"]
    values = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert [values[f"V{i}"] for i in range(len(TRICKY))] == TRICKY
    job = next(o for (kind, _), o in decoded.items() if kind == "Job")
    hp = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    # The learning rate as written, never in exponent notation.
    assert (hp["HP_LR"], hp["HP_EPOCHS"], hp["HP_FLAG"], hp["HP_MODE"]) == ("0.00002", "20", "y", "0o17")
