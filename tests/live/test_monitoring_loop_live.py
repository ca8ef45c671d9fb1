"""The loop the monitoring tier promises, with real components on loopback:
feature logs -> ``shipspec drift`` -> Pushgateway -> Prometheus (the rendered
rules) -> the drift alert -> Alertmanager (the rendered configuration) ->
``shipspec relay`` -> a stand-in for the GitHub API, which must receive
exactly the ``repository_dispatch`` the retrain workflow listens for.
Unshifted logs raise no alert. ``shipspec drift`` runs with the rendered CronJob's
arguments. Test-only changes: the monitor's window is 1s and Alertmanager's group
waits are 1s (the rendered 30s would only slow the test); the relay's and the
Pushgateway's URLs point at their loopback ports."""

from __future__ import annotations

import csv
import os
import random
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from compiler.backends.render import Templates
from compiler.cli import main
from compiler.pipeline import render, validate
from tests.support.alerting_servers import Alertmanager, Prometheus, Pushgateway, eventually, missing
from tests.support.github_standin import GitHubStandIn
from tests.support.procs import free_ports, stop

pytestmark = [
    pytest.mark.realtools,
    pytest.mark.skipif(
        bool(missing("prometheus", "prometheus-alertmanager", "prometheus-pushgateway")),
        reason=str(missing("prometheus", "prometheus-alertmanager", "prometheus-pushgateway")),
    ),
]

WAIT = 60.0


def _spec(reference: Path) -> str:
    return f'''
project shop {{ registry "ghcr.io/shop" owners @shop/ml triton "2.51.0"
  repository "https://github.com/shop/ml-gitops.git" }}
dataset clicks {{ version "1" uri "{reference}" }}
environment staging {{ tier staging namespace "ml-staging" }}
environment prod {{ tier production namespace "ml-prod" replicas 2..4 gateway "istio-ingress" }}
environment training {{ tier training namespace "ml-training" }}
environment observability {{ tier monitoring namespace "monitoring" }}
model scorer {{ version "1.0.0" format onnx artifact "s3://m/scorer.onnx" trained_on clicks
  input x: fp32[4] output y: fp32[1] resources {{ cpu 1 memory 1Gi }} serve in staging, prod }}
training scorer {{ in training image "ghcr.io/shop/train:1.0.0" command ["python", "-m", "train"]
  dataset clicks resources {{ cpu 1 memory 1Gi }} }}
sla scorer in prod {{ availability 99.9% over 30d }}
monitor scorer in prod {{ drift psi > 0.2 for 1s -> retrain }}
gate staging -> prod for scorer {{ approval @shop/leads }}
'''


def _csv(path: Path, n: int, shift: float, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["amount", "country"])
        for _ in range(n):
            w.writerow([round(rng.gauss(50 + shift, 10), 3), rng.choice(["de", "fr"])])
    return path


