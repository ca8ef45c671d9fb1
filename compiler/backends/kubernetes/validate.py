"""Pod templates inside custom resources (a Rollout's ``spec.template``, each
PyTorchJob replica's ``template``) are core PodTemplateSpecs, but CRD schemas
leave them open. This validator checks them against the pinned Kubernetes
version's strict schema by wrapping each one in a core ``PodTemplate``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.backends.base import OutputFile
from compiler.diagnostics import Sink

# The OutputFile kind of custom resources whose pod templates validate_pods checks.
PODS_KIND = "k8s-crd-pods"


def _m(value: Any) -> dict[Any, Any]:
    # Any shape an override renders is checked, not crashed on (the CRD schema reports the shape).
    return value if isinstance(value, dict) else {}


def _templates(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    spec = _m(doc.get("spec"))
    if doc.get("kind") == "Rollout":
        yield "$.spec.template", spec.get("template")
    elif doc.get("kind") == "PyTorchJob":
        for role, replica in sorted(_m(spec.get("pytorchReplicaSpecs")).items(), key=lambda kv: str(kv[0])):
            yield f"$.spec.pytorchReplicaSpecs.{role}.template", _m(replica).get("template")


def validate_pods(f: OutputFile, sink: Sink, k8s_version: str) -> None:
    from compiler.validate import k8s_validator

    check = k8s_validator(k8s_version, "v1", "PodTemplate")
    if check is None:
        return  # validate_files reports missing schemas once
    for doc in f.documents:
        name = f"{doc.get('kind', '?')} {_m(doc.get('metadata')).get('name', '?')}"
        for where, template in _templates(doc):
            wrapper = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "x"}, "template": template}
            for path, message in check(wrapper)[:5]:
                path = where + path.removeprefix("$.template")
                sink.report("SS802", f"{f.path}: {name}: {path}: {message}", f.source)
