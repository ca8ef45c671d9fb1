"""An environment's shared rule groups and their problems, and each model's groups, are values
memoised on what they read (``memo.over``): a build whose units all come from the memo
computes none of them and reports the same diagnostics (SS804 included) as a fresh build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.synth import generate
from compiler.backends.monitoring import backend as monitoring
from compiler.cache import Memory
from compiler.pipeline import build


def test_rules_problems_and_groups_come_from_the_memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made, shared = monitoring._model_groups, monitoring._shared_groups
    calls: list[str] = []

    def with_a_bad_record(*args: Any) -> tuple[list[Any], str]:
        groups, text = made(*args)
        t = args[1]
        calls.append(t.model)
        bad = {"name": f"{t.model}-{t.environment}:bad", "rules": [{"record": "not a metric", "expr": "1"}]}
        return [*groups, bad], text

    def counted(*args: Any) -> Any:
        calls.append("shared")
        return shared(*args)

    monkeypatch.setattr(monitoring, "_model_groups", with_a_bad_record)
    monkeypatch.setattr(monitoring, "_shared_groups", counted)
    specs = generate(tmp_path, 3)
    memory = Memory()
    first = build([specs], store=memory, validate_output=False)
    assert "shared" in calls and any(d.code == "SS804" for d in first.diagnostics)
    calls.clear()
    again = build([specs], store=memory, validate_output=False)
    assert calls == [] and again.diagnostics == first.diagnostics
    model = specs / "models" / "m00001.ship"
    # A field the rules do not read (its unit's key changed): no groups again, the model's nor
    # the environments' shared ones, and the problems as a fresh build reports them.
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    edited = build([specs], store=memory, validate_output=False)
    assert calls == []
    assert edited.diagnostics == build([specs], validate_output=False).diagnostics
    calls.clear()
    model.write_text(model.read_text().replace("latency p99 < 80ms", "latency p95 < 80ms"))
    edited = build([specs], store=memory, validate_output=False)
    # Only the edited model's groups again, and the shared groups of its environments.
    assert set(calls) == {"m00001", "shared"}
    fresh = build([specs], validate_output=False)
    assert edited.diagnostics == fresh.diagnostics and edited.files == fresh.files
