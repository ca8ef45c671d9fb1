"""Evidence with provenance (issue 12): ``gate provenance`` records the workflow run,
the commit and the digest it computes of each dataset; ``gate check --run --commit``
accepts only evidence produced there, on the datasets the spec declares."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from compiler.cli import main
from compiler.commands.evidence import dataset_digest
from compiler.commands.training_run import manifest
from compiler.errors import InputError, UsageError
from tests.unit.commands.test_gate_check import GOOD, SPECS

RUN = "https://github.com/kestrel/ml/actions/runs/42/attempts/1"
SHA = "0123456789abcdef0123456789abcdef01234567"
DECLARED = "1b3d5f7092a4c6e8f0b2d4f6a8c0e2a4b6d8f0a2c4e6a8b0d2f4a6c8e0b2d4f6"  # transactions_holdout


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *extra: str) -> tuple[int, str]:
    ev = tmp_path / "ev.yaml"
    ev.write_text(text)
    rc = main(["gate", "check", SPECS, "--gate", "preprod->prod", "--model", "fraud_detector",
               "--evidence", str(ev), *extra])  # fmt: skip
    return rc, capsys.readouterr().out


def _with(digest: str, run: str = RUN, commit: str = SHA) -> str:
    return (
        GOOD + f"provenance:\n  run: {run}\n  commit: '{commit}'\n  datasets:\n    transactions_holdout: '{digest}'\n"
    )


def test_digest_is_sha256_of_the_sorted_sha256sum_listing(tmp_path):
    d = tmp_path / "data"
    (d / "b").mkdir(parents=True)
    (d / "b" / "x.csv").write_bytes(b"1,2\n")
    (d / "a.csv").write_bytes(b"3\n")
    lines = "".join(f"{hashlib.sha256(data).hexdigest()}  {p}\n" for p, data in
                    sorted([("./a.csv", b"3\n"), ("./b/x.csv", b"1,2\n")]))  # fmt: skip
    assert dataset_digest(d) == hashlib.sha256(lines.encode()).hexdigest()


def test_evidence_from_this_run_on_the_declared_dataset_passes(tmp_path, capsys):
    rc, out = _check(tmp_path, capsys, _with(DECLARED), "--run", RUN, "--commit", SHA)
    assert rc == 0, out
    assert "PASS  provenance run" in out and "PASS  provenance dataset transactions_holdout" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [(GOOD, "missing: the evidence has no provenance"),
     (_with(DECLARED, run=RUN.replace("42", "41")), "measured by run https://github.com/kestrel/ml/actions/runs/41"),
     (_with(DECLARED, commit="f" * 40), "not " + SHA),
     (_with("0" * 64), f"read with sha256 {'0' * 64}, the spec declares {DECLARED}")],
)  # fmt: skip
def test_evidence_from_elsewhere_fails(tmp_path, capsys, text, message):
    rc, out = _check(tmp_path, capsys, text, "--run", RUN, "--commit", SHA)
    assert rc == 1 and message in out, out


def test_stamp_then_check(tmp_path, capsys):
    data = tmp_path / "holdout"
    data.mkdir()
    (data / "part-0.parquet").write_bytes(b"rows")
    ev = tmp_path / "evaluation.yaml"
    ev.write_text(GOOD)
    assert main(["gate", "provenance", str(ev), "--run", RUN, "--commit", SHA,
                 "--dataset", f"transactions_holdout={data}"]) == 0  # fmt: skip
    stamped = yaml.safe_load(ev.read_text())["provenance"]
    assert stamped == {"run": RUN, "commit": SHA, "datasets": {"transactions_holdout": dataset_digest(data)}}
    capsys.readouterr()
    # Another dataset than the declared one: its computed digest gives it away.
    rc = main(["gate", "check", SPECS, "--gate", "preprod->prod", "--model", "fraud_detector", "--evidence", str(ev),
               "--run", RUN, "--commit", SHA])  # fmt: skip
    assert rc == 1 and "the spec declares " + DECLARED in capsys.readouterr().out
    # Stamping twice is refused (file:line:col), the file is unchanged.
    before = ev.read_text()
    assert main(["gate", "provenance", str(ev), "--run", RUN, "--commit", SHA]) == 1
    assert "the evidence already has provenance" in capsys.readouterr().err and ev.read_text() == before


def test_malformed_provenance_is_located(tmp_path, capsys):
    ev = tmp_path / "ev.yaml"
    ev.write_text(GOOD + "provenance:\n  run: x\n  commit: y\n  datasets:\n    d: nothex\n")
    rc = main(["gate", "check", SPECS, "--gate", "preprod->prod", "--model", "fraud_detector", "--evidence", str(ev)])
    err = capsys.readouterr().err
    assert rc == 1 and f"{ev}:20:8: provenance.datasets.d must be a sha256" in err, err


def test_training_run_is_a_unique_unmanaged_copy(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "scorer-train", "annotations": {"argocd.argoproj.io/sync-wave": "0", "keep": "x"}},
        "spec": {"template": {"spec": {"containers": [{"name": "train", "env": [
            {"name": "DATASET_URI", "value": "s3://d/2026-01-01/"}, {"name": "DATASET_VERSION", "value": "2026-01-01"},
            {"name": "DATASET_SHA256", "value": "a" * 64}]}]}}},
    }))  # fmt: skip
    doc = json.loads(manifest(job, "scorer-train-7-1", "2026-02-01", "b" * 64))
    assert doc["metadata"]["name"] == "scorer-train-7-1"
    assert doc["metadata"]["annotations"] == {"keep": "x"}
    assert doc["metadata"]["labels"]["shipspec.dev/training-run-of"] == "scorer-train"
    env = {e["name"]: e["value"] for e in doc["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env == {"DATASET_URI": "s3://d/2026-02-01/", "DATASET_VERSION": "2026-02-01", "DATASET_SHA256": "b" * 64}
    with pytest.raises(UsageError):
        manifest(job, "scorer-train-7-1", "2026-02-01", None)  # a version without its digest
    with pytest.raises(UsageError):
        manifest(job, "Not_A_Name", None, None)


def _pod_job(tmp_path, env_extra=(), init=True):
    dataset = [
        {"name": "DATASET_URI", "value": "s3://d/2026-01-01/"},
        {"name": "DATASET_VERSION", "value": "2026-01-01"},
        {"name": "DATASET_SHA256", "value": "a" * 64},
    ]
    pod = {"containers": [{"name": "train", "env": [*dataset, *env_extra]}]}
    if init:
        pod["initContainers"] = [{"name": "fetch-dataset", "env": [dict(e) for e in dataset]}]
    job = tmp_path / "job.yaml"
    template = {"metadata": {"labels": {"a": "b"}}, "spec": pod}
    doc = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "scorer-train"},
        "spec": {"template": template},
    }
    job.write_text(yaml.safe_dump(doc))
    return job


def test_training_run_swaps_the_dataset_in_the_init_containers_too(tmp_path):
    doc = json.loads(manifest(_pod_job(tmp_path), "scorer-train-7-1", "2026-02-01", "b" * 64))
    (init,) = doc["spec"]["template"]["spec"]["initContainers"]
    env = {e["name"]: e["value"] for e in init["env"]}
    assert env == {"DATASET_URI": "s3://d/2026-02-01/", "DATASET_VERSION": "2026-02-01", "DATASET_SHA256": "b" * 64}


def test_training_run_tags_the_run_with_its_commit(tmp_path):
    doc = json.loads(manifest(_pod_job(tmp_path), "scorer-train-7-1", git_sha=SHA))
    assert doc["metadata"]["labels"]["shipspec.dev/git-sha"] == SHA
    template = doc["spec"]["template"]
    assert template["metadata"]["labels"] == {"a": "b", "shipspec.dev/git-sha": SHA}
    (train,) = template["spec"]["containers"]
    context = next(e["value"] for e in train["env"] if e["name"] == "MLFLOW_RUN_CONTEXT")
    assert json.loads(context) == {"mlflow.source.git.commit": SHA}
    # Only the trainer starts an MLflow run.
    assert all(e["name"] != "MLFLOW_RUN_CONTEXT" for e in template["spec"]["initContainers"][0]["env"])
    # Tags the spec already sets are kept.
    mine = _pod_job(tmp_path, [{"name": "MLFLOW_RUN_CONTEXT", "value": '{"team": "risk"}'}])
    (train,) = json.loads(manifest(mine, "scorer-train-7-1", git_sha=SHA))["spec"]["template"]["spec"]["containers"]
    context = next(e["value"] for e in train["env"] if e["name"] == "MLFLOW_RUN_CONTEXT")
    assert json.loads(context) == {"team": "risk", "mlflow.source.git.commit": SHA}
    bad = _pod_job(tmp_path, [{"name": "MLFLOW_RUN_CONTEXT", "value": "team=risk"}])
    with pytest.raises(InputError, match="MLFLOW_RUN_CONTEXT"):
        manifest(bad, "scorer-train-7-1", git_sha=SHA)
    with pytest.raises(UsageError, match="--git-sha"):
        manifest(_pod_job(tmp_path), "scorer-train-7-1", git_sha="HEAD")


def test_training_run_refuses_another_dataset_version_it_could_not_verify(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t"},
                                   "spec": {"template": {"spec": {"containers": [{"name": "train", "env": [
                                       {"name": "DATASET_URI", "value": "s3://d/1/"},
                                       {"name": "DATASET_VERSION", "value": "1"}]}]}}}}))  # fmt: skip
    with pytest.raises(InputError, match="verifies no dataset digest"):
        manifest(job, "t-1", "2", "b" * 64)
