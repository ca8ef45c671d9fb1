"""View models for the training tier: a batch/v1 Job on one node, a Kubeflow
PyTorchJob when ``nodes > 1``, and the checkpoint volume they write to."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, TypedDict

from compiler import ir
from compiler.backends.kubernetes import common as kc
from compiler.backends.kubernetes.serving import BUSYBOX, FETCHER_ENV, FETCHERS, Meta
from compiler.resolve import Resolved, namespace
from compiler.targets.kubernetes import k8s_name
from compiler.targets.layout import training_name

CHECKPOINTS = "/checkpoints"
DATASET_DIR = "/data"
# Scratch (/tmp is HOME: pip, torch and tokenizer caches) and the dataset's
# volume without `resources { storage }`: bounded, and requested, so the pod is
# placed where they fit and a runaway one is evicted rather than fill the node.
TMP_STORAGE = 10 << 30
DEFAULT_DATASET_STORAGE = 50 << 30

# How each scheme's dataset is copied into DATASET_DIR: the same layout as the
# workflows' fetch (templates/github/_fetch_dataset.sh.j2), so a dataset has one
# digest in CI and in the cluster. The URI and digest are environment variables
# (training-run swaps them for another version), never part of the script text.
DATASET_FETCH = {
    "s3": 'aws s3 cp --recursive --only-show-errors "$DATASET_URI" "$DATASET_DIR/"',
    "gs": 'gcloud storage cp --recursive "$DATASET_URI*" "$DATASET_DIR/"',
    "https": 'curl -fsSL --retry 3 -o "$DATASET_DIR/data" "$DATASET_URI"',
    "http": 'curl -fsSL --retry 3 -o "$DATASET_DIR/data" "$DATASET_URI"',
}
# The digest convention (commands/evidence.dataset_digest): sha256 over the
# sorted "<sha256>  ./path" lines of the dataset's files. busybox runs it, since
# the cloud CLIs' images do not all carry find/xargs.
DATASET_VERIFY = "\n".join(
    (
        "set -eu",
        'cd "$DATASET_DIR"',
        "actual=\"$(find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)\"",
        'if [ "$actual" != "$DATASET_SHA256" ]; then',
        '  echo "dataset $DATASET_NAME $DATASET_VERSION: sha256 $actual, the spec declares $DATASET_SHA256" >&2',
        "  exit 1",
        "fi",
        'echo "dataset $DATASET_NAME $DATASET_VERSION: sha256 matches"',
    )
)


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


def _env(ds: ir.Dataset | None, t: ir.Training, secret_prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": "SHIPSPEC_MODEL", "value": t.model.name}]
    if ds is not None:
        out += _dataset_env(ds)
        if _fetched(ds):  # only then is there a copy at DATASET_DIR
            out.append({"name": "DATASET_DIR", "value": DATASET_DIR})
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


def _dataset_env(ds: ir.Dataset) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": "DATASET_NAME", "value": ds.name}]
    for key, value in (("DATASET_URI", ds.uri), ("DATASET_VERSION", ds.version), ("DATASET_SHA256", ds.sha256)):
        if value is not None:
            out.append({"name": key, "value": value})
    return out


def _fetched(ds: ir.Dataset) -> bool:
    return ds.uri is not None and ds.uri.split("://", 1)[0] in DATASET_FETCH


def dataset_init(ds: ir.Dataset | None) -> list[dict[str, Any]]:
    """Init containers that copy the dataset into the pod and check its digest
    before training starts: a changed or truncated dataset fails the pod, it
    never trains on other bytes than the spec (or training-run) names."""
    if ds is None or ds.uri is None or not _fetched(ds):  # (uri tested again for the type checker)
        return []
    scheme = ds.uri.split("://", 1)[0]
    env = [*_dataset_env(ds), {"name": "DATASET_DIR", "value": DATASET_DIR}]
    base = {
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "securityContext": kc.CONTAINER_SECURITY,
    }
    fetch = {
        "name": "fetch-dataset",
        "image": FETCHERS[scheme][0],
        "command": ["sh", "-c", f"set -eu\n{DATASET_FETCH[scheme]}"],
        "env": [*env, *FETCHER_ENV],
        **base,
        "volumeMounts": [{"name": "dataset", "mountPath": DATASET_DIR}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    if ds.sha256 is None:
        return [fetch]
    verify = {
        "name": "verify-dataset",
        "image": BUSYBOX,
        "command": ["sh", "-c", DATASET_VERIFY],
        "env": env,
        **base,
        "volumeMounts": [{"name": "dataset", "mountPath": DATASET_DIR, "readOnly": True}],
    }
    return [fetch, verify]


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
    ds = r.datasets.get(t.dataset.name) if t.dataset else None
    init = dataset_init(ds)
    dataset_size = t.resources.storage if t.resources is not None and t.resources.storage else DEFAULT_DATASET_STORAGE
    # Requested, not limited: an unsized checkpoint emptyDir also counts against
    # a limit, and evicting a long run for it would lose the run; each volume's
    # sizeLimit bounds it instead.
    res["requests"]["ephemeral-storage"] = kc.quantity_bytes(TMP_STORAGE + (dataset_size if init else 0))
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "shm", "mountPath": "/dev/shm"}]
    volumes: list[dict[str, Any]] = [
        {"name": "tmp", "emptyDir": {"sizeLimit": kc.quantity_bytes(TMP_STORAGE)}},
        {"name": "shm", "emptyDir": {"medium": "Memory"}},
    ]
    if init:
        mounts.append({"name": "dataset", "mountPath": DATASET_DIR, "readOnly": True})
        volumes.append({"name": "dataset", "emptyDir": {"sizeLimit": kc.quantity_bytes(dataset_size)}})
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
        "init_containers": init,
        "container": container,
        "image": t.image,
        "command": launch(t),
        "env": _env(ds, t, secret_prefix),
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
        # The checkpoint claim is in its job's wave, not before it: Argo CD applies a wave only
        # once the last one is healthy, and a claim is Progressing while Pending, which a claim
        # of a WaitForFirstConsumer class stays until a pod that mounts it is scheduled. In an
        # earlier wave the sync would wait for it for ever (tests/golden/test_sync_waves.py).
        "annotations": kc.wave(kc.WAVE_WORKLOAD),
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
