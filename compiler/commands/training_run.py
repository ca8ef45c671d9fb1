"""``shipspec training-run``: one retraining run of a rendered training job.

The rendered Job (or PyTorchJob) under ``deploy/<env>/`` belongs to Argo CD,
which keeps it as Git says; deleting and re-creating it fights the
controller's self-heal. A retraining run is a copy of it under a unique name,
without Argo CD's annotations, so it is not in the Application's desired
state (Argo CD tracks what it applied by a label or annotation it adds at
sync, which this copy never carries) and is never pruned or synced back. The
run reads the dataset version the trigger names: DATASET_VERSION, its
DATASET_SHA256, and DATASET_URI with the pinned version replaced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from compiler.errors import InputError, UsageError

_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _containers(node: Any) -> list[dict[str, Any]]:
    """Every container of a Job's or a PyTorchJob's pod templates."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "containers" and isinstance(value, list):
                found += [c for c in value if isinstance(c, dict)]
            else:
                found += _containers(value)
    elif isinstance(node, list):
        for item in node:
            found += _containers(item)
    return found


def manifest(job_file: Path, name: str, dataset_version: str | None = None, dataset_sha256: str | None = None) -> str:
    """The JSON manifest of one run of ``job_file`` named ``name``."""
    if not _NAME.fullmatch(name) or len(name) > 63:
        raise UsageError(f"run name {name!r} is not a Kubernetes name of at most 63 characters")
    if (dataset_version is None) != (dataset_sha256 is None):
        raise UsageError("--dataset-version and --dataset-sha256 go together: the run verifies what it reads")
    if dataset_sha256 is not None and not _SHA256.fullmatch(dataset_sha256):
        raise UsageError("--dataset-sha256 must be 64 lower-case hexadecimal characters")
    try:
        doc = yaml.safe_load(job_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{job_file}: cannot read the training job: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") not in ("Job", "PyTorchJob"):
        raise InputError(f"{job_file}: not a rendered training Job or PyTorchJob")
    meta = doc.setdefault("metadata", {})
    template = meta.get("name", "")
    meta["name"] = name
    meta["annotations"] = {k: v for k, v in (meta.get("annotations") or {}).items()
                           if not k.startswith("argocd.argoproj.io/")}  # fmt: skip
    meta.setdefault("labels", {})["shipspec.dev/training-run-of"] = template
    for container in _containers(doc.get("spec")):
        env = container.get("env") or []
        values = {e.get("name"): e.get("value") for e in env if isinstance(e, dict)}
        pinned = values.get("DATASET_VERSION")
        if dataset_version is None or pinned is None:
            continue
        for e in env:
            if e.get("name") == "DATASET_VERSION":
                e["value"] = dataset_version
            elif e.get("name") == "DATASET_SHA256":
                e["value"] = dataset_sha256
            elif e.get("name") == "DATASET_URI":
                uri = str(e.get("value", ""))
                if pinned not in uri:
                    raise InputError(f"{job_file}: DATASET_URI {uri} does not name version {pinned}")
                e["value"] = uri.replace(pinned, dataset_version)
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
