"""What the rendered Kubernetes objects must carry, whatever the templates say.

``verify_objects`` runs on the rendered objects (so a ``--templates`` override
cannot quietly drop them): every pod runs non-root with a read-only root
filesystem, all capabilities dropped and the RuntimeDefault seccomp profile,
without a service account token; secrets arrive only through secretKeyRef; and
every production workload has a PodDisruptionBudget, zone spread, a
NetworkPolicy, an HPA of at least two replicas and a default-deny namespace; and
a namespace's ResourceQuota admits its pods (``quota.py``).

A namespace is a namespace of one cluster: the objects under ``deploy/<env>/`` go to the
environment's cluster (its Argo CD Application's destination), so two environments whose
namespaces share a name on two clusters (``ml-prod`` on ``prod-eu-1`` and on ``stg-eu-1``)
are two places, each with its own quota and its own production verdict. Counted as one
name, a staging Deployment was held to production's rules and a quota counted another
cluster's pods.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, count
from operator import is_not
from typing import TYPE_CHECKING, Any

from compiler import ir
from compiler.backends.kubernetes.quota import Usages, quota_view, verify_quota
from compiler.backends.memo import Units
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.resolve import namespace
from compiler.targets.layout import DEPLOY

if TYPE_CHECKING:
    from compiler.parallel import Beside

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


def _pod_problems(pod: dict[str, Any], secrets: Collection[str]) -> Iterator[str]:
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


def verify_objects(spec: ir.Spec, files: Iterable[Any], sink: Sink, units: Units | None = None) -> None:
    """Refuse rendered objects that lack the settings the module docstring lists.

    What it reports is a function of each file's pod problems (SS522, in file order), of
    each production namespace's objects (SS523) and of each namespace's objects (SS527),
    and of the spec's secret names and production namespaces. A watching build
    (``units.by_identity``) keeps last step's (``_Verified``): a file handed out again at
    the same place (the same object) is not read again, a changed file is compared with
    the one it replaces by what the checks read of it (``production_view``,
    ``quota.quota_view``), and a namespace is checked again only where those differ. A CPU
    edit changes no production view and only the quota views of its namespaces: only a
    namespace with a ResourceQuota is checked again. One-shot and cold builds take
    ``_Verified.of`` with nothing kept."""
    inputs = _inputs(spec)
    carry = units is not None and units.by_identity
    known = units.carried_state.get(_STATE) if carry and units is not None else None
    files = tuple(files)
    done = known.step(files, inputs) if isinstance(known, _Verified) and known.inputs == inputs else None
    if done is None:
        done = _Verified.of(files, inputs, keep=carry)
    done.report(sink)
    if carry and units is not None:
        units.state[_STATE] = done


# A namespace of a cluster (None: the cluster Argo CD runs in, where an environment names none).
Place = tuple[str, str | None]
# What a verification reads of the spec: the secret names, the production places in the spec's
# order, each environment's cluster by name where any names one (in name order), and the
# namespace names environments on two clusters share (their diagnostics name the cluster).
Inputs = tuple[frozenset[str], tuple[Place, ...], tuple[tuple[str, str], ...], frozenset[str]]


def _inputs(spec: ir.Spec) -> Inputs:
    clusters: dict[str, set[str | None]] = {}
    for e in spec.environments:
        clusters.setdefault(namespace(e), set()).add(e.cluster)
    return (
        frozenset(_secret_names(spec)),
        tuple((namespace(e), e.cluster) for e in spec.environments if e.tier is ir.Tier.PRODUCTION),
        tuple(sorted((e.name, e.cluster) for e in spec.environments if e.cluster is not None)),
        frozenset(ns for ns, on in clusters.items() if len(on) > 1),
    )


def _cluster_of(clusters: dict[str, str]) -> Callable[[Any], str | None]:
    """The cluster a file's objects go to: its environment's (``deploy/<env>/...``)."""
    if not clusters:
        return lambda f: None
    prefix = f"{DEPLOY}/"

    def of(f: Any) -> str | None:
        path = f.path
        return clusters.get(path.split("/", 2)[1]) if path.startswith(prefix) else None

    return of


def _on(place: Place, shared: Collection[str]) -> str:
    """What a diagnostic adds to a namespace's name: its cluster, where the name alone is
    not one place."""
    ns, cluster = place
    if ns not in shared:
        return ""
    return f" on cluster {cluster!r}" if cluster is not None else " on Argo CD's own cluster"


def _order(place: Place) -> tuple[str, str]:
    return place[0], place[1] or ""


# A one-shot build (a store on disk, no last step kept) of this many Kubernetes files or more
# verifies them in a forked child while the other backends render (``verify_apart``): at
# 1,000 models, 15,000 files' verification was ~0.1 s of a one-model edit's compile, on one
# core while the other sat idle.
APART_FROM = 2_000
# The most a build waits for the child's answer once it needs it; then it verifies itself.
APART_WAIT_S = 30.0


def verify_apart(spec: ir.Spec, files: Sequence[Any], units: Units | None) -> Apart | None:
    """``verify_objects`` of ``files`` under way in a forked child (``parallel.Beside``), for a
    one-shot build of ``APART_FROM`` files or more; None for any other build (the caller
    verifies in-process). The child reads only the files' paths, spans and documents, which
    nothing changes once rendered."""
    if units is None or units.by_identity or len(files) < APART_FROM:
        return None
    from compiler.parallel import Beside

    inputs, held = _inputs(spec), tuple(files)

    def verify() -> tuple[Any, ...]:
        done = _Verified.of(held, inputs, keep=False)
        return done.problems, done.production, done.quota

    return Apart(held, inputs, Beside(verify))


class Apart:
    """A verification under way beside the build (``verify_apart``)."""

    def __init__(self, files: tuple[Any, ...], inputs: Inputs, beside: Beside[tuple[Any, ...]]) -> None:
        self.files, self.inputs, self.beside = files, inputs, beside

    def report(self, sink: Sink) -> None:
        """What ``verify_objects`` would have reported into ``sink``."""
        problems, production, quota = self.beside.result(APART_WAIT_S)
        _Verified(self.inputs, self.files, problems, production, quota, {}, {}, {}).report(sink)

    def close(self) -> None:
        self.beside.close()


_STATE = "policy"
# The kinds whose span ``_verify_production`` reports at (besides its namespace's first object's).
_PLACED = ("Deployment", "Rollout")
# A step with more files than this share changed (an order changed, a forked first build's
# files) checks everything, which costs less than comparing each.
_MOST_CHANGED = 4


@dataclass(frozen=True)
class _Verified:
    """One build's verification: its inputs (``Inputs``), the files in order and what each
    part reported: the SS522 of each file with any, by its place in order; SS523 per
    production namespace; SS527 per namespace (each a namespace of a cluster, ``Place``).
    With ``keep`` (a watching build), also where each namespace's files are (their places
    in order), how many ResourceQuotas it has and what its quota counted of each pod
    (``quota.Usages``), for ``step``."""

    inputs: Inputs
    files: tuple[Any, ...]
    problems: dict[int, tuple[Diagnostic, ...]]
    production: dict[Place, tuple[Diagnostic, ...]]
    quota: dict[Place, tuple[Diagnostic, ...]]
    at: dict[Place, array[int]]
    quotas: dict[Place, int]
    usages: dict[Place, Usages]

    @classmethod
    def of(cls, files: tuple[Any, ...], inputs: Inputs, keep: bool) -> _Verified:
        secrets, production, clusters, shared = inputs
        cluster_of = _cluster_of(dict(clusters))
        problems: dict[int, tuple[Diagnostic, ...]] = {}
        by_ns: dict[Place, list[tuple[dict[str, Any], Span]]] = {}
        at: dict[Place, array[int]] = {}
        for p, f in enumerate(files):
            found, namespaces = _examined(f, secrets, cluster_of(f))
            if found:
                problems[p] = found
            for ns, docs in namespaces.items():
                by_ns.setdefault(ns, []).extend((doc, f.source) for doc in docs)
                if keep:
                    at.setdefault(ns, array("q")).append(p)
        quotas = {ns: _quotas(d for d, _ in objects) for ns, objects in by_ns.items()} if keep else {}
        usages: dict[Place, Usages] = {}
        return cls(
            inputs,
            files,
            problems,
            {ns: _reported(_verify_production, ns, shared, by_ns.get(ns, [])) for ns in production},
            {ns: _counted(ns, shared, objects, {}, usages if keep else None) for ns, objects in by_ns.items()},
            at,
            quotas,
            usages,
        )

    def step(self, files: tuple[Any, ...], inputs: Inputs) -> _Verified | None:
        """This verification of ``files``, from the last step's (``self``, of the same
        ``inputs``): None where the files are not in the same places (files added, removed,
        or too many changed, ``_MOST_CHANGED``)."""
        old = self.files
        if len(files) != len(old):
            return None
        changed = list(compress(count(), map(is_not, files, old)))
        if len(changed) * _MOST_CHANGED > len(files):
            return None
        secrets, _, clusters, shared = inputs
        cluster_of = _cluster_of(dict(clusters))
        problems, at, quotas = dict(self.problems), dict(self.at), dict(self.quotas)
        moved: set[Place] = set()  # namespaces whose places were copied to change
        recheck: set[Place] = set()  # namespaces to check again where production
        recount: set[Place] = set()  # namespaces whose quota to check again
        for p in changed:
            before, after = old[p], files[p]
            found, now = _examined(after, secrets, cluster_of(after))
            if found:
                problems[p] = found
            else:
                problems.pop(p, None)
            _, was = _examined(before, None, cluster_of(before))
            for ns in was.keys() | now.keys():
                a, b = was.get(ns, []), now.get(ns, [])
                if not a or not b:  # the file joins or leaves the namespace
                    if ns not in moved:
                        moved.add(ns)
                        at[ns] = array("q", at.get(ns, ()))
                    if b:
                        at[ns].insert(bisect_left(at[ns], p), p)
                    else:
                        at[ns].remove(p)
                    recheck.add(ns)
                    recount.add(ns)
                quotas[ns] = quotas.get(ns, 0) - _quotas(a) + _quotas(b)
                if ns not in recheck and _differs(production_view, _PLACED, a, b, before, after, at[ns][0] == p):
                    recheck.add(ns)
                if ns not in recount and _differs(quota_view, ("ResourceQuota",), a, b, before, after, False):
                    recount.add(ns)
        for ns in [ns for ns in moved if not at[ns]]:
            del at[ns], quotas[ns]
        checked = dict(self.production)
        for ns in recheck & checked.keys():
            checked[ns] = _reported(_verify_production, ns, shared, _objects(files, at.get(ns, ()), ns))
        counted, usages = dict(self.quota), dict(self.usages)
        for ns in recount:
            usages.pop(ns, None)
            if ns not in at:
                counted.pop(ns, None)
            elif not quotas[ns]:  # verify_quota reports nothing for a namespace of no quota
                counted[ns] = ()
            else:
                counted[ns] = _counted(ns, shared, _objects(files, at[ns], ns), self.usages.get(ns, {}), usages)
        return _Verified(inputs, files, problems, checked, counted, at, quotas, usages)

    def report(self, sink: Sink) -> None:
        """Into ``sink`` in the order the checks run: SS522 file by file, SS523 by production
        environment in the spec's order, SS527 by namespace in name order (then cluster)."""
        for p in sorted(self.problems):
            sink.extend(self.problems[p])
        for ns in self.inputs[1]:
            sink.extend(self.production[ns])
        for ns in sorted(self.quota, key=_order):
            sink.extend(self.quota[ns])


