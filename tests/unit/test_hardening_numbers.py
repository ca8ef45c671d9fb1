"""Issue 17, point 4, through the real CLI: out-of-range numbers are SS303 with a
position for every command — no exit 3, no hang, no 'Infinity' in exported JSON."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from compiler.cli import main
from tests.support.specs import MINIMAL


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


CASES = {
    "replicas-exponent": ("replicas 2..4\n", "replicas 2..1e999999999\n"),
    "replicas-digits": ("replicas 2..4\n", "replicas 2.." + "9" * 401 + "\n"),
    "memory-digits": ("memory 1Gi", "memory " + "9" * 400 + "Gi"),
    "throughput": ("at 100rps", "at 1" + "0" * 399 + "rps"),
    "delay-inf": ("delay 1ms", "delay 1" + "0" * 330 + ".5ms"),
    "dimension": ("fp32[4]", "fp32[" + "7" * 5000 + "]"),
    "percentile": ("latency p99 < 50ms", "latency p" + "9" * 400 + " < 50ms"),
    "metric": ("auc >= 0.9", "auc >= 1e308"),
    "hyperparameter": ("owners @demo/ml\n}", "owners @demo/ml\n}\n"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("command", ["validate", "export", "compile", "fmt"])
def test_out_of_range_numbers_are_diagnosed_by_every_command(tmp_path: Path, name: str, command: str) -> None:
    old, new = CASES[name]
    if name == "hyperparameter":
        text = MINIMAL + (
            'environment train {\n  tier training\n  namespace "t"\n}\n'
            'training clf {\n  in train\n  image "ghcr.io/demo/t:1"\n  dataset holdout\n'
            "  hyperparameters { lr 1e999  steps " + "9" * 5000 + " }\n}\n"
        )
    else:
        assert old in MINIMAL
        text = MINIMAL.replace(old, new, 1)
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "x.ship").write_text(text)
    args = {
        "validate": ["validate", str(specs), "--format", "json"],
        "export": ["export", str(specs)],
        "compile": ["compile", str(specs), "--out", str(tmp_path / "out"), "--format", "json"],
        "fmt": ["fmt", str(specs)],
    }[command]
    rc, out, err = cli(*args)
    assert "internal error" not in err and "Traceback" not in err
    if command == "fmt":  # fmt only lays the text out: it must not choke on the literal
        assert rc == 0 and out.count("\n") > 10
        return
    assert rc == 1
    assert "Infinity" not in out and "NaN" not in out
    assert not (tmp_path / "out").exists()
    found = json.loads(out) if command != "export" else None
    if found is not None:
        assert any(d["code"] == "SS303" and d["line"] > 1 for d in found), found
    else:
        assert "SS303" in err
