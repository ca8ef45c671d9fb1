"""The bad-input corpus: each ``tests/corpus/*.ship`` states the exact diagnostics it must produce.

A corpus file opens with a header of comments::

    # corpus: what is wrong, in words
    # expect: SS101 29:21        (one line per diagnostic: code line:column [severity])
    # hint: SS101 did you mean 'prod'?   (optional: a diagnostic of that code carries that hint)

The file is validated alone through the real command line (in-process), and the
diagnostics it reports must be exactly the expected ones: no fewer, no more.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.diagnostics import CODES, Severity
from compiler.load import display_path

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = sorted(CORPUS.glob("*.ship"))

_EXPECT = re.compile(rb"^# expect: (SS\d{3}) (\d+):(\d+)(?: (error|warning|note))?$", re.M)
_HINT = re.compile(rb"^# hint: (SS\d{3}) (.+)$", re.M)

# Codes below SS700 that a single spec file cannot provoke, and where they are tested instead.
NOT_IN_CORPUS = {
    "SS001": "a path that does not exist (tests/test_robustness.py::test_missing_path_is_a_diagnostic)",
    "SS003": "a file over 4 MiB (tests/test_robustness.py::test_hostile_files_are_diagnosed)",
    "SS004": "a directory with no spec files (tests/test_robustness.py::test_empty_spec_directory_and_empty_file)",
}


@dataclass(frozen=True)
class Expectation:
    diagnostics: list[tuple[str, int, int]]
    severities: dict[tuple[str, int, int], str]
    hints: list[tuple[str, str]]


def expectation(path: Path) -> Expectation:
    raw = path.read_bytes()
    severities = {
        (c.decode(), int(line), int(col)): (sev.decode() or CODES[c.decode()][0].value)
        for c, line, col, sev in _EXPECT.findall(raw)
    }
    hints = [(c.decode(), h.decode()) for c, h in _HINT.findall(raw)]
    return Expectation(sorted(severities), severities, hints)


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


def test_the_corpus_is_large_enough() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_file(path: Path) -> None:
    want = expectation(path)
    assert want.diagnostics, f"{path.name} has no '# expect:' line"
    rc, out, err = run(["validate", str(path), "--format", "json"])
    assert "Traceback" not in err and "internal error" not in err, err
    found = json.loads(out)
    got = sorted((d["code"], d["line"], d["column"]) for d in found)
    assert got == want.diagnostics, f"{path.name}: expected {want.diagnostics}, got {got}"
    assert sorted((d["code"], d["line"], d["column"], d["severity"]) for d in found) == sorted(
        (*key, sev) for key, sev in want.severities.items()
    )
    assert rc == (1 if Severity.ERROR.value in want.severities.values() else 0)
    for code, hint in want.hints:
        assert hint in [d["hint"] for d in found if d["code"] == code], (code, hint, found)
    # The text reporter names every place as file:line:col with its severity and code.
    _, text, _ = run(["validate", str(path), "--format", "text"])
    for (code, line, col), severity in want.severities.items():
        assert f"{display_path(path)}:{line}:{col}: {severity}[{code}]" in text, text


def test_every_front_half_code_is_in_the_corpus() -> None:
    covered = {code for path in FILES for code, _, _ in expectation(path).diagnostics}
    front_half = {code for code in CODES if code < "SS700"}
    missing = front_half - covered - set(NOT_IN_CORPUS)
    assert not missing, f"no corpus file provokes {sorted(missing)}"
    assert not covered - set(CODES), "the corpus expects codes that do not exist"
