"""Each golden AnalysisTemplate as Argo Rollouts runs it, its queries in a real PromQL engine.

What Argo Rollouts does with a template (upstream: ``metricproviders/prometheus`` and
``utils/evaluate``): it replaces ``{{args.canary-hash}}`` with the Rollout's argument (here
``podTemplateHashValue: Latest``, the canary ReplicaSet's pod-template hash, which is in the
name of each of its pods: ``<rollout>-<hash>-<id>``), runs the query, turns the vector into a
list of floats and evaluates ``successCondition`` and ``failureCondition`` with ``expr``
(``isNaN`` is Go's ``math.IsNaN``; ``&&`` and ``||`` short-circuit). Failure wins; neither
true is Inconclusive.

Here promtool evaluates each query, with the hash put in, over synthetic series of canary
pods, stable pods and another model's pods, and checks it yields exactly what the canary
alone would: a canary over its SLA fails, one within it passes (even when the stable pods
are failing), and a canary without traffic fails rather than pass or stay inconclusive.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.golden import GOLDEN

pytestmark = pytest.mark.realtools

CANARY, STABLE = "7f9c6b8d4", "5d8f7c9b6"  # pod-template hashes
PER_MINUTE = 1_000_000  # requests a minute in each scenario

ERROR_RATIO = re.compile(
    r"sum\(rate\(nv_inference_request_failure\{(?P<sel>[^}]*)\}\[5m\]\)\) / "
    r"\(sum\(rate\(nv_inference_request_success\{(?P=sel)\}\[5m\]\)\) \+ "
    r"sum\(rate\(nv_inference_request_failure\{(?P=sel)\}\[5m\]\)\)\)"
)
HISTOGRAM = re.compile(
    r"histogram_quantile\((?P<q>[0-9.]+), sum by \(le\) "
    r"\(rate\(nv_inference_first_response_histogram_ms_bucket\{(?P<sel>[^}]*)\}\[5m\]\)\)\)"
)
THRESHOLD = re.compile(r"result\[0\] <= (?P<t>[0-9.e+-]+)$")


def _templates() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(case, Rollout, its AnalysisTemplate) for every canary of every golden case."""
    found = []
    for case in sorted(p.name for p in GOLDEN.iterdir() if (p / "expected" / "deploy").is_dir()):
        docs = [
            d
            for path in sorted((GOLDEN / case / "expected" / "deploy").rglob("*.yaml"))
            for d in yaml.safe_load_all(path.read_text())
            if isinstance(d, dict)
        ]
        templates = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "AnalysisTemplate"}
        for rollout in (d for d in docs if d.get("kind") == "Rollout"):
            analysis = rollout["spec"]["strategy"]["canary"].get("analysis")
            if analysis:
                for ref in analysis["templates"]:
                    found.append((case, rollout, templates[ref["templateName"]]))
    return found


TEMPLATES = _templates()


def _argo_phase(condition_success: str, condition_failure: str, result: list[float]) -> str:
    """``evaluate.EvaluateResult`` for these conditions: expr's operators in Python's words."""

    def holds(condition: str) -> bool:
        python = condition.replace("&&", " and ").replace("||", " or ")
        python = re.sub(r"!(?!=)", " not ", python)
        return bool(eval(python, {"__builtins__": {}}, {"len": len, "isNaN": math.isnan, "result": result}))

    if holds(condition_failure):
        return "Failed"
    return "Successful" if holds(condition_success) else "Inconclusive"


def _pod(rollout: str, pod_hash: str, n: int = 0) -> str:
    return f"{rollout}-{pod_hash}-abc{n:02d}"


def _labels(selector: str, pod: str, model: str | None = None) -> str:
    """The selector's equality labels (namespace, model) with ``pod`` and, given, another model."""
    labels = dict(re.findall(r'(\w+)="([^"]*)"', selector))
    labels.pop("pod", None)
    if model is not None:
        labels["model"] = model
    labels["pod"] = pod
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def _counter(per_minute: float) -> str:
    """A counter rising by ``per_minute`` each minute (written without an exponent)."""
    step = f"{per_minute:.6f}".rstrip("0").rstrip(".")
    return f"0+{step}x20"


def _error_series(sel: str, rollout: str, canary_errors: float | None) -> list[dict[str, str]]:
    """Two canary pods at ``canary_errors`` (None: no canary traffic at all); the stable pods
    and another model's canary-named pod failing half their requests."""
    series = []
    if canary_errors is not None:
        for n in range(2):
            failed = canary_errors * PER_MINUTE
            series += [
                {
                    "series": f"nv_inference_request_failure{{{_labels(sel, _pod(rollout, CANARY, n))}}}",
                    "values": _counter(failed),
                },
                {
                    "series": f"nv_inference_request_success{{{_labels(sel, _pod(rollout, CANARY, n))}}}",
                    "values": _counter(PER_MINUTE - failed),
                },
            ]
    for pod, model in ((_pod(rollout, STABLE), None), (_pod(rollout, CANARY, 9), "another_model")):
        series += [
            {
                "series": f"nv_inference_request_failure{{{_labels(sel, pod, model)}}}",
                "values": _counter(PER_MINUTE / 2),
            },
            {
                "series": f"nv_inference_request_success{{{_labels(sel, pod, model)}}}",
                "values": _counter(PER_MINUTE / 2),
            },
        ]
    return series


