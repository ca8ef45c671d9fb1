"""The parser shipspec runs without lark (issue 16): lark's standalone runtime and pickled tables.

scripts/gen_parser.py writes compiler/lark_standalone.py and the pickled parser from the
grammar; these tests hold them to what the script writes now (so a grammar change cannot
leave them stale), to lark's own parser (the same trees, tokens and positions, the same
errors), and the deferred scanner (compiler.lark_scanner) to lark's compiled one.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.synth import HEADER, model_text
from compiler import lark_scanner
from compiler.parse import syntax

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))
import gen_parser  # noqa: E402  (scripts/ is not a package)

# Every spec text the repository has: the corpus of bad specs, the example, the golden cases,
# a synthetic one, and some broken on purpose at the places lexing is delicate.
TEXTS = {
    str(path.relative_to(ROOT)): path.read_bytes().decode("utf-8", errors="replace")
    for path in sorted(
        [*ROOT.glob("tests/corpus/*.ship"), *ROOT.glob("specs/**/*.ship"), *ROOT.glob("golden/*/specs/**/*.ship")]
    )
}
TEXTS["synth"] = HEADER + "\n" + model_text(0) + model_text(1)
TEXTS.update(
    {
        "quantities": "sla m in prod {\n  latency p99 < 50ms\n  latency p99.9 <= 1.5s\n  error_rate < 0.1%\n}\n",
        "keyword as name": "environment version {\n  tier staging\n}\nmodel tier {\n  serve in version\n}\n",
        "unclosed string": 'model m {\n  version "1.0\n}\n',
        "stray characters": "model m $ {\n  version 'x'\n} ~\n",
        "eof in block": "model m {\n  version",
        "numbers": "model m {\n  replicas -1e3 5.0e-2 12abc p9x @o/t\n}\n",
    }
)


def _flat(tree: Any) -> Iterator[tuple[object, ...]]:
    """A tree as the rules and tokens in order, with every position lark records."""
    if hasattr(tree, "data"):
        meta = tree.meta
        where = tuple(
            getattr(meta, a, None) for a in ("line", "column", "end_line", "end_column", "start_pos", "end_pos")
        )
        yield ("tree", str(tree.data), len(tree.children), getattr(meta, "empty", True), where)
        for child in tree.children:
            yield from _flat(child)
    else:
        yield (
            "token",
            tree.type,
            str(tree),
            tree.line,
            tree.column,
            tree.end_line,
            tree.end_column,
            tree.start_pos,
            tree.end_pos,
        )


def _run(parser: Any, text: str) -> list[tuple[object, ...]]:
    """The tree, or each error lark reports as it recovers (at most 30), as comparable tuples."""
    errors: list[tuple[object, ...]] = []

    def on_error(err: Any) -> bool:
        token = getattr(err, "token", None)
        expected = getattr(err, "expected", None) or getattr(err, "allowed", None) or ()
        errors.append(
            (
                type(err).__name__,
                getattr(err, "line", None),
                getattr(err, "column", None),
                None if token is None else (token.type, str(token), token.line, token.column),
                tuple(sorted(expected)),
            )
        )
        return len(errors) < 30

    try:
        tree = parser.parse(text, on_error=on_error)
    except Exception as exc:  # noqa: BLE001 - lark's and the standalone's exceptions are different classes
        return [*errors, ("raised", type(exc).__name__, getattr(exc, "line", None), getattr(exc, "column", None))]
    return [*errors, *_flat(tree)]


def _fresh(monkeypatch: pytest.MonkeyPatch, union_after: int) -> Any:
    """The pickled parser, loaded anew, its scanners compiling lark's union after ``union_after`` tokens."""
    monkeypatch.setattr(lark_scanner, "UNION_AFTER", union_after)
    return pickle.loads(syntax.PARSER.read_bytes())


def test_the_committed_parser_is_what_the_script_writes_from_the_grammar() -> None:
    # A grammar edit (or a new lark pin) without `python scripts/gen_parser.py` fails here.
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_parser.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert r.returncode == 0, r.stderr


