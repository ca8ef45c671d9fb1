"""Issue 12: what the rendered workflows do when they run. Each test reads the
rendered text or YAML and asserts the behaviour GitHub Actions gives it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from compiler import __version__
from compiler.backends.github.actions import ACTIONS, SHA
from tests.support.workflows import example, render_workflows  # noqa: F401  (example: a fixture)

ROOT = Path(__file__).resolve().parents[4]
PROMOTION = ROOT / "golden" / "github-promotion" / "specs"
USES = re.compile(r"^\s*(?:- )?uses: (?P<repo>[\w.-]+/[\w.-]+(?:/[\w.-]+)?)@(?P<ref>\S+)(?: # (?P<version>\S+))?$")
GCP_ROLE = "projects/123456/locations/global/workloadIdentityPools/ci/providers/github"


def _variant(tmp_path: Path, old: str, new: str) -> dict[str, str]:
    specs = tmp_path / "specs"
    shutil.copytree(PROMOTION, specs)
    f = specs / "scorer.ship"
    assert old in f.read_text()
    f.write_text(f.read_text().replace(old, new))
    return render_workflows(specs)


def _wf(files: dict[str, str], name: str) -> dict:
    return yaml.safe_load(files[f".github/workflows/{name}"])


def _runs(job: dict) -> list[str]:
    return [s.get("run", "") for s in job["steps"]]


def test_table_pins_full_commit_shas():
    assert all(SHA.fullmatch(a.sha) for a in ACTIONS.values())
    assert all(re.fullmatch(r"v\d+\.\d+\.\d+", a.version) for a in ACTIONS.values())
    assert len({a.repo for a in ACTIONS.values()}) == len(ACTIONS)


def test_every_uses_is_the_table_entry_with_its_version(example, tmp_path):
    files, _ = example
    rendered = {**files, **render_workflows(PROMOTION),
                **{f"gcp/{k}": v for k, v in _variant(tmp_path, "arn:aws:iam::123456789012:role/acme-ml-ci",
                                                      GCP_ROLE).items()}}  # fmt: skip
    by_repo = {a.repo: a for a in ACTIONS.values()}
    used = set()
    for path, text in rendered.items():
        for line in text.splitlines():
            if "uses:" not in line:
                continue
            m = USES.match(line)
            assert m, (path, line)
            action = by_repo[m["repo"]]
            assert (m["ref"], m["version"]) == (action.sha, action.version), (path, line)
            used.add(m["repo"])
    assert used == set(by_repo), "a table entry no workflow uses"


def test_ci_installs_shipspec_from_the_projects_pinned_source(tmp_path):
    url = "https://github.com/acme/shipspec/releases/download/v0.1.0/shipspec-0.1.0-py3-none-any.whl#sha256=" + "a" * 64
    files = _variant(tmp_path, "  owners @acme/platform\n", f'  owners @acme/platform\n  compiler "{url}"\n')
    installs = [r for p, t in files.items() if p.endswith(".yml") for job in yaml.safe_load(t)["jobs"].values()
                for r in _runs(job) if "pip install" in r and "shipspec" in r]  # fmt: skip
    assert installs and all(r.startswith(f"python -m pip install 'shipspec[render] @ {url}'") for r in installs)


def test_without_a_setting_ci_installs_this_releases_tag():
    wf = _wf(render_workflows(PROMOTION), "shipspec.yml")
    assert (f"python -m pip install 'shipspec[render] @ git+https://github.com/shipspec/shipspec@v{__version__}'"
            in _runs(wf["jobs"]["shipspec"]))  # fmt: skip


def test_tests_install_their_requirements_first():
    job = _wf(render_workflows(PROMOTION), "testing.yml")["jobs"]["tests-scorer"]
    runs = _runs(job)
    assert runs.index("python -m pip install --requirement tests/requirements.txt") < runs.index(
        "pytest -q tests/scorer"
    )


def test_benchmarks_measure_an_environment_that_serves_the_model_from_its_runners():
    job = _wf(render_workflows(PROMOTION), "testing.yml")["jobs"]["benchmarks-scorer"]
    # The testing environment `ci` serves nothing; staging serves scorer (version 1.2.0).
    assert job["env"]["URL"] == "${{ vars.SHIPSPEC_URL_STAGING }}"
    assert job["runs-on"] == ["self-hosted", "staging"]
    assert any("--model scorer --model-version 1002000 " in r for r in _runs(job))


def test_datasets_are_fetched_with_short_lived_oidc_credentials(tmp_path):
    job = _wf(render_workflows(PROMOTION), "testing.yml")["jobs"]["datasets"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    aws = job["steps"][0]
    assert aws["uses"].startswith(ACTIONS["aws_credentials"].repo + "@")
    assert aws["with"] == {"role-to-assume": "arn:aws:iam::123456789012:role/acme-ml-ci",
                           "aws-region": "${{ vars.AWS_REGION }}"}  # fmt: skip
    gcp = _wf(_variant(tmp_path, "arn:aws:iam::123456789012:role/acme-ml-ci", GCP_ROLE), "testing.yml")
    step = gcp["jobs"]["datasets"]["steps"][0]
    assert step["uses"].startswith(ACTIONS["gcp_auth"].repo + "@") and step["with"] == {
        "workload_identity_provider": GCP_ROLE
    }


def test_no_cloud_role_no_oidc(tmp_path):
    files = _variant(tmp_path, '  cloud_role "arn:aws:iam::123456789012:role/acme-ml-ci"\n', "")
    job = _wf(files, "testing.yml")["jobs"]["datasets"]
    assert job["permissions"] == {"contents": "read"} and "uses" not in job["steps"][0]


def test_load_runs_in_the_source_environment_on_the_promoted_version():
    wf = _wf(render_workflows(PROMOTION), "promote-scorer-staging-to-preprod.yml")
    load = wf["jobs"]["load"]
    assert load["runs-on"] == ["self-hosted", "staging"]
    runs = _runs(load)
    guard = next(r for r in runs if r.startswith('test "$VERSION"'))
    assert guard.startswith('test "$VERSION" = 1.2.0 ||')
    assert any(r.startswith("shipspec load") and "--model-version 1002000" in r for r in runs)


def test_evaluation_evidence_is_produced_in_the_workflow_with_provenance():
    wf = _wf(render_workflows(PROMOTION), "promote-scorer-staging-to-preprod.yml")
    assert "evidence" not in wf[True]["workflow_dispatch"]["inputs"]  # nobody points at a file
    ev = wf["jobs"]["evaluate"]
    runs = _runs(ev)
    fetch = next(s for s in ev["steps"] if s.get("name", "").startswith("fetch and verify holdout"))
    assert fetch["env"]["DATASET_SHA256"] == "9f2c6a1e0b7d4c3a8e5f9d2b1c0a7e6f5d4c3b2a1908f7e6d5c4b3a291807f6e"
    order = [runs.index(r) for r in (fetch["run"], "python -m scorer.evaluate",
                                     'shipspec gate provenance evaluation.yaml --run "$RUN_URL" --commit "$GITHUB_SHA" '
                                     "--dataset holdout=data/holdout")]  # fmt: skip
    assert order == sorted(order)
    gate = wf["jobs"]["gate"]
    assert gate["needs"] == ["load", "evaluate"]
    check = next(r for r in _runs(gate) if r.startswith("shipspec gate check"))
    assert '--evidence evaluation.yaml --run "$RUN_URL" --commit "$GITHUB_SHA"' in check


def test_a_gate_without_an_evaluation_command_fails_saying_so(tmp_path):
    files = _variant(tmp_path, '    evaluate "python -m scorer.evaluate"\n', "")
    ev = _wf(files, "promote-scorer-staging-to-preprod.yml")["jobs"]["evaluate"]
    assert [s["name"] for s in ev["steps"]] == ["no evaluation command"]
    assert "declares no evaluation command" in ev["steps"][0]["run"] and ev["steps"][0]["run"].endswith("exit 1")


def test_the_promotion_pull_request_is_opened_with_the_apps_token():
    promote = _wf(render_workflows(PROMOTION), "promote-scorer-staging-to-preprod.yml")["jobs"]["promote"]
    assert promote["permissions"] == {"contents": "read"}  # GITHUB_TOKEN writes nothing
    app = promote["steps"][0]
    assert app["id"] == "app" and app["uses"].startswith(ACTIONS["app_token"].repo + "@")
    assert app["with"]["app-id"] == "${{ vars.SHIPSPEC_APP_ID }}"
    assert app["with"]["private-key"] == "${{ secrets.SHIPSPEC_APP_PRIVATE_KEY }}"
    # The promotion commit changes workflow files: pushing those needs the workflows permission.
    permissions = {k: v for k, v in app["with"].items() if k.startswith("permission-")}
    assert permissions == {
        "permission-contents": "write",
        "permission-pull-requests": "write",
        "permission-workflows": "write",
    }
    pr = next(s for s in promote["steps"] if s.get("name") == "open a pull request")
    assert pr["env"]["GH_TOKEN"] == "${{ steps.app.outputs.token }}"
    assert "gh auth setup-git" in pr["run"]
    checkout = next(s for s in promote["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False


def test_retraining_starts_an_unmanaged_run_with_short_lived_credentials():
    wf = _wf(render_workflows(PROMOTION), "retrain-scorer.yml")
    job = wf["jobs"]["retrain"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert "secrets." not in yaml.safe_dump(job)  # no long-lived kubeconfig
    assert job["env"]["RUN_NAME"] == "scorer-train-${{ github.run_id }}-${{ github.run_attempt }}"
    assert (
        job["env"]["DATASET_VERSION"] == "${{ inputs.dataset_version || github.event.client_payload.dataset_version }}"
    )
    start = next(r for r in _runs(job) if "training-run" in r)
    assert "delete" not in start and 'kubectl --namespace "$NAMESPACE" create --filename' in start
