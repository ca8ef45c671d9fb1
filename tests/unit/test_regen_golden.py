"""``python -m tests.regen_golden`` leaves a case's golden tree alone when shipspec fails
internally (exit 3): a crash report is never what a case expects, and writing it used to
delete every expected file of the case."""

from __future__ import annotations

import pytest

from tests.golden import regen


def test_a_crash_leaves_the_golden_tree_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    written: list[str] = []
    monkeypatch.setattr(regen, "render_case", lambda case: {"diagnostics.txt": b"exit 3\nTraceback ...\n"})
    monkeypatch.setattr(regen, "write_expected", lambda case, files: written.append(case))
    monkeypatch.setattr(regen, "export_case", lambda case: None)
    monkeypatch.setattr(regen, "write_ir", lambda case, ir: None)
    assert regen.main(["example"]) == 1
    assert written == [] and "golden left unchanged" in capsys.readouterr().out


def test_an_error_case_is_still_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case whose spec has errors (exit 1) expects its diagnostics: they are its golden."""
    written: list[tuple[str, dict[str, bytes]]] = []
    report = {"diagnostics.txt": b"exit 1\nspecs/x.ship:1:1: error[SS101] ...\n"}
    monkeypatch.setattr(regen, "render_case", lambda case: report)
    monkeypatch.setattr(regen, "write_expected", lambda case, files: written.append((case, files)))
    monkeypatch.setattr(regen, "export_case", lambda case: None)
    monkeypatch.setattr(regen, "write_ir", lambda case, ir: None)
    assert regen.main(["triton-checks"]) == 0
    assert written == [("triton-checks", report)]
