"""specs/ is a realistic example: it checks clean and covers what the README promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from compiler import ir
from compiler.pipeline import validate

ROOT = Path(__file__).resolve().parents[2]


def test_validate_prints_nothing_and_exits_zero() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "validate", "--strict"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_example_covers_every_concept() -> None:
    spec = validate([ROOT / "specs"]).spec
    assert {e.tier for e in spec.environments} == set(ir.Tier)
    formats = {m.format for m in spec.models}
    assert {ir.ModelFormat.ONNX, ir.ModelFormat.PYTORCH, ir.ModelFormat.ENSEMBLE, ir.ModelFormat.PYTHON} <= formats
    assert any(m.format is ir.ModelFormat.ONNX and m.resources and m.resources.gpu for m in spec.models)
    tiers = {e.name: e.tier for e in spec.environments}
    into_prod = [g for g in spec.gates if tiers[g.target.name] is ir.Tier.PRODUCTION]
    assert len(into_prod) >= 2 and all(g.approval for g in into_prod)
    assert len(spec.slas) >= 2 and spec.datasets and spec.trainings and spec.monitors
    assert any(t.nodes > 1 for t in spec.trainings)
    assert any(isinstance(e.value, ir.SecretRef) for t in spec.trainings for e in t.env)
