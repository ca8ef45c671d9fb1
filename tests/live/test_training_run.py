"""A training pod trains on the dataset the spec names, and a run is tagged with
its commit (issue 10, point 8).

The rendered init containers' scripts run under a real ``sh`` with real ``curl``
against a loopback HTTP server holding two dataset versions, with exactly the
environment the pod gives them; ``shipspec training-run`` swaps the version, and
a real MLflow client (.tools/mlflow, scripts/bootstrap) starts a run with the
training container's environment and records the commit as its git tag."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.commands.evidence import dataset_digest
from compiler.commands.training_run import GIT_SHA_LABEL, manifest
from tests.support.golden import ROOT
from tests.support.k8s_support import compile_to, errors, write_spec
from tests.support.specs import MINIMAL, training

pytestmark = pytest.mark.realtools
MLFLOW = ROOT / ".tools" / "mlflow" / "bin" / "python"
V1, V2 = b"amount,label\n12.5,0\n", b"amount,label\n99.0,1\n7.25,0\n"
SHA = "0123456789abcdef0123456789abcdef01234567"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bucket(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP "bucket" on 127.0.0.1 serving tmp/bucket, stopped after the test."""
    root = tmp_path / "bucket"
    for version, data in (("v1", V1), ("v2", V2)):
        (root / "clicks" / version).mkdir(parents=True)
        (root / "clicks" / version / "data.csv").write_bytes(data)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _digest_of(data: bytes) -> str:
    """The dataset digest of a single-file https dataset (fetched as ./data)."""
    return hashlib.sha256(f"{hashlib.sha256(data).hexdigest()}  ./data\n".encode()).hexdigest()


def _job(tmp: Path, base: str, sha256: str) -> Path:
    spec = MINIMAL + training(f"{base}/clicks/v1/data.csv", sha256, extra='  experiment "clf"\n')
    out = tmp / "out"
    assert not errors(compile_to(write_spec(tmp / "specs", spec), out))
    return out / "deploy/train/job-clf-train.yaml"


def _run_init(pod: dict[str, Any], data_dir: Path) -> subprocess.CompletedProcess[str]:
    """The pod's init containers in order, each with its own environment (DATASET_DIR
    pointed at a local directory), stopping at the first that fails, as the kubelet does."""
    data_dir.mkdir(exist_ok=True)
    done = subprocess.CompletedProcess[str]([], 0, "", "")
    for init in pod["initContainers"]:
        env = {e["name"]: e["value"] for e in init["env"]}
        env.update(DATASET_DIR=str(data_dir), HOME=str(data_dir.parent), PATH=os.environ["PATH"])
        done = subprocess.run(init["command"], env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            return done
    return done


def test_the_pod_trains_only_on_the_bytes_the_spec_declares(tmp_path: Path, bucket: tuple[str, Path]) -> None:
    base, root = bucket
    job_file = _job(tmp_path, base, _digest_of(V1))
    pod = yaml.safe_load(job_file.read_text())["spec"]["template"]["spec"]
    done = _run_init(pod, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "data").read_bytes() == V1
    # The shell convention is the Python one gates use for evidence provenance.
    assert dataset_digest(tmp_path / "data") == _digest_of(V1)
    (root / "clicks" / "v1" / "data.csv").write_bytes(V1 + b"1.0,1\n")  # the object changed under its version
    tampered = _run_init(pod, tmp_path / "tampered")
    assert tampered.returncode == 1 and "the spec declares" in tampered.stderr


def test_a_training_run_fetches_the_version_it_names(tmp_path: Path, bucket: tuple[str, Path]) -> None:
    base, _ = bucket
    job_file = _job(tmp_path, base, _digest_of(V1))
    run = json.loads(manifest(job_file, "clf-train-9-1", "v2", _digest_of(V2), SHA))
    pod = run["spec"]["template"]["spec"]
    done = _run_init(pod, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "data").read_bytes() == V2
    wrong = json.loads(manifest(job_file, "clf-train-9-2", "v2", _digest_of(V1), SHA))
    refused = _run_init(wrong["spec"]["template"]["spec"], tmp_path / "wrong")
    assert refused.returncode == 1 and "sha256" in refused.stderr
    assert run["metadata"]["labels"][GIT_SHA_LABEL] == SHA
    assert run["spec"]["template"]["metadata"]["labels"][GIT_SHA_LABEL] == SHA


@pytest.mark.skipif(not MLFLOW.exists(), reason="run scripts/bootstrap (the mlflow extra)")
def test_mlflow_tags_the_run_with_its_git_commit(tmp_path: Path, bucket: tuple[str, Path]) -> None:
    base, _ = bucket
    job_file = _job(tmp_path, base, _digest_of(V1))
    run = json.loads(manifest(job_file, "clf-train-9-1", None, None, SHA))
    (container,) = run["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    env.update(
        PATH=os.environ["PATH"],
        HOME=str(tmp_path),
        MLFLOW_TRACKING_URI=(tmp_path / "mlruns").as_uri(),
        MLFLOW_ALLOW_FILE_STORE="true",
    )
    script = (
        "import json, mlflow\n"
        "with mlflow.start_run() as r:\n"
        "    pass\n"
        "run = mlflow.get_run(r.info.run_id)\n"
        "exp = mlflow.get_experiment(run.info.experiment_id)\n"
        "print(json.dumps({'tags': run.data.tags, 'experiment': exp.name}))\n"
    )
    done = subprocess.run([str(MLFLOW), "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    recorded = json.loads(done.stdout.strip().splitlines()[-1])
    assert recorded["tags"]["mlflow.source.git.commit"] == SHA
    assert recorded["experiment"] == "clf"
