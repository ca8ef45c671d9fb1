"""Kubernetes policy: what the spec must satisfy to render valid, safe objects,
and what the rendered objects must carry whatever the templates say.

``check_kubernetes`` runs with the other checks (``shipspec validate``): values
that become Kubernetes names, labels, namespaces and env var names must be
valid there; secret references must name a store; artifacts must be fetchable;
and a Triton version must have a known container image.

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
from compiler.targets import kubernetes as kc
from compiler.diagnostics import Sink, Span

_FETCHABLE = ("s3", "gs", "https", "http")


def check_kubernetes(spec: ir.Spec, sink: Sink) -> None:
    """Spec values that end up in Kubernetes objects are valid there.

    Failing: ``namespace "ML Prod"``, two environments in one namespace of one cluster, ``node_selector "gpu type" = "a b"``,
    ``env DB = secret "My Vault:db"``, ``artifact "ftp://host/m.onnx"``. Passing: ``namespace "ml-prod"``,
    ``env DB = secret "vault:ml/db#password"``, ``artifact "s3://bucket/m.onnx"``.
    """
    for env in spec.environments:
        span = env.spans.get("namespace", env.span)
        if env.namespace is not None and not kc.is_dns_label(env.namespace):
            sink.report("SS224", f"namespace {env.namespace!r} is not a valid Kubernetes namespace", span,
                        hint="use lower-case letters, digits and '-', at most 63 characters")
        if env.gateway is not None and not kc.is_dns_label(env.gateway):
            sink.report("SS224", f"gateway {env.gateway!r} must be the gateway's namespace name",
                        env.spans.get("gateway", env.span))
        for key, value in env.node_selector:
            if not kc.is_label_key(key) or not kc.is_label_value(value):
                sink.report("SS221", f"node_selector {key!r} = {value!r} is not a valid Kubernetes label",
                            env.spans.get("node_selector", env.span))
        for key in env.tolerations:
            if not kc.is_label_key(key):
                sink.report("SS221", f"toleration {key!r} is not a valid taint key",
                            env.spans.get("toleration", env.span))
    _check_shared_namespaces(spec, sink)
    for model in spec.models:
        _check_env(model.env, sink)
        # Every artifact, not only of served models: an ensemble's pod fetches its members' too.
        if model.format not in (None, ir.ModelFormat.ENSEMBLE) and model.artifact:
            scheme = model.artifact.split("://", 1)[0] if "://" in model.artifact else ""
            if scheme not in _FETCHABLE:
                sink.report("SS226", f"artifact {model.artifact!r} cannot be fetched into the model repository",
                            model.spans.get("artifact", model.span),
                            hint="use an s3://, gs:// or https:// URI")
    for t in spec.trainings:
        _check_env(t.env, sink)
    project = spec.project
    if project is not None and kc.triton_release(project.triton_version) is None:
        sink.report("SS732", f"no Triton container image is known for server version {project.triton_version!r}",
                    project.spans.get("triton_version", project.span),
                    hint=f"pin a 2.MINOR.PATCH version with MINOR from {kc.TRITON_MINOR_MIN} to {kc.TRITON_MINOR_MAX}")
    _check_shadow(spec, sink)


def _check_shared_namespaces(spec: ir.Spec, sink: Sink) -> None:
    """Two environments in one namespace of one cluster would render the same
    Namespace (and object names) into two Argo CD Applications that fight."""
    seen: dict[tuple[str | None, str], ir.Environment] = {}
    for env in spec.environments:
        if env.tier is None:
            continue
        key = (env.cluster, kc.namespace(env))
        first = seen.setdefault(key, env)
        if first is not env:
            sink.report("SS225", f"environments '{first.name}' and '{env.name}' share namespace {key[1]!r}"
                        + (f" on cluster {env.cluster!r}" if env.cluster else ""),
                        env.spans.get("namespace", env.span), hint="give each environment its own namespace")


def _check_env(env: Iterable[ir.EnvVar], sink: Sink) -> None:
    for var in env:
        if not kc.ENV_NAME.match(var.name):
            sink.report("SS222", f"{var.name!r} is not a valid environment variable name", var.span)
        ref = var.value.ref if isinstance(var.value, ir.SecretRef) else None
        # Lowering already reports a reference with no store separator at all (SS204).
        if ref and ":" in ref and kc.parse_secret(ref) is None:
            sink.report("SS223", f"secret reference {ref!r} is not STORE:KEY#PROPERTY with a store name "
                        "Kubernetes accepts", var.value.span, hint='e.g. secret "vault:ml/fraud#db"')


def _check_shadow(spec: ir.Spec, sink: Sink) -> None:
    for env in spec.environments:
        if env.shadow is None or env.tier is not ir.Tier.PREPROD:
            continue
        both = [m for m in spec.models
                if {env.name, env.shadow.source.name} <= {r.name for r in m.serve_in}]
        if not both:
            sink.report("SS620", f"'{env.name}' shadows '{env.shadow.source.name}' but no model is served in both",
                        env.shadow.span)


# --- rendered objects ---------------------------------------------------------------------------

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
            _verify_production(kc.namespace(env), by_ns.get(kc.namespace(env), []), sink)


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

    if not any(((d.get("spec") or {}).get("podSelector") or {}) == {} and "Ingress" in
               ((d.get("spec") or {}).get("policyTypes") or []) for d in of("NetworkPolicy")):
        span = objects[0][1] if objects else Span.point("<spec>")
        sink.report("SS523", f"production namespace {ns}: no default-deny ingress NetworkPolicy", span)
    budgets = _Selecting(match_labels(p, "selector") for p in of("PodDisruptionBudget"))
    own_policies = _Selecting(match_labels(p, "podSelector") for p in of("NetworkPolicy")
                              if ((p.get("spec") or {}).get("podSelector") or {}) != {})
    hpas_of: dict[Any, list[dict[str, Any]]] = {}
    for h in of("HorizontalPodAutoscaler"):
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