def _examined(
    f: Any, secrets: Collection[str] | None, cluster: str | None = None
) -> tuple[tuple[Diagnostic, ...], dict[Place, list[dict[str, Any]]]]:
    """A file's SS522 (its pods' problems; none asked for without ``secrets``) and its
    documents by namespace of its ``cluster``, in order."""
    problems: Sink | None = None
    namespaces: dict[Place, list[dict[str, Any]]] = {}
    for doc in f.documents:
        meta = _m(doc.get("metadata"))
        # A tenth of the documents have pods: the rest make no generator.
        if secrets is not None and doc.get("kind") in _WITH_PODS:
            for pod in _pod_specs(doc):
                for problem in _pod_problems(pod, secrets):
                    problems = problems or Sink()
                    name = f"{doc.get('kind')} {meta.get('name')}"
                    problems.report("SS522", f"{f.path}: {name}: {problem}", f.source)
        ns = meta.get("namespace")
        if isinstance(ns, str):
            namespaces.setdefault((ns, cluster), []).append(doc)
    return (tuple(problems.items) if problems else ()), namespaces


def _quotas(docs: Iterable[dict[str, Any]]) -> int:
    return sum(1 for d in docs if d.get("kind") == "ResourceQuota")


def _differs(
    view: Callable[[dict[str, Any]], Any],
    spanned: tuple[str, ...],
    a: list[dict[str, Any]],
    b: list[dict[str, Any]],
    before: Any,
    after: Any,
    first: bool,
) -> bool:
    """Whether a check could decide otherwise on a namespace's documents ``b`` of the file
    ``after`` than on ``a`` of ``before`` in its place: what it reads of them differs, or the
    span it reports them at (only the kinds ``spanned``, or any where the file is the
    namespace's ``first``). By repr, so 1 and True or key orders never compare equal."""
    if len(a) != len(b):
        return True
    if before.source != after.source and (first or any(d.get("kind") in spanned for d in (*a, *b))):
        return True
    return repr([view(d) for d in a]) != repr([view(d) for d in b])