def test_the_pickled_parser_has_the_options_lark_was_asked_for() -> None:
    options = syntax.parser().options
    assert {k: getattr(options, k) for k in gen_parser.OPTIONS} == gen_parser.OPTIONS


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_the_standalone_parser_parses_as_lark_does(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from lark import Lark

    lark_parser = Lark(syntax.GRAMMAR.read_text(encoding="utf-8"), **gen_parser.OPTIONS)
    text = TEXTS[name]
    assert _run(_fresh(monkeypatch, 0), text) == _run(lark_parser, text)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_the_deferred_scanner_lexes_as_lark_compiled_one_does(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = TEXTS[name]
    compiled = _run(_fresh(monkeypatch, 0), text)  # every scanner lark's union from its first token
    assert _run(_fresh(monkeypatch, 10**9), text) == compiled  # one terminal at a time throughout
    assert _run(_fresh(monkeypatch, 3), text) == compiled  # switching over part-way


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_diagnostics_do_not_depend_on_when_a_scanner_compiles(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    found = {}
    for union_after in (0, 10**9):
        parser = _fresh(monkeypatch, union_after)
        monkeypatch.setattr(syntax, "parser", lambda parser=parser: parser)
        source, diagnostics = syntax.parse_text(TEXTS[name], name)
        found[union_after] = (diagnostics, None if source.tree is None else list(_flat(source.tree)))
    assert found[0] == found[10**9]


def test_the_scanner_matches_literals_and_patterns_as_a_union_would(monkeypatch: pytest.MonkeyPatch) -> None:
    from lark.lexer import PatternRE, PatternStr, Scanner, TerminalDef, TextSlice

    monkeypatch.setattr(lark_scanner, "_LARK_SCANNER", [Scanner])

    terminals = [
        TerminalDef("QUANTITY", PatternRE(r"\d+(\.\d+)?(%|[A-Za-z]+)"), 2),
        TerminalDef("NUMBER", PatternRE(r"\d+(\.\d+)?")),
        TerminalDef("ARROW", PatternStr("->")),
        TerminalDef("MINUS", PatternStr("-")),
        TerminalDef("NAME", PatternRE(r"[a-z]+")),
        TerminalDef("CI", PatternStr("ab", flags=("i",))),
    ]
    ours = lark_scanner.Scanner(terminals, 0, __import__("re"))
    union = Scanner(terminals, 0, __import__("re"), False)
    for text in ("50ms", "1.5", "->x", "-1", "abc", "AB", "?", "12%", ""):
        for pos in range(len(text) + 1):
            window = TextSlice(text, 0, len(text))
            assert ours.match(window, pos) == union.match(window, pos), (text, pos)
        assert ours.fullmatch(text) == union.fullmatch(text), text
    assert ours.allowed_types == union.allowed_types
    assert ours._union is None  # it never compiled the union
    monkeypatch.setattr(lark_scanner, "UNION_AFTER", 0)
    assert ours.match(TextSlice("50ms", 0, 4), 0) == ("50ms", "QUANTITY") and ours._union is not None


def test_the_pickled_scanners_come_back_without_what_they_compiled() -> None:
    lexer = pickle.loads(syntax.PARSER.read_bytes()).parser.lexer
    scanners = [lx._scanner for lx in [*lexer.lexers.values(), lexer.root_lexer]]
    assert all(isinstance(s, lark_scanner.Scanner) for s in scanners)  # built by scripts/gen_parser.py
    assert all(s._union is None and s._matchers is None and s._matched == 0 for s in scanners)


def test_larks_logger_is_made_as_lark_makes_it_when_first_used() -> None:
    probe = (
        "import sys\nfrom compiler import lark_standalone as L\n"
        "assert 'logging' not in sys.modules\n"
        "L.logger.debug('not shown')\n"
        "import logging\nreal = logging.getLogger('lark')\n"
        "print(L.logger is real, real.level == logging.CRITICAL, len(real.handlers))\n"
    )
    assert _probe(probe) == ["True", "True", "1"]


def test_text_slice_behaves_as_larks_frozen_dataclass() -> None:
    """scripts/gen_parser.py writes TextSlice's dataclass methods out (issue 16): the same
    construction, repr, equality, hash, frozenness and match arguments as lark's."""
    import dataclasses

    from compiler import lark_standalone as L

    @dataclasses.dataclass(frozen=True)
    class TextSlice:  # lark's, as its utils.py defines it
        text: str
        start: int
        end: int | None

        def __post_init__(self) -> None:
            if self.start < 0:
                object.__setattr__(self, "start", self.start + len(self.text))
            if self.end is None:
                object.__setattr__(self, "end", len(self.text))
            elif self.end < 0:
                object.__setattr__(self, "end", self.end + len(self.text))

    for args in [("Hello, World!", 7, -1), ("Hello, World!", 7, None), ("abc", 0, 3), ("", 0, 0)]:
        ours, theirs = L.TextSlice(*args), TextSlice(*args)
        assert repr(ours) == repr(theirs).replace(TextSlice.__qualname__, "TextSlice")
        assert (ours.text, ours.start, ours.end) == (theirs.text, theirs.start, theirs.end)
        assert ours == L.TextSlice(*args) and ours != theirs and ours != L.TextSlice(args[0] + "x", 0, None)
        assert hash(ours) == hash(theirs)
        for field in ("text", "start", "end", "other"):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(ours, field, 1)
            with pytest.raises(dataclasses.FrozenInstanceError):
                delattr(ours, field)
    assert L.TextSlice.__match_args__ == TextSlice.__match_args__
    assert L.TextSlice.cast_from("abc") == L.TextSlice("abc", 0, 3) and L.TextSlice.cast_from("abc").is_complete_text()
    with pytest.raises(TypeError):
        L.TextSlice(1, 0, 0)  # type: ignore[arg-type]


def test_the_regex_module_is_looked_for_when_lark_first_asks() -> None:
    probe = (
        "import sys\nfrom compiler import lark_standalone as L\n"
        "print(type(L._has_regex).__name__)\n"
        "found = bool(L._has_regex)\n"
        "print(L._has_regex is found, found == ('regex' in sys.modules))\n"
    )
    assert _probe(probe) == ["_HasRegex", "True", "True"]


def _probe(code: str) -> list[str]:
    """The words ``code`` prints in a fresh interpreter (what a cold start imports and makes)."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()
