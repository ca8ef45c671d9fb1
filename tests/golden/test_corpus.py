"""The bad-input corpus: each ``tests/corpus/*.ship`` states the exact diagnostics it must produce.

A corpus file opens with a header of comments::

    # corpus: what is wrong, in words
    # expect: SS101 29:21        (one line per diagnostic: code line:column [severity])
    # hint: SS101 did you mean 'prod'?   (optional: a diagnostic of that code carries that hint)

The file is validated alone through the real command line (in-process), and the
diagnostics it reports must be exactly the expected ones: no fewer, no more. "No
more" counts the foundation's own codes (the modules in ``FOUNDATION``) and the
codes the file itself expects; checks that later issues add for their targets
(e.g. ``checks/k8s_policy.py``) are tested by those issues and may add their own
findings here.
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
from compiler.parse.printer import format_source
from compiler.parse.sources import display_path, load, load_text
from compiler.parse.syntax import parse_text
from compiler.pipeline import check_loaded
from tests.support.helpers import meaning

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = sorted(CORPUS.glob("*.ship"))

_EXPECT = re.compile(rb"^# expect: (SS\d{3}) (\d+):(\d+)(?: (error|warning|note))?$", re.M)
_HINT = re.compile(rb"^# hint: (SS\d{3}) (.+)$", re.M)

# Codes below SS700 that a single spec file cannot provoke, and where they are tested instead.
NOT_IN_CORPUS = {
    "SS001": "a path that does not exist (tests/unit/test_robustness.py::test_missing_path_is_a_diagnostic)",
    "SS003": "a file over 4 MiB (tests/unit/test_robustness.py::test_hostile_files_are_diagnosed)",
    "SS004": "a directory with no spec files (tests/unit/test_robustness.py::test_empty_spec_directory_and_empty_file)",
}


# The foundation's front half: reading, parsing, lowering and the language's own checks.
FOUNDATION = (
    "parse/sources.py", "parse/syntax.py", "units.py", "pipeline.py",
    "lower/values.py", "lower/statements.py", "lower/project.py", "lower/environments.py", "lower/models.py",
    "lower/training.py", "lower/slas.py", "lower/gates.py",
    "checks/names.py", "checks/graph.py", "checks/policy.py", "checks/consistency.py",
)


def front_half_codes() -> set[str]:
    """Codes the foundation's validate path can emit: every code literal in its modules."""
    compiler = CORPUS.parent.parent / "compiler"
    found = {code for m in FOUNDATION for code in re.findall(r'"(SS\d{3})"', (compiler / m).read_text())}
    return found & set(CODES)


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
    judged = front_half_codes() | {code for code, _, _ in want.diagnostics}
    everything = json.loads(out)
    found = [d for d in everything if d["code"] in judged]
    got = sorted((d["code"], d["line"], d["column"]) for d in found)
    assert got == want.diagnostics, f"{path.name}: expected {want.diagnostics}, got {got}"
    assert sorted((d["code"], d["line"], d["column"], d["severity"]) for d in found) == sorted(
        (*key, sev) for key, sev in want.severities.items()
    )
    assert rc == (1 if any(d["severity"] == Severity.ERROR.value for d in everything) else 0)
    if Severity.ERROR.value in want.severities.values():
        assert rc == 1
    for code, hint in want.hints:
        assert hint in [d["hint"] for d in found if d["code"] == code], (code, hint, found)
    # The text reporter names every place as file:line:col with its severity and code.
    _, text, _ = run(["validate", str(path), "--format", "text"])
    for (code, line, col), severity in want.severities.items():
        assert f"{display_path(path)}:{line}:{col}: {severity}[{code}]" in text, text




def test_every_front_half_code_is_in_the_corpus() -> None:
    covered = {code for path in FILES for code, _, _ in expectation(path).diagnostics}
    front_half = front_half_codes()
    assert len(front_half) >= 45
    missing = front_half - covered - set(NOT_IN_CORPUS)
    assert not missing, f"no corpus file provokes {sorted(missing)}"
    assert not covered - set(CODES), "the corpus expects codes that do not exist"


# ---- fmt round trip: formatting never changes the meaning --------------------------------------

EXAMPLE = sorted((CORPUS.parent.parent / "specs").rglob("*.ship"))


def _formatted(text: str, name: str) -> str | None:
    source, errors = parse_text(text, name)
    return None if errors else format_source(source)


def test_fmt_round_trip_of_the_example_specs(tmp_path: Path) -> None:
    """The example spec set, every file formatted, exports the same IR and the same diagnostics."""
    root = CORPUS.parent.parent / "specs"
    for path in EXAMPLE:
        target = tmp_path / "specs" / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        formatted = _formatted(path.read_text(), path.name)
        assert formatted is not None, path
        target.write_text(formatted)
    before, after = load([root]), load([tmp_path / "specs"])
    assert meaning(after.spec) == meaning(before.spec)


PARSING = [p for p in FILES if p.read_bytes().isascii() and b"\x00" not in p.read_bytes()]


@pytest.mark.parametrize("path", PARSING, ids=[p.stem for p in PARSING])
def test_fmt_round_trip_of_the_corpus(path: Path) -> None:
    """A corpus file that parses formats to text that lowers to an equal IR with the same diagnostics."""
    text = path.read_text()
    formatted = _formatted(text, path.name)
    if formatted is None:
        assert any(code < "SS100" for code, _, _ in expectation(path).diagnostics)  # only syntax errors stop fmt
        return
    assert _formatted(formatted, path.name) == formatted  # idempotent
    before = check_loaded(load_text(text, path.name))
    after = check_loaded(load_text(formatted, path.name))
    assert meaning(after.spec) == meaning(before.spec)
    assert sorted(d.code for d in after.diagnostics) == sorted(d.code for d in before.diagnostics)
