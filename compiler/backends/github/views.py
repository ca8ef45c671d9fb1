"""View models for the GitHub Actions workflows.

Templates only lay these out. Every value here is plain data; GitHub
expressions (``${{ … }}``) that depend on the spec come in as strings, so the
template environment quotes them like any other scalar and GitHub still
evaluates them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from compiler import __version__
from compiler.backends.github.actions import ACTIONS
from compiler.backends.render import Raw
from compiler.ir import Dataset as DatasetRecord
from compiler.ir import Environment, Gate, Model, Spec, Tier
from compiler.records import Record, record
from compiler.resolve import Placement, Project, Resolved
from compiler.targets import layout
from compiler.targets.kubernetes import k8s_name
from compiler.units import format_duration as fmt_seconds

RUNNER = "ubuntu-24.04"
# Labels every self-hosted runner carries (GitHub adds them); actionlint knows them.
STANDARD_LABELS = frozenset({"self-hosted", "linux", "x64", "arm", "arm64", "macos", "windows"})
PYTHON = "3.11"
DEFAULT_BRANCHES = ["main"]
# Without a `compiler` setting CI installs the release of this shipspec from its own
# repository's tag (never a package-index name another party could claim).
DEFAULT_SOURCE = "git+https://github.com/shipspec/shipspec@v{version}"
# The tiers a benchmark may measure, best first: never production.
BENCHMARK_TIERS = (Tier.TESTING, Tier.STAGING, Tier.PREPROD, Tier.DEVELOPMENT)


# -- the views the workflow templates receive ------------------------------------


class Cloud(TypedDict):
    kind: str  # "aws" | "gcp": which official credentials action
    role: str


class BaseContext(TypedDict):
    actions: dict[str, Raw]
    runner: str
    python: str
    version: str
    install: str
    install_load: str
    specs: str
    specs_path: str
    paths: list[str]
    branches: list[str]


class TestJob(TypedDict):
    id: str
    model: str
    commands: list[str]
    requirements: str | None


class Dataset(TypedDict):
    name: str
    version: str
    uri: str
    sha256: str
    dir: str


class Step(TypedDict):
    title: str
    command: str


class BenchmarkJob(TypedDict):
    id: str
    model: str
    environment: str
    needs: list[str]
    timeout: int
    url_expr: str
    runs_on: str | list[str]
    benchmarks: list[Step]


class TestingView(TypedDict):
    test_jobs: list[TestJob]
    datasets: list[Dataset]
    benchmark_jobs: list[BenchmarkJob]
    cloud: Cloud | None


class Evaluation(TypedDict):
    command: str | None
    requirements: str | None
    datasets: list[Dataset]
    cloud: Cloud | None
    provenance: str
    missing: str


class GateView(TypedDict):
    model: str
    model_quoted: str
    version_quoted: str
    source: str
    target: str
    version: str
    runs_on: str | list[str]
    dispatch_type: str
    url_expr: str
    load: Step | None
    load_timeout: int
    evaluation: Evaluation | None
    check_command: str
    approvers: str


def source(project: Project) -> str:
    """Where CI installs shipspec from: the project's pinned `compiler`, else this release."""
    declared = project.declared
    return (declared.compiler if declared else None) or DEFAULT_SOURCE.format(version=__version__)


def install(project: Project, extras: str = "render", configured: str | None = None) -> str:
    """The pip argument that installs the shipspec the project names (a direct reference:
    pip checks a ``#sha256=`` fragment and checks out a git commit exactly); without a
    ``compiler`` in the spec, ``[ci] install`` from shipspec.toml (``configured``), else this release."""
    declared = project.declared
    if configured and not (declared and declared.compiler):
        return shlex.quote(configured)
    return shlex.quote(f"shipspec[{extras}] @ {source(project)}")


def runs_on(env: Environment | None) -> str | list[str]:
    """An environment's runner labels (self-hosted, in its network), else GitHub's runner."""
    return list(env.runner) if env is not None and env.runner else RUNNER


def cloud(project: Project, uris: list[str]) -> Cloud | None:
    """The OIDC step that gives a job short-lived cloud credentials for these URIs."""
    role = project.declared.cloud_role if project.declared else None
    if role is None or not any(u.startswith(("s3://", "gs://")) for u in uris):
        return None
    if role.startswith("arn:"):
        return {"kind": "aws", "role": role}
    return {"kind": "gcp", "role": role}


