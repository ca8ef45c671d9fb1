"""Every golden Application syncs to the end of its last wave, as Argo CD syncs it.

What the programs do, as read upstream:

- Argo CD (gitops-engine ``pkg/sync``) applies an Application's objects one sync wave at a
  time (``argocd.argoproj.io/sync-wave``, 0 when absent) and applies the next wave only once
  every object of the last one is healthy; an object that never gets there holds the sync
  ("waiting for healthy state of ...") for ever.
- Its health of a PersistentVolumeClaim (``pkg/health/health_pvc.go``) is Progressing while
  the claim is Pending. A claim of a ``WaitForFirstConsumer`` class (the default of many
  clusters' classes) stays Pending until a pod that mounts it is scheduled; the claims
  rendered name a class the spec chose, so the worst case is assumed.
- A pod whose claim does not exist is not scheduled, so the workload it belongs to stays
  Progressing (Job, Deployment, Rollout and PyTorchJob alike).

So a claim must be applied in the wave of the workloads that mount it: before them, the
sync waits for a claim that waits for them; after them, they wait for a claim the sync will
not apply. The check below plays the waves out with those rules.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

import pytest
import yaml

from tests.support.golden import GOLDEN

WAVE = "argocd.argoproj.io/sync-wave"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "expected" / "deploy" / "argocd").is_dir())

Object = dict[str, Any]


def _pod_templates(obj: Object) -> list[Object]:
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind in ("Deployment", "Rollout", "StatefulSet", "DaemonSet", "Job"):
        return [spec["template"]] if "template" in spec else []
    if kind == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]]
    if kind == "PyTorchJob":
        return [r["template"] for r in spec.get("pytorchReplicaSpecs", {}).values()]
    return []


def _claims(obj: Object) -> set[str]:
    return {
        v["persistentVolumeClaim"]["claimName"]
        for t in _pod_templates(obj)
        for v in t.get("spec", {}).get("volumes", [])
        if "persistentVolumeClaim" in v
    }


def _wave(obj: Object) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(WAVE, "0"))


def stuck_at(objects: list[Object]) -> tuple[int, list[str]] | None:
    """Where Argo CD's sync of ``objects`` would wait for ever: the wave and what in it never
    gets healthy (None: every wave completes)."""
    waves: dict[int, list[Object]] = defaultdict(list)
    for obj in objects:
        waves[_wave(obj)].append(obj)
    applied: list[Object] = []
    for wave in sorted(waves):
        applied += waves[wave]
        claims = {o["metadata"]["name"] for o in applied if o["kind"] == "PersistentVolumeClaim"}
        mounted = {c for o in applied for c in _claims(o)}
        never = [
            f"{o['kind']}/{o['metadata']['name']}"
            for o in waves[wave]
            if (o["kind"] == "PersistentVolumeClaim" and o["metadata"]["name"] not in mounted)
            or not _claims(o) <= claims
        ]
        if never:
            return wave, never
    return None


def _applications(case: str) -> list[tuple[str, list[Object]]]:
    expected = GOLDEN / case / "expected"
    found = []
    for path in sorted((expected / "deploy" / "argocd").glob("application-*.yaml")):
        app = yaml.safe_load(path.read_text())
        objects = [
            doc
            for file in sorted((expected / app["spec"]["source"]["path"]).rglob("*.yaml"))
            for doc in yaml.safe_load_all(file.read_text())
            if isinstance(doc, dict) and "metadata" in doc and doc.get("kind") != "Kustomization"
        ]
        found.append((app["metadata"]["name"], objects))
    return found


APPS = [(case, name, objects) for case in CASES for name, objects in _applications(case)]


def test_some_golden_application_mounts_a_claim() -> None:
    assert any(_claims(o) for _, _, objects in APPS for o in objects), "nothing below would be exercised"


@pytest.mark.parametrize(("case", "name", "objects"), APPS, ids=[f"{c}-{n}" for c, n, _ in APPS])
def test_every_wave_of_every_application_completes(case: str, name: str, objects: list[Object]) -> None:
    assert stuck_at(objects) is None


def test_a_claim_a_wave_early_or_late_holds_the_sync() -> None:
    """The rules themselves: the claim one wave before its job (as rendered before) waits for
    the job; one wave after it, the job waits for the claim."""
    objects = next(objs for _, _, objs in APPS if any(_claims(o) for o in objs))
    claim = next(o for o in objects if o["kind"] == "PersistentVolumeClaim")
    (consumer,) = [f"{o['kind']}/{o['metadata']['name']}" for o in objects if claim["metadata"]["name"] in _claims(o)]
    for shift, waiting in ((-1, f"PersistentVolumeClaim/{claim['metadata']['name']}"), (1, consumer)):
        moved = copy.deepcopy(objects)
        other = next(o for o in moved if o["metadata"]["name"] == claim["metadata"]["name"])
        other["metadata"].setdefault("annotations", {})[WAVE] = str(_wave(claim) + shift)
        found = stuck_at(moved)
        assert found is not None
        assert found[1] == [waiting], found
