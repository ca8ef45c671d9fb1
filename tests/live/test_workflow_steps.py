"""The rendered workflows' own `run:` steps, executed with bash in a scratch repository
(real git, a real bare remote, the real shipspec on PATH) with the `GITHUB_*` environment a
runner gives them: what CI will run is a command line this shipspec accepts and that does
what the workflow says, as far as it can go without GitHub, a cloud or a cluster. Installing
from the release is tests/live/test_ci_install.py."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler.commands.evidence import dataset_digest
from tests.support.github_comments import CommentsStandIn

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "golden" / "github-promotion"
WORKFLOW = ".github/workflows/promote-scorer-staging-to-preprod.yml"
RUN_URL = "https://github.com/acme/ml/actions/runs/42/attempts/1"
DECLARED_URI = "s3://acme/holdout/2026-01-01/"

pytestmark = [pytest.mark.realtools, pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                reason="needs git and bash")]  # fmt: skip

# A stand-in for the model's evaluation command (`tests { evaluate "python -m scorer.evaluate" }`):
# it reads the fetched dataset and writes the evidence the workflow asks for at $EVIDENCE.
EVALUATE = """\
import os, pathlib
rows = pathlib.Path("data/holdout/labels.csv").read_text().split()
auc = sum(r.endswith(",1") for r in rows) / len(rows)
pathlib.Path(os.environ["EVIDENCE"]).write_text(
    f"model: scorer\\nversion: '{os.environ['VERSION']}'\\nmetrics:\\n  auc: {{value: {auc}, dataset: holdout}}\\n")
"""

# GitHub's API for this test: `gh` records what it was asked and succeeds.
GH = """#!/bin/sh
printf '%s\\n' "$*" >> "$GH_LOG"
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=30, check=True,
                          env=_env(repo)).stdout  # fmt: skip


