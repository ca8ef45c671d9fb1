"""The generated rules under ``promtool``: ``check rules`` on every rules file,
and ``test rules`` unit tests with synthetic Triton counters proving that each
burn-rate alert fires just above its threshold and stays silent just below,
for two objectives and periods (99.9% over 30d, 99.5% over 28d).

The thresholds below are written out by hand from the SRE-workbook policy
(2% of the budget in 1h, 5% in 6h, 10% in 1d, 10% in 3d), not taken from
the compiler, so a wrong factor in the compiler fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from compiler.backends.render import Templates
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded, render, validate
from tests.support.specs import MINIMAL

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "golden" / "monitoring-slo" / "specs"
# Triton 2.52: latency SLOs from the histogram (tests/live/promtool/histogram_*.yml).
HISTOGRAM_SPEC = ROOT / "golden" / "monitoring-histogram" / "specs"
PER_MINUTE = 100_000  # requests per minute in the synthetic series

# model -> (slo period, budget, [(window, severity, burn factor text, error-ratio threshold)])
CASES = {
    "scorer": (
        "30d",
        0.001,
        [
            ("1h", "page", "14.4", 0.0144),
            ("6h", "page", "6", 0.006),
            ("1d", "ticket", "3", 0.003),
            ("3d", "ticket", "1", 0.001),
        ],
    ),
    "ranker": (
        "28d",
        0.005,
        [
            ("1h", "page", "13.44", 0.0672),
            ("6h", "page", "5.6", 0.028),
            ("1d", "ticket", "2.8", 0.014),
            ("3d", "ticket", "0.933333", 0.0046666667),
        ],
    ),
}
TEAM = {"scorer": "shop/risk-ml", "ranker": "shop/ml-platform"}

# Skipped without promtool, except in CI, where it must fail loudly.
pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(
        shutil.which("promtool") is None and not os.environ.get("CI"), reason="promtool is not installed"
    ),
]


def _rules(out: Path, spec: Path) -> dict[str, Path]:
    checked = validate([spec])
    files, sink = render(checked, Templates.load(), only=("monitoring",))
    assert not sink.has_errors, sink.items
    found = {}
    for f in files:
        if f.kind == "prometheus-rules":
            env = f.path.split("/")[1]
            (out / env).mkdir()
            found[env] = out / env / "rules.yml"
            found[env].write_text(f.text)
    return found


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every generated raw rules file of the monitoring-slo case, by environment."""
    return _rules(tmp_path_factory.mktemp("rules"), SPEC)


@pytest.fixture(scope="module")
def histogram_rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _rules(tmp_path_factory.mktemp("histogram-rules"), HISTOGRAM_SPEC)


def test_promtool_check_rules_accepts_every_generated_file(
    rules: dict[str, Path], histogram_rules: dict[str, Path]
) -> None:
    assert rules and histogram_rules, "no rules file rendered"
    for path in [*rules.values(), *histogram_rules.values()]:
        r = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "SUCCESS" in r.stdout


