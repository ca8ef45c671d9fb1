"""``shipspec training-run``: one retraining run of a rendered training job.

The rendered Job (or PyTorchJob) under ``deploy/<env>/`` belongs to Argo CD,
which keeps it as Git says; deleting and re-creating it fights the
controller's self-heal. A retraining run is a copy of it under a unique name,
without Argo CD's annotations, so it is not in the Application's desired
state (Argo CD tracks what it applied by a label or annotation it adds at
sync, which this copy never carries) and is never pruned or synced back. The
run reads the dataset version the trigger names: DATASET_VERSION, its
DATASET_SHA256, and DATASET_URI with the pinned version replaced, in the init
containers that fetch and verify it as in the training container. With
``--git-sha`` the run is labelled with the commit it was started from, and the
training container gets MLflow's standard git-commit tag through
MLFLOW_RUN_CONTEXT (JSON tags MLflow adds to every run it starts); the rendered
manifest itself cannot carry its own commit.
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
# A SHA-1 repository's commit, or a SHA-256 one's.
_GIT_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
GIT_SHA_LABEL = "shipspec.dev/git-sha"
MLFLOW_GIT_COMMIT = "mlflow.source.git.commit"


def _containers(node: Any, keys: tuple[str, ...] = ("containers", "initContainers")) -> list[dict[str, Any]]:
    """Every container (under ``keys``) of a Job's or a PyTorchJob's pod templates."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, list):
                found += [c for c in value if isinstance(c, dict)]
            else:
                found += _containers(value, keys)
    elif isinstance(node, list):
        for item in node:
            found += _containers(item, keys)
    return found


def _pod_templates(node: Any) -> list[dict[str, Any]]:
    """The pod templates' metadata of a Job (spec.template) or a PyTorchJob (each replica's template)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "template" and isinstance(value, dict):
                found.append(value.setdefault("metadata", {}))
            else:
                found += _pod_templates(value)
    elif isinstance(node, list):
        for item in node:
            found += _pod_templates(item)
    return found


def _tag_commit(container: dict[str, Any], git_sha: str, job_file: Path) -> None:
    env = container.setdefault("env", [])
    for e in env:
        if isinstance(e, dict) and e.get("name") == "MLFLOW_RUN_CONTEXT":
            try:
                tags = json.loads(str(e.get("value", "")))
            except ValueError:
                tags = None
            if not isinstance(tags, dict):
                raise InputError(f"{job_file}: MLFLOW_RUN_CONTEXT is not a JSON object of tags")
            e["value"] = json.dumps({**tags, MLFLOW_GIT_COMMIT: git_sha}, sort_keys=True)
            return
    env.append({"name": "MLFLOW_RUN_CONTEXT", "value": json.dumps({MLFLOW_GIT_COMMIT: git_sha})})


def manifest(
    job_file: Path,
    name: str,
    dataset_version: str | None = None,
    dataset_sha256: str | None = None,
    git_sha: str | None = None,
) -> str:
    """The JSON manifest of one run of ``job_file`` named ``name``."""
    if git_sha is not None and not _GIT_SHA.fullmatch(git_sha):
        raise UsageError("--git-sha must be a full commit id: 40 (or 64) lower-case hexadecimal characters")
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
    if git_sha is not None:
        meta["labels"][GIT_SHA_LABEL] = git_sha
        for pod_meta in _pod_templates(doc.get("spec")):
            pod_meta.setdefault("labels", {})[GIT_SHA_LABEL] = git_sha
        for container in _containers(doc.get("spec"), ("containers",)):
            _tag_commit(container, git_sha, job_file)
    verified = False
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
                verified = True
            elif e.get("name") == "DATASET_URI":
                uri = str(e.get("value", ""))
                if pinned not in uri:
                    raise InputError(f"{job_file}: DATASET_URI {uri} does not name version {pinned}")
                e["value"] = uri.replace(pinned, dataset_version)
    if dataset_version is not None and not verified:
        # The run would read another version than the spec pins without checking its digest.
        raise InputError(
            f"{job_file}: the job verifies no dataset digest (DATASET_SHA256): give the dataset a sha256 in the spec"
        )
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
