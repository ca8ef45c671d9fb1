"""The GitHub backend: the rendered workflows carry the guarantees issue 6 asks for (pinned
actions, minimal permissions, per-model concurrency). That every workflow passes the real
actionlint and workflow JSON schema is tests/live/test_github_workflows.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from compiler import __version__
from compiler.backends.github import backend as github
from compiler.backends.render import Templates
from compiler.diagnostics import Sink
from compiler.pipeline import render, validate
from tests.support.workflows import example  # noqa: F401  (example: a fixture)
from tests.support.workflows import render_workflows as _render

ROOT = Path(__file__).resolve().parents[4]


def _workflows(files: dict[str, str]) -> dict[str, dict]:
    return {p: yaml.safe_load(t) for p, t in files.items() if p.startswith(".github/workflows/")}


def test_expected_workflows(example):
    files, _ = example
    names = sorted(Path(p).name for p in files)
    assert names == [
        "CODEOWNERS",
        "actionlint.yaml",  # the self-hosted runner labels of staging and preprod
        "promote-fraud-detector-preprod-to-prod.yml",
        "promote-fraud-detector-staging-to-preprod.yml",
        "promote-offer-ranker-staging-to-prod.yml",
        "promote-ticket-router-staging-to-prod.yml",
        "retrain-fraud-detector.yml",
        "retrain-offer-ranker.yml",
        "shipspec.yml",
        "testing.yml",
    ]


def test_pr_workflow_runs_the_rendering_version(example):
    files, _ = example
    wf = _workflows(files)[".github/workflows/shipspec.yml"]
    steps = wf["jobs"]["shipspec"]["steps"]
    runs = [s.get("run", "") for s in steps]
    # No package-index name (unclaimed, anyone could register it): this release's own tag.
    assert f"python -m pip install 'shipspec[render] @ git+https://github.com/shipspec/shipspec@v{__version__}'" in runs
    assert "shipspec validate --format github specs" in runs
    assert "shipspec fmt --check specs" in runs
    assert any(r.startswith("shipspec check") for r in runs)
    assert any("shipspec diff --base" in r and "--format markdown" in r and "GITHUB_STEP_SUMMARY" in r for r in runs)
    assert steps[0]["with"]["fetch-depth"] == 0  # diff --base needs the history


def test_actions_pinned_permissions_minimal(example):
    files, _ = example
    for path, wf in _workflows(files).items():
        assert wf["permissions"] == {}, path
        for name, job in wf["jobs"].items():
            assert "permissions" in job, (path, name)
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"[\w-]+/[\w-]+(/[\w-]+)?@[0-9a-f]{40}", step["uses"]), step["uses"]
            writes = {k for k, v in job["permissions"].items() if v == "write"}
            # The promotion writes with the GitHub App's token, not the job's; OIDC only where
            # a job fetches data or reaches a cluster; the PR job writes its one sticky comment
            # and uploads its SARIF to code scanning (issue 13).
            allowed = {"shipspec": {"pull-requests", "security-events"}, "datasets": {"id-token"},
                       "evaluate": {"id-token"}, "retrain": {"id-token"}}  # fmt: skip
            assert writes <= allowed.get(name, set()), (path, name)


def test_promotion_workflow_per_gate(example):
    files, _ = example
    wf = _workflows(files)[".github/workflows/promote-fraud-detector-preprod-to-prod.yml"]
    on = wf[True]  # YAML 1.1 reads `on` as a boolean key
    assert {"model", "version"} <= set(on["workflow_dispatch"]["inputs"])
    assert on["repository_dispatch"]["types"] == ["promote-fraud_detector-preprod-prod"]
    assert wf["concurrency"] == {"group": "promote-fraud_detector", "cancel-in-progress": False}
    jobs = wf["jobs"]
    assert jobs["gate"]["needs"] == ["load", "evaluate"] and jobs["promote"]["needs"] == "gate"
    assert jobs["promote"]["environment"] == "prod"
    load_runs = " ".join(s.get("run", "") for s in jobs["load"]["steps"])
    assert 'shipspec smoke --url "$URL" --env preprod' in load_runs
    assert "--percentile 99 --threshold 50ms --rate 300rps --duration 10m" in load_runs
    assert jobs["load"]["env"]["URL"] == "${{ vars.SHIPSPEC_URL_PREPROD }}"
    gate_runs = " ".join(s.get("run", "") for s in jobs["gate"]["steps"])
    assert "shipspec gate check --gate 'preprod->prod'" in gate_runs
    promote_runs = " ".join(s.get("run", "") for s in jobs["promote"]["steps"])
    assert (
        'shipspec promote "$MODEL" specs --to prod --version "$VERSION"' in promote_runs
        and "gh pr create" in promote_runs
    )


def test_retraining_from_drift_alerts(example):
    files, _ = example
    wf = _workflows(files)[".github/workflows/retrain-fraud-detector.yml"]
    assert wf[True]["repository_dispatch"]["types"] == ["retrain-fraud_detector", "trained-fraud_detector"]
    assert wf["concurrency"]["group"] == "retrain-fraud_detector"
    assert wf["jobs"]["retrain"]["environment"] == "train"


def test_testing_tier(example):
    files, _ = example
    jobs = _workflows(files)[".github/workflows/testing.yml"]["jobs"]
    assert [s["run"] for s in jobs["tests-fraud-detector"]["steps"] if s.get("name") == "pytest -q tests/fraud"]
    matrix = jobs["datasets"]["strategy"]["matrix"]["include"]
    assert {d["dataset"] for d in matrix} == {
        "transactions",
        "transactions_holdout",
        "offers_clicks",
        "support_tickets",
    }
    assert all(len(d["sha256"]) == 64 for d in matrix)
    bench = jobs["benchmarks-fraud-detector"]
    assert bench["needs"] == ["tests-fraud-detector"]
    assert any("--percentile 99 --threshold 20ms --rate 100rps" in s.get("run", "") for s in bench["steps"])


def test_codeowners(example):
    files, _ = example
    lines = [ln for ln in files[".github/CODEOWNERS"].splitlines() if ln and not ln.startswith("#")]
    assert lines[0] == "* @kestrel/ml-platform"
    assert "/specs/models/fraud.ship @kestrel/ml-platform @kestrel/fraud-ml" in lines
    prod = [ln for ln in lines if ln.startswith("/deploy/prod/**/*fraud-detector*")]
    assert prod == ["/deploy/prod/**/*fraud-detector* @kestrel/ml-leads"]  # the gate's approvers alone
    staging = [ln for ln in lines if ln.startswith("/deploy/staging/**/*fraud-detector*")]
    assert staging == ["/deploy/staging/**/*fraud-detector* @kestrel/ml-platform @kestrel/fraud-ml"]


def test_spec_values_cannot_inject_yaml(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    fraud = specs / "models" / "fraud.ship"
    fraud.write_text(fraud.read_text().replace('run "pytest -q tests/fraud"', 'run "x\\n    permissions: write-all"'))
    files = _render(specs)
    job = yaml.safe_load(files[".github/workflows/testing.yml"])["jobs"]["tests-fraud-detector"]
    assert job["permissions"] == {"contents": "read"}
    assert job["steps"][-1]["run"] == "x\n    permissions: write-all"


def _validate_with_override(tmp_path, template, old, new):
    """Render the example's workflows with one template edited; validate them as compile does."""
    override = tmp_path / "templates" / "github"
    override.mkdir(parents=True)
    text = (ROOT / "templates/github" / template).read_text()
    assert old in text
    (override / template).write_text(text.replace(old, new))
    checked = validate([ROOT / "specs"])
    files, _ = render(checked, Templates.load(tmp_path / "templates"), only=["github"])
    sink = Sink()
    for f in files:
        if f.kind == github.WORKFLOW:
            github.BACKEND.validators[f.kind](f, sink, "1.33")
    return sink


