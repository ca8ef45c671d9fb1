"""One kustomization.yaml per directory under deploy/, assembled from what the
other backends rendered: every Kubernetes object file becomes a resource, and
every file that names a config map becomes part of a configMapGenerator (whose
content hash in the name rolls the pods when the file changes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from compiler.backends.base import OutputFile
from compiler.diagnostics import Sink, Span
from compiler.serialize import to_yaml
from compiler.targets.layout import DEPLOY

if TYPE_CHECKING:
    from compiler.backends.memo import Units

IGNORE_EXTRANEOUS = {"argocd.argoproj.io/compare-options": "IgnoreExtraneous"}


_UNDER = f"{DEPLOY}/"


def _top_dir(path: str) -> str | None:
    """``deploy/<dir>`` of a path at least two levels below ``deploy/``, else None (without
    splitting every path: this runs for each of 33,000 files at 1,000 models)."""
    if not path.startswith(_UNDER):
        return None
    end = path.find("/", len(_UNDER))
    return path[:end] if end >= 0 else None


# kustomize rewrites references to a generated ConfigMap (adding its content
# hash) only in the kinds it knows; an Argo Rollout's pod template is not one
# of them, so this configuration teaches it where a Rollout names ConfigMaps.
ROLLOUT_CONFIG = "kustomizeconfig/rollout.yaml"
_POD = "spec/template/spec"
_ROLLOUT_REFS = {
    "nameReference": [
        {
            "kind": "ConfigMap",
            "version": "v1",
            "fieldSpecs": [
                {"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout", "path": path}
                for path in (
                    f"{_POD}/volumes/configMap/name",
                    f"{_POD}/volumes/projected/sources/configMap/name",
                    f"{_POD}/containers/env/valueFrom/configMapKeyRef/name",
                    f"{_POD}/containers/envFrom/configMapRef/name",
                    f"{_POD}/initContainers/env/valueFrom/configMapKeyRef/name",
                    f"{_POD}/initContainers/envFrom/configMapRef/name",
                )
            ],
        }
    ]
}


def _yaml(doc: dict[str, Any], units: Units | None) -> str:
    """The kustomization's YAML, memoised by its content: an environment's lists every
    object of every model (writing it out was most of assembling at 1,000 models)."""
    if units is None:
        return to_yaml(doc)
    text: str = units.value("kustomization", lambda _sink, d: to_yaml(d), Sink(), doc)
    return text


# Argo CD keeps each managed object's status in the Application (status.resources, and again
# in a sync's result: a few hundred bytes an object), and the Application is one etcd value
# (1.5 MiB by default): one of about 3,000 objects stops syncing ("etcdserver: request is too
# large"; argo-cd#14486). And it builds the directory with one kustomize run, which grows
# faster than the objects (bench/kustomize_scale.py: 19 s at 2,800, 111 s at 5,600) against
# Argo CD's 60-90 s for manifest generation. Each deploy/<dir> is one Application.
APPLICATION_OBJECTS = 2000


def assemble(files: Sequence[OutputFile], units: Units | None = None, sink: Sink | None = None) -> list[OutputFile]:
    """Each directory's kustomization (and SS733 into ``sink`` for a directory of more objects
    than one Argo CD Application holds well: ``APPLICATION_OBJECTS``)."""
    resources: dict[str, list[str]] = defaultdict(list)
    rollouts: set[str] = set()
    namespaces: dict[str, str] = {}
    generators: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    sources: dict[str, Span] = {}
    objects: dict[str, int] = defaultdict(int)  # what Argo CD manages, but generated ConfigMaps
    for f in files:
        top = _top_dir(f.path)
        if top is None:
            continue
        rel = f.path[len(top) + 1 :]
        if f.documents:
            objects[top] += len(f.documents)
            resources[top].append(rel)
            for d in f.documents:  # one pass for both kinds asked about
                kind = d.get("kind")
                if kind == "Rollout" and d.get("apiVersion") == "argoproj.io/v1alpha1":
                    rollouts.add(top)
                elif kind == "Namespace" and d.get("apiVersion") == "v1":
                    meta = d.get("metadata")
                    namespaces.setdefault(top, str(meta.get("name") if isinstance(meta, dict) else None))
        if f.config_map:
            base = rel.rsplit("/", 1)[-1]
            generators[top][f.config_map].append(f"{base}={rel}")
        sources.setdefault(top, f.source)
    if sink is not None:
        for top in sorted(objects.keys() | generators.keys()):
            n = objects[top] + len(generators[top])  # a generator makes one ConfigMap
            if n > APPLICATION_OBJECTS:
                sink.report(
                    "SS733",
                    f"{top}: {n} objects in one Argo CD Application, which records each one's status "
                    "(past about 3,000, more than etcd stores) and builds them with one kustomize run "
                    "(past about 4,000, longer than Argo CD waits): it stops syncing",
                    sources[top],
                    hint="serve the models of this environment in more than one environment",
                )
    out = []
    for top in sorted(resources.keys() | generators.keys()):
        doc: dict[str, object] = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": sorted(resources[top]),
        }
        if generators[top]:
            # A generated ConfigMap lives in the namespace of the pods that mount
            # it; kustomize rewrites references only within one namespace.
            ns = {"namespace": namespaces[top]} if top in namespaces else {}
            doc["configMapGenerator"] = [
                {"name": name, **ns, "files": sorted(entries)} for name, entries in sorted(generators[top].items())
            ]
            # Each config change makes a new hashed ConfigMap; the superseded one is
            # extraneous to Argo CD. Where the Application does not prune
            # (production), it would hold the Application OutOfSync for ever:
            # Argo CD leaves it out of the sync status instead (it is removed by
            # the next sync a person runs with prune).
            doc["generatorOptions"] = {"annotations": dict(IGNORE_EXTRANEOUS)}
        if top in rollouts and generators[top]:
            doc["configurations"] = [ROLLOUT_CONFIG]
            out.append(OutputFile(f"{top}/{ROLLOUT_CONFIG}", to_yaml(_ROLLOUT_REFS), sources[top]))
        out.append(OutputFile(f"{top}/kustomization.yaml", _yaml(doc, units), sources[top]))
    return out
