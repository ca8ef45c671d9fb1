"""What the rendered Kubernetes objects must carry, whatever the templates say.

``verify_objects`` runs on the rendered objects (so a ``--templates`` override
cannot quietly drop them): every pod runs non-root with a read-only root
filesystem, all capabilities dropped and the RuntimeDefault seccomp profile,
without a service account token; secrets arrive only through secretKeyRef; and
every production workload has a PodDisruptionBudget, zone spread, a
NetworkPolicy, an HPA of at least two replicas and a default-deny namespace; and
a namespace's ResourceQuota admits its pods (``quota.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from compiler import ir
from compiler.backends.kubernetes.quota import verify_quota
from compiler.diagnostics import Sink, Span
from compiler.resolve import namespace

_WORKLOADS = ("Deployment", "Rollout", "Job")
# The kinds ``_pod_specs`` finds pods in; a tuple: an override template may render an unhashable kind.
_WITH_PODS = (*_WORKLOADS, "PyTorchJob")


def _m(value: Any) -> dict[Any, Any]:
    """A mapping as read, or an empty one for anything else: an override template can
    render any shape, and schema validation reports the wrong type (SS802), not a crash."""
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pod_specs(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind, spec = doc.get("kind"), _m(doc.get("spec"))
    if kind in _WORKLOADS:
        yield _m(_m(spec.get("template")).get("spec"))
    elif kind == "PyTorchJob":
        for replica in _m(spec.get("pytorchReplicaSpecs")).values():
            yield _m(_m(_m(replica).get("template")).get("spec"))


def _pod_problems(pod: dict[str, Any], secrets: set[str]) -> Iterator[str]:
    sec = _m(pod.get("securityContext"))
    if sec.get("runAsNonRoot") is not True:
        yield "pod securityContext.runAsNonRoot is not true"
    if _m(sec.get("seccompProfile")).get("type") != "RuntimeDefault":
        yield "pod seccompProfile is not RuntimeDefault"
    if pod.get("automountServiceAccountToken") is not False:
        yield "the service account token is mounted"
    for c in [*_l(pod.get("initContainers")), *_l(pod.get("containers"))]:
        c = _m(c)
        name = c.get("name", "?")
        cs = _m(c.get("securityContext"))
        if cs.get("readOnlyRootFilesystem") is not True:
            yield f"container {name}: root filesystem is writable"
        if cs.get("allowPrivilegeEscalation") is not False:
            yield f"container {name}: privilege escalation is allowed"
        if "ALL" not in _l(_m(cs.get("capabilities")).get("drop")):
            yield f"container {name}: capabilities are not all dropped"
        for var in _l(c.get("env")):
            var = _m(var)
            env_name = var.get("name")
            if isinstance(env_name, str) and env_name in secrets and "secretKeyRef" not in _m(var.get("valueFrom")):
                yield f"container {name}: secret {env_name} is not a secretKeyRef"


def _secret_names(spec: ir.Spec) -> set[str]:
    envs = [v for m in spec.models for v in m.env] + [v for t in spec.trainings for v in t.env]
    return {v.name for v in envs if isinstance(v.value, ir.SecretRef)}


def verify_objects(spec: ir.Spec, files: Iterable[Any], sink: Sink) -> None:
    """Refuse rendered objects that lack the settings the module docstring lists."""
    secrets = _secret_names(spec)
    by_ns: dict[str, list[tuple[dict[str, Any], Span]]] = {}
    for f in files:
        for doc in f.documents:
            meta = _m(doc.get("metadata"))
            if doc.get("kind") in _WITH_PODS:  # a tenth of the documents: the rest make no generator
                for pod in _pod_specs(doc):
                    for problem in _pod_problems(pod, secrets):
                        name = f"{doc.get('kind')} {meta.get('name')}"
                        sink.report("SS522", f"{f.path}: {name}: {problem}", f.source)
            ns = meta.get("namespace")
            if isinstance(ns, str):
                by_ns.setdefault(ns, []).append((doc, f.source))
    for env in spec.environments:
        if env.tier is ir.Tier.PRODUCTION:
            _verify_production(namespace(env), by_ns.get(namespace(env), []), sink)
    for ns, objects in sorted(by_ns.items()):
        verify_quota(ns, objects, sink)


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
        kind = d.get("kind")
        if isinstance(kind, str):
            by_kind.setdefault(kind, []).append(d)

    def of(kind: str) -> list[dict[str, Any]]:
        return by_kind.get(kind, [])

    def match_labels(policy: dict[str, Any], key: str) -> dict[Any, Any]:
        return _m(_m(_m(policy.get("spec")).get(key)).get("matchLabels"))

    if not any(
        _m(d.get("spec")).get("podSelector") in ({}, None) and "Ingress" in _l(_m(d.get("spec")).get("policyTypes"))
        for d in of("NetworkPolicy")
    ):
        span = objects[0][1] if objects else Span.point("<spec>")
        sink.report("SS523", f"production namespace {ns}: no default-deny ingress NetworkPolicy", span)
    budgets = _Selecting(match_labels(p, "selector") for p in of("PodDisruptionBudget"))
    own_policies = _Selecting(
        match_labels(p, "podSelector") for p in of("NetworkPolicy") if _m(_m(p.get("spec")).get("podSelector"))
    )
    hpas_of: dict[Any, list[Any]] = {}
    # A KEDA ScaledObject creates (and owns) the HPA: its minReplicaCount counts as one.
    scalers = [(_m(h.get("spec")), "minReplicas") for h in of("HorizontalPodAutoscaler")]
    scalers += [(_m(d.get("spec")), "minReplicaCount") for d in of("ScaledObject")]
    for scaler, field in scalers:
        target, least = scaler.get("scaleTargetRef"), scaler.get(field)
        name = _m(target).get("name")
        if isinstance(name, str):
            hpas_of.setdefault(name, []).append(least)
    for doc, span in objects:
        if doc.get("kind") not in ("Deployment", "Rollout"):
            continue
        name = _m(doc.get("metadata")).get("name")
        template = _m(_m(doc.get("spec")).get("template"))
        labels = _m(_m(template.get("metadata")).get("labels"))
        missing = []
        if not budgets.any_selects(labels):
            missing.append("a PodDisruptionBudget")
        if not own_policies.any_selects(labels):
            missing.append("a NetworkPolicy of its own")
        spread = _l(_m(template.get("spec")).get("topologySpreadConstraints"))
        if not any(_m(c).get("topologyKey") == "topology.kubernetes.io/zone" for c in spread):
            missing.append("zone topology spread")
        least = hpas_of.get(name, []) if isinstance(name, str) else []
        if not any(_at_least_two(n) for n in least):
            missing.append("an HPA with at least 2 replicas")
        for what in missing:
            sink.report("SS523", f"production {doc.get('kind')} {ns}/{name} lacks {what}", span)


def _at_least_two(replicas: Any) -> bool:
    """An HPA's minReplicas (absent or null: Kubernetes' default, 1)."""
    return isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 2
