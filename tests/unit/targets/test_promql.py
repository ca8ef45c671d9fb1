"""The one PromQL selector builder: values quoted so they cannot end a selector,
alternatives anchored and escaped, matchers appended in order."""

from __future__ import annotations

from compiler.targets import promql


def test_a_value_with_quotes_and_backslashes_stays_inside_its_string() -> None:
    sel = promql.selector(promql.eq("model", 'a"} or vector(1) #\\'))
    assert sel == '{model="a\\"} or vector(1) #\\\\"}'
    # the string literal (read with its escapes) ends exactly before the selector's closing brace
    i, value = len('{model="'), ""
    while sel[i] != '"':
        if sel[i] == "\\":
            i += 1
        value += sel[i]
        i += 1
    assert value == 'a"} or vector(1) #\\' and sel[i + 1 :] == "}"


def test_one_of_is_a_plain_match_for_one_value_and_an_escaped_alternation_otherwise() -> None:
    assert promql.one_of("model", ["b"]) == 'model="b"'
    assert promql.one_of("model", ["b.x", "a"]) == 'model=~"a|b\\\\.x"'


def test_extend_appends_and_skips_missing_matchers() -> None:
    base = promql.selector(promql.eq("model", "m"), None, promql.eq("environment", "prod"))
    assert base == '{model="m", environment="prod"}'
    assert promql.extend(base, None) == base
    assert (
        promql.extend(base, promql.eq("slo", "availability")) == '{model="m", environment="prod", slo="availability"}'
    )
    assert promql.extend("{}", promql.eq("a", "b"), sep=",") == '{a="b"}'
