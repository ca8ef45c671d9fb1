"""Burn-rate alerts for any SLO period, under the real ``promtool test rules``.

For 7d, 28d, 30d and a custom 14d period (which alerts with the 7-day table),
each alert fires at 2% above its burn rate and is silent 2% below; nothing
fires at burn rate 0.9 or less. The factors are written out by hand from
Sloth's window tables (slok/sloth: internal/alert/windows/google-28d.yaml,
google-30d.yaml, examples/windows/7d.yaml; factor = share x period / long
window), not taken from the compiler. The whole-period SLI is the mean of the
5m recording.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from compiler.backends.render import Templates
from compiler.pipeline import render, validate

pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed"),
]

PER_MINUTE = 100_000
BUDGET = 0.01  # every SLO below is 99%
# model -> (period, [(long window, severity, factor as rendered)])
CASES = {
    "week": ("7d", [("1h", "page", "13.44"), ("6h", "page", "3.5"), ("1d", "ticket", "1.4"), ("3d", "ticket", "0.98")]),
    "four_weeks": (
        "28d",
        [("1h", "page", "13.44"), ("6h", "page", "5.6"), ("1d", "ticket", "2.8"), ("3d", "ticket", "0.933333")],
    ),
    "month": ("30d", [("1h", "page", "14.4"), ("6h", "page", "6"), ("1d", "ticket", "3"), ("3d", "ticket", "1")]),
    # A custom period: the 7-day table's shares (8 / 12.5 / 20 / 42 %) over 14 days.
    "fortnight": (
        "14d",
        [("1h", "page", "26.88"), ("6h", "page", "7"), ("1d", "ticket", "2.8"), ("3d", "ticket", "1.96")],
    ),
}


def _spec() -> str:
    models = "\n".join(
        f'model {m} {{ version "1.0.0" format onnx artifact "s3://m/{m}.onnx" input x: fp32[4] output y: fp32[1]\n'
        f"  resources {{ cpu 1 memory 1Gi }} serve in staging, prod }}\n"
        f"sla {m} in prod {{ availability 99% over {period} }}\n"
        f"gate staging -> prod for {m} {{ approval @shop/leads }}\n"
        for m, (period, _) in CASES.items()
    )
    return (
        'project shop { registry "ghcr.io/shop" owners @shop/ml triton "2.51.0" }\n'
        'environment staging { tier staging namespace "ml-staging" }\n'
        'environment prod { tier production namespace "ml-prod" replicas 2..4 gateway "istio-ingress" }\n' + models
    )


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("periods")
    (d / "spec.ship").write_text(_spec())
    checked = validate([d / "spec.ship"])
    assert not checked.has_errors, checked.diagnostics if hasattr(checked, "diagnostics") else checked
    files, sink = render(checked, Templates.load(), only=("monitoring",))
    assert not sink.has_errors, sink.items
    (text,) = [f.text for f in files if f.kind == "prometheus-rules" and "/prod/" in f.path]
    doc = yaml.safe_load(text)
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    out = d / "rules.json"
    out.write_text(json.dumps(doc))
    return out


def _steady(model: str, ratio: float, firing: list[tuple[str, str, str]]) -> dict:
    failed = ratio * PER_MINUTE
    sel = f'namespace="ml-prod", model="{model}", version="1"'
    return {
        "interval": "1m",
        "input_series": [
            {"series": f"nv_inference_request_success{{{sel}}}", "values": f"0+{PER_MINUTE - failed:.6f}x150"},
            {"series": f'nv_inference_request_failure{{{sel}, reason="BACKEND"}}', "values": f"0+{failed:.6f}x150"},
        ],
        "alert_rule_test": [
            {
                "eval_time": "2h",
                "alertname": "ModelErrorBudgetBurn",
                "exp_alerts": [
                    {
                        "exp_labels": {
                            "model": model,
                            "environment": "prod",
                            "team": "shop/ml",
                            "slo": "availability",
                            "severity": s,
                            "window": w,
                            "burn_rate": f,
                        }
                    }
                    for w, s, f in firing
                ],
            }
        ],
    }


def _run(tmp: Path, rules: Path, tests: list[dict]) -> None:
    shutil.copy(rules, tmp / "rules.json")
    (tmp / "test.yml").write_text(
        json.dumps({"rule_files": ["rules.json"], "evaluation_interval": "1m", "tests": tests})
    )
    r = subprocess.run(
        ["promtool", "test", "rules", str(tmp / "test.yml")], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


@pytest.mark.parametrize("model", sorted(CASES))
def test_each_alert_fires_2_percent_above_its_burn_rate_and_not_2_percent_below(
    model: str, rules: Path, tmp_path: Path
) -> None:
    _, windows = CASES[model]
    tests = []
    for _, _, factor in windows:
        threshold = float(factor) * BUDGET
        slower = [w for w in windows if float(w[2]) < float(factor)]
        tests.append(_steady(model, threshold * 1.02, [w for w in windows if float(w[2]) <= float(factor)]))
        tests.append(_steady(model, threshold * 0.98, slower))
    # Below a burn rate of 0.9 (and at 0.5) nothing fires, whatever the period.
    tests += [_steady(model, 0.9 * BUDGET, []), _steady(model, 0.5 * BUDGET, [])]
    _run(tmp_path, rules, tests)


def test_the_whole_period_sli_is_the_mean_of_the_5m_recording(rules: Path, tmp_path: Path) -> None:
    """2h of 25% errors then 1h of none: the 7d SLI is the mean of the 5m
    recordings so far, not a rate over 7 days of raw counters."""
    text = rules.read_text()
    assert "sum_over_time(slo:sli_error:ratio_rate5m" in text and "rate(nv_inference_request_failure" in text
    assert re.search(r"rate\(nv_inference_\w+\{[^}]*\}\[(7|14|28|30)d\]\)", text) is None
    sel = 'namespace="ml-prod", model="week", version="1"'
    test = {
        "interval": "1m",
        "input_series": [
            {"series": f"nv_inference_request_success{{{sel}}}", "values": "0+75000x60"},
            {"series": f'nv_inference_request_failure{{{sel}, reason="BACKEND"}}', "values": "0+25000x60"},
        ],
        "promql_expr_test": [
            {
                "expr": 'slo:sli_error:ratio_rate7d{model="week"}',
                "eval_time": "50m",
                "exp_samples": [
                    {
                        "labels": 'slo:sli_error:ratio_rate7d{model="week", environment="prod", slo="availability"}',
                        "value": 0.25,
                    }
                ],
            }
        ],
    }
    _run(tmp_path, rules, [test])