def test_a_broken_template_override_is_reported_not_written(tmp_path):
    sink = _validate_with_override(tmp_path, "shipspec.yml.j2", "jobs:", "jobs: [")
    assert [d.code for d in sink.items] == ["SS805"]
    assert ".github/workflows/shipspec.yml" in sink.items[0].message


def test_rendering_is_deterministic():
    assert _render(ROOT / "specs") == _render(ROOT / "specs")


def test_golden_promotion_case_pins_and_defaults():
    root = ROOT / "golden/github-promotion/expected/.github/workflows"
    wf = yaml.safe_load((root / "promote-scorer-preprod-to-prod.yml").read_text())
    # The version offered by default is the one running in the gate's source.
    assert wf[True]["workflow_dispatch"]["inputs"]["version"]["default"] == "1.1.0"
    assert (
        yaml.safe_load((root / "promote-scorer-staging-to-preprod.yml").read_text())[True]["workflow_dispatch"][
            "inputs"
        ]["version"]["default"]
        == "1.2.0"
    )


def test_schema_violation_in_an_override_is_reported(tmp_path):
    sink = _validate_with_override(tmp_path, "promote.yml.j2", "timeout-minutes: 15", "timeout-minutez: 15")
    bad = sorted({d.message.split(":")[0] for d in sink.items if d.code == "SS802"})
    assert bad == [f".github/workflows/{n}" for n in (
        "promote-fraud-detector-preprod-to-prod.yml", "promote-fraud-detector-staging-to-preprod.yml",
        "promote-offer-ranker-staging-to-prod.yml", "promote-ticket-router-staging-to-prod.yml",
    )]  # fmt: skip
    # Reported against the gate that produced the file.
    assert all(d.span.file.endswith(".ship") for d in sink.items)


