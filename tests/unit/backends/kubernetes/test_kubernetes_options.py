"""What a spec's pins and a user's templates change in the Kubernetes output,
and how a validation failure is reported."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.resources import templates_dir
from tests.support.k8s_support import compile_to, errors, write_spec
from tests.support.specs import MINIMAL

GATEWAY = MINIMAL.replace("  replicas 2..4\n}", '  replicas 2..4\n  gateway "istio-ingress"\n}', 1)


def _rollout(out: Path) -> dict:
    return yaml.safe_load((out / "deploy/prod/rollout-clf.yaml").read_text())


def test_triton_version_pins_image_and_histograms(tmp_path: Path) -> None:
    spec = GATEWAY.replace('triton "2.51.0" digest', 'triton "2.52.0" digest', 1)
    diags = compile_to(write_spec(tmp_path / "s", spec), tmp_path / "out")
    assert errors(diags) == []
    triton = _rollout(tmp_path / "out")["spec"]["template"]["spec"]["containers"][0]
    # The tag for people, the digest for the node.
    assert triton["image"] == "nvcr.io/nvidia/tritonserver:24.11-py3@sha256:" + "0" * 62 + "51"
    assert "--metrics-config=histogram_latencies=true" in triton["args"]
    assert "--metrics-config=summary_latencies=true" in triton["args"]
    analysis = yaml.safe_load((tmp_path / "out/deploy/prod/analysistemplate-clf-slo.yaml").read_text())
    latency = next(m for m in analysis["spec"]["metrics"] if m["name"] == "latency-p99")
    assert latency["provider"]["prometheus"]["query"].startswith("histogram_quantile(0.99,")
    assert latency["successCondition"].endswith("<= 50")  # milliseconds on the histogram


def test_unknown_triton_release_is_refused(tmp_path: Path) -> None:
    spec = GATEWAY.replace('triton "2.51.0" digest', 'triton "2.30.0" digest', 1)
    diags = compile_to(write_spec(tmp_path / "s", spec), tmp_path / "out")
    assert "SS732" in [d.code for d in errors(diags)]
    assert not (tmp_path / "out").exists()


def test_a_percentile_triton_does_not_export_warns_and_uses_a_stricter_one(tmp_path: Path) -> None:
    # Pinned to 2.51, which has latency summaries only (p50/p90/p95/p99), no histograms.
    spec = GATEWAY.replace("latency p99 < 50ms", "latency p97 < 50ms")
    assert 'triton "2.51.0"' in spec  # tests/support/specs.py pins it
    diags = compile_to(write_spec(tmp_path / "s", spec), tmp_path / "out")
    assert errors(diags) == []
    assert "SS730" in [d.code for d in diags]
    analysis = yaml.safe_load((tmp_path / "out/deploy/prod/analysistemplate-clf-slo.yaml").read_text())
    latency = next(m for m in analysis["spec"]["metrics"] if m["name"] == "latency-p97")
    assert 'quantile="0.99"' in latency["provider"]["prometheus"]["query"]


def test_templates_override_replaces_one_file(tmp_path: Path) -> None:
    override = tmp_path / "tpl" / "kubernetes"
    override.mkdir(parents=True)
    text = (templates_dir() / "kubernetes/service.yaml.j2").read_text()
    (override / "service.yaml.j2").write_text(
        text.replace("  type: ClusterIP\n", "  type: ClusterIP\n  sessionAffinity: ClientIP\n")
    )
    diags = compile_to(write_spec(tmp_path / "s", GATEWAY), tmp_path / "out", templates=tmp_path / "tpl")
    assert errors(diags) == []
    service = yaml.safe_load((tmp_path / "out/deploy/prod/service-clf.yaml").read_text())
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert "sessionAffinity" not in (tmp_path / "out/deploy/prod/rollout-clf.yaml").read_text()


def test_broken_override_is_a_diagnostic_and_nothing_is_written(tmp_path: Path) -> None:
    override = tmp_path / "tpl" / "kubernetes"
    override.mkdir(parents=True)
    (override / "service.yaml.j2").write_text("kind: Service\nmetadata: {{ o.no_such_field }}\n")
    diags = compile_to(write_spec(tmp_path / "s", GATEWAY), tmp_path / "out", templates=tmp_path / "tpl")
    assert {d.code for d in errors(diags)} == {"SS820"}
    assert "no_such_field" in errors(diags)[0].message
    assert not (tmp_path / "out").exists()


def test_schema_failure_names_object_field_path_and_spec_line(tmp_path: Path) -> None:
    override = tmp_path / "tpl" / "kubernetes"
    override.mkdir(parents=True)
    text = (templates_dir() / "kubernetes/service.yaml.j2").read_text()
    (override / "service.yaml.j2").write_text(
        text.replace("  type: ClusterIP\n", "  type: ClusterIP\n  clusterIPz: None\n")
    )
    src = write_spec(tmp_path / "s", GATEWAY)
    diags = compile_to(src, tmp_path / "out", templates=tmp_path / "tpl")
    bad = [d for d in errors(diags) if d.code == "SS802"]
    assert bad, diags
    d = next(d for d in bad if "deploy/prod/" in d.message)
    assert "Service clf" in d.message and "$.spec" in d.message and "clusterIPz" in d.message
    model_line = GATEWAY.splitlines().index("model clf {") + 1
    assert d.span.file.endswith("spec.ship") and d.span.line == model_line
    assert not (tmp_path / "out").exists()


def test_rollout_pod_template_is_checked_as_a_core_pod(tmp_path: Path) -> None:
    override = tmp_path / "tpl" / "kubernetes"
    override.mkdir(parents=True)
    text = (templates_dir() / "kubernetes/triton-pod.yaml.j2").read_text()
    (override / "triton-pod.yaml.j2").write_text(
        text.replace("  enableServiceLinks: false\n", "  enableServiceLinkz: false\n")
    )
    diags = compile_to(write_spec(tmp_path / "s", GATEWAY), tmp_path / "out", templates=tmp_path / "tpl")
    messages = [d.message for d in errors(diags) if d.code == "SS802"]
    assert any("Rollout clf" in m and "$.spec.template.spec" in m and "enableServiceLinkz" in m for m in messages)


def test_environment_pin_selects_the_artifact_version(tmp_path: Path) -> None:
    spec = GATEWAY.replace('override clf { version "1.0.0" }', 'override clf { version "0.9.0" }', 1)
    assert spec != GATEWAY
    diags = compile_to(write_spec(tmp_path / "s", spec), tmp_path / "out")
    assert errors(diags) == []
    pod = _rollout(tmp_path / "out")["spec"]["template"]["spec"]
    fetch = next(c for c in pod["initContainers"] if c["name"] == "fetch-clf")
    assert fetch["command"][-2:] == ["s3://models/clf/0.9.0/model.onnx", "/models/clf/9000/model.onnx"]
    staging = yaml.safe_load((tmp_path / "out/deploy/staging/deployment-clf.yaml").read_text())
    assert staging["spec"]["template"]["spec"]["initContainers"][1]["command"][-1] == "/models/clf/1000000/model.onnx"


def test_no_repository_means_no_applications_with_a_warning(tmp_path: Path) -> None:
    diags = compile_to(write_spec(tmp_path / "s", GATEWAY), tmp_path / "out")
    assert "SS731" in [d.code for d in diags]
    assert not (tmp_path / "out/deploy/argocd").exists()


def test_parallel_render_gives_the_same_files_and_diagnostics(monkeypatch: object) -> None:
    from compiler.backends.base import RenderContext
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.backends.kubernetes import validate as k8s_validate
    from compiler.backends.render import Templates
    from compiler.diagnostics import Sink
    from compiler.parse.sources import load
    from compiler.pipeline import check_loaded
    from tests.support.k8s_support import SPECS

    checked = check_loaded(load([SPECS]))
    runs = []
    for threshold in (0, 10**9):  # forked workers per environment, then serial
        monkeypatch.setattr(kubernetes, "PARALLEL_FROM", threshold)  # type: ignore[attr-defined]
        ctx = RenderContext(checked.resolved, Templates.load(), Sink())
        files = kubernetes.BACKEND.render(ctx)
        runs.append(([(f.path, f.text, f.documents, f.source) for f in files], sorted(ctx.sink.items, key=str)))
    assert runs[0] == runs[1]
    assert len(runs[0][0]) > 50
    # rollouts from the forked workers carry the kind whose validator the backend declares
    rollouts = [f for f in files if f.path.split("/")[-1].startswith("rollout-")]
    assert rollouts and all(f.kind == k8s_validate.PODS_KIND for f in rollouts)
    assert kubernetes.BACKEND.validators[k8s_validate.PODS_KIND] is k8s_validate.validate_pods


def test_templates_flag_through_the_cli(tmp_path: Path) -> None:
    from tests.unit.test_emit import run

    override = tmp_path / "tpl" / "kubernetes"
    override.mkdir(parents=True)
    text = (templates_dir() / "kubernetes/serviceaccount.yaml.j2").read_text()
    (override / "serviceaccount.yaml.j2").write_text(
        text.replace(
            "automountServiceAccountToken: false",
            "automountServiceAccountToken: false\nimagePullSecrets:\n- name: regcred",
        )
    )
    specs = write_spec(tmp_path / "s", GATEWAY)
    rc, _, err = run("compile", str(specs), "--out", str(tmp_path / "out"), "--templates", str(tmp_path / "tpl"))
    assert rc == 0, err
    sa = yaml.safe_load((tmp_path / "out/deploy/prod/serviceaccount-demo.yaml").read_text())
    assert sa["imagePullSecrets"] == [{"name": "regcred"}]
    rc, _, _ = run("check", str(specs), "--out", str(tmp_path / "out"), "--templates", str(tmp_path / "tpl"))
    assert rc == 0
    rc, diff, _ = run("check", str(specs), "--out", str(tmp_path / "out"))  # without the override: stale
    assert rc == 1 and "-imagePullSecrets:" in diff
    assert run("compile", str(specs), "--out", str(tmp_path / "o2"), "--templates", str(tmp_path / "nope"))[0] == 2


def test_a_canary_whose_sla_has_nothing_to_measure_references_no_template(tmp_path: Path) -> None:
    spec = GATEWAY.replace("  latency p99 < 50ms\n  availability 99.9% over 30d\n", "  throughput >= 100rps\n")
    assert "throughput >= 100rps" in spec
    diags = compile_to(write_spec(tmp_path / "s", spec), tmp_path / "out")
    assert errors(diags) == []
    assert "analysis" not in _rollout(tmp_path / "out")["spec"]["strategy"]["canary"]
    assert not (tmp_path / "out/deploy/prod/analysistemplate-clf-slo.yaml").exists()


def test_a_cached_model_gets_a_server_cache(tmp_path: Path) -> None:
    """`cache on` renders `response_cache`, which Triton ignores unless the server has a cache."""

    def args(spec: str, out: Path) -> list[str]:
        assert errors(compile_to(write_spec(out / "s", spec), out / "o")) == []
        deployment = yaml.safe_load((out / "o/deploy/staging/deployment-clf.yaml").read_text())
        return deployment["spec"]["template"]["spec"]["containers"][0]["args"]

    cached = GATEWAY.replace("  serve in staging, prod\n", "  serve in staging, prod\n  cache on\n", 1)
    assert cached != GATEWAY
    assert not any(a.startswith("--cache-config") for a in args(GATEWAY, tmp_path / "plain"))
    assert "--cache-config=local,size=67108864" in args(cached, tmp_path / "cached")


def test_forked_workers_render_and_validate_units_as_the_parent_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build with the render-unit memo forks the Kubernetes workers as a cold compile at
    1,000 models does; each unit comes back validated (its verdict) with its documents cut
    to facts, and the build equals one in a single process and one without the memo."""
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.cache import Memory
    from compiler.pipeline import build
    from tests.support.k8s_support import SPECS

    results = []
    for threshold, store in ((0, Memory()), (10**9, Memory()), (10**9, None)):
        monkeypatch.setattr(kubernetes, "PARALLEL_FROM", threshold)
        built = build([SPECS], store=store)
        results.append(([(f.path, f.text) for f in built.files], built.diagnostics))
    assert results[0] == results[1] == results[2]
    assert len(results[0][0]) > 50


