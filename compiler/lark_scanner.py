"""The scanner of the spec parser's lexers (``compiler.lark_standalone`` uses it in place of lark's).

lark's contextual lexer gives every LALR state a lexer for the terminals the state accepts,
and each such lexer's ``Scanner`` compiles one regular expression, the union
``(?P<A>...)|(?P<B>...)|...`` of those terminals in lark's order, the first time it lexes.
Python compiles regular expressions slowly: a one-file spec visits some 50 states and
spent about 10 ms of a cold ``shipspec validate`` (issue 16) compiling their unions.

A union matches what its first alternative that matches at the position matches, so
trying the terminals one at a time, in the same order, gives the same token: literal
terminals with ``str.startswith`` (no compiling), patterns compiled once per process
and shared by every state. A state that lexes often (``UNION_AFTER`` tokens) compiles
lark's union after all, which is faster per token on large specs. Either way the
tokens are lark's: ``tests/unit/parse/test_standalone.py`` lexes the corpus both ways.

``scripts/gen_parser.py`` pickles the parser with every state's scanner built (the
keywords a NAME may turn out to be, per state, are lark's to compute and the same on
every run), so this class is what the pickle names: ``deferring`` keeps lark's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

# Tokens a state's scanner matches one terminal at a time before it compiles lark's union.
UNION_AFTER = 64


class _Text(Protocol):
    """lark's TextSlice: the text and where the lexed part ends."""

    text: str
    end: int


# (terminal name, matcher): the matcher gives the text matched at (text, pos, end), or None.
_Matcher = Callable[[str, int, int], "str | None"]
_COMPILED: dict[tuple[str, int], re.Pattern[str]] = {}


def _compiled(regexp: str, flags: int) -> re.Pattern[str]:
    pattern = _COMPILED.get((regexp, flags))
    if pattern is None:
        pattern = _COMPILED[regexp, flags] = re.compile(regexp, flags)
    return pattern


# Each terminal's (name, matcher), shared by every state's scanner: the states of a small
# spec's parse hold some 1,100 terminals, 120 distinct (issue 16: ~0.3 ms of making them).
_MATCHERS: dict[tuple[Any, int], tuple[str, _Matcher]] = {}


def _matcher(terminal: Any, flags: int) -> tuple[str, _Matcher]:
    literal = _literal_pattern(terminal)
    if literal is not None:
        made: _Matcher = partial(_literal, literal)
    else:
        made = partial(_pattern, _compiled(terminal.pattern.to_regexp(), flags))
    entry = _MATCHERS[terminal, flags] = (terminal.name, made)
    return entry


def _literal(value: str, text: str, pos: int, end: int) -> str | None:
    return value if text.startswith(value, pos, end) else None


def _pattern(pattern: re.Pattern[str], text: str, pos: int, end: int) -> str | None:
    m = pattern.match(text, pos, end)
    return m.group(0) if m is not None else None


def _literal_pattern(terminal: Any) -> str | None:
    """The text a terminal matches when it is a literal without flags, else None."""
    pattern = terminal.pattern
    if pattern.type == "str" and not pattern.flags:
        value: str = pattern.value
        return value
    return None


class Scanner:
    """lark's ``Scanner`` (``match``, ``fullmatch``, ``allowed_types``), its union deferred."""

    def __init__(self, terminals: Sequence[Any], g_regex_flags: int, re_: Any, use_bytes: bool = False) -> None:
        self.terminals = terminals
        self.g_regex_flags = g_regex_flags
        self.re_ = re_
        self.use_bytes = use_bytes
        self.allowed_types = {t.name for t in terminals}
        self._matched = 0
        self._union: Any = None
        self._matchers: list[tuple[str, _Matcher]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # scripts/gen_parser.py pickles the parser with its scanners built: without what they
        # compiled (a pickled pattern is compiled again when loaded) and their count.
        return {**self.__dict__, "_matched": 0, "_union": None, "_matchers": None}

    def _lark(self) -> Any:
        """lark's own Scanner of these terminals: their union, compiled."""
        if self._union is None:
            self._union = _LARK_SCANNER[0](self.terminals, self.g_regex_flags, self.re_, self.use_bytes)
        return self._union

    def _one_at_a_time(self) -> bool:
        """Whether to match the terminals one at a time (str text through the re module only)."""
        if self._matched >= UNION_AFTER or self.re_ is not re or self.use_bytes:
            return False
        self._matched += 1
        return True

    def _each(self) -> list[tuple[str, _Matcher]]:
        if self._matchers is None:
            flags = self.g_regex_flags
            self._matchers = [_MATCHERS.get((t, flags)) or _matcher(t, flags) for t in self.terminals]
        return self._matchers

    def match(self, text: _Text, pos: int) -> tuple[str, str] | None:
        """The text and terminal name of the first terminal that matches at ``pos``."""
        if not self._one_at_a_time():
            return self._lark().match(text, pos)  # type: ignore[no-any-return]
        source, end = text.text, text.end
        for name, matcher in self._each():
            value = matcher(source, pos, end)
            if value is not None:
                return value, name
        return None

    def fullmatch(self, text: str) -> str | None:
        """The name of the first terminal that matches all of ``text``."""
        if not self._one_at_a_time():
            return self._lark().fullmatch(text)  # type: ignore[no-any-return]
        for t in self.terminals:
            literal = _literal_pattern(t)
            if literal is not None:
                if text == literal:
                    return t.name  # type: ignore[no-any-return]
            elif _compiled(t.pattern.to_regexp(), self.g_regex_flags).fullmatch(text):
                return t.name  # type: ignore[no-any-return]
        return None


# lark's Scanner class, which compiles the union (deferring() records it).
_LARK_SCANNER: list[Callable[..., Any]] = []


def deferring(lark_scanner: Callable[..., Any]) -> type[Scanner]:
    """What ``compiler.lark_standalone`` calls ``Scanner``: this one, lark's kept for the union."""
    _LARK_SCANNER[:] = [lark_scanner]
    return Scanner
