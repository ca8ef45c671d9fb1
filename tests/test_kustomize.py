"""kustomization.yaml assembly, proven with the real ``kubectl kustomize``: a
Triton config reaches pods through a configMapGenerator whose content hash
rolls them, for Deployments and (through a nameReference configuration)
for Argo Rollouts too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import emit
from compiler.backends.kubernetes import kustomize as kz
from compiler.backends.base import OutputFile
from compiler.diagnostics import Sink, Span
from compiler.targets.layout import triton_config_map, triton_config_path
from tests.k8s_support import KUBECTL, by_kind, kustomize

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
SRC = Span.point("t.ship")


def _workload(kind: str, name: str) -> dict[str, Any]:
    api = "argoproj.io/v1alpha1" if kind == "Rollout" else "apps/v1"
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {
            "containers": [{"name": "triton", "image": "x",
                            "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": triton_config_map(name), "key": "config.pbtxt"}}}]}],
            "volumes": [{"name": "config-0", "configMap": {"name": triton_config_map(name)}}]}},
    }
    if kind == "Rollout":
        spec["strategy"] = {"canary": {"steps": [{"setWeight": 10}]}}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "ml-prod"}, "spec": spec}


def _files(config_text: str) -> list[OutputFile]:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml-prod"}}
    files = [OutputFile("deploy/prod/namespace-ml-prod.yaml", yaml.safe_dump(ns), SRC, documents=(ns,))]
    for kind, name in (("Rollout", "canaried"), ("Deployment", "plain")):
        doc = _workload(kind, name)
        files.append(OutputFile(f"deploy/prod/{kind.lower()}-{name}.yaml", yaml.safe_dump(doc), SRC, documents=(doc,)))
        files.append(OutputFile(triton_config_path("prod", name), config_text, SRC, kind="triton-config",
                                config_map=triton_config_map(name)))
    return files


def _write(files: list[OutputFile], root: Path) -> Path:
    every = files + kz.assemble(files)
    plan = emit.plan(every, root, Sink())
    emit.apply(plan)
    return root / "deploy" / "prod"


def _refs(obj: dict[str, Any]) -> set[str]:
    pod = obj["spec"]["template"]["spec"]
    env = {e["valueFrom"]["configMapKeyRef"]["name"] for c in pod["containers"] for e in c.get("env", [])}
    return {v["configMap"]["name"] for v in pod["volumes"]} | env


def test_assembled_kustomization_names_generators_in_the_pods_namespace() -> None:
    out = {f.path: f for f in kz.assemble(_files('name: "m"\n'))}
    doc = yaml.safe_load(out["deploy/prod/kustomization.yaml"].text)
    assert doc["configurations"] == [kz.ROLLOUT_CONFIG]
    assert doc["configMapGenerator"][0] == {"name": "canaried-triton-config", "namespace": "ml-prod",
                                            "files": ["config.pbtxt=triton/canaried/config.pbtxt"]}
    assert "deploy/prod/kustomizeconfig/rollout.yaml" in out
    assert "kustomizeconfig/rollout.yaml" not in doc["resources"]


def test_config_hash_reaches_the_rollout_only_through_the_configuration(tmp_path: Path) -> None:
    env = _write(_files('name: "m"\n'), tmp_path / "a")
    objects = kustomize(env)
    maps = set(by_kind(objects, "ConfigMap"))
    rollout, deployment = by_kind(objects, "Rollout")["canaried"], by_kind(objects, "Deployment")["plain"]
    assert len(_refs(rollout)) == 1 and _refs(rollout) <= maps
    assert next(iter(_refs(rollout))).startswith("canaried-triton-config-")  # hash suffix
    assert _refs(deployment) <= maps
    # Without the configuration kustomize leaves the Rollout pointing at a ConfigMap that does not exist.
    kustomization = env / "kustomization.yaml"
    doc = yaml.safe_load(kustomization.read_text())
    del doc["configurations"]
    kustomization.write_text(yaml.safe_dump(doc))
    bare = by_kind(kustomize(env), "Rollout")["canaried"]
    assert _refs(bare) == {"canaried-triton-config"}


def test_a_config_change_changes_the_name_so_pods_roll(tmp_path: Path) -> None:
    before = _refs(by_kind(kustomize(_write(_files('name: "m"\n'), tmp_path / "a")), "Rollout")["canaried"])
    after = _refs(by_kind(kustomize(_write(_files('name: "m"\nmax_batch_size: 8\n'), tmp_path / "b")), "Rollout")["canaried"])
    assert before != after
