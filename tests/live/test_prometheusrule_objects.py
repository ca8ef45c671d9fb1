"""An environment's PrometheusRules, loaded the way the Prometheus Operator loads them, under the
real ``promtool``: each selected object's ``spec`` is a rule file of its own (the operator writes
one file per PrometheusRule into the rules ConfigMaps it mounts). With the shared groups split
into three shares (``SHARED_NAMES_BYTES`` made small) and every model's own groups in its own
object, each model's requests and SLI are recorded exactly once, with its own values, and each
model's burn-rate alert fires on its own errors.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from compiler.backends.monitoring import backend as monitoring
from tests.unit.backends.monitoring.test_rule_objects import _objects, _render, fleet

pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(
        shutil.which("promtool") is None and not os.environ.get("CI"), reason="promtool is not installed"
    ),
]

NAMES = [f"m{i:02d}_long_name" for i in range(6)]
PER_MINUTE = 60_000
FIRING = 'alertname="ModelErrorBudgetBurn", alertstate="firing"'


def _rule_files(tmp_path: Path) -> list[str]:
    files, sink = _render(fleet(NAMES))
    assert not sink.has_errors, sink.items
    objects = _objects(files, "prod")
    assert {"prod-slo", "prod-slo-2", "prod-slo-3"} <= set(objects) and len(objects) == 3 + len(NAMES)
    written = []
    for name, obj in sorted(objects.items()):
        spec = obj["spec"]
        for group in spec["groups"]:
            for rule in group["rules"]:
                rule.pop("annotations", None)  # what fires, and with which labels, is tested here
        path = tmp_path / f"ml-prod-{name}.yaml"
        path.write_text(json.dumps(spec))
        written.append(path.name)
    return written


def test_split_objects_record_each_model_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitoring, "SHARED_NAMES_BYTES", 40)
    rule_files = _rule_files(tmp_path)
    r = subprocess.run(
        ["promtool", "check", "rules", *rule_files], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stdout + r.stderr

    # Model i fails i% of its requests (m00 none); m05 (in the third share) burns its budget fast.
    series = []
    for i, name in enumerate(NAMES):
        sel = f'namespace="ml-prod", model="{name}", version="1"'
        failed = PER_MINUTE * i // 100
        series += [
            {"series": f"nv_inference_request_success{{{sel}}}", "values": f"0+{PER_MINUTE - failed}x150"},
            {"series": f'nv_inference_request_failure{{{sel}, reason="BACKEND"}}', "values": f"0+{failed}x150"},
        ]
    per_second = PER_MINUTE / 60
    expr_tests = [
        {
            "expr": "count by (model) (model:requests:rate5m)",
            "eval_time": "30m",
            "exp_samples": [{"labels": f'{{model="{n}"}}', "value": 1} for n in NAMES],
        },
        # (rounded: the rates are sums of floats, and promtool compares samples exactly)
        {
            "expr": "round(model:requests:rate5m)",
            "eval_time": "30m",
            "exp_samples": [
                {"labels": f'{{model="{n}", environment="prod"}}', "value": per_second * (100 - i) // 100}
                for i, n in enumerate(NAMES)
            ],
        },
        {
            "expr": 'round(1000 * slo:sli_error:ratio_rate5m{model=~"m0[15]_long_name"})',
            "eval_time": "30m",
            "exp_samples": [
                {"labels": f'{{model="{n}", environment="prod", slo="availability"}}', "value": 10 * i}
                for i, n in ((1, NAMES[1]), (5, NAMES[5]))
            ],
        },
    ]
    test = {
        "rule_files": rule_files,
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": expr_tests}],
    }
    (tmp_path / "test.yml").write_text(json.dumps(test))
    r = subprocess.run(
        ["promtool", "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]


def test_each_model_alerts_from_its_own_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitoring, "SHARED_NAMES_BYTES", 40)
    rule_files = _rule_files(tmp_path)
    sel = f'namespace="ml-prod", model="{NAMES[5]}", version="1"'
    failed = PER_MINUTE * 5 // 100
    series = [
        {"series": f"nv_inference_request_success{{{sel}}}", "values": f"0+{PER_MINUTE - failed}x150"},
        {"series": f'nv_inference_request_failure{{{sel}, reason="BACKEND"}}', "values": f"0+{failed}x150"},
    ]
    test = {
        "rule_files": rule_files,
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": f"count by (model, window) (ALERTS{{{FIRING}}})",
                        "eval_time": "2h",
                        # 5% errors against a 99.9% SLO burns 50x the budget: past every window's factor,
                        # and only for the model that fails.
                        "exp_samples": [
                            {"labels": f'{{model="{NAMES[5]}", window="{w}"}}', "value": 1}
                            for w in ("1h", "6h", "1d", "3d")
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "test.yml").write_text(json.dumps(test))
    r = subprocess.run(
        ["promtool", "test", "rules", "test.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
