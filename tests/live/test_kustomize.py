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
from compiler.backends.base import OutputFile
from compiler.backends.kubernetes import kustomize as kz
from compiler.diagnostics import Sink
from tests.support.k8s_support import KUBECTL, by_kind, kustomize, triton_files

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]


def _write(files: list[OutputFile], root: Path) -> Path:
    every = files + kz.assemble(files)
    plan = emit.plan(every, root, Sink())
    emit.apply(plan)
    return root / "deploy" / "prod"


def _refs(obj: dict[str, Any]) -> set[str]:
    pod = obj["spec"]["template"]["spec"]
    env = {e["valueFrom"]["configMapKeyRef"]["name"] for c in pod["containers"] for e in c.get("env", [])}
    return {v["configMap"]["name"] for v in pod["volumes"]} | env


def test_config_hash_reaches_the_rollout_only_through_the_configuration(tmp_path: Path) -> None:
    env = _write(triton_files('name: "m"\n'), tmp_path / "a")
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
    before = _refs(by_kind(kustomize(_write(triton_files('name: "m"\n'), tmp_path / "a")), "Rollout")["canaried"])
    after = _refs(
        by_kind(kustomize(_write(triton_files('name: "m"\nmax_batch_size: 8\n'), tmp_path / "b")), "Rollout")[
            "canaried"
        ]
    )
    assert before != after
