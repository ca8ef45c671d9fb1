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


def test_unclosed_block_points_at_its_opener() -> None:
    [(code, line, col, message, hint)] = errors('model m {\n  version "1"\n')
    assert (code, line, col) == ("SS012", 1, 9)
    assert "unclosed '{' opened at 1:9" in message and hint is not None and "'}'" in hint


def test_every_syntax_error_of_a_file_in_one_run() -> None:
    text = (
        'model a {\n  version 1.0.0\n}\n\nsla a in prod {\n  latency p99 < 50 ms\n}\n\ndataset d {\n  version: "1"\n}\n'
    )
    found = errors(text)
    assert [(c, line) for c, line, *_ in found] == [("SS010", 2), ("SS010", 6), ("SS010", 10)]
    hints = [h for *_, h in found]
    assert hints[0] == 'put the value in double quotes: "1.0.0"'
    assert hints[1] == "write the number and its unit together: 50ms"
    assert hints[2] is not None and "not YAML" in hints[2]


def test_missing_brace_is_reported_at_the_next_block_with_its_opener() -> None:
    found = errors('model a {\n  version "1"\n\nmodel b {\n  version "2"\n}\n')
    code, line, col, message, hint = found[0]
    assert (code, line, col) == ("SS010", 4, 1)
    assert hint == "the '{' opened at 1:9 is not closed: add '}' before this model"


def test_space_before_a_unit_gets_a_hint() -> None:
    [(code, *_, hint)] = errors("model a {\n  batching { max 8  delay 50 ms }\n}\n")
    assert code == "SS010" and hint == "write the number and its unit together: 50ms"


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
    ['model m { version "1" } }', "}", "{", "model", "project p { owners }", "sla m in { }"],
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