def _objects(files: tuple[Any, ...], at: Iterable[int], place: Place) -> list[tuple[dict[str, Any], Span]]:
    """A namespace's documents with their spans, in order, from the files at ``at`` (files of
    its cluster)."""
    ns = place[0]
    return [
        (d, files[p].source) for p in at for d in files[p].documents if _m(d.get("metadata")).get("namespace") == ns
    ]


def _counted(
    place: Place,
    shared: Collection[str],
    objects: list[tuple[dict[str, Any], Span]],
    known: Usages,
    usages: dict[Place, Usages] | None,
) -> tuple[Diagnostic, ...]:
    """``verify_quota``'s SS527 for ``place``; with ``usages`` (a watching build), what it
    counted of each pod goes there, and what it counted before (``known``) is taken again."""
    sink = Sink()
    made: Usages = {}
    verify_quota(place[0], objects, sink, (known, made) if usages is not None else None, on=_on(place, shared))
    if made and usages is not None:
        usages[place] = made
    return tuple(sink.items)


def _reported(
    check: Callable[..., None], place: Place, shared: Collection[str], objects: Any
) -> tuple[Diagnostic, ...]:
    sink = Sink()
    check(place[0], objects, sink, on=_on(place, shared))
    return tuple(sink.items)


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


def _verify_production(ns: str, objects: list[tuple[dict[str, Any], Span]], sink: Sink, on: str = "") -> None:
    """SS523 for the production namespace ``ns`` (``on``: its cluster, where it must be named)."""
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
        sink.report("SS523", f"production namespace {ns}{on}: no default-deny ingress NetworkPolicy", span)
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
            sink.report("SS523", f"production {doc.get('kind')} {ns}/{name}{on} lacks {what}", span)


# The kinds ``_verify_production`` reads anything but the kind of.
_PRODUCTION_READ = ("NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ScaledObject", *_PLACED)


def production_view(doc: dict[str, Any]) -> dict[str, Any]:
    """All ``_verify_production`` reads of a document, in a document's shape (it decides on
    views as on the documents), and nothing else: no resources, so a CPU edit leaves every
    view as it was (``verify_objects``). Values are the document's own, odd types included."""
    kind = doc.get("kind")
    if kind not in _PRODUCTION_READ:
        return {}
    spec = _m(doc.get("spec"))
    template = _m(spec.get("template"))
    kept = _pick(spec, "podSelector", "policyTypes", "selector", "scaleTargetRef", "minReplicas", "minReplicaCount")
    kept["template"] = {
        "metadata": _pick(template.get("metadata"), "labels"),
        "spec": _pick(template.get("spec"), "topologySpreadConstraints"),
    }
    return {"kind": kind, "metadata": _pick(doc.get("metadata"), "name"), "spec": kept}


def _pick(d: Any, *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys if k in d} if isinstance(d, dict) else {}


def _at_least_two(replicas: Any) -> bool:
    """An HPA's minReplicas (absent or null: Kubernetes' default, 1)."""
    return isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 2
