"""Property-based tests (hypothesis): mutated specs never crash the command line.

Each example starts from a real spec (the minimal one, the whole example spec
set as one file, or a corpus file), applies a few random edits drawn from the
language's own vocabulary, and runs ``validate``, ``fmt`` and ``export``
in-process through ``compiler.cli.main``. The properties:

- the exit code is 0 or 1 (never 2 for a readable file, never 3 = internal error);
- ``validate`` exit 1 comes with at least one error diagnostic, exit 0 with none;
- every diagnostic points inside the file (1 <= line <= lines, 1 <= column);
- a mutant that parses formats idempotently, and the formatted text lowers to
  the same IR (spans aside).

The example budget comes from the hypothesis profile (tests/conftest.py): the
``default`` profile is capped and derandomised so the suite is quick and repeatable;
``pytest --hypothesis-profile long tests/unit/test_properties.py`` searches deep.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.cli import main
from compiler.parse.printer import format_source
from compiler.parse.sources import load, load_text
from compiler.parse.syntax import parse_text
from compiler.pipeline import check_loaded
from tests.support.helpers import meaning
from tests.support.specs import MINIMAL

ROOT = Path(__file__).resolve().parents[2]


def _seeds() -> list[str]:
    example = "\n".join(p.read_text() for p in sorted((ROOT / "specs").rglob("*.ship")))
    corpus = [
        p.read_text()
        for p in sorted((ROOT / "tests" / "corpus").glob("*.ship"))
        if b"\x00" not in p.read_bytes() and p.read_bytes().isascii()
    ]
    return [MINIMAL, example, *corpus[::6]]


SEEDS = _seeds()

# Pieces of the language and of things that are almost the language.
VOCABULARY = [
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ":",
    "=",
    "->",
    "..",
    "#",
    "\n",
    '"',
    "\\",
    "@",
    "%",
    "project",
    "model",
    "environment",
    "dataset",
    "gate",
    "sla",
    "monitor",
    "training",
    "tier production",
    "tier monitoring",
    "serve in",
    "format ensemble",
    "step",
    "input",
    "output",
    "replicas",
    "batching { max 0 }",
    "canary 100% for 0s",
    "approval",
    "secret",
    "latest",
    "0",
    "-1",
    "1e309",
    "99999999999999999999",
    "0.0000001",
    "1.5",
    "100.5%",
    "p0",
    "p100",
    "p999",
    "50ms",
    "1w",
    "4Gi",
    "200rps",
    "1Ki",
    "3Q",
    "fp32[-1, 0]",
    "@org/team",
    "prod",
    "staging",
    "\u00e9",
    "\u202e",
    "\t",
    "\r\n",
    "\ufeff",
]


@st.composite
def mutants(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        size = len(text)
        i = draw(st.integers(0, size))
        j = draw(st.integers(i, min(size, i + 80)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "swap_lines", "truncate"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(VOCABULARY)) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(st.sampled_from(VOCABULARY)) + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "swap_lines":
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
        else:
            text = text[:i]
    return text


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutants())
def test_mutated_specs_exit_cleanly_with_diagnostics(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "specs" / "x.ship"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        rc, out, err = run(["validate", str(path.parent), "--format", "json"])
        assert rc in (0, 1), (rc, err)
        found = json.loads(out)
        errors = [d for d in found if d["severity"] == "error"]
        assert (rc == 1) == bool(errors), found
        lines = max(1, text.replace("\r\n", "\n").count("\n") + 1)
        for d in found:
            assert 1 <= d["line"] <= lines and d["column"] >= 1, d
            assert d["message"] and d["code"].startswith("SS")
        for reporter in ("text", "github"):  # the other reporters survive whatever the source holds
            rc_other, shown, err_other = run(["validate", str(path.parent), "--format", reporter])
            assert rc_other == rc and "internal error" not in err_other, err_other
            assert shown.count("SS") >= len(found)
        rc_fmt, _, err_fmt = run(["fmt", str(path.parent)])
        assert rc_fmt in (0, 1) and "internal error" not in err_fmt, err_fmt
        rc_export, _, err_export = run(["export", str(path.parent)])
        assert rc_export == rc and "internal error" not in err_export, err_export


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutants())
def test_whatever_parses_formats_to_the_same_ir(text: str) -> None:
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    source, errors = parse_text(text, "x.ship")
    if errors:
        return
    once = format_source(source)
    reparsed, errors = parse_text(once, "x.ship")
    assert errors == [], (once, errors)
    assert format_source(reparsed) == once  # idempotent
    before = load_text(text, "x.ship")
    after = load_text(once, "x.ship")
    assert meaning(after.spec) == meaning(before.spec)
    assert sorted(d.code for d in after.diagnostics) == sorted(d.code for d in before.diagnostics)


def _blocks(text: str) -> list[str]:
    """Top-level blocks of a canonical file (each with the comments before it)."""
    parts = re.split(r"\n(?=(?:project|dataset|environment|model|training|sla|monitor|gate) )", text)
    return [p.strip("\n") + "\n" for p in parts if p.strip()]


EXAMPLE_BLOCKS = [b for p in sorted((ROOT / "specs").rglob("*.ship")) for b in _blocks(p.read_text())]


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(EXAMPLE_BLOCKS), st.integers(1, 6), st.randoms(use_true_random=False))
def test_any_split_into_files_gives_the_same_ir(blocks: list[str], files: int, rng: Any) -> None:
    """The example's blocks shuffled over N files with arbitrary names: the same IR, the same diagnostics."""
    want = meaning(load([ROOT / "specs"]).spec)
    with tempfile.TemporaryDirectory() as tmp:
        names = [f"{rng.choice('abcdefghij')}{i}.ship" for i in range(files)]
        texts: dict[str, list[str]] = {n: [] for n in names}
        for block in blocks:
            texts[rng.choice(names)].append(block)
        for name, parts in texts.items():
            (Path(tmp) / name).write_text("\n".join(parts))
        loaded = load([Path(tmp)])
        assert loaded.diagnostics == ()
        checked = check_loaded(loaded)
        assert checked.diagnostics == ()
        assert meaning(checked.spec) == want
