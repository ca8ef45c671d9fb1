"""GitHub Actions limits on what a workflow may be (its "Actions limits" reference): a matrix
makes at most 256 jobs in a run (more fails the run), and a workflow file over 500 KB starts
no runs at all. The testing workflow grows with the datasets (one matrix job each) and the
models with tests or benchmarks (two jobs each, about a KiB), so a large spec renders it in
several files (``testing.yml``, ``testing-2.yml``, ...), each with its own name and
concurrency group; SS807 reports any workflow past a limit all the same."""

from __future__ import annotations

import pytest
import yaml

from compiler.backends import file_validators
from compiler.backends.github import validate as github_validate
from compiler.backends.github.validate import matrix_jobs, validate_workflow
from compiler.backends.render import Templates
from compiler.diagnostics import Sink, Span
from compiler.output import OutputFile
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render
from compiler.validate import validate_files
from tests.support.specs import MINIMAL


def _workflows(text: str) -> tuple[dict[str, dict], Sink]:
    checked = check_loaded(load_text(text, "t.ship"))
    assert not checked.has_errors, [d for d in checked.diagnostics if d.severity.value == "error"][:3]
    files, sink = render(checked, Templates.load(), only=("github",))
    validate_files(files, "1.33", sink, file_validators())
    return {f.path.rsplit("/", 1)[1]: yaml.safe_load(f.text) for f in files if f.path.endswith(".yml")}, sink


def _with_datasets(n: int) -> str:
    datasets = "".join(
        f'dataset d{i:03d} {{\n  version "1"\n  uri "s3://data/d{i:03d}/1/"\n  sha256 "{"a" * 64}"\n}}\n'
        for i in range(n)
    )
    conditions = "".join(f"  metric auc >= 0.9 on d{i:03d}\n" for i in range(n))
    return MINIMAL.replace("  metric auc >= 0.9 on holdout\n", conditions) + datasets


def _matrix(workflow: dict) -> list[dict]:
    return workflow["jobs"]["datasets"]["strategy"]["matrix"]["include"]


def test_three_hundred_datasets_are_two_matrices_of_at_most_256() -> None:
    flows, sink = _workflows(_with_datasets(300))
    assert not sink.has_errors, sink.items
    first, second = flows["testing.yml"], flows["testing-2.yml"]
    assert "testing-3.yml" not in flows
    assert [len(_matrix(first)), len(_matrix(second))] == [150, 150]
    assert [d["dataset"] for d in _matrix(first) + _matrix(second)] == [f"d{i:03d}" for i in range(300)]
    # Own names and concurrency groups: with one group, each run would cancel the other.
    assert (first["name"], second["name"]) == ("testing", "testing-2")
    assert first["concurrency"]["group"] != second["concurrency"]["group"]
    assert first["concurrency"]["group"].startswith("testing-$") and second["concurrency"]["group"].startswith(
        "testing-2-$"
    )


def test_one_file_of_256_datasets() -> None:
    flows, _ = _workflows(_with_datasets(256))
    assert "testing-2.yml" not in flows and len(_matrix(flows["testing.yml"])) == 256


def _fleet_with_tests(names: list[str]) -> str:
    model = MINIMAL[MINIMAL.index("model clf {") : MINIMAL.index("sla clf in prod {")]
    tested = model.replace(
        "  serve in staging, prod\n",
        '  serve in staging\n  tests {\n    run "pytest -q tests/clf"\n    benchmark p99 < 20ms at 100rps\n  }\n',
    )
    pin = '  override clf { version "1.0.0" }\n'
    head = MINIMAL[: MINIMAL.index("model clf {")].replace(pin, "")
    return head + "".join(tested.replace("clf", n) for n in names) + MINIMAL[MINIMAL.index("dataset holdout {") :]


