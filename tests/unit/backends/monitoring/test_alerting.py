"""Alert routing: the rendered Alertmanager configuration (inhibition, the relay's
secret), and the retrain relay turning an Alertmanager notification into exactly
one GitHub ``repository_dispatch`` request (a loopback stand-in, in-process).
The real ``amtool`` checks are in tests/live/test_alerting_amtool.py."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from compiler.commands import relay
from compiler.errors import UsageError
from tests.support.alerting import monitoring_example, write_alertmanager_config
from tests.support.github_standin import GitHubStandIn


@pytest.fixture(scope="module")
def example() -> dict[str, str]:
    return monitoring_example()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_alertmanager_config(tmp_path_factory.mktemp("am"))


def test_a_page_inhibits_tickets_of_the_same_slo(config: Path) -> None:
    doc = yaml.safe_load(config.read_text())
    rule = doc["inhibit_rules"][0]
    assert 'severity="page"' in rule["source_matchers"] and 'severity="ticket"' in rule["target_matchers"]
    assert rule["equal"] == ["model", "environment", "slo"]
    # Only SLO alerts: a paging drift rule does not silence a data-quality ticket.
    assert 'slo=~".+"' in rule["source_matchers"] and 'slo=~".+"' in rule["target_matchers"]
    (hook,) = next(r for r in doc["receivers"] if r["name"] == "github-retrain")["webhook_configs"]
    assert hook["url"] == "http://shipspec-retrain-relay.monitoring.svc:8080/alerts"


def test_the_relay_deployment_takes_its_token_from_a_secret_reference(example: dict[str, str]) -> None:
    text = example["deploy/observability/monitoring/deployment-shipspec-retrain-relay.yaml"]
    doc = yaml.safe_load(text)
    (c,) = doc["spec"]["template"]["spec"]["containers"]
    assert c["args"][:1] == ["relay"] and c["args"][c["args"].index("--repository") + 1] == "kestrel-bank/ml-gitops"
    assert c["env"] == [
        {"name": "GITHUB_TOKEN", "valueFrom": {"secretKeyRef": {"name": "shipspec-retrain-relay", "key": "token"}}}
    ]
    svc = yaml.safe_load(example["deploy/observability/monitoring/service-shipspec-retrain-relay.yaml"])
    assert svc["spec"]["selector"] == doc["spec"]["selector"]["matchLabels"]


NOTIFICATION = {
    "version": "4",
    "status": "firing",
    "receiver": "github-retrain",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "ModelDrift",
                "model": "fraud_detector",
                "environment": "prod",
                "signal": "drift",
                "statistic": "psi",
                "severity": "ticket",
                "action": "retrain",
                "team": "kestrel/fraud-ml",
            },
            "annotations": {"retrain_event_type": "retrain-fraud_detector", "summary": "drift"},
        },
        # The same model again (another series of the group): one dispatch only.
        {
            "status": "firing",
            "labels": {"alertname": "ModelDrift", "model": "fraud_detector", "environment": "prod"},
            "annotations": {"retrain_event_type": "retrain-fraud_detector"},
        },
        {
            "status": "resolved",
            "labels": {"alertname": "ModelDrift", "model": "offer_ranker"},
            "annotations": {"retrain_event_type": "retrain-offer_ranker"},
        },
        {"status": "firing", "labels": {"alertname": "ModelDataQuality", "model": "offer_ranker"}, "annotations": {}},
    ],
}


def test_the_relay_posts_one_repository_dispatch_per_retrained_model() -> None:
    with GitHubStandIn() as github:
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), relay.handler(github.url, "kestrel-bank/ml-gitops", "t0ken", lambda m: None)
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
            req = urllib.request.Request(
                url, data=json.dumps(NOTIFICATION).encode(), method="POST", headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert resp.status == 200
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        (got,) = github.received()
    assert got["path"] == "/repos/kestrel-bank/ml-gitops/dispatches"
    assert got["headers"]["Authorization"] == "Bearer t0ken"
    assert got["headers"]["Accept"] == "application/vnd.github+json"
    assert got["json"] == {
        "event_type": "retrain-fraud_detector",
        "client_payload": {
            "alertname": "ModelDrift",
            "model": "fraud_detector",
            "environment": "prod",
            "signal": "drift",
            "statistic": "psi",
            "severity": "ticket",
            "summary": "drift",
        },
    }


def test_a_failed_dispatch_answers_502_so_alertmanager_retries() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), relay.handler("http://127.0.0.1:9", "o/r", "t", lambda m: None))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        req = urllib.request.Request(
            f"http://127.0.0.1:{server.server_address[1]}/alerts", data=json.dumps(NOTIFICATION).encode(), method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        err.value.close()
        assert err.value.code == 502
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_relay_refuses_to_start_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with pytest.raises(UsageError, match="GITHUB_TOKEN"):
        relay.serve("127.0.0.1:0", "o/r")
