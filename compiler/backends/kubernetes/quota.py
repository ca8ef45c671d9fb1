"""Whether a namespace's ResourceQuota admits the pods rendered into it (SS527).

The API server admits a pod in three steps, and refuses one the quota cannot hold: defaulting
(a container's missing request is its limit), the LimitRanger (a missing limit is the
LimitRange's ``default``, a missing request its ``defaultRequest``), then the ResourceQuota
admission, which counts the pod's ``requests.*`` and ``limits.*`` as the larger of its
containers' sum and any one init container's, and refuses a pod that leaves out a value the
quota limits. A workload whose pods do not all fit never becomes available; one that fits
with no room for a rolling update's extra pods stalls on its next change: a Deployment's
or a basic canary's ``maxSurge`` (25 % by default, rounded up), but a whole second set of
pods for an Argo Rollouts canary with ``trafficRouting``, which keeps the stable
ReplicaSet at full scale while the canary's grows with its weight, to full scale once the
steps are done, and scales the old one down only after ``scaleDownDelaySeconds``
(``dynamicStableScale`` shrinks the stable set as the canary grows: ``maxSurge`` is a fair
bound there). Counted here at the workloads' least replicas.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from compiler.backends.facts import CANARY_ROUTED
from compiler.diagnostics import Sink, Span

_SUFFIX = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(1 << 10),
    "Mi": Fraction(1 << 20),
    "Gi": Fraction(1 << 30),
    "Ti": Fraction(1 << 40),
    "Pi": Fraction(1 << 50),
    "Ei": Fraction(1 << 60),
}
_QUANTITY = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)")


def quantity(value: Any) -> Fraction | None:
    """A Kubernetes quantity (``250m``, ``2Gi``, ``1e3``, a YAML number); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Fraction(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    return _text_quantity(value)


@functools.lru_cache(maxsize=1024)  # a few distinct values ("1", "2Gi", "250m") fill every pod
def _text_quantity(value: str) -> Fraction | None:
    m = _QUANTITY.fullmatch(value.strip())
    if m is None:
        return None
    number = Fraction(m[1]) * (Fraction(10) ** int(m[2]) if m[2] else 1)
    return number * _SUFFIX[m[3]]


def _m(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _container_usage(c: Any, default: dict[str, Any], default_request: dict[str, Any]) -> dict[str, Fraction | None]:
    """``requests.R`` and ``limits.R`` of one container after defaulting and the LimitRanger
    (None: a value the container leaves out)."""
    res = _m(_m(c).get("resources"))
    limits = {str(k): v for k, v in _m(res.get("limits")).items()}
    requests = {str(k): v for k, v in _m(res.get("requests")).items()}
    for name, v in limits.items():
        requests.setdefault(name, v)  # defaulting: a request left out is the limit
    for name, v in default.items():
        limits.setdefault(str(name), v)
    for name, v in default_request.items():
        requests.setdefault(str(name), v)
    for name, v in limits.items():  # a limit the LimitRanger gave is a request too, where none was
        requests.setdefault(name, v)
    usage: dict[str, Fraction | None] = {f"requests.{k}": quantity(v) for k, v in requests.items()}
    usage.update({f"limits.{k}": quantity(v) for k, v in limits.items()})
    return usage


# The values a quota's pods must all give (the admission's constraint); any other a container
# leaves out counts as none.
_REQUIRED = frozenset({"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"})


def _pod_usage(
    pod: dict[str, Any], default: dict[str, Any], default_request: dict[str, Any], keys: Iterable[str]
) -> dict[str, Fraction | None]:
    """What the quota admission counts of each of ``keys`` for one pod (None: a container leaves
    out a value it must give, or gives one that is not a quantity)."""
    containers = [_container_usage(c, default, default_request) for c in _l(pod.get("containers"))]
    inits = [_container_usage(c, default, default_request) for c in _l(pod.get("initContainers"))]
    out: dict[str, Fraction | None] = {}
    for key in keys:
        given = [u.get(key) for u in containers if key in u or key in _REQUIRED]
        given_init = [u.get(key) for u in inits if key in u or key in _REQUIRED]
        total = [v for v in given if v is not None]
        init = [v for v in given_init if v is not None]
        if len(total) < len(given) or len(init) < len(given_init):
            out[key] = None
        else:
            out[key] = max([sum(total, Fraction(0)), *init])
    return out


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _surge(spec: dict[str, Any], replicas: int) -> int:
    """The extra pods a rolling update starts (a Deployment's or a Rollout canary's maxSurge;
    every replica again for a canary with traffic routing, the module docstring says why)."""
    strategy = _m(spec.get("strategy"))
    if strategy.get("type") == "Recreate":
        return 0
    canary = _m(strategy.get("canary"))
    if canary.get("trafficRouting") is not None and canary.get("dynamicStableScale") is not True:
        return replicas
    rolling = _m(strategy.get("rollingUpdate")) or _m(strategy.get("canary"))
    surge = rolling.get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%") and surge[:-1].isdigit():
        return math.ceil(replicas * int(surge[:-1]) / 100)
    return _count(surge, 0)


def _least(objects: list[tuple[dict[str, Any], Span]]) -> dict[Any, int]:
    """The replicas each autoscaled workload keeps at least, by name: an HPA's ``minReplicas``
    (1 by default); a KEDA ScaledObject's ``minReplicaCount``, but never fewer than the one
    pod a workload without ``replicas`` starts with."""
    least: dict[Any, int] = {}
    for d, _ in objects:
        spec = _m(d.get("spec"))
        name = _m(spec.get("scaleTargetRef")).get("name")
        if d.get("kind") == "HorizontalPodAutoscaler":
            least[name] = _count(spec.get("minReplicas"), 1)
        elif d.get("kind") == "ScaledObject":
            least[name] = max(1, _count(spec.get("minReplicaCount"), 0))
    return least


def _pods(doc: dict[str, Any], least: dict[Any, int]) -> Iterable[tuple[dict[str, Any], int, int]]:
    """(pod spec, pods, extra pods in an update) of each workload; one without ``replicas``
    (an autoscaled one) at what its autoscaler keeps at least."""
    kind, spec = doc.get("kind"), _m(doc.get("spec"))
    pod = _m(_m(spec.get("template")).get("spec"))
    if kind in ("Deployment", "Rollout"):
        name = _m(doc.get("metadata")).get("name")
        replicas = _count(spec.get("replicas"), least.get(name, 1) if isinstance(name, str) else 1)
        yield pod, replicas, _surge(spec, replicas)
    elif kind == "Job":
        yield pod, _count(spec.get("parallelism"), 1), 0
    elif kind == "PyTorchJob":
        for replica in _m(spec.get("pytorchReplicaSpecs")).values():
            r = _m(replica)
            yield _m(_m(r.get("template")).get("spec")), _count(r.get("replicas"), 1), 0


# The kinds ``verify_quota`` reads anything but the kind of.
_READ = (
    "ResourceQuota",
    "LimitRange",
    "HorizontalPodAutoscaler",
    "ScaledObject",
    "Deployment",
    "Rollout",
    "Job",
    "PyTorchJob",
)


def quota_view(doc: dict[str, Any]) -> dict[str, Any]:
    """All ``verify_quota`` reads of a document, in a document's shape (``verify_quota`` on
    views decides as on the documents), and nothing else: a watching build compares a changed
    file's views with the last step's, and a namespace's quota is checked again only where
    they differ (``policy.verify_objects``). Values are the document's own, odd types included."""
    kind = doc.get("kind")
    if kind not in _READ:
        return {}
    spec = _m(doc.get("spec"))
    kept = _pick(spec, "hard", "limits", "scaleTargetRef", "minReplicas", "minReplicaCount", "replicas", "parallelism")
    strategy = _m(spec.get("strategy"))
    # As ``_surge`` takes it: the type, whether a canary is routed, and the maxSurge of
    # whichever of the two it reads.
    rolling = _m(strategy.get("rollingUpdate")) or _m(strategy.get("canary"))
    kept["strategy"] = {
        **_pick(strategy, "type"),
        "rollingUpdate": _pick(rolling, "maxSurge"),
        "canary": _pick(strategy.get("canary"), *CANARY_ROUTED),
    }
    kept["template"] = _pod_view(spec.get("template"))
    if "pytorchReplicaSpecs" in spec:
        kept["pytorchReplicaSpecs"] = {
            name: {**_pick(r, "replicas"), "template": _pod_view(_m(r).get("template"))}
            for name, r in _m(spec["pytorchReplicaSpecs"]).items()
        }
    return {"kind": kind, "metadata": _pick(doc.get("metadata"), "name"), "spec": kept}


def _pod_view(template: Any) -> dict[str, Any]:
    pod = _m(_m(template).get("spec"))
    return {
        "spec": {key: [_pick(c, "resources") for c in _l(pod.get(key))] for key in ("containers", "initContainers")}
    }


def _pick(d: Any, *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys if k in d} if isinstance(d, dict) else {}


def _show(key: str, v: Fraction) -> str:
    if key.endswith(".memory") and v.denominator == 1 and v >= 1 << 20:
        return f"{float(v / (1 << 30)):g}Gi"
    return f"{float(v):g}"


# What ``verify_quota`` counted of each pod, by the pod's id: the pod (so that its id is not
# reused meanwhile), the defaults and keys it was counted under (their repr), its usage.
Usages = dict[int, tuple[dict[str, Any], str, dict[str, Fraction | None]]]


def verify_quota(
    ns: str,
    objects: list[tuple[dict[str, Any], Span]],
    sink: Sink,
    usages: tuple[Usages, Usages] | None = None,
    on: str = "",
) -> None:
    """SS527 for each ResourceQuota of ``ns`` that cannot admit the namespace's pods (``on``:
    the namespace's cluster, where the diagnostic must name it).

    With ``usages`` (what an earlier call counted, and where this one puts what it counts: a
    watching build's, ``policy.verify_objects``), a pod counted before (the same object)
    under the same defaults and keys is not counted again: after one model's edit, most of a
    namespace's pods are."""
    quotas = [(d, span) for d, span in objects if d.get("kind") == "ResourceQuota"]
    if not quotas:
        return
    default: dict[str, Any] = {}
    default_request: dict[str, Any] = {}
    for d, _ in objects:
        if d.get("kind") == "LimitRange":
            for item in _l(_m(d.get("spec")).get("limits")):
                if _m(item).get("type") == "Container":
                    default.update(_m(_m(item).get("default")))
                    default_request.update(_m(_m(item).get("defaultRequest")))
    limited = []
    for quota, span in quotas:
        hards = []
        for key, limit in sorted(_m(_m(quota.get("spec")).get("hard")).items(), key=lambda kv: str(kv[0])):
            hard = quantity(limit)
            if isinstance(key, str) and key in ("cpu", "memory"):
                key = f"requests.{key}"  # a bare name is the request
            if hard is not None and isinstance(key, str) and key.startswith(("requests.", "limits.")):
                hards.append((key, hard))
        limited.append((_m(quota.get("metadata")).get("name"), span, hards))
    keys = sorted({key for _, _, hards in limited for key, _ in hards})
    least = _least(objects)
    known, made = usages if usages is not None else ({}, None)
    under = repr((default, default_request, keys)) if usages is not None else ""
    # Each workload's pods read once for every key a quota limits.
    workloads = []
    for doc, _ in objects:
        for pod, replicas, extra in _pods(doc, least):
            hit = known.get(id(pod))
            if hit is not None and hit[0] is pod and hit[1] == under:
                usage = hit[2]
            else:
                usage = _pod_usage(pod, default, default_request, keys)
            if made is not None:
                made[id(pod)] = (pod, under, usage)
            workloads.append((f"{doc.get('kind')} {_m(doc.get('metadata')).get('name')}", replicas, extra, usage))
    for name, span, hards in limited:
        for key, hard in hards:
            used, surge = Fraction(0), Fraction(0)
            for what, replicas, extra, usage in workloads:
                each = usage[key]
                if each is None:
                    sink.report(
                        "SS527",
                        f"namespace {ns}{on}: ResourceQuota {name} limits {key}, which {what} leaves out: "
                        "the API server refuses its pods",
                        span,
                        hint="give the containers that value, or a LimitRange default for it",
                    )
                    continue
                used += each * replicas
                surge = max(surge, each * extra)
            if used > hard:
                sink.report(
                    "SS527",
                    f"namespace {ns}{on}: its pods need {key} {_show(key, used)} but ResourceQuota {name} allows "
                    f"{_show(key, hard)}: the API server refuses the pods past it",
                    span,
                    hint="raise the environment's quota { … }, or serve fewer or smaller models there",
                )
            elif used + surge > hard:
                sink.report(
                    "SS527",
                    f"namespace {ns}{on}: its pods need {key} {_show(key, used)} and a rolling update "
                    f"{_show(key, surge)} more, but ResourceQuota {name} allows {_show(key, hard)}: "
                    "the next change of the largest workload stalls",
                    span,
                    hint="raise the environment's quota { … }, or serve fewer or smaller models there",
                )
