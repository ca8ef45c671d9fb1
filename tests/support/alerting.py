"""The example's monitoring tier, rendered once for the alerting tests (unit and live)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from compiler.backends.render import Templates
from compiler.pipeline import render, validate

ROOT = Path(__file__).resolve().parents[2]
ALERTMANAGER_YML = "deploy/observability/monitoring/alertmanager.yml"


@cache
def monitoring_example() -> dict[str, str]:
    """Path -> text of what the monitoring backend renders for specs/."""
    files, sink = render(validate([ROOT / "specs"]), Templates.load(), only=("monitoring",))
    assert not sink.has_errors, sink.items
    return {f.path: f.text for f in files}


def write_alertmanager_config(directory: Path) -> Path:
    path = directory / "alertmanager.yml"
    path.write_text(monitoring_example()[ALERTMANAGER_YML])
    return path
