"""What lowering every block shares: spans, literals with their units, statement bookkeeping.

A ``Lowering`` is one file's lowering context: the path spans name and the sink
statement-local problems go to. The block modules (``project``, ``environments``,
``models``, ``training``, ``slas``, ``gates``) are functions of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from compiler import ir, units
from compiler.diagnostics import Sink, Span, did_you_mean
from compiler.lark_standalone import Token, Tree

_VALUE_TERMINALS = frozenset({"NAME", "STRING", "NUMBER", "QUANTITY", "PERCENTILE", "OWNER", "CMP"})
T = TypeVar("T")
INT32_MAX = 2**31 - 1  # counts render as int32 (Kubernetes, Triton): issue 17
Node = Tree[Token] | Token


def args(tree: Tree[Token]) -> list[Node]:
    """A statement's arguments: its subtrees and value tokens, without keywords and punctuation."""
    return [c for c in tree.children if isinstance(c, Tree) or c.type in _VALUE_TERMINALS]


def keyword_of(stmt: Tree[Token]) -> str:
    """The keyword a statement starts with, as written (for messages)."""
    first = stmt.children[0] if stmt.children else None
    return str(first) if isinstance(first, Token) else str(stmt.data)


def string_value(text: str) -> object:
    """``json.loads`` of a STRING token's text (raising its ``ValueError`` as it does).

    A string without a backslash or a control character (almost every one) is the text
    between its quotes, as ``json.loads`` reads it, without importing json (~1 ms of a cold
    ``shipspec validate``; issue 16)."""
    if len(text) >= 2 and text[0] == text[-1] == '"' and "\\" not in text and min(text) >= " ":
        return text[1:-1]
    import json

    return json.loads(text)


class Lowering:
    """One file's lowering: typed literals and spans, with problems reported into ``sink``."""

    def __init__(self, path: str, sink: Sink) -> None:
        self.path = path
        self.sink = sink
        self.refused: set[int] = set()  # ids of out-of-range literals, already reported (lower/limits.py)

    def span(self, node: Node) -> Span:
        if isinstance(node, Token):
            line, col = node.line or 1, node.column or 1
            return Span(self.path, line, col, node.end_line or line, node.end_column or col + 1)
        meta = node.meta
        if getattr(meta, "empty", True):
            return Span.point(self.path)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def string(self, tok: Node) -> str:
        assert isinstance(tok, Token)
        try:
            value = string_value(str(tok))
        except ValueError:  # json.JSONDecodeError
            self.sink.report(
                "SS013",
                f"invalid escape in string {tok}",
                self.span(tok),
                hint='allowed escapes: \\" \\\\ \\n \\t \\uXXXX',
            )
            return str(tok)[1:-1]
        assert isinstance(value, str)
        if any("\ud800" <= c <= "\udfff" for c in value):  # issue 17: a lone \uD8xx cannot be written as UTF-8
            self.sink.report(
                "SS013",
                f"string {tok} contains a lone surrogate escape",
                self.span(tok),
                hint="write the character itself, or a complete surrogate pair",
            )
            return value.encode("utf-8", "replace").decode("utf-8")
        return value

    def unit(self, tok: Node, parse: Callable[[str], tuple[T | None, str | None]], code: str = "SS201") -> T | None:
        if id(tok) in self.refused:  # already reported; lower its stand-in silently
            return parse(str(tok))[0]
        value, error = parse(str(tok))
        if error is not None:
            if "outside 0%..100%" in error:
                code = "SS301"
            self.sink.report(code, error, self.span(tok))
        return value

    def integer(self, tok: Node, minimum: int = 0) -> int | None:
        value = self.unit(tok, units.integer, "SS203")
        if value is not None and value < minimum:
            self.sink.report("SS303", f"{value} is below the minimum of {minimum}", self.span(tok))
            return None
        if value is not None and value > INT32_MAX:
            self.sink.report("SS303", f"{value} is above the maximum of {INT32_MAX}", self.span(tok))
            return None
        return value

    def keyword(self, tok: Node, allowed: tuple[str, ...], what: str) -> str | None:
        word = str(tok)
        if word in allowed:
            return word
        self.sink.report(
            "SS104",
            f"unknown {what} '{word}'; expected one of: {', '.join(allowed)}",
            self.span(tok),
            hint=did_you_mean(word, allowed),
        )
        return None

    def ref(self, tok: Node) -> ir.Ref:
        return ir.Ref(str(tok), self.span(tok))

    def statements(self, block: Tree[Token], unique: frozenset[str]) -> Iterator[tuple[str, Tree[Token]]]:
        """Yield (keyword, statement); report repeats of single-valued ones."""
        seen: dict[str, Span] = {}
        for child in block.children:
            if not isinstance(child, Tree):
                continue
            kind = str(child.data)
            if kind in unique:
                if kind in seen:
                    first = seen[kind]
                    self.sink.report(
                        "SS106",
                        f"'{keyword_of(child)}' is given twice",
                        self.span(child),
                        hint=f"first given at line {first.line}",
                    )
                    continue
                seen[kind] = self.span(child)
            yield kind, child

    def require(self, present: dict[str, Any], needed: tuple[str, ...], what: str, name_tok: Node) -> None:
        for key in needed:
            if present.get(key) in (None, ()):
                self.sink.report(
                    "SS107",
                    f"{what} has no '{key.replace('_version', '')}' statement",
                    self.span(name_tok),
                )

    def percentile(self, tok: Node) -> float | None:
        value = float(str(tok)[1:])
        if not 0 < value < 100:
            self.sink.report("SS301", f"percentile {tok} must be between p0 and p100", self.span(tok))
            return None
        return value

    def upper_bound(self, tok: Node) -> str:
        op = str(tok)
        if op not in ("<", "<="):
            self.sink.report("SS205", f"a latency objective is an upper bound; use < or <=, not {op}", self.span(tok))
        return op

    def upper_bound_ratio(self, tok: Node) -> None:
        if str(tok) not in ("<", "<="):
            self.sink.report("SS205", "an error rate objective is an upper bound; use < or <=", self.span(tok))
