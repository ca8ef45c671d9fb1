"""``yaml_block`` reads the templates' block YAML exactly as libyaml and
PyYAML's safe constructor do, or declines. Checked three ways: every YAML file
the golden cases expect; documents of awkward keys and scalars laid out by
``to_yaml`` and by PyYAML's dumper; and texts put together from lines, valid or
not, where a text libyaml refuses must be declined."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import yaml_block
from compiler.serialize import load_all, to_yaml
from tests.support.golden import GOLDEN


def _libyaml(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader))


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types throughout (True is not 1), keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(map(repr, a)) == list(map(repr, b)) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


def _agrees(text: str) -> list[Any] | None:
    got = yaml_block.load_all(text)
    try:
        want = _libyaml(text)
    except (yaml.YAMLError, ValueError):
        assert got is None, f"libyaml refuses {text!r}, yaml_block read {got!r}"
        return None
    assert got is None or _same(got, want), f"{text!r}: {got!r} != {want!r}"
    return got


GOLDEN_YAML = sorted(p for p in GOLDEN.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def test_the_golden_cases_have_kubernetes_objects_to_read() -> None:
    assert sum("/deploy/" in p.as_posix() for p in GOLDEN_YAML) > 100


@pytest.mark.parametrize("path", GOLDEN_YAML, ids=lambda p: p.relative_to(GOLDEN).as_posix())
def test_every_golden_yaml_file_reads_as_libyaml_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    got = _agrees(text)
    if "/deploy/" in path.as_posix() and text.isascii():
        # What the Kubernetes backend parses back: all of it is in the subset.
        assert got is not None, f"{path} was declined"


KEYS = ["a", "name", "app.kubernetes.io/name", "on", "yes", "1", "1.5", "~", "null", "a:b", "k-8", "x y", "2026-10-01"]
AWKWARD = [
    "",
    " ",
    "true",
    "Yes",
    "off",
    "null",
    "~",
    "0",
    "017",
    "0o17",
    "0x1F",
    "1_000",
    "1:20",
    "-1",
    "+1",
    ".5",
    "1e5",
    "1.0e+3",
    ".inf",
    "-.Inf",
    ".nan",
    "2026-10-01",
    "2026-10-01 10:00:00",
    "2026-13-45",
    "-",
    "- x",
    "-x",
    "?",
    "? x",
    ":x",
    "a: b",
    "a:b",
    "a #b",
    "a#b",
    "#x",
    "'",
    "''",
    '"',
    "a'b",
    'a"b',
    "it's",
    "'it''s'",
    "'a' b'",
    "'a'' b",
    "[x]",
    "[]",
    "{}",
    "{a: 1}",
    "|",
    ">",
    "&a",
    "*a",
    "!x",
    "%x",
    "@x",
    "`x",
    "---",
    "...",
    "<<",
    "=",
    "a\\b",
    "line\nbreak",
    "two\n\nbreaks\n",
    "trailing ",
    " leading",
    "tab\there",
    "caf\u00e9",
    '$(dirname "$2")',
    'sum(rate(x{a="b"}[5m]))',
]
scalars = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(alphabet=st.characters(codec="ascii"), max_size=12),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=600)
@given(documents, st.sampled_from([2, 4]), st.booleans())
def test_laid_out_documents_read_back_as_libyaml_reads_them(doc: Any, indent: int, ours: bool) -> None:
    if ours:
        text = to_yaml(doc)
    else:
        text = yaml.safe_dump_all([doc, doc], default_flow_style=False, sort_keys=False, indent=indent)
    _agrees(text)


PLAIN_WORDS = st.from_regex(r"[a-z][a-z0-9.-]{0,8}", fullmatch=True).filter(lambda s: s[-1] != ".")
ordinary = st.recursive(
    st.one_of(PLAIN_WORDS, st.integers(0, 10**6), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3), st.dictionaries(PLAIN_WORDS, inner, min_size=1, max_size=3)
    ),
    max_leaves=12,
).filter(lambda d: isinstance(d, dict | list))


@given(ordinary)
def test_documents_of_ordinary_words_are_read_without_libyaml(doc: Any) -> None:
    text = to_yaml(doc)
    got = yaml_block.load_all(text)
    assert got is not None, text
    assert _same(got, [doc]) and _same(got, _libyaml(text))


FRAGMENTS = [
    "- ",
    "-",
    "- - ",
    "-   ",
    "# note",
    "---",
    "--- ",
    "...",
    "key:",
    "key: |",
    "key: |-",
    "key: |+",
    "key: >",
    "key: # c",
    '"quoted": ',
    "'single': ",
    "'it''s': ",
    "'it' 's': ",
    "other: ",
    "a: b: ",
    "? ",
    ": ",
]
line = st.tuples(
    st.sampled_from([0, 0, 1, 2, 2, 3, 4, 4, 6]),
    st.sampled_from(FRAGMENTS + [""] * 4),
    st.one_of(st.just(""), st.sampled_from(AWKWARD).filter(lambda s: "\n" not in s)),
    st.sampled_from(["", "", " ", "  # tail"]),
).map(lambda t: " " * t[0] + t[1] + t[2] + t[3])


@settings(max_examples=3000)
@given(st.lists(line, min_size=1, max_size=10), st.booleans())
def test_any_text_is_read_as_libyaml_reads_it_or_declined(lines: list[str], newline: bool) -> None:
    _agrees("\n".join(lines) + ("\n" if newline else ""))


@pytest.mark.parametrize(
    "text",
    [
        "a:\n  b: |\n    one\n\n    two\n\nc: 1\n",
        "a: |-\n  x\n    y\n",
        "a: |\n  x",
        "a: |\nb: 1\n",
        "a:\n- x\n- y: 1\n  z:\n  - 2\nb: ~\n",
        '- a: 1\n  b: ["x", "y"]\n- []\n- {}\n',
        "# head\n---\na: 1\n---\nb: 2\n",
        '"app.kubernetes.io/name": "x"\n',
        "'it''s': 'a''b'\n",
        "- 'y': ''\n  \"z\": |-\n    text\n- - |\n    more\n",
        "when: 2026-10-01\nn: 0o17\nt: Yes\nr: 1:20\n",
    ],
)
def test_the_subset_reads_these_without_libyaml(text: str) -> None:
    got = _agrees(text)
    assert got is not None


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: >\n  folded\n",
        'a: "esc\\n"\n',
        "a: b\n  c\n",
        "a:\n    b: 1\n  c: 2\n",
        "a: 1\n---\n",
        "a:\tb\n",
        "a: caf\u00e9\n",
        "<<: {}\n",
        "when: 2026-13-45\n",
        "a: 'x' y'\n",
        "a: - x\n",
        "a: ? x\n",
    ],
)
def test_what_the_subset_leaves_to_libyaml_is_declined(text: str) -> None:
    assert yaml_block.load_all(text) is None
    try:
        want: Any = _libyaml(text)
    except (yaml.YAMLError, ValueError) as exc:
        with pytest.raises(type(exc)):
            load_all(text)
    else:
        assert _same(load_all(text), want)


def test_typed_plain_scalars_come_from_pyyaml() -> None:
    (doc,) = yaml_block.load_all("d: 2026-10-01\nf: .inf\nn: ~\nb: off\n") or [None]
    assert doc == {"d": datetime.date(2026, 10, 1), "f": math.inf, "n": None, "b": False}
