"""Alert routing under the real ``amtool``: the rendered Alertmanager
configuration passes check-config, and each label set reaches its receiver."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.alerting import monitoring_example, write_alertmanager_config

pytestmark = pytest.mark.realtools
AMTOOL = pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")


@pytest.fixture(scope="module")
def example() -> dict[str, str]:
    return monitoring_example()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_alertmanager_config(tmp_path_factory.mktemp("am"))


@pytest.mark.realtools
@AMTOOL
def test_amtool_accepts_the_rendered_configuration(config: Path) -> None:
    r = subprocess.run(["amtool", "check-config", str(config)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout


def _route(config: Path, *labels: str) -> str:
    r = subprocess.run(
        ["amtool", "config", "routes", "test", f"--config.file={config}", *labels],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return r.stdout.strip()


@pytest.mark.realtools
@AMTOOL
def test_routes_by_severity_and_team_and_retrain_to_the_relay(config: Path) -> None:
    team = "team=kestrel/fraud-ml"
    assert _route(config, "alertname=ModelErrorBudgetBurn", team, "severity=page") == "kestrel/fraud-ml-page"
    assert _route(config, "alertname=ModelErrorBudgetBurn", team, "severity=ticket") == "kestrel/fraud-ml-ticket"
    # A retrain alert goes to the relay and on to the team's ticket receiver.
    assert (
        _route(config, "alertname=ModelDrift", team, "severity=ticket", "action=retrain")
        == "github-retrain,kestrel/fraud-ml-ticket"
    )
    assert _route(config, "alertname=Other", "team=nobody") == "default"