@pytest.fixture(scope="module")
def built():
    """Every backend's output for specs/, compiled once for the cross-backend tests."""
    from compiler.pipeline import build

    result = build([ROOT / "specs"])
    assert not result.has_errors, result.diagnostics
    return result


def test_retraining_runs_the_job_the_kubernetes_backend_renders(built):
    result = built
    paths = {f.path for f in result.files}
    texts = {f.path: f.text for f in result.files}
    retrain = sorted(p for p in paths if p.startswith(".github/workflows/retrain-"))
    assert retrain
    for path in retrain:
        job = yaml.safe_load(texts[path])["jobs"]["retrain"]["env"]["JOB_FILE"]
        assert job in paths, (path, job)


def test_drift_alerts_name_the_retraining_workflow_event(built):
    """The monitoring backend's `-> retrain` alerts carry the event type the
    retraining workflow listens for, so a relay needs no mapping table."""
    texts = {f.path: f.text for f in built.files}
    listened = {
        yaml.safe_load(t)[True]["repository_dispatch"]["types"][0]
        for p, t in texts.items() if p.startswith(".github/workflows/retrain-")
    }  # fmt: skip
    announced = set()
    for path, text in texts.items():
        if path.endswith("/monitoring/rules.yml"):
            for group in yaml.safe_load(text)["groups"]:
                for rule in group["rules"]:
                    if "retrain_event_type" in rule.get("annotations", {}):
                        announced.add(rule["annotations"]["retrain_event_type"])
    assert listened == {"retrain-fraud_detector", "retrain-offer_ranker"}
    assert announced == listened


_SCHEMA_PROBE = """
import sys
from compiler.backends.github import validate
from compiler.backends.base import OutputFile
from compiler.diagnostics import Sink, Span

schema = validate._schema()
sink = Sink()
bad = "on: push\\njobs:\\n  a:\\n    runs-on: ubuntu-latest\\n    steps: 3\\n"
validate.validate_workflow(OutputFile(".github/workflows/x.yml", bad, Span.point("x.ship")), sink)
print(schema is not None and "jobs" in schema.get("properties", {}), [d.code for d in sink.items])
print(sorted(m for m in ("check_jsonschema", "click", "requests") if m in sys.modules))
"""


@pytest.mark.realtools  # a fresh interpreter: only a new process shows what validating imports
def test_the_workflow_schema_is_found_without_importing_check_jsonschema() -> None:
    """The vendored workflow schema is check-jsonschema's data, read where it lies: importing
    the package imports its command line (click, requests): 0.19 s and 15 MiB of a compile that
    renders a workflow (a gate edited, a cold compile)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[4]
    r = subprocess.run(
        [sys.executable, "-c", _SCHEMA_PROBE], capture_output=True, text=True, timeout=120, check=False, cwd=root
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.splitlines() == ["True ['SS802']", "[]"]