def url_variable(env: str) -> str:
    """The repository variable holding an environment's Triton endpoint."""
    return "SHIPSPEC_URL_" + re.sub(r"[^A-Z0-9]+", "_", env.upper()).strip("_")


def cluster_variable(what: str, env: str) -> str:
    """The repository variable with an environment's API server URL or CA certificate."""
    return f"SHIPSPEC_KUBE_{what}_" + re.sub(r"[^A-Z0-9]+", "_", env.upper()).strip("_")


def url_expr(env: str) -> str:
    return "${{ vars." + url_variable(env) + " }}"


def fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def load_command(model: str, percentile: float, threshold: float, rate: float, duration: float, out: str,
                 version: str | None = None) -> str:  # fmt: skip
    parts = [
        'shipspec load --url "$URL"',
        f"--model {shlex.quote(model)}",
        *([f"--model-version {layout.triton_version_dir(version)}"] if version else []),
        f"--percentile {fmt_number(percentile)}",
        f"--threshold {fmt_seconds(threshold)}",
        f"--rate {fmt_number(rate)}rps",
        f"--duration {fmt_seconds(duration)}",
        f"--out {out}",
    ]
    return " ".join(parts)


def base_context(project: Project, specs_path: str, ci_install: str | None = None) -> BaseContext:
    """What every workflow shows (``specs_path``: ``Resolved.spec_dir``)."""
    specs = shlex.quote(specs_path)
    return {
        "actions": {key: Raw(action.uses) for key, action in ACTIONS.items()},
        "runner": RUNNER,
        "python": PYTHON,
        "version": __version__,
        "install": install(project, configured=ci_install),
        "install_load": install(project, configured=ci_install) + " " + shlex.quote("tritonclient[all]>=2.51,<3"),
        "specs": specs,
        "specs_path": specs_path,
        # Spec files at the top of the repository have no directory to filter on.
        "paths": [
            f"{specs_path}/**" if specs_path != "." else "**.ship",
            f"{layout.DEPLOY}/**",
            f"{layout.WORKFLOWS_DIR}/**",
            layout.CODEOWNERS,
            f"{layout.CATALOG_DIR}/**",
        ],  # fmt: skip
        "branches": DEFAULT_BRANCHES,
    }


def job_id(prefix: str, name: str) -> str:
    return f"{prefix}-{k8s_name(name)}"


def benchmark_env(r: Resolved, model: str) -> Environment | None:
    """The environment a model's benchmarks measure: one that serves it, testing tier first,
    never production (None when only production serves it)."""
    m = r.models.get(model)
    if m is None:
        return None
    served = [e for ref in m.serve_in if (e := r.environments.get(ref.name)) is not None]
    for tier in BENCHMARK_TIERS:
        for env in served:
            if env.tier is tier:
                return env
    return None


def _test_job(m: Model) -> TestJob:
    return {
        "id": job_id("tests", m.name),
        "model": m.name,
        "commands": list(m.tests),
        "requirements": shlex.quote(m.test_requirements) if m.test_requirements else None,
    }


def _datasets(spec: Spec, names: set[str]) -> list[Dataset]:
    return _dataset_views(d for d in spec.datasets if d.name in names)


def _dataset_views(datasets: Iterable[DatasetRecord]) -> list[Dataset]:
    return [
        {"name": d.name, "version": d.version, "uri": d.uri, "sha256": d.sha256, "dir": f"data/{d.name}"}
        for d in datasets
        if d.version and d.uri and d.sha256
    ]