def _env(repo: Path, **extra: str) -> dict[str, str]:
    bindir = Path(sys.executable).parent
    temp = repo.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PATH": f"{repo.parent / 'bin'}{os.pathsep}{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{repo}",
        "GITHUB_ACTIONS": "true", "CI": "true",
        "GITHUB_STEP_SUMMARY": str(repo.parent / "summary.md"), "GITHUB_ENV": str(repo.parent / "github-env"),
        "GITHUB_OUTPUT": str(repo.parent / "github-output"), "GITHUB_WORKSPACE": str(repo),
        "GITHUB_REPOSITORY": "acme/ml", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "1", "RUNNER_TEMP": str(temp), "GH_LOG": str(repo.parent / "gh.log"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        **extra,
    }  # fmt: skip


def _steps(job: dict, name_part: str) -> list[dict]:
    return [s for s in job["steps"] if name_part in s.get("name", "")]


def _step(job: dict, name_part: str) -> str:
    return _steps(job, name_part)[0]["run"]


def _bash(repo: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # GitHub runs `run:` with `bash -e {0}`.
    return subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The golden case's repository, with its dataset at a local URI (same version, true digest)."""
    repo = tmp_path / "repo"
    shutil.copytree(CASE / "specs", repo / "specs")
    data = tmp_path / "store" / "holdout" / "2026-01-01"
    data.mkdir(parents=True)
    (data / "labels.csv").write_text("".join(f"r{i},{int(i != 7)}\n" for i in range(20)))  # the stand-in's auc: 0.95
    spec = repo / "specs" / "scorer.ship"
    text = spec.read_text().replace(DECLARED_URI, data.as_uri())
    spec.write_text(
        text.replace("9f2c6a1e0b7d4c3a8e5f9d2b1c0a7e6f5d4c3b2a1908f7e6d5c4b3a291807f6e", dataset_digest(data))
    )
    (repo / "scorer").mkdir()
    (repo / "scorer" / "__init__.py").write_text("")
    (repo / "scorer" / "evaluate.py").write_text(EVALUATE)
    (tmp_path / "bin").mkdir()
    gh = tmp_path / "bin" / "gh"
    gh.write_text(GH)
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    compiled = subprocess.run([sys.executable, "-m", "compiler", "compile"], cwd=repo, env=_env(repo),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    _git(repo, "init", "-q", ".")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "init")
    return repo


def _workflow_env(repo: Path, **extra: str) -> dict[str, str]:
    """The promotion workflow's `env:` as GitHub evaluates it for this dispatch."""
    values = {"MODEL": "scorer", "VERSION": "1.2.0", "RUN_URL": RUN_URL,
              "GITHUB_SHA": _git(repo, "rev-parse", "HEAD").strip()}  # fmt: skip
    return _env(repo, **{**values, **extra})


def _evaluate(repo: Path, wf: dict, env: dict[str, str]) -> None:
    job = wf["jobs"]["evaluate"]
    for step in _steps(job, "fetch and verify"):
        done = _bash(repo, step["run"], {**env, **step["env"]})
        assert done.returncode == 0, done.stdout + done.stderr
        assert "sha256 matches" in done.stdout
    ev = _steps(job, "evaluate: ")[0]
    done = _bash(repo, ev["run"], {**env, **ev["env"]})
    assert done.returncode == 0, done.stderr
    done = _bash(repo, _step(job, "record where the numbers come from"), env)
    assert done.returncode == 0, done.stderr


def test_promotion_runs_as_written(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    wf = yaml.safe_load((repo / WORKFLOW).read_text())
    env = _workflow_env(repo)
    for guard in ("the inputs name this gate's model", "the version is the one staging runs"):
        assert _bash(repo, _step(wf["jobs"]["load"], guard), env).returncode == 0
    _evaluate(repo, wf, env)
    stamped = yaml.safe_load((repo / "evaluation.yaml").read_text())
    assert stamped["provenance"]["run"] == RUN_URL and stamped["provenance"]["commit"] == env["GITHUB_SHA"]
    # What the load job uploads (its real run against Triton is tests/live/test_loadtest.py).
    load = {"model": "scorer", "load": {"percentile": 99, "latency_ms": 31.0, "rate_rps": 50.0, "duration_s": 300}}
    (repo / "load-evidence.json").write_text(json.dumps(load))
    checked = _bash(repo, _step(wf["jobs"]["gate"], "gate check"), env)
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert checked.returncode == 0, summary + checked.stderr
    assert "### gate staging -> preprod for scorer" in summary and "provenance dataset holdout" in summary

    remote = tmp_path_factory.mktemp("remote") / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, timeout=30)
    _git(repo, "remote", "add", "origin", str(remote))
    for f in ("evaluation.yaml", "load-evidence.json"):  # artifacts of other jobs, not in this checkout
        (repo / f).unlink()
    promote = wf["jobs"]["promote"]
    promoted = _bash(repo, _step(promote, "shipspec promote"), env)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    pr = next(s for s in promote["steps"] if s.get("name") == "open a pull request")
    step_env = {k: v for k, v in pr["env"].items() if "${{" not in v}
    assert step_env == {"TARGET": "preprod", "APPROVERS": "no approvers declared", "SPECS": "specs"}
    opened = _bash(repo, pr["run"], {**env, **step_env, "GH_TOKEN": "app-installation-token"})
    assert opened.returncode == 0, opened.stdout + opened.stderr
    branch = "shipspec/promote-scorer-1.2.0-preprod"
    calls = Path(env["GH_LOG"]).read_text().splitlines()
    assert calls[0] == "auth setup-git" and calls[1].startswith(
        f"pr create --head {branch} --title Promote scorer 1.2.0"
    )
    assert _git(remote, "log", "--format=%s", "-1", branch).strip() == "Promote scorer 1.2.0 to preprod"
    files = _git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split()
    assert {
        "specs/scorer.ship",
        ".shipspec/ledger.json",
        ".github/workflows/promote-scorer-preprod-to-prod.yml",
        "docs/catalog/models/scorer.md",  # the catalog's versions per environment move with the pin
    } <= set(files)
    allowed = ("specs/", "deploy/preprod/", ".shipspec/", ".github/", "docs/catalog/")
    assert all(f.startswith(allowed) for f in files), files
    diff = _git(repo, "diff", "--unified=0", "HEAD~1", "HEAD", "--", "specs")
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ['-  override scorer { version "1.1.0" }', '+  override scorer { version "1.2.0" }']


def test_evidence_from_another_run_or_data_fails_the_gate(repo: Path) -> None:
    wf = yaml.safe_load((repo / WORKFLOW).read_text())
    env = _workflow_env(repo)
    _evaluate(repo, wf, env)
    (repo / "load-evidence.json").write_text("{}")
    # The same evidence checked by another run (say, uploaded by hand): refused.
    other = _bash(repo, _step(wf["jobs"]["gate"], "gate check"), {**env, "RUN_URL": RUN_URL.replace("42", "43")})
    assert other.returncode == 1
    assert (
        "runs/42/attempts/1, not https://github.com/acme/ml/actions/runs/43"
        in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    )


def test_a_dataset_that_is_not_the_declared_one_stops_the_evaluation(repo: Path, tmp_path: Path) -> None:
    wf = yaml.safe_load((repo / WORKFLOW).read_text())
    (tmp_path / "store" / "holdout" / "2026-01-01" / "labels.csv").write_text("a,1\n")  # changed in place
    step = _steps(wf["jobs"]["evaluate"], "fetch and verify")[0]
    done = _bash(repo, step["run"], {**_workflow_env(repo), **step["env"]})
    assert done.returncode == 1 and "::error::dataset holdout 2026-01-01: sha256" in done.stdout


def test_guards_refuse_another_model_or_version(repo: Path) -> None:
    wf = yaml.safe_load((repo / WORKFLOW).read_text())
    load = wf["jobs"]["load"]
    wrong = _bash(repo, _step(load, "the inputs name this gate's model"), _workflow_env(repo, MODEL="other"))
    assert wrong.returncode == 1 and "this workflow promotes scorer, not other" in wrong.stdout
    wrong = _bash(repo, _step(load, "the version is the one staging runs"), _workflow_env(repo, VERSION="1.3.0"))
    assert (
        wrong.returncode == 1
        and "staging runs 1.2.0, so smoke, load and evidence measure it, not 1.3.0" in wrong.stdout
    )


def test_testing_workflow_steps(repo: Path) -> None:
    wf = yaml.safe_load((repo / ".github/workflows/testing.yml").read_text())
    job = wf["jobs"]["datasets"]
    [entry] = job["strategy"]["matrix"]["include"]
    fetch = _steps(job, "fetch and verify")[0]
    matrix_env = {"DATASET": entry["dataset"], "DATASET_VERSION": entry["version"], "DATASET_URI": entry["uri"],
                  "DATASET_SHA256": entry["sha256"], "DATASET_DIR": f"data/{entry['dataset']}"}  # fmt: skip
    assert set(fetch["env"]) == set(matrix_env)
    done = _bash(repo, fetch["run"], _env(repo, **matrix_env))
    assert done.returncode == 0 and "dataset holdout 2026-01-01: sha256 matches" in done.stdout, (
        done.stdout + done.stderr
    )


def test_pull_request_workflow_steps(repo: Path) -> None:
    wf = yaml.safe_load((repo / ".github/workflows/shipspec.yml").read_text())
    with CommentsStandIn() as api:
        # GitHub's own values for the PR event; the API is a loopback stand-in.
        env = _env(repo, BASE_SHA=_git(repo, "rev-parse", "HEAD").strip(), PR="7", GITHUB_TOKEN="job-token",
                   GITHUB_API_URL=api.url)  # fmt: skip
        for step in wf["jobs"]["shipspec"]["steps"]:
            if "run" in step and "pip install" not in step["run"]:
                done = _bash(repo, step["run"], env)
                assert done.returncode == 0, (step["name"], done.stdout + done.stderr)
        assert len(api.comments) == 1  # the diff's one sticky comment on PR 7


def test_retraining_starts_a_run_of_the_named_dataset(repo: Path) -> None:
    wf = yaml.safe_load((repo / ".github/workflows/retrain-scorer.yml").read_text())
    job = wf["jobs"]["retrain"]
    sha = hashlib.sha256(b"new data").hexdigest()
    job_env = {k: v for k, v in job["env"].items() if "${{" not in v}
    head = _git(repo, "rev-parse", "HEAD").strip()  # GitHub's GITHUB_SHA: the commit the workflow runs at
    env = _env(repo, **job_env, REASON="ScorerDrift", DATASET_VERSION="2026-02-01", DATASET_SHA256=sha,
               RUN_NAME="scorer-train-42-1", KUBECONFIG=str(repo.parent / "kubeconfig"), GITHUB_SHA=head)  # fmt: skip
    # No cluster here: kubectl (with the kubeconfig the OIDC step writes) is pointed at a closed
    # port, so the run is built and kubectl's create is refused.
    (repo.parent / "kubeconfig").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "oidc-id-token"}}],
    }))  # fmt: skip
    if shutil.which("kubectl") is None:
        pytest.skip("needs kubectl")
    done = _bash(repo, _step(job, "start a training run"), env)
    assert done.returncode == 1 and "127.0.0.1:9" in done.stderr, done.stdout + done.stderr
    run = json.loads((repo.parent / "runner-temp" / "run.json").read_text())
    assert run["metadata"]["name"] == "scorer-train-42-1" and run["kind"] == "Job"
    assert run["metadata"]["labels"]["shipspec.dev/git-sha"] == head
    assert not any(k.startswith("argocd.argoproj.io/") for k in run["metadata"].get("annotations", {}))
    env_vars = {e["name"]: e["value"] for e in run["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env_vars["DATASET_VERSION"] == "2026-02-01" and env_vars["DATASET_SHA256"] == sha
    assert env_vars["DATASET_URI"].endswith("/holdout/2026-02-01")
    assert "Retraining because: ScorerDrift" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def test_a_retrained_version_is_recorded_through_a_pull_request(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    wf = yaml.safe_load((repo / ".github/workflows/retrain-scorer.yml").read_text())
    assert wf[True]["repository_dispatch"]["types"] == ["retrain-scorer", "trained-scorer"]
    job = wf["jobs"]["record"]
    assert job["if"] == "github.event.action == 'trained-scorer'"
    remote = tmp_path_factory.mktemp("remote") / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, timeout=30)
    _git(repo, "remote", "add", "origin", str(remote))
    # What client_payload carries when the run is done.
    env = _env(repo, MODEL="scorer", VERSION="1.3.0", ARTIFACT="s3://acme-models/scorer/1.3.0/model.onnx")
    done = _bash(repo, _step(job, "shipspec record"), env)
    assert done.returncode == 0, done.stdout + done.stderr
    pr = next(s for s in job["steps"] if s.get("name") == "open a pull request")
    opened = _bash(repo, pr["run"], {**env, "SPECS": pr["env"]["SPECS"], "GH_TOKEN": "app-installation-token"})
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert (
        _git(remote, "log", "--format=%s", "-1", "shipspec/record-scorer-1.3.0").strip()
        == "Record retrained scorer 1.3.0"
    )
    diff = _git(repo, "diff", "--unified=0", "HEAD~1", "HEAD", "--", "specs")
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed == ['-  version "1.2.0"', '+  version "1.3.0"', '-  artifact "s3://acme-models/scorer/1.2.0/model.onnx"',
                       '+  artifact "s3://acme-models/scorer/1.3.0/model.onnx"']  # fmt: skip
    # Gated environments keep their pins; the ungated staging follows the model's version.
    files = _git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split()
    assert any(f.startswith("deploy/staging/") for f in files) and not any(f.startswith("deploy/prod/") for f in files)
    assert "docs/catalog/models/scorer.md" in files  # the catalog's versions move with the record
    # A payload that is not a version is refused and changes nothing.
    bad = _bash(repo, _step(job, "shipspec record"), {**env, "VERSION": "1.4; rm -rf /"})
    assert bad.returncode == 1 and "is not a version string" in bad.stderr
    assert _git(repo, "status", "--porcelain") == ""


def test_retraining_credential_is_the_runs_oidc_token(repo: Path) -> None:
    """The OIDC step against a loopback stand-in for the runner's token service: the token,
    for the cluster's audience, becomes the kubeconfig's only credential."""
    if shutil.which("kubectl") is None or shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.skip("needs kubectl, jq and curl")
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    seen: list[tuple[str, str]] = []

    class Tokens(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization", "")))
            body = json.dumps({"value": "eyJ.oidc.token"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tokens)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        wf = yaml.safe_load((repo / ".github/workflows/retrain-scorer.yml").read_text())
        job = wf["jobs"]["retrain"]
        job_env = {k: v for k, v in job["env"].items() if "${{" not in v}
        env = _env(
            repo,
            **job_env,
            ACTIONS_ID_TOKEN_REQUEST_URL=f"http://127.0.0.1:{server.server_address[1]}/token?api-version=2.0",
            ACTIONS_ID_TOKEN_REQUEST_TOKEN="runner-request-token",
            KUBE_SERVER="https://10.0.0.1:6443",
            KUBE_CA="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        )
        done = _bash(repo, _step(job, "a short-lived cluster credential"), env)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::add-mask::eyJ.oidc.token" in done.stdout
    assert seen == [("/token?api-version=2.0&audience=shipspec-train", "bearer runner-request-token")]
    kubeconfig = Path(env["RUNNER_TEMP"]) / "kubeconfig"
    assert Path(env["GITHUB_ENV"]).read_text() == f"KUBECONFIG={kubeconfig}\n"
    config = yaml.safe_load(kubeconfig.read_text())
    assert config["users"] == [{"name": "github", "user": {"token": "eyJ.oidc.token"}}]
    assert config["clusters"][0]["cluster"]["server"] == "https://10.0.0.1:6443"
    assert config["contexts"][0]["context"]["namespace"] == "ml-train"
