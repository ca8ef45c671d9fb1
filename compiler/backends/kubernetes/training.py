"""View models for the training tier: a batch/v1 Job on one node, a Kubeflow
PyTorchJob when ``nodes > 1``, and the checkpoint volume they write to."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, TypedDict

from compiler import ir
from compiler.backends.kubernetes import common as kc
from compiler.backends.kubernetes.serving import Meta
from compiler.resolve import Resolved, namespace
from compiler.targets.kubernetes import k8s_name
from compiler.targets.layout import training_name

CHECKPOINTS = "/checkpoints"


class JobView(TypedDict):
    meta: Meta
    nodes: int
    gpus: int


class ClaimView(TypedDict):
    meta: Meta
    mode: str
    size: str
    storage_class: str | None


def name(t: ir.Training) -> str:
    return training_name(t.model.name)


def _env(r: Resolved, t: ir.Training, secret_prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": "SHIPSPEC_MODEL", "value": t.model.name}]
    ds = r.datasets.get(t.dataset.name) if t.dataset else None
    if ds is not None:
        out.append({"name": "DATASET_NAME", "value": ds.name})
        for key, value in (("DATASET_URI", ds.uri), ("DATASET_VERSION", ds.version), ("DATASET_SHA256", ds.sha256)):
            if value is not None:
                out.append({"name": key, "value": value})
    if t.tracking is not None:
        out.append({"name": "MLFLOW_TRACKING_URI", "value": t.tracking})
    if t.experiment is not None:
        out.append({"name": "MLFLOW_EXPERIMENT_NAME", "value": t.experiment})
    out.append({"name": "CHECKPOINT_DIR", "value": CHECKPOINTS})
    # The root filesystem is read-only: caches and config files go to /tmp.
    out.append({"name": "HOME", "value": "/tmp"})
    for hp in sorted(t.hyperparameters, key=lambda h: h.name):
        value = hp.value if isinstance(hp.value, str) else _number(hp.value)
        out.append({"name": f"HP_{hp.name.upper()}", "value": value})
    out.extend(kc.env_vars(t.env, secret_prefix))
    return out


def _number(value: float) -> str:
    """Positional notation, as the spec wrote it (``0.00002``, never ``2e-05``):
    the shortest decimal that reads back as the same float."""
    text = format(Decimal(repr(float(value))), "f")
    return text[:-2] if text.endswith(".0") else text


_PYTHON = re.compile(r"^python(3(\.\d+)?)?$")
# Without declared resources a training pod still requests this much (else it
# is BestEffort: first to be evicted, scheduled anywhere).
DEFAULT_REQUESTS = {"cpu": "1", "memory": "4Gi"}


def launch(t: ir.Training) -> list[str]:
    """The container command. Several processes per node (``gpus`` > 1) or
    several nodes need ``torchrun``: on a PyTorchJob it reads the PET_* variables
    the training operator sets (nnodes, node rank, nproc per node, master
    address), so every rank joins; ``python -m x`` alone starts one process per
    pod while WORLD_SIZE counts nodes x nprocPerNode, and the ranks wait for
    peers that never come. On one node it runs standalone."""
    command = list(t.command)
    if t.nodes <= 1 and t.gpus <= 1:
        return command
    if command and command[0] == "torchrun":
        return command
    if t.nodes > 1:
        # The node rank comes from PET_NODE_RANK (torchrun reads every --x-y from
        # PET_X_Y); the kubelet expands $(MASTER_ADDR)/$(MASTER_PORT), which the
        # operator sets on every replica.
        runner = [
            "torchrun",
            f"--nnodes={t.nodes}",
            f"--nproc-per-node={max(t.gpus, 1)}",
            "--master-addr=$(MASTER_ADDR)",
            "--master-port=$(MASTER_PORT)",
        ]
    else:
        runner = ["torchrun", "--standalone", f"--nproc-per-node={t.gpus}"]
    if command and _PYTHON.match(command[0]):
        return [*runner, *command[1:]]
    return [*runner, "--no-python", *command]


def pod(
    r: Resolved, env: ir.Environment, t: ir.Training, service_account: str, secret_prefix: str, container: str
) -> dict[str, Any]:
    res = kc.resources(t.resources)
    if "requests" not in res:
        res = {"requests": dict(DEFAULT_REQUESTS), **res}
    if t.gpus:
        res.setdefault("limits", {})["nvidia.com/gpu"] = str(t.gpus)
    mounts = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "shm", "mountPath": "/dev/shm"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {}}, {"name": "shm", "emptyDir": {"medium": "Memory"}}]
    # A sized checkpoint gets a claim that outlives the pods; without a size the
    # run still has a checkpoint directory, an emptyDir that lives as long as the pod.
    mounts.append({"name": "checkpoints", "mountPath": CHECKPOINTS})
    if t.checkpoint is not None:
        volumes.append({"name": "checkpoints", "persistentVolumeClaim": {"claimName": f"{name(t)}-checkpoints"}})
    else:
        volumes.append({"name": "checkpoints", "emptyDir": {}})
    return {
        "labels": {**kc.labels(r.project.name, "training", k8s_name(t.model.name))},
        "service_account": service_account,
        "pod_security": kc.POD_SECURITY,
        "container_security": kc.CONTAINER_SECURITY,
        "node_selector": dict(sorted(env.node_selector)) if t.gpus else {},
        "tolerations": kc.tolerations(env) if t.gpus else [],
        "container": container,
        "image": t.image,
        "command": launch(t),
        "env": _env(r, t, secret_prefix),
        "resources": res,
        "mounts": mounts,
        "volumes": volumes,
    }


def meta(r: Resolved, env: ir.Environment, t: ir.Training, object_name: str, component: str) -> Meta:
    return {
        "name": object_name,
        "namespace": namespace(env),
        "labels": {
            **kc.labels(r.project.name, component, k8s_name(t.model.name)),
            "shipspec.dev/model": t.model.name,
            "shipspec.dev/environment": env.name,
        },
        "annotations": kc.wave(kc.WAVE_WORKLOAD if component != "checkpoints" else kc.WAVE_SETUP),
    }


# A Job's pod template is immutable: Argo CD's apply of a changed Job fails.
# Force=true,Replace=true makes it delete and re-create the Job when (and only
# when) its spec changed, so a changed training run re-runs and an unchanged one
# is left alone (no ttlSecondsAfterFinished: a vanished Job would be re-created).
JOB_SYNC_OPTIONS = {"argocd.argoproj.io/sync-options": "Force=true,Replace=true"}


def job(r: Resolved, env: ir.Environment, t: ir.Training) -> JobView:
    view = meta(r, env, t, name(t), "training")
    view["annotations"] = {**view["annotations"], **JOB_SYNC_OPTIONS}
    return {"meta": view, "nodes": t.nodes, "gpus": t.gpus}


def checkpoint_claim(r: Resolved, env: ir.Environment, t: ir.Training) -> ClaimView | None:
    if t.checkpoint is None:
        return None
    # Several nodes write one checkpoint directory, so the claim must be shared.
    mode = "ReadWriteMany" if t.nodes > 1 else "ReadWriteOnce"
    return {
        "meta": meta(r, env, t, f"{name(t)}-checkpoints", "checkpoints"),
        "mode": mode,
        "size": kc.quantity_bytes(t.checkpoint),
        "storage_class": t.checkpoint_class,
    }