class Relay:
    """``shipspec relay`` as its own process (as the rendered Deployment runs it)."""

    def __init__(self, api: str, repository: str) -> None:
        (self.port,) = free_ports(1)
        shipspec = Path(sys.executable).parent / "shipspec"
        self.proc = subprocess.Popen(
            [
                str(shipspec),
                "relay",
                "--listen",
                f"127.0.0.1:{self.port}",
                "--repository",
                repository,
                "--api-url",
                api,
            ],
            env={**os.environ, "GITHUB_TOKEN": "test-token"},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False


def test_shifted_feature_logs_reach_the_retrain_workflow_and_unshifted_do_not(tmp_path: Path) -> None:
    ref = _csv(tmp_path / "reference.csv", 3000, 0.0, 1)
    (tmp_path / "spec.ship").write_text(_spec(ref))
    checked = validate([tmp_path / "spec.ship"])
    assert not checked.has_errors, [d.message for d in checked.diagnostics]
    files, sink = render(checked, Templates.load(), only=("monitoring",))
    assert not sink.has_errors, sink.items
    out = {f.path: f.text for f in files}
    rules = tmp_path / "rules.yml"
    rules.write_text(out["deploy/prod/monitoring/rules.yml"])
    am_config = yaml.safe_load(out["deploy/observability/monitoring/alertmanager.yml"])

    with GitHubStandIn() as github:
        relay = Relay(github.url, "shop/ml-gitops")
        try:
            assert eventually(relay.ready, 30), "the relay did not start"
            hook = next(r for r in am_config["receivers"] if r["name"] == "github-retrain")["webhook_configs"][0]
            assert hook["url"].endswith(":8080/alerts")
            hook["url"] = f"http://127.0.0.1:{relay.port}/alerts"
            am_config["route"].update(group_wait="1s", group_interval="1s")
            for route in am_config["route"]["routes"]:
                route.update(group_wait="1s")
            with (
                Pushgateway() as gateway,
                Alertmanager(am_config) as am,
                Prometheus(
                    scrape=[
                        {
                            "job_name": "pushgateway",
                            "honor_labels": True,
                            "static_configs": [{"targets": [gateway.url.removeprefix("http://")]}],
                        }
                    ],
                    rule_files=[rules],
                    alertmanager=am.url.removeprefix("http://"),
                ) as prom,
            ):
                # What the rendered CronJob runs: its args, $(FEATURE_LOGS) expanded as the kubelet
                # expands it from the ConfigMap, the Pushgateway's service name on loopback.
                cron = yaml.safe_load(out["deploy/observability/monitoring/cronjob-drift-scorer-prod.yaml"])
                (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
                (feature_logs,) = container["env"]
                assert feature_logs["valueFrom"]["configMapKeyRef"]["key"] == "scorer.prod"
                pushgateway = container["args"].index("--pushgateway") + 1

                def drift_args(current: Path) -> list[str]:
                    expand = {feature_logs["name"]: str(current)}
                    args = [re.sub(r"\$\((\w+)\)", lambda m: expand[m[1]], a) for a in container["args"]]
                    return [*args[:pushgateway], gateway.url, *args[pushgateway + 1 :]]

                # Unshifted: the metric arrives, the rule evaluates it, nothing fires.
                assert main(drift_args(_csv(tmp_path / "same.csv", 2000, 0.0, 2))) == 0
                sel = 'shipspec_model_feature_drift{namespace="ml-prod", model="scorer", statistic="psi"}'
                got = eventually(lambda: prom.query(sel), WAIT)
                assert got and all(float(s["value"][1]) < 0.2 for s in got), got
                time.sleep(4)  # several 1s evaluations of a 1s `for:`
                assert prom.firing("ModelDrift") == [] and github.received() == []
                # Shifted by one standard deviation: PSI well above 0.2.
                assert main(drift_args(_csv(tmp_path / "shifted.csv", 2000, 10.0, 3))) == 0
                assert eventually(lambda: prom.firing("ModelDrift"), WAIT), prom.log_tail()
                assert eventually(github.received, WAIT), am.log_tail()
                time.sleep(3)  # a second dispatch would be a bug (group_interval 1s)
                (request,) = github.received()
        finally:
            stop(relay.proc, 10)
    assert request["path"] == "/repos/shop/ml-gitops/dispatches"
    assert request["headers"]["Authorization"] == "Bearer test-token"
    assert request["json"]["event_type"] == "retrain-scorer"
    assert request["json"]["client_payload"] == {
        "alertname": "ModelDrift",
        "model": "scorer",
        "environment": "prod",
        "signal": "drift",
        "statistic": "psi",
        "severity": "ticket",
        "summary": "scorer in prod: psi drift > 0.2 for 1s",
    }
    # The event type is the one the rendered retrain workflow listens for.
    gh, _ = render(checked, Templates.load(), only=("github",))
    workflow = yaml.safe_load(next(f.text for f in gh if f.path.endswith("retrain-scorer.yml")))
    on = workflow.get("on", workflow.get(True))
    # (it also listens for trained-scorer: a finished run recording its new version)
    assert "retrain-scorer" in on["repository_dispatch"]["types"]
