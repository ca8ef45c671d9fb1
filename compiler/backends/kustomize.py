"""One kustomization.yaml per directory under deploy/, assembled from what the
other backends rendered: every Kubernetes object file becomes a resource, and
every file that names a config map becomes part of a configMapGenerator (whose
content hash in the name rolls the pods when the file changes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from compiler.backends.base import OutputFile
from compiler.diagnostics import Span
from compiler.layout import DEPLOY
from compiler.serialize import to_yaml


def _top_dir(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != DEPLOY:
        return None
    return f"{DEPLOY}/{parts[1]}"


def assemble(files: Sequence[OutputFile]) -> list[OutputFile]:
    resources: dict[str, list[str]] = defaultdict(list)
    generators: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    sources: dict[str, Span] = {}
    for f in files:
        top = _top_dir(f.path)
        if top is None:
            continue
        rel = f.path[len(top) + 1 :]
        if f.documents:
            resources[top].append(rel)
        if f.config_map:
            base = rel.rsplit("/", 1)[-1]
            generators[top][f.config_map].append(f"{base}={rel}")
        sources.setdefault(top, f.source)
    out = []
    for top in sorted(resources.keys() | generators.keys()):
        doc: dict[str, object] = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": sorted(resources[top]),
        }
        if generators[top]:
            doc["configMapGenerator"] = [
                {"name": name, "files": sorted(entries)} for name, entries in sorted(generators[top].items())
            ]
        out.append(OutputFile(f"{top}/kustomization.yaml", to_yaml(doc), sources[top]))
    return out