def _histogram_series(sel: str, rollout: str, threshold: float, canary_slow: bool | None) -> list[dict[str, str]]:
    """Buckets at a quarter, half, one, two and four thresholds: the canary's requests all in
    (2T, 4T] when slow, all in (T/4, T/2] when not (None: no canary traffic); the stable pods'
    all in the slowest bucket."""
    bounds = [threshold / 4, threshold / 2, threshold, threshold * 2, threshold * 4]
    les = [f"{b:g}" for b in bounds] + ["+Inf"]

    def buckets(pod: str, first: int) -> list[dict[str, str]]:
        # Cumulative: every bucket from the one the requests fall in upwards counts them all.
        return [
            {
                "series": f'nv_inference_first_response_histogram_ms_bucket{{{_labels(sel, pod)},le="{le}"}}',
                "values": _counter(PER_MINUTE if i >= first else 0),
            }
            for i, le in enumerate(les)
        ]

    series = buckets(_pod(rollout, STABLE), 5)
    if canary_slow is not None:
        series += buckets(_pod(rollout, CANARY), 4 if canary_slow else 1)
    return series


def _promtool(tmp_path: Path, queries: dict[str, str], series: list[dict[str, str]], expected: dict[str, Any]) -> None:
    """``expected``: per query, the value promtool must find (None: an empty result)."""
    rules = {"groups": [{"name": "analysis", "rules": [{"record": k, "expr": q} for k, q in queries.items()]}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": name,
                        "eval_time": "10m",
                        "exp_samples": [] if value is None else [{"labels": name, "value": value}],
                    }
                    for name, value in expected.items()
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    r = subprocess.run(
        ["promtool", "test", "rules", str(tmp_path / "test.yml")], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
@pytest.mark.parametrize(
    ("case", "rollout", "template"),
    TEMPLATES,
    ids=[f"{case}-{t['metadata']['name']}" for case, _, t in TEMPLATES],
)
def test_the_canary_analysis_judges_the_canary_pods_alone(
    case: str, rollout: dict[str, Any], template: dict[str, Any], tmp_path: Path
) -> None:
    name = rollout["metadata"]["name"]
    analysis = rollout["spec"]["strategy"]["canary"]["analysis"]
    # The one argument the template takes is the canary's pod-template hash.
    assert [a["name"] for a in template["spec"]["args"]] == ["canary-hash"]
    assert analysis["args"] == [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]
    metrics = template["spec"]["metrics"]
    assert metrics, template
    for i, metric in enumerate(metrics):
        query = metric["provider"]["prometheus"]["query"].replace("{{args.canary-hash}}", CANARY)
        assert "{{" not in query, query
        threshold = float(THRESHOLD.search(metric["successCondition"])["t"])  # type: ignore[index]
        success, failure = metric["successCondition"], metric["failureCondition"]
        work = tmp_path / str(i)
        if m := ERROR_RATIO.fullmatch(query):
            sel = m["sel"]
            assert f'pod=~"{name}-{CANARY}-.*"' in sel, sel
            scenarios = {"over": threshold * 2, "within": threshold / 2, "silent": None}
            for scenario, errors in scenarios.items():
                (work / scenario).mkdir(parents=True)
                _promtool(work / scenario, {"q": query}, _error_series(sel, name, errors), {"q": errors})
                phase = _argo_phase(success, failure, [] if errors is None else [errors])
                assert phase == {"over": "Failed", "within": "Successful", "silent": "Failed"}[scenario], (
                    metric["name"],
                    scenario,
                )
        elif m := HISTOGRAM.fullmatch(query):
            sel, q = m["sel"], float(m["q"])
            assert f'pod=~"{name}-{CANARY}-.*"' in sel, sel
            # Prometheus interpolates linearly inside the bucket that holds the rank.
            slow, fast = threshold * 2 + threshold * 2 * q, threshold / 4 + threshold / 4 * q
            for scenario, canary_slow, value in (("over", True, slow), ("within", False, fast), ("silent", None, None)):
                (work / scenario).mkdir(parents=True)
                _promtool(
                    work / scenario, {"q": query}, _histogram_series(sel, name, threshold, canary_slow), {"q": value}
                )
                phase = _argo_phase(success, failure, [] if value is None else [value])
                assert phase == {"over": "Failed", "within": "Successful", "silent": "Failed"}[scenario], (
                    metric["name"],
                    scenario,
                )
        else:
            pytest.fail(f"{case}: a query of a shape this test does not know: {query}")
