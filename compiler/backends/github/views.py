"""View models for the GitHub Actions workflows.

Templates only lay these out. Every value here is plain data; GitHub
expressions (``${{ … }}``) that depend on the spec come in as strings, so the
template environment quotes them like any other scalar and GitHub still
evaluates them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from compiler import __version__

from compiler.targets import layout
from compiler.ir import Gate, Spec, Tier
from compiler.resolve import Resolved
from compiler.targets.kubernetes import k8s_name
from compiler.units import format_duration as fmt_seconds

# Actions pinned to an exact release: a moved tag cannot change what runs.
ACTIONS = {
    "checkout": "actions/checkout@v4.2.2",
    "setup_python": "actions/setup-python@v5.3.0",
    "upload_artifact": "actions/upload-artifact@v4.4.3",
    "download_artifact": "actions/download-artifact@v4.1.8",
}
RUNNER = "ubuntu-24.04"
PYTHON = "3.11"
DEFAULT_BRANCHES = ["main"]


def install(extras: str = "render") -> str:
    """The pip argument that installs the shipspec which rendered the repository."""
    return shlex.quote(f"shipspec[{extras}]=={__version__}")


def url_variable(env: str) -> str:
    """The repository variable holding an environment's Triton endpoint."""
    return "SHIPSPEC_URL_" + re.sub(r"[^A-Z0-9]+", "_", env.upper()).strip("_")


def url_expr(env: str) -> str:
    return "${{ vars." + url_variable(env) + " }}"


def fmt_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def load_command(model: str, percentile: float, threshold: float, rate: float, duration: float, out: str) -> str:
    parts = [
        "shipspec load --url \"$URL\"",
        f"--model {shlex.quote(model)}",
        f"--percentile {fmt_number(percentile)}",
        f"--threshold {fmt_seconds(threshold)}",
        f"--rate {fmt_number(rate)}rps",
        f"--duration {fmt_seconds(duration)}",
        f"--out {out}",
    ]
    return " ".join(parts)


def base_context(r: Resolved) -> dict[str, Any]:
    specs_path = r.spec_dir
    specs = shlex.quote(specs_path)
    return {
        "actions": ACTIONS,
        "runner": RUNNER,
        "python": PYTHON,
        "version": __version__,
        "install": install(),
        "install_load": install("render") + " " + shlex.quote("tritonclient[all]>=2.51,<3"),
        "specs": specs,
        "specs_path": specs_path,
        # Spec files at the top of the repository have no directory to filter on.
        "paths": [f"{specs_path}/**" if specs_path != "." else "**.ship", f"{layout.DEPLOY}/**",
                  f"{layout.WORKFLOWS_DIR}/**", layout.CODEOWNERS],  # fmt: skip
        "branches": DEFAULT_BRANCHES,
    }


def job_id(prefix: str, name: str) -> str:
    return f"{prefix}-{k8s_name(name)}"


def _testing_env(spec: Spec) -> str:
    env = next((e for e in spec.environments if e.tier is Tier.TESTING), None)
    return env.name if env is not None else "testing"


def testing_view(spec: Spec) -> dict[str, Any] | None:
    """The testing-tier workflow, or None when no model declares tests or data."""
    test_jobs = [
        {"id": job_id("tests", m.name), "model": m.name, "commands": list(m.tests)} for m in spec.models if m.tests
    ]
    used = {m.trained_on.name for m in spec.models if m.trained_on}
    used |= {t.dataset.name for t in spec.trainings if t.dataset}
    used |= {c.dataset.name for g in spec.gates for c in g.conditions if c.dataset}
    datasets = [
        {"name": d.name, "version": d.version, "uri": d.uri, "sha256": d.sha256}
        for d in spec.datasets
        if d.name in used and d.version and d.uri and d.sha256
    ]
    env = _testing_env(spec)
    benchmark_jobs = []
    for m in spec.models:
        if not m.benchmarks:
            continue
        steps = []
        for i, b in enumerate(m.benchmarks):
            out = f"benchmark-{i + 1}.json"
            steps.append({
                "title": f"p{fmt_number(b.percentile)} < {fmt_seconds(b.threshold)} at {fmt_number(b.rate)}rps",
                "command": load_command(m.name, b.percentile, b.threshold, b.rate, 60.0, out),
            })
        tests_id = job_id("tests", m.name)
        benchmark_jobs.append({
            "id": job_id("benchmarks", m.name),
            "model": m.name,
            "needs": [tests_id] if m.tests else [],
            "timeout": 10 + 2 * len(steps),
            "url_expr": url_expr(env),
            "benchmarks": steps,
        })
    if not (test_jobs or datasets or benchmark_jobs):
        return None
    return {"test_jobs": test_jobs, "datasets": datasets, "benchmark_jobs": benchmark_jobs}


def gate_file(gate: Gate) -> str:
    name = f"promote-{k8s_name(gate.model.name)}-{k8s_name(gate.source.name)}-to-{k8s_name(gate.target.name)}.yml"
    return f"{layout.WORKFLOWS_DIR}/{name}"


def dispatch_type(gate: Gate) -> str:
    return f"promote-{gate.model.name}-{gate.source.name}-{gate.target.name}"


def gate_view(r: Resolved, gate: Gate) -> dict[str, Any]:
    load = None
    timeout = 15
    if gate.load is not None:
        lt = gate.load
        load = {
            "title": f"load p{fmt_number(lt.percentile)} < {fmt_seconds(lt.threshold)} at "
            f"{fmt_number(lt.rate)}rps for {fmt_seconds(lt.duration)}",
            "command": load_command(gate.model.name, lt.percentile, lt.threshold, lt.rate, lt.duration, "load-evidence.json"),
        }
        timeout += int(lt.duration // 60) + 1
    check = (
        f"shipspec gate check --gate {shlex.quote(gate.source.name + '->' + gate.target.name)} "
        f"--model \"$MODEL\" --version \"$VERSION\" --evidence evidence.input --evidence load-evidence.json --format markdown "
        f"{shlex.quote(r.spec_dir)} >> \"$GITHUB_STEP_SUMMARY\""
    )
    return {
        "model": gate.model.name,
        "model_quoted": shlex.quote(gate.model.name),
        "source": gate.source.name,
        "target": gate.target.name,
        # What the source runs is what this gate would promote.
        "version": r.version_in(gate.model.name, gate.source.name) or "",
        "dispatch_type": dispatch_type(gate),
        "url_expr": url_expr(gate.source.name),
        "load": load,
        "load_timeout": timeout,
        "check_command": check,
        "approvers": " ".join(gate.approval) or "no approvers declared",
    }


@dataclass(frozen=True, slots=True)
class Retraining:
    model: str
    environment: str
    namespace: str
    job_file: str
    triggers: str
    dispatch_type: str


def retraining_views(r: Resolved) -> list[Retraining]:
    """One per model that has a training job and a monitor rule ending in ``-> retrain``."""
    spec = r.spec
    out = []
    for t in spec.trainings:
        rules = [rule for mon in spec.monitors if mon.model.name == t.model.name for rule in mon.rules
                 if rule.action == "retrain"]
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
            )
        )
    return sorted(out, key=lambda r: r.model)
