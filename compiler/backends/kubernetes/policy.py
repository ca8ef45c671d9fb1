"""What the rendered Kubernetes objects must carry, whatever the templates say.

``verify_objects`` runs on the rendered objects (so a ``--templates`` override
cannot quietly drop them): every pod runs non-root with a read-only root
filesystem, all capabilities dropped and the RuntimeDefault seccomp profile,
without a service account token; secrets arrive only through secretKeyRef; and
every production workload has a PodDisruptionBudget, zone spread, a
NetworkPolicy, an HPA of at least two replicas and a default-deny namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from compiler import ir
from compiler.diagnostics import Sink, Span
from compiler.resolve import namespace

_WORKLOADS = ("Deployment", "Rollout", "Job")


def _pod_specs(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind in _WORKLOADS:
        yield (spec.get("template") or {}).get("spec") or {}
    elif kind == "PyTorchJob":
        for replica in (spec.get("pytorchReplicaSpecs") or {}).values():
            yield ((replica or {}).get("template") or {}).get("spec") or {}


def _pod_problems(pod: dict[str, Any], secrets: set[str]) -> Iterator[str]:
    sec = pod.get("securityContext") or {}
    if sec.get("runAsNonRoot") is not True:
        yield "pod securityContext.runAsNonRoot is not true"
    if (sec.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        yield "pod seccompProfile is not RuntimeDefault"
    if pod.get("automountServiceAccountToken") is not False:
        yield "the service account token is mounted"
    for c in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        name = c.get("name", "?")
        cs = c.get("securityContext") or {}
        if cs.get("readOnlyRootFilesystem") is not True:
            yield f"container {name}: root filesystem is writable"
        if cs.get("allowPrivilegeEscalation") is not False:
            yield f"container {name}: privilege escalation is allowed"
        if "ALL" not in ((cs.get("capabilities") or {}).get("drop") or []):
            yield f"container {name}: capabilities are not all dropped"
        for var in c.get("env") or []:
            if var.get("name") in secrets and "secretKeyRef" not in (var.get("valueFrom") or {}):
                yield f"container {name}: secret {var.get('name')} is not a secretKeyRef"


def _secret_names(spec: ir.Spec) -> set[str]:
    envs = [v for m in spec.models for v in m.env] + [v for t in spec.trainings for v in t.env]
    return {v.name for v in envs if isinstance(v.value, ir.SecretRef)}


def facts(doc: Any) -> Any:
    """What of a rendered object this module and the kustomization read (kind, apiVersion,
    name, namespace, the pod settings above, selectors and scaling targets), and nothing
    else: the render-unit memo keeps this instead of whole documents (issue 16: loading
    whole documents was 95 % of loading the memo). Values are copied as found, odd types
    included, so the checks decide the same on this as on the document
    (tests/unit/backends/kubernetes/test_policy_facts.py)."""
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
    kept = _pick(spec, "podSelector", "policyTypes", "selector", "scaleTargetRef", "minReplicas", "minReplicaCount")
    if "template" in spec:
        kept["template"] = _template(spec["template"])
    if "pytorchReplicaSpecs" in spec:
        replicas = spec["pytorchReplicaSpecs"]
        kept["pytorchReplicaSpecs"] = (
            {
                name: ({"template": _template(r["template"])} if "template" in r else {}) if isinstance(r, dict) else r
                for name, r in replicas.items()
            }
            if isinstance(replicas, dict)
            else replicas
        )
    out["spec"] = kept
    return out


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
    kept = _pick(c, "name", "securityContext")
    if "env" in c:
        env = c["env"]
        if isinstance(env, list):
            env = [_pick(v, "name", "valueFrom") if isinstance(v, dict) else v for v in env]
        kept["env"] = env
    return kept


def verify_objects(spec: ir.Spec, files: Iterable[Any], sink: Sink) -> None:
    """Refuse rendered objects that lack the settings the module docstring lists."""
    secrets = _secret_names(spec)
    by_ns: dict[str, list[tuple[dict[str, Any], Span]]] = {}
    for f in files:
        for doc in f.documents:
            name = f"{doc.get('kind')} {(doc.get('metadata') or {}).get('name')}"
            for pod in _pod_specs(doc):
                for problem in _pod_problems(pod, secrets):
                    sink.report("SS522", f"{f.path}: {name}: {problem}", f.source)
            ns = (doc.get("metadata") or {}).get("namespace")
            if isinstance(ns, str):
                by_ns.setdefault(ns, []).append((doc, f.source))
    for env in spec.environments:
        if env.tier is ir.Tier.PRODUCTION:
            _verify_production(namespace(env), by_ns.get(namespace(env), []), sink)


class _Selecting:
    """Policies' ``matchLabels`` selectors, indexed by one of their labels, so
    finding whether any selects a pod does not test every policy (per production
    namespace of 1,000 models: a million tests)."""

    def __init__(self, selectors: Iterable[Any]) -> None:
        self.everything = False
        self.by_label: dict[tuple[Any, Any], list[dict[Any, Any]]] = {}
        self.others: list[dict[Any, Any]] = []
        for match in selectors:
            if not match:
                self.everything = True
                continue
            first = next(iter(match.items()))
            try:
                self.by_label.setdefault(first, []).append(match)
            except TypeError:  # an unhashable value: tested the slow way
                self.others.append(match)

    def any_selects(self, labels: dict[Any, Any]) -> bool:
        if self.everything:
            return True
        candidates = list(self.others)
        for item in labels.items():
            try:
                candidates.extend(self.by_label.get(item, ()))
            except TypeError:
                candidates.extend(m for ms in self.by_label.values() for m in ms)
        return any(all(labels.get(k) == v for k, v in m.items()) for m in candidates)


def _verify_production(ns: str, objects: list[tuple[dict[str, Any], Span]], sink: Sink) -> None:
    by_kind: dict[Any, list[dict[str, Any]]] = {}
    for d, _ in objects:
        by_kind.setdefault(d.get("kind"), []).append(d)

    def of(kind: str) -> list[dict[str, Any]]:
        return by_kind.get(kind, [])

    def match_labels(policy: dict[str, Any], key: str) -> Any:
        return ((policy.get("spec") or {}).get(key) or {}).get("matchLabels") or {}

    if not any(
        ((d.get("spec") or {}).get("podSelector") or {}) == {}
        and "Ingress" in ((d.get("spec") or {}).get("policyTypes") or [])
        for d in of("NetworkPolicy")
    ):
        span = objects[0][1] if objects else Span.point("<spec>")
        sink.report("SS523", f"production namespace {ns}: no default-deny ingress NetworkPolicy", span)
    budgets = _Selecting(match_labels(p, "selector") for p in of("PodDisruptionBudget"))
    own_policies = _Selecting(
        match_labels(p, "podSelector")
        for p in of("NetworkPolicy")
        if ((p.get("spec") or {}).get("podSelector") or {}) != {}
    )
    hpas_of: dict[Any, list[dict[str, Any]]] = {}
    # A KEDA ScaledObject creates (and owns) the HPA: its minReplicaCount counts as one.
    scalers = [
        *of("HorizontalPodAutoscaler"),
        *(
            {"spec": {**(d.get("spec") or {}), "minReplicas": (d.get("spec") or {}).get("minReplicaCount")}}
            for d in of("ScaledObject")
        ),
    ]
    for h in scalers:
        target = ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("name")
        try:
            hpas_of.setdefault(target, []).append(h)
        except TypeError:
            continue  # an unhashable name matches no object's name
    for doc, span in objects:
        if doc.get("kind") not in ("Deployment", "Rollout"):
            continue
        name = (doc.get("metadata") or {}).get("name")
        spec = doc.get("spec") or {}
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        missing = []
        if not budgets.any_selects(labels):
            missing.append("a PodDisruptionBudget")
        if not own_policies.any_selects(labels):
            missing.append("a NetworkPolicy of its own")
        spread = (template.get("spec") or {}).get("topologySpreadConstraints") or []
        if not any(c.get("topologyKey") == "topology.kubernetes.io/zone" for c in spread):
            missing.append("zone topology spread")
        try:
            hpas = hpas_of.get(name, [])
        except TypeError:
            hpas = []
        if not any(((h.get("spec") or {}).get("minReplicas") or 1) >= 2 for h in hpas):
            missing.append("an HPA with at least 2 replicas")
        for what in missing:
            sink.report("SS523", f"production {doc.get('kind')} {ns}/{name} lacks {what}", span)