def testing_view(r: Resolved) -> TestingView | None:
    """The testing-tier workflow, or None when no model declares tests or data."""
    spec = r.spec
    test_jobs = [_test_job(m) for m in spec.models if m.tests]
    used = {m.trained_on.name for m in spec.models if m.trained_on}
    used |= {t.dataset.name for t in spec.trainings if t.dataset}
    used |= {c.dataset.name for g in spec.gates for c in g.conditions if c.dataset}
    datasets = _datasets(spec, used)
    benchmark_jobs: list[BenchmarkJob] = []
    for m in spec.models:
        env = benchmark_env(r, m.name) if m.benchmarks else None
        if env is None:
            continue
        version = r.version_in(m.name, env.name)
        steps: list[Step] = []
        for i, b in enumerate(m.benchmarks):
            out = f"benchmark-{i + 1}.json"
            steps.append(
                {
                    "title": f"p{fmt_number(b.percentile)} < {fmt_seconds(b.threshold)} at {fmt_number(b.rate)}rps",
                    "command": load_command(m.name, b.percentile, b.threshold, b.rate, 60.0, out, version),
                }
            )
        tests_id = job_id("tests", m.name)
        benchmark_jobs.append(
            {
                "id": job_id("benchmarks", m.name),
                "model": m.name,
                "environment": env.name,
                "needs": [tests_id] if m.tests else [],
                "timeout": 10 + 2 * len(steps),
                "url_expr": url_expr(env.name),
                "runs_on": runs_on(env),
                "benchmarks": steps,
            }
        )
    if not (test_jobs or datasets or benchmark_jobs):
        return None
    return {"test_jobs": test_jobs, "datasets": datasets, "benchmark_jobs": benchmark_jobs,
            "cloud": cloud(r.project, [d["uri"] for d in datasets])}  # fmt: skip


