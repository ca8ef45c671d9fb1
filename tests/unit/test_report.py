"""Diagnostics as text (source line and caret), JSON and GitHub annotations."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import report
from compiler.diagnostics import Diagnostic, Severity, Span
from tests.support.helpers import diagnose
from tests.support.specs import MINIMAL

BROKEN = MINIMAL.replace("serve in staging, prod", "serve in staging, prdo")


def _unknown_env() -> list:
    """The typo's own diagnostic (the prod override of a model no longer served there is another)."""
    return [d for d in diagnose(BROKEN)[1] if d.code == "SS101"]


def test_text_shows_location_source_line_caret_and_hint() -> None:
    diags = _unknown_env()
    out = io.StringIO()
    report.text(diags[:1], {"t.ship": BROKEN}, out, colour=False)
    lines = out.getvalue().splitlines()
    line_no = BROKEN[: BROKEN.index("prdo")].count("\n") + 1
    assert lines[0] == f"t.ship:{line_no}:21: error[SS101]: unknown environment 'prdo'"
    assert lines[2] == f"{line_no} |   serve in staging, prdo"
    assert lines[3] == "   | " + " " * 20 + "^^^^"
    assert lines[4] == "   = hint: did you mean 'prod'?"
    assert lines[-1] == "1 error, 0 warnings"
    assert "\x1b[" not in out.getvalue()


def test_text_colour_only_when_asked() -> None:
    diags = _unknown_env()
    out = io.StringIO()
    report.text(diags, {"t.ship": BROKEN}, out, colour=True)
    assert "\x1b[1;31m" in out.getvalue()


def test_json_objects_have_every_field() -> None:
    diags = _unknown_env()
    out = io.StringIO()
    report.as_json(diags[:1], out)
    [obj] = json.loads(out.getvalue())
    assert set(obj) == {"code", "severity", "file", "line", "column", "end", "message", "hint", "docs"}
    assert obj["code"] == "SS101" and obj["severity"] == "error" and obj["end"]["column"] == obj["column"] + 4


def test_github_annotations_escape_properties_and_data() -> None:
    from compiler.diagnostics import Diagnostic, Severity, Span

    d = Diagnostic("SS101", Severity.WARNING, "50% of a,b:\nnext", Span("dir,x/a:b.ship", 3, 4, 3, 9), "h")
    out = io.StringIO()
    report.github([d], out)
    assert out.getvalue() == (
        "::warning file=dir%2Cx/a%3Ab.ship,line=3,col=4,endLine=3,endColumn=9,title=SS101::"
        "50%25 of a,b:%0Anext (hint: h)\n"
    )


def test_format_auto_picks_github_under_actions(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "a.ship").write_text(BROKEN)
    env = {"GITHUB_ACTIONS": "true", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "validate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert r.stdout.startswith("::error file=specs/a.ship,line=")


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["SS101", "SS740", "SS640", "SS010"]),
            st.sampled_from(list(Severity)),
            _TEXT,
            _TEXT,
            st.none() | _TEXT,
            st.lists(st.integers(-1, 10**6), min_size=4, max_size=4),
        ),
        max_size=4,
    )
)
def test_json_is_what_json_dump_writes(made: list[tuple]) -> None:
    """``as_json`` writes its own layout for speed: byte for byte what ``json.dump`` with an indent
    of 2 and no ASCII escaping writes, for any text (quotes, escapes, control and non-ASCII characters)."""
    diags = [Diagnostic(c, sev, msg, Span(f, *n), hint) for c, sev, msg, f, hint, n in made]
    out = io.StringIO()
    report.as_json(diags, out)
    expected = json.dumps([{**d.to_dict(), "docs": report.anchor(d.code)} for d in diags], indent=2, ensure_ascii=False)
    assert out.getvalue() == expected + "\n"
    # Written a few at a time (two here; a few hundred in a run): the same bytes.
    batched = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "_BATCH", 2)
        report.as_json(diags, batched)
    assert batched.getvalue() == expected + "\n"


def test_json_of_an_odd_field_type_is_json_dumps_own() -> None:
    """A field of another type than the layout writes (a bool line, here) falls back to ``json.dump``."""
    d = Diagnostic("SS101", Severity.ERROR, "m", Span("f", True, 1, 1, 2))  # type: ignore[arg-type]
    out = io.StringIO()
    report.as_json([d], out)
    assert json.loads(out.getvalue())[0]["line"] is True
