"""Syntax errors become diagnostics with positions and expected tokens in words."""

from __future__ import annotations

import pytest

from compiler.parse.syntax import parse_text, scan_comments


def errors(text: str) -> list[tuple[str, int, int, str, str | None]]:
    _, diags = parse_text(text, "t.ship")
    return [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in diags]


def test_clean_file_has_no_diagnostics() -> None:
    assert errors('model m {\n  version "1"\n}\n') == []


def test_empty_file_is_a_valid_empty_spec() -> None:
    assert errors("") == []
    assert errors("# only a comment\n") == []


def test_unknown_statement_names_alternatives_and_suggests() -> None:
    [(code, line, col, message, hint)] = errors('model m {\n  verison "1"\n}\n')
    assert (code, line, col) == ("SS010", 2, 3)
    assert "unexpected 'verison'" in message and "'version'" in message and "'}'" in message
    assert hint == "did you mean 'version'?"


def test_unclosed_block_is_unexpected_end_of_file() -> None:
    [(code, line, col, message, hint)] = errors('model m {\n  version "1"\n')
    assert code == "SS012" and line == 3
    assert "end of file" in message and hint is not None and "'}'" in hint


def test_unterminated_string_points_at_the_quote() -> None:
    [(code, line, col, message, hint)] = errors('model m {\n  version "1\n}\n')
    assert (code, line, col) == ("SS011", 2, 11)
    assert hint == "strings end on the same line; close the quote"


def test_quoted_name_hints_to_drop_quotes() -> None:
    [(code, _, _, message, hint)] = errors('model "m" {}')
    assert code == "SS010" and "expected a name" in message
    assert hint == "names are written without quotes"


def test_unquoted_string_value_hints_to_quote() -> None:
    [(_, _, _, message, hint)] = errors("model m { version 1.2 }")
    assert 'expected a quoted string like "text"' in message
    assert hint == 'put the value in double quotes: "1.2"'


def test_only_the_first_syntax_error_per_file() -> None:
    # LALR recovery would guess; one precise error per file is more honest.
    assert len(errors("model m { foo }\nmodel n { bar }\n")) == 1


@pytest.mark.parametrize(
    "text",
    ["model m { version \"1\" } }", "}", "{", "model", "project p { owners }", "sla m in { }"],
)
def test_assorted_garbage_is_reported_not_raised(text: str) -> None:
    assert errors(text), text


def test_keywords_may_be_names_where_a_name_is_expected() -> None:
    # contextual lexing: 'version' and 'tier' are fine as names
    assert errors("environment version {\n  tier staging\n}\nmodel tier {\n  serve in version\n}\n") == []


def test_deep_nesting_is_refused_before_parsing() -> None:
    [(code, *_)] = errors("model m " + "{" * 100 + "}" * 100)
    assert code == "SS014"


def test_comments_outside_strings_are_found() -> None:
    found = scan_comments('a "x # not a comment" # yes\n# whole line\n"\\"#" # esc\n')
    assert [(c.line, c.column, c.text) for c in found] == [(1, 23, "# yes"), (2, 1, "# whole line"), (3, 7, "# esc")]


def test_grammar_has_no_conflicts_or_terminal_collisions() -> None:
    # strict=True makes lark fail on shift/reduce conflicts and on terminals
    # that can match the same text (needs interegular, a test dependency).
    from lark import Lark

    from compiler.parse.syntax import GRAMMAR

    Lark(GRAMMAR.read_text(), parser="lalr", lexer="contextual", strict=True, keep_all_tokens=True)