def test_a_testing_workflow_past_the_size_limit_is_split_by_model(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"model_{i:02d}" for i in range(12)]
    whole, _ = _workflows(_fleet_with_tests(names))
    assert list(k for k in whole if k.startswith("testing")) == ["testing.yml"]
    monkeypatch.setattr(github_validate, "WORKFLOW_BYTES", 6000)  # about a third of the twelve models' file
    flows, _ = _workflows(_fleet_with_tests(names))
    parts = [flows[k] for k in sorted(flows, key=len) if k.startswith("testing")]
    assert len(parts) >= 3
    jobs = [job for part in parts for job in part["jobs"]]
    assert sorted(jobs) == sorted(whole["testing.yml"]["jobs"])
    for part in parts:
        # A model's benchmarks need its tests: in the same file.
        for job in part["jobs"].values():
            for needed in job.get("needs", []):
                assert needed in part["jobs"]


def test_every_part_is_under_the_limit_it_was_split_for(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"model_{i:02d}" for i in range(12)]
    monkeypatch.setattr(github_validate, "WORKFLOW_BYTES", 6000)
    checked = check_loaded(load_text(_fleet_with_tests(names), "t.ship"))
    files, _ = render(checked, Templates.load(), only=("github",))
    sizes = [github_validate.written_size(f) for f in files if "/testing" in f.path]
    assert len(sizes) >= 3 and max(sizes) <= 6000


def _workflow_file(text: str) -> OutputFile:
    return OutputFile(".github/workflows/big.yml", text, Span.point("t.ship"), kind="github-workflow")


def test_a_workflow_file_over_500_kb_is_an_error() -> None:
    pad = "# " + "x" * 1000 + "\n"
    head = "name: big\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n"
    sink = Sink()
    validate_workflow(_workflow_file(head + pad * 500), sink)
    assert [d.code for d in sink.items] == ["SS807"] and "over 500000" in sink.items[0].message
    sink = Sink()
    validate_workflow(_workflow_file(head + pad * 400), sink)
    assert "SS807" not in [d.code for d in sink.items]


def test_a_matrix_of_more_than_256_jobs_is_an_error() -> None:
    rows = "".join(f"          - n: {i}\n" for i in range(257))
    text = (
        "name: m\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    strategy:\n      matrix:\n"
        f"        include:\n{rows}    steps:\n      - run: echo\n"
    )
    sink = Sink()
    validate_workflow(_workflow_file(text), sink)
    assert [d.code for d in sink.items] == ["SS807"] and "makes 257 jobs" in sink.items[0].message


@pytest.mark.parametrize(
    ("matrix", "jobs"),
    [
        ({"include": [{"a": 1}] * 3}, 3),
        ({"os": ["a", "b"], "py": ["3.10", "3.11", "3.12"]}, 6),
        ({"os": ["a", "b"], "py": ["3.10", "3.11"], "exclude": [{"os": "a", "py": "3.10"}]}, 3),
        ({"os": "${{ fromJSON(inputs.os) }}"}, 0),
        ("${{ fromJSON(needs.a.outputs.m) }}", 0),
        (None, 0),
    ],
)
def test_matrix_jobs(matrix: object, jobs: int) -> None:
    assert matrix_jobs(matrix) == jobs


def test_the_limits_are_githubs() -> None:
    assert (github_validate.MATRIX_JOBS, github_validate.WORKFLOW_BYTES) == (256, 500_000)


def test_no_part_is_left_without_a_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """A limit no split can meet: a model a part, each with its jobs (the rest is SS807's)."""
    monkeypatch.setattr(github_validate, "WORKFLOW_BYTES", 500)
    checked = check_loaded(load_text(_fleet_with_tests(["m_a", "m_b", "m_c"]), "t.ship"))
    files, _ = render(checked, Templates.load(), only=("github",))
    parts = {f.path.rsplit("/", 1)[1]: sorted(yaml.safe_load(f.text)["jobs"]) for f in files if "/testing" in f.path}
    assert parts == {
        "testing.yml": ["benchmarks-m-a", "tests-m-a"],
        "testing-2.yml": ["benchmarks-m-b", "tests-m-b"],
        "testing-3.yml": ["benchmarks-m-c", "tests-m-c"],
    }
