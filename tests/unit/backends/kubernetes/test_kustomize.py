"""kustomization.yaml assembly without kubectl: generators land in the pods' namespace (what
``kubectl kustomize`` makes of it is tests/live/test_kustomize.py)."""

from __future__ import annotations

import yaml

from compiler.backends.kubernetes import kustomize as kz
from tests.support.k8s_support import triton_files


def test_assembled_kustomization_names_generators_in_the_pods_namespace() -> None:
    out = {f.path: f for f in kz.assemble(triton_files('name: "m"\n'))}
    doc = yaml.safe_load(out["deploy/prod/kustomization.yaml"].text)
    assert doc["configurations"] == [kz.ROLLOUT_CONFIG]
    assert doc["configMapGenerator"][0] == {
        "name": "canaried-triton-config",
        "namespace": "ml-prod",
        "files": ["config.pbtxt=triton/canaried/config.pbtxt"],
    }
    assert "deploy/prod/kustomizeconfig/rollout.yaml" in out
    assert "kustomizeconfig/rollout.yaml" not in doc["resources"]
