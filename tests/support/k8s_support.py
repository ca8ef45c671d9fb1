"""Helpers for the Kubernetes / Argo CD tests: render a spec in-process, write it
with the real emitter, build environments with the real ``kubectl kustomize``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from compiler import emit
from compiler.backends.base import OutputFile
from compiler.diagnostics import Diagnostic, Severity, Sink, Span
from compiler.pipeline import build
from compiler.targets.layout import triton_config_map, triton_config_path

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
SHARED_CRDS = Path(__file__).resolve().parents[3] / "shared" / "crds"
KUBECTL = shutil.which("kubectl")


def compile_to(specs: Path | Sequence[Path], out: Path, templates: Path | None = None) -> list[Diagnostic]:
    """Check, render, validate and emit like ``shipspec compile``; return the diagnostics."""
    inputs = [specs] if isinstance(specs, Path) else list(specs)
    result = build(inputs, templates)
    sink = Sink(list(result.diagnostics))
    if not result.has_errors:
        plan = emit.plan(result.files, out, sink)
        if not sink.has_errors:
            emit.apply(plan)
    return sorted(set(sink.items), key=Diagnostic.sort_key)


def errors(diags: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity is Severity.ERROR]


def write_spec(directory: Path, text: str, name: str = "spec.ship") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def kustomize(env_dir: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize DIR`` (offline, bounded) parsed into objects."""
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "kustomize", str(env_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def load_dir(directory: Path) -> dict[str, dict[str, Any]]:
    """Every object file of a directory (not kustomization / config files) by file name."""
    out = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out[path.name] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return out


def by_kind(objects: Sequence[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o.get("kind") == kind}


SRC = Span.point("t.ship")


def workload(kind: str, name: str) -> dict[str, Any]:
    """A Rollout or Deployment ``name`` in ml-prod whose pod reads its Triton config map."""
    api = "argoproj.io/v1alpha1" if kind == "Rollout" else "apps/v1"
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "containers": [
                    {
                        "name": "triton",
                        "image": "x",
                        "env": [
                            {
                                "name": "A",
                                "valueFrom": {
                                    "configMapKeyRef": {"name": triton_config_map(name), "key": "config.pbtxt"}
                                },
                            }
                        ],
                    }
                ],
                "volumes": [{"name": "config-0", "configMap": {"name": triton_config_map(name)}}],
            },
        },
    }
    if kind == "Rollout":
        spec["strategy"] = {"canary": {"steps": [{"setWeight": 10}]}}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "ml-prod"}, "spec": spec}


def triton_files(config_text: str) -> list[OutputFile]:
    """A namespace, a Rollout and a Deployment in prod, each with its Triton config (``config_text``)."""
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml-prod"}}
    files = [OutputFile("deploy/prod/namespace-ml-prod.yaml", yaml.safe_dump(ns), SRC, documents=(ns,))]
    for kind, name in (("Rollout", "canaried"), ("Deployment", "plain")):
        doc = workload(kind, name)
        files.append(OutputFile(f"deploy/prod/{kind.lower()}-{name}.yaml", yaml.safe_dump(doc), SRC, documents=(doc,)))
        files.append(
            OutputFile(
                triton_config_path("prod", name),
                config_text,
                SRC,
                kind="triton-config",
                config_map=triton_config_map(name),
            )
        )
    return files