def test_worker_results_through_a_file_or_the_pipe_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked worker puts its result in an unnamed file the parent made for its task, read
    when the parent finishes (the pool's thread took each result as it came, so the parent
    held them all while it rendered the other backends); without one, through the pipe."""
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.cache import Memory
    from compiler.pipeline import build
    from tests.support.k8s_support import SPECS

    made: list[Any] = []
    result_files = kubernetes._result_files

    def recorded(count: int) -> list[Any]:
        files = result_files(count)
        made.extend(files)
        return files

    results = []
    for files in (recorded, lambda count: [None] * count):
        monkeypatch.setattr(kubernetes, "PARALLEL_FROM", 0)
        monkeypatch.setattr(kubernetes, "_result_files", files)
        built = build([SPECS], store=Memory())
        results.append(([(f.path, f.text, f.documents) for f in built.files], built.diagnostics))
    assert results[0] == results[1] and len(results[0][0]) > 50
    assert len(made) > 1 and all(f is not None and f.closed for f in made)


@settings(max_examples=300, deadline=None)
@given(count=st.integers(0, 3000), parts=st.integers(1, 20), block=st.sampled_from([1, 2, 64]))
def test_workers_shares_cover_the_models_in_order_each_starting_on_a_block(count: int, parts: int, block: int) -> None:
    """A forked worker's share of an environment's models (``_cut``): the shares, in order,
    are every model once, and each starts on a block of ``memo.BLOCK`` (or is empty), so the blocks a
    worker keeps are those a build in one process asks for (the first edit after a cold
    compile finds them)."""
    from compiler.backends import memo
    from compiler.backends.kubernetes import backend as kubernetes

    was = memo.BLOCK
    memo.BLOCK = block
    try:
        cuts = [kubernetes._cut(count, part, parts) for part in range(parts + 1)]
    finally:
        memo.BLOCK = was
    assert cuts[0] == 0 and cuts[-1] == count and cuts == sorted(cuts)
    assert all(c % block == 0 or c == count for c in cuts)


def _recorded(real: Any, name: str, calls: list[str]) -> Any:
    def call(ctx: Any) -> Any:
        calls.append(name)
        return real(ctx)

    return call


def test_forked_workers_start_before_the_other_backends_render_and_the_render_is_unchanged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``pipeline.render`` starts the backends that fork workers first (Triton's configs,
    first in backend order, were rendered on one core before the Kubernetes workers were
    forked); files and diagnostics come out in backend order as a serial render's do."""
    from compiler import pipeline
    from compiler.backends import BACKENDS
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.backends.render import Templates
    from compiler.parse.sources import load
    from compiler.pipeline import check_loaded
    from tests.support.k8s_support import ROOT

    # Diagnostics from four backends: Triton (SS702: a 2.52 field for a 2.51 target, at a
    # model of its own), Kubernetes (SS520), Argo CD (SS731), monitoring (SS740).
    features = ROOT / "golden" / "triton-features" / "specs" / "features.ship"
    (tmp_path / "features.ship").write_text(features.read_text(encoding="utf-8"), encoding="utf-8")
    newer = 'triton "model_metrics { metric_control: [ { metric_identifier: { family: \\"x\\" } } ] }"'
    (tmp_path / "more.ship").write_text(
        'model later {\n  version "1.0.0"\n  format python\n  artifact "s3://b/later/model.py"\n'
        f"  owners @example/ml\n  input x: fp32[-1]\n  output y: fp32[-1]\n  {newer}\n  serve in dev\n}}\n",
        encoding="utf-8",
    )
    checked = check_loaded(load([tmp_path]))
    assert not checked.has_errors, checked.diagnostics
    runs = []
    for threshold in (0, 10**9):  # forked workers per environment, then serial
        monkeypatch.setattr(kubernetes, "PARALLEL_FROM", threshold)
        calls: list[str] = []
        for backend in BACKENDS:
            for method in ("render", "start"):
                real = getattr(backend, method, None)
                if real is not None:
                    monkeypatch.setattr(backend, method, _recorded(real, backend.name, calls))
        files, sink = pipeline.render(checked, Templates.load())
        monkeypatch.undo()
        assert calls[0] == "kubernetes" and sorted(calls) == sorted(b.name for b in BACKENDS), calls
        runs.append(([(f.path, f.text) for f in files], list(sink.items)))
    assert runs[0] == runs[1], "the same files and diagnostics, in the same order"
    codes = [d.code for d in runs[0][1]]
    assert list(dict.fromkeys(codes)) == ["SS702", "SS520", "SS731", "SS740"], codes