def testing_parts(r: Resolved, view: TestingView, parts: int) -> list[tuple[str, dict[str, Any]]]:
    """The testing workflow in ``parts`` files (``testing.yml``, ``testing-2.yml``, ...), each
    with a contiguous share of the models (a model's tests and benchmarks together: the
    benchmarks need the tests) and of the datasets; their names and concurrency groups
    are their own (one group would cancel the others). One part is ``view`` itself."""
    jobs = [*view["test_jobs"], *view["benchmark_jobs"]]
    models = list(dict.fromkeys(j["model"] for j in jobs))
    datasets = view["datasets"]
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(parts):
        share = set(models[len(models) * i // parts : len(models) * (i + 1) // parts])
        data = datasets[len(datasets) * i // parts : len(datasets) * (i + 1) // parts]
        suffix = f"-{i + 1}" if i else ""
        part: dict[str, Any] = {
            "test_jobs": [j for j in view["test_jobs"] if j["model"] in share],
            "datasets": data,
            "benchmark_jobs": [j for j in view["benchmark_jobs"] if j["model"] in share],
            "cloud": view["cloud"] if parts == 1 else cloud(r.project, [d["uri"] for d in data]),
            "part": Raw(suffix),
        }
        out.append((f"testing{suffix}.yml", part))
    return out


def gate_file(gate: Gate) -> str:
    name = f"promote-{k8s_name(gate.model.name)}-{k8s_name(gate.source.name)}-to-{k8s_name(gate.target.name)}.yml"
    return f"{layout.WORKFLOWS_DIR}/{name}"


def dispatch_type(gate: Gate) -> str:
    return f"promote-{gate.model.name}-{gate.source.name}-{gate.target.name}"


@record
class GateInputs(Record):
    """Everything a gate's workflow shows besides the base (``gate_inputs``), and nothing else."""

    gate: Gate
    model: Model | None  # the model it promotes (None: no such model)
    source: Environment | None  # the environment it promotes from (None: no such environment)
    placement: Placement | None  # the model in ``source``, which says the version it runs
    datasets: tuple[DatasetRecord, ...]  # the datasets its conditions name, in the spec's order
    project: Project
    spec_dir: str


def gate_inputs(r: Resolved, gate: Gate) -> GateInputs:
    model, env = r.models.get(gate.model.name), r.environments.get(gate.source.name)
    named = {c.dataset.name for c in gate.conditions if c.dataset}
    return GateInputs(
        gate,
        model,
        env,
        r.place(model, env) if model is not None and env is not None else None,
        tuple(d for d in r.spec.datasets if d.name in named) if named else (),
        r.project,
        r.spec_dir,
    )


def _version(g: GateInputs) -> str | None:
    """The version the gate's source runs (``Resolved.version_in``)."""
    if g.model is None:
        return None
    return g.placement.version if g.placement is not None else g.model.version


def gate_view(g: GateInputs) -> GateView:
    gate = g.gate
    load: Step | None = None
    timeout = 15
    if gate.load is not None:
        lt = gate.load
        load = {
            "title": f"load p{fmt_number(lt.percentile)} < {fmt_seconds(lt.threshold)} at "
            f"{fmt_number(lt.rate)}rps for {fmt_seconds(lt.duration)}",
            "command": load_command(
                gate.model.name,
                lt.percentile,
                lt.threshold,
                lt.rate,
                lt.duration,
                "load-evidence.json",
                _version(g),
            ),
        }
        timeout += int(lt.duration // 60) + 1
    evaluation = _evaluation(g)
    check = (
        f"shipspec gate check --gate {shlex.quote(gate.source.name + '->' + gate.target.name)} "
        f'--model "$MODEL" --version "$VERSION" '
        + ('--evidence evaluation.yaml --run "$RUN_URL" --commit "$GITHUB_SHA" ' if evaluation else "")
        + f'--evidence load-evidence.json --format markdown {shlex.quote(g.spec_dir)} >> "$GITHUB_STEP_SUMMARY"'
    )
    return {
        "model": gate.model.name,
        "model_quoted": shlex.quote(gate.model.name),
        "version_quoted": shlex.quote(_version(g) or ""),
        "source": gate.source.name,
        "target": gate.target.name,
        # What the source runs is what this gate would promote.
        "version": _version(g) or "",
        # Smoke and load measure the source from inside its network when it names runners.
        "runs_on": runs_on(g.source),
        "dispatch_type": dispatch_type(gate),
        "url_expr": url_expr(gate.source.name),
        "load": load,
        "load_timeout": timeout,
        "evaluation": evaluation,
        "check_command": check,
        "approvers": " ".join(gate.approval) or "no approvers declared",
    }


def _evaluation(g: GateInputs) -> Evaluation | None:
    """The job that produces the gate's evaluation evidence, or None when the gate has no
    metric, drift or fairness condition."""
    gate, m = g.gate, g.model
    if not gate.conditions:
        return None
    datasets = _dataset_views(g.datasets)
    stamp = " ".join(f"--dataset {shlex.quote(d['name'] + '=' + d['dir'])}" for d in datasets)
    return {
        "command": m.evaluate if m is not None else None,
        "requirements": shlex.quote(m.test_requirements) if m is not None and m.test_requirements else None,
        "datasets": datasets,
        "cloud": cloud(g.project, [d["uri"] for d in datasets]),
        "provenance": (
            f'shipspec gate provenance evaluation.yaml --run "$RUN_URL" --commit "$GITHUB_SHA" {stamp}'
        ).rstrip(),
        "missing": "echo "
        + shlex.quote(
            f"::error::model {gate.model.name} declares no evaluation command "
            '(tests { evaluate "..." }): nothing measures the conditions of this gate'
        )
        + "; exit 1",
    }


@dataclass(frozen=True, slots=True)
class Retraining:
    model: str
    environment: str
    namespace: str
    job_file: str
    triggers: str
    dispatch_type: str
    trained_type: str
    dataset: str | None
    runs_on: str | list[str]
    run_name: str
    server_expr: str
    ca_expr: str
    audience: str


def retraining_views(r: Resolved) -> list[Retraining]:
    """One per model that has a training job and a monitor rule ending in ``-> retrain``."""
    spec = r.spec
    out = []
    for t in spec.trainings:
        rules = [
            rule
            for mon in spec.monitors
            if mon.model.name == t.model.name
            for rule in mon.rules
            if rule.action == "retrain"
        ]
        if not rules or t.environment is None:
            continue
        env = r.environments.get(t.environment.name)
        kind = "PyTorchJob" if t.nodes > 1 else "Job"
        triggers = ", ".join(
            f"{rule.signal}{' ' + rule.statistic if rule.statistic else ''} {rule.op} {fmt_number(rule.threshold)}"
            for rule in rules
        )
        out.append(
            Retraining(
                model=t.model.name,
                environment=t.environment.name,
                namespace=(env.namespace if env and env.namespace else t.environment.name),
                job_file=layout.object_path(t.environment.name, kind, layout.training_name(t.model.name)),
                triggers=triggers,
                dispatch_type=f"retrain-{t.model.name}",
                trained_type=f"trained-{t.model.name}",
                dataset=t.dataset.name if t.dataset else None,
                runs_on=runs_on(env),
                # Unique per run and attempt, within Kubernetes' 63 characters.
                run_name=f"{layout.training_name(t.model.name)[:40]}-"
                + "${{ github.run_id }}-${{ github.run_attempt }}",
                server_expr="${{ vars." + cluster_variable("SERVER", t.environment.name) + " }}",
                ca_expr="${{ vars." + cluster_variable("CA", t.environment.name) + " }}",
                audience=f"shipspec-{k8s_name(t.environment.name)}",
            )
        )
    return sorted(out, key=lambda r: r.model)
