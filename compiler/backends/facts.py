"""The facts of a rendered Kubernetes object: what the render-unit memo keeps of it.

Kept apart from the Kubernetes backend because the memo (shared by every backend)
cuts each unit's documents down to these once they are validated. They must hold
everything ``kubernetes/policy.py`` and ``kubernetes/kustomize.py`` read; a reader
that wants more must add it here (tests/unit/backends/kubernetes/test_policy_facts.py
compares the two readers' results on facts and on whole documents).
"""

from __future__ import annotations

from typing import Any

# What of a Rollout's canary decides whether it keeps a whole second set of pods in an update
# (``kubernetes.quota._surge``).
CANARY_ROUTED = ("trafficRouting", "dynamicStableScale")


def facts(doc: Any) -> Any:
    """What of a rendered object the policy checks (``kubernetes/policy.py``) and the
    kustomization read (kind, apiVersion, name, namespace, pod security settings, env
    names, labels, spread, selectors and scaling targets, and what the quota admission
    counts: resources, replicas, update strategy, quotas and limit ranges), and nothing else (issue 16:
    loading whole documents was 95 % of loading the memo). Values are copied as found,
    odd types included, so the checks decide the same on this as on the document."""
    if not isinstance(doc, dict):
        return doc
    out: dict[str, Any] = _pick(doc, "kind", "apiVersion")
    meta = doc.get("metadata")
    if "metadata" in doc:
        out["metadata"] = _pick(meta, "name", "namespace") if isinstance(meta, dict) else meta
    if "spec" not in doc:
        return out
    spec = doc["spec"]
    if not isinstance(spec, dict):
        out["spec"] = spec
        return out
    kept = _pick(
        spec,
        "podSelector",
        "policyTypes",
        "selector",
        "scaleTargetRef",
        "minReplicas",
        "minReplicaCount",
        # What the quota admission counts (kubernetes/quota.py).
        "replicas",
        "parallelism",
        "hard",
        "limits",
    )
    if "strategy" in spec:
        kept["strategy"] = _strategy(spec["strategy"])
    if "template" in spec:
        kept["template"] = _template(spec["template"])
    if "pytorchReplicaSpecs" in spec:
        replicas = spec["pytorchReplicaSpecs"]
        kept["pytorchReplicaSpecs"] = (
            {
                name: (
                    {**_pick(r, "replicas"), **({"template": _template(r["template"])} if "template" in r else {})}
                    if isinstance(r, dict)
                    else r
                )
                for name, r in replicas.items()
            }
            if isinstance(replicas, dict)
            else replicas
        )
    out["spec"] = kept
    return out


def _strategy(strategy: Any) -> Any:
    """Of an update strategy, what a rolling update adds: its type and maxSurge, and whether a
    Rollout's canary is routed (``CANARY_ROUTED``; its steps are most of a Rollout's document)."""
    if not isinstance(strategy, dict):
        return strategy
    kept = _pick(strategy, "type")
    for key, read in (("rollingUpdate", ("maxSurge",)), ("canary", ("maxSurge", *CANARY_ROUTED))):
        if key in strategy:
            kept[key] = _pick(strategy[key], *read) if isinstance(strategy[key], dict) else strategy[key]
    return kept


def _pick(d: Any, *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys if k in d} if isinstance(d, dict) else {}


def _template(template: Any) -> Any:
    if not isinstance(template, dict):
        return template
    out = {}
    if "metadata" in template:
        meta = template["metadata"]
        out["metadata"] = _pick(meta, "labels") if isinstance(meta, dict) else meta
    if "spec" in template:
        pod = template["spec"]
        if isinstance(pod, dict):
            kept = _pick(pod, "securityContext", "automountServiceAccountToken", "topologySpreadConstraints")
            for key in ("initContainers", "containers"):
                if key in pod:
                    kept[key] = [_container(c) for c in pod[key]] if isinstance(pod[key], list) else pod[key]
            out["spec"] = kept
        else:
            out["spec"] = pod
    return out


def _container(c: Any) -> Any:
    if not isinstance(c, dict):
        return c
    kept = _pick(c, "name", "securityContext", "resources")
    if "env" in c:
        env = c["env"]
        if isinstance(env, list):
            env = [_pick(v, "name", "valueFrom") if isinstance(v, dict) else v for v in env]
        kept["env"] = env
    return kept


def summary(documents: Any) -> tuple[int, bool, str | None]:
    """What a kustomization reads of a file's documents (``kubernetes/kustomize.py``): how many
    there are, whether one is an Argo Rollout, and the name the first Namespace gives (None:
    none). The memo keeps it beside the facts it keeps apart (``output.FactsAt``), so that
    listing a directory's files reads no file's facts."""
    rollout, namespace = False, None
    for d in documents:  # one pass for both kinds asked about
        if not isinstance(d, dict):
            continue
        kind = d.get("kind")
        if kind == "Rollout" and d.get("apiVersion") == "argoproj.io/v1alpha1":
            rollout = True
        elif kind == "Namespace" and d.get("apiVersion") == "v1" and namespace is None:
            meta = d.get("metadata")
            namespace = str(meta.get("name") if isinstance(meta, dict) else None)
    return len(documents), rollout, namespace
