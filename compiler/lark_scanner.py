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
    """lark's ``Scanner`` interface (``match``, ``fullmatch``, ``allowed_types``), the union deferred."""

    def __init__(
        self,
        union: Callable[..., Any],
        terminals: Sequence[Any],
        g_regex_flags: int,
        re_: Any,
        use_bytes: bool = False,
    ) -> None:
        self.terminals = terminals
        self.g_regex_flags = g_regex_flags
        self.re_ = re_
        self.use_bytes = use_bytes
        self.allowed_types = {t.name for t in terminals}
        self._union_of = union
        self._union: Any = None
        # Only str text through the standard re module is matched one terminal at a time.
        self._left = UNION_AFTER if re_ is re and not use_bytes else 0
        self._matchers: list[tuple[str, _Matcher]] | None = None

    def _lark(self) -> Any:
        """lark's own Scanner of these terminals: their union, compiled."""
        if self._union is None:
            self._union = self._union_of(self.terminals, self.g_regex_flags, self.re_, self.use_bytes)
        return self._union

    def _each(self) -> list[tuple[str, _Matcher]]:
        if self._matchers is None:
            matchers: list[tuple[str, _Matcher]] = []
            for t in self.terminals:
                literal = _literal_pattern(t)
                if literal is not None:
                    matchers.append((t.name, partial(_literal, literal)))
                else:
                    matchers.append((t.name, partial(_pattern, _compiled(t.pattern.to_regexp(), self.g_regex_flags))))
            self._matchers = matchers
        return self._matchers

    def match(self, text: _Text, pos: int) -> tuple[str, str] | None:
        """The text and terminal name of the first terminal that matches at ``pos``."""
        if self._left <= 0:
            return self._lark().match(text, pos)  # type: ignore[no-any-return]
        self._left -= 1
        source, end = text.text, text.end
        for name, matcher in self._each():
            value = matcher(source, pos, end)
            if value is not None:
                return value, name
        return None

    def fullmatch(self, text: str) -> str | None:
        """The name of the first terminal that matches all of ``text``."""
        if self._left <= 0:
            return self._lark().fullmatch(text)  # type: ignore[no-any-return]
        self._left -= 1
        for t in self.terminals:
            literal = _literal_pattern(t)
            if literal is not None:
                if text == literal:
                    return t.name  # type: ignore[no-any-return]
            elif _compiled(t.pattern.to_regexp(), self.g_regex_flags).fullmatch(text):
                return t.name  # type: ignore[no-any-return]
        return None


def deferring(union: Callable[..., Any]) -> Callable[..., Scanner]:
    """What ``compiler.lark_standalone`` calls ``Scanner``: ours, with lark's ``union`` for later."""
    return partial(Scanner, union)
