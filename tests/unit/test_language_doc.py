"""docs/language.md stays the reference: current code table, every keyword, examples that parse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler.parse.sources import load_text
from compiler.report import TABLE_BEGIN, TABLE_END, code_table, with_code_table

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "language.md"
GRAMMAR = ROOT / "compiler" / "parse" / "grammar"


def doc() -> str:
    return DOC.read_text()


def test_the_code_table_is_current() -> None:
    text = doc()
    assert text.count(TABLE_BEGIN) == 1 and text.count(TABLE_END) == 1
    assert with_code_table(text) == text, "the diagnostic code table is stale; run: python -m compiler.report"


def test_the_code_table_lists_every_code() -> None:
    from compiler.diagnostics import CODES

    table = code_table()
    for code, (severity, _title) in CODES.items():
        assert f'| <a id="{code.lower()}"></a>`{code}` | {severity.value} |' in table, code  # the docs anchor


def keywords() -> set[str]:
    grammar = "\n".join(p.read_text() for p in sorted(GRAMMAR.glob("*.lark")))
    return set(re.findall(r'"([a-z_]+)"', grammar))


def test_every_keyword_of_the_grammar_is_documented() -> None:
    text = doc()
    assert len(keywords()) > 60
    missing = sorted(k for k in keywords() if not re.search(rf"(?<![a-z_]){k}(?![a-z_])", text))
    assert not missing, f"docs/language.md never mentions: {missing}"


def ship_blocks() -> list[str]:
    return re.findall(r"```ship\n(.*?)```", doc(), re.S)


@pytest.mark.parametrize("block", ship_blocks(), ids=lambda b: b.split("{")[0].strip())
def test_every_example_parses_and_lowers_cleanly(block: str) -> None:
    loaded = load_text(block, "doc.ship")
    assert list(loaded.diagnostics) == []


def test_the_examples_cover_every_top_level_block() -> None:
    starts = {b.split()[0] for b in ship_blocks()}
    assert starts == {"project", "dataset", "environment", "model", "training", "sla", "monitor", "gate"}