def _labels_only(path: Path, dest: Path) -> Path:
    """The rules without annotations: the unit tests below prove when alerts
    fire and with which labels; annotations are asserted separately."""
    doc = yaml.safe_load(path.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    dest.write_text(json.dumps(doc))
    return dest


def _series(model: str, ok: str, failed: str) -> list[dict[str, str]]:
    sel = f'namespace="ml-prod", model="{model}", version="1"'
    return [
        {"series": f"nv_inference_request_success{{{sel}}}", "values": ok},
        {"series": f'nv_inference_request_failure{{{sel}, reason="BACKEND"}}', "values": failed},
    ]


def _alert(model: str, window: str, severity: str, factor: str) -> dict[str, dict[str, str]]:
    return {
        "exp_labels": {
            "model": model,
            "environment": "prod",
            "team": TEAM[model],
            "slo": "availability",
            "severity": severity,
            "window": window,
            "burn_rate": factor,
        }
    }


def _steady(model: str, ratio: float, expected: list[tuple[str, str, str, float]]) -> dict:
    failed = round(ratio * PER_MINUTE)
    return {
        "interval": "1m",
        "input_series": _series(model, f"0+{PER_MINUTE - failed}x150", f"0+{failed}x150"),
        "alert_rule_test": [
            {
                "eval_time": "2h",
                "alertname": "ModelErrorBudgetBurn",
                "exp_alerts": [_alert(model, w, s, f) for w, s, f, _ in expected],
            }
        ],
    }


def _run(tmp_path: Path, rules_file: Path, tests: list[dict]) -> None:
    local = _labels_only(rules_file, tmp_path / "rules.json")
    spec = {"rule_files": [local.name], "evaluation_interval": "1m", "tests": tests}
    test_file = tmp_path / "test.yml"
    test_file.write_text(json.dumps(spec, indent=1))
    r = subprocess.run(["promtool", "test", "rules", str(test_file)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


@pytest.mark.parametrize("model", sorted(CASES))
def test_each_burn_rate_alert_fires_at_its_rate_and_not_just_below(
    model: str, rules: dict[str, Path], tmp_path: Path
) -> None:
    _, _, windows = CASES[model]
    tests = []
    for i, (_, _, _, threshold) in enumerate(windows):
        # 2% above the threshold: this alert and every slower one (lower thresholds) fire.
        tests.append(_steady(model, threshold * 1.02, windows[i:]))
        # 2% below: this alert is silent, the slower ones still fire.
        tests.append(_steady(model, threshold * 0.98, windows[i + 1 :]))
    _run(tmp_path, rules["prod"], tests)


def test_a_burst_that_stopped_no_longer_pages(rules: dict[str, Path], tmp_path: Path) -> None:
    """The short window resets a page: 1h of 3% errors, then none for 10m.
    The 1h window still burns above 14.4x (~2.5%) but the 5m window is clean,
    so only the slower alerts, whose short windows still hold the burst, fire."""
    test = {
        "interval": "1m",
        "input_series": _series("scorer", "0+97000x70", "0+3000x60 180000+0x10"),
        "alert_rule_test": [
            {
                "eval_time": "70m",
                "alertname": "ModelErrorBudgetBurn",
                "exp_alerts": [
                    _alert("scorer", "6h", "page", "6"),
                    _alert("scorer", "1d", "ticket", "3"),
                    _alert("scorer", "3d", "ticket", "1"),
                ],
            }
        ],
    }
    _run(tmp_path, rules["prod"], [test])


def test_alerts_carry_summary_description_with_value_and_runbook(rules: dict[str, Path]) -> None:
    doc = yaml.safe_load(rules["prod"].read_text())
    alerts = [r for g in doc["groups"] for r in g["rules"] if "alert" in r]
    assert {a["alert"] for a in alerts} >= {
        "ModelErrorBudgetBurn",
        "ModelLatencyAboveObjective",
        "ModelThroughputBelowFloor",
        "ModelQueueTimeHigh",
        "ModelDrift",
        "ModelDataQuality",
    }
    for a in alerts:
        assert {"model", "environment", "team", "severity"} <= a["labels"].keys(), a
        # An absence alert has no value to show (absent() is 1).
        absence = a["alert"] in ("ModelMetricsAbsent", "ModelDriftMetricsAbsent")
        assert a["annotations"]["summary"] and (absence or "{{ $value" in a["annotations"]["description"]), a
        assert a["annotations"]["runbook_url"].startswith("https://runbooks.shop.example/ml/"), a
    drift = next(a for a in alerts if a["alert"] == "ModelDrift")
    assert drift["labels"]["action"] == "retrain" and drift["for"] == "1h"
    assert drift["annotations"]["retrain_event_type"] == "retrain-scorer"
    assert "shipspec_model_feature_drift" in drift["expr"] and 'statistic="psi"' in drift["expr"]


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "tests" / "live" / "promtool").glob("*.yml")))
def test_hand_written_promtool_unit_tests(
    name: str, rules: dict[str, Path], histogram_rules: dict[str, Path], tmp_path: Path
) -> None:
    """tests/live/promtool/*.yml: serving, drift and data-quality alerts, the SLO
    metadata and (histogram_*.yml, Triton 2.52) the latency SLO, against the
    generated prod rules (saved as rules.yml)."""
    source = histogram_rules if name.startswith("histogram") else rules
    _labels_only(source["prod"], tmp_path / "rules.yml")
    shutil.copy(ROOT / "tests" / "live" / "promtool" / name, tmp_path / name)
    r = subprocess.run(["promtool", "test", "rules", str(tmp_path / name)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


def test_promtool_accepts_histogram_rules(tmp_path: Path) -> None:
    newer = MINIMAL.replace('triton "2.51.0" digest', 'triton "2.52.0" digest', 1)
    checked = check_loaded(load_text(newer, "t.ship"))
    assert not checked.has_errors, checked.diagnostics
    rendered, _ = render(checked, Templates.load(), only=("monitoring",))
    files = {f.path: f for f in rendered}
    path = tmp_path / "rules.yml"
    path.write_text(files["deploy/prod/monitoring/rules.yml"].text)
    r = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