@pytest.mark.parametrize("cores", [1, 2, 4, 64])
def test_the_kubernetes_workers_leave_the_parent_a_core(monkeypatch: pytest.MonkeyPatch, cores: int) -> None:
    """The parent renders the other backends while the workers run: on 2 cores it forks one
    worker (two had left one core idle for the last half of the render), on 1 none."""
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.cache import Memory
    from compiler.pipeline import build
    from tests.support.k8s_support import SPECS

    pools: list[int] = []
    fork_pool = kubernetes.fork_pool

    def recorded(workers: int, least: int = 2) -> Any:
        pool = fork_pool(workers, least)
        if pool is not None:
            pools.append(workers)
        return pool

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    monkeypatch.setattr(kubernetes, "PARALLEL_FROM", 0)
    monkeypatch.setattr(kubernetes, "fork_pool", recorded)
    built = build([SPECS], store=Memory())
    assert not built.has_errors
    envs = len(built.checked.resolved.spec.environments)
    assert envs > 2
    # One task per environment here; at most parallel.MAX_WORKERS (8).
    assert pools == ([] if cores == 1 else [min(cores - 1, envs, 8)])


def _outputs_and_memo(root: Path) -> tuple[dict[str, bytes], list[tuple[str, str]], Any]:
    """The files a compile wrote under ``root`` (its cache aside), and its render-unit memo
    as the next build loads it: each unit's key and result, but for where its texts lie in
    the memo's pack (the cache's own bytes differ between any two compiles), and the verdicts."""
    import re

    from compiler.backends.memo import Units
    from compiler.cache import Cache
    from compiler.pipeline import _texts, units_key

    files = {
        os.fspath(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "cache" not in p.relative_to(root).parts
    }
    store = Cache(root)
    memo = Units.from_entry(store.get("units", units_key(None, True, None)), _texts(store))
    units = [(key, re.sub(r"\(\d+, \d+\)", "(at)", repr(result))) for key, result in memo.known.items()]
    return files, units, memo.known_verdicts


def test_the_parent_renders_the_tasks_no_worker_has_begun_into_the_same_tree_and_memo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Its other backends rendered, the parent renders the Kubernetes tasks no worker has
    begun, last first, rather than wait with a core idle (``Pending._steal``). Each is
    rendered as a worker would (its units forked, exported and adopted in task order): the
    files, the diagnostics and the memo are those of a compile in which the worker rendered
    every task."""
    import contextlib
    import io
    import time

    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.cli import main
    from tests.support.k8s_support import SPECS

    parent = os.getpid()
    render_task = kubernetes._render_task
    runs = {}
    for mode in ("worker", "both"):
        log = tmp_path / f"{mode}.log"

        def logged(task: Any, ctx: Any = None, log: Path = log, slow: bool = mode == "both") -> Any:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"{os.getpid()}\n")
            if slow and os.getpid() != parent:
                time.sleep(0.5)  # the worker is the long side: the parent finds tasks not begun
            return render_task(task, ctx)

        monkeypatch.setattr(os, "cpu_count", lambda: 2)
        monkeypatch.setattr(kubernetes, "PARALLEL_FROM", 0)
        monkeypatch.setattr(kubernetes, "_render_task", logged)
        if mode == "worker":
            monkeypatch.setattr(kubernetes.Pending, "_steal", lambda self: [])
        out, said = tmp_path / mode, io.StringIO()
        with contextlib.redirect_stdout(said):
            assert main(["compile", str(SPECS), "--out", str(out), "--format", "json"]) == 0
        monkeypatch.undo()
        runs[mode] = (_outputs_and_memo(out), said.getvalue(), log.read_text(encoding="utf-8").split())
    memo, said, pids = runs["worker"]
    assert str(parent) not in pids and len(pids) > 2
    both_memo, both_said, both_pids = runs["both"]
    assert str(parent) in both_pids and len(set(both_pids)) == 2, both_pids
    assert len(both_pids) == len(pids)
    assert both_said == said
    assert len(memo[1]) > 20
    assert both_memo == memo
