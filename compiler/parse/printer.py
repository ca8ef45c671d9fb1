"""The canonical layout of spec files.

The layout depends only on the content, never on how the input was laid out:
top-level blocks are separated by one blank line and always span several
lines; a nested block stays on one line (statements two spaces apart) when it
holds only simple statements, no comments, and fits in ``WIDTH`` columns.
Comments are kept: a comment after code stays at the end of that line, a
comment on its own line stays before what follows it. Single blank lines
between statements are kept, as they group statements.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from compiler.lark_standalone import Token, Tree
from compiler.parse.syntax import Comment, SourceFile

INDENT = "  "
WIDTH = 88

_NO_SPACE_BEFORE = {",", "]", ":", ".."}
# Blocks of short settings read well on one line; steps and test lists do not.
_INLINE_BLOCKS = frozenset(
    {"batching", "resources", "quota", "hyperparameters", "queue", "sequence", "override", "seq_strategy"}
)
_NO_SPACE_AFTER = {"[", ".."}


@dataclass
class _Printer:
    source: SourceFile
    lines: list[str] = field(default_factory=list)
    pending: list[Comment] = field(default_factory=list)
    used: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.code_lines = _code_lines(self.source)
        self.pending = sorted(self.source.comments, key=lambda c: (c.line, c.column))
        self.text_lines = self.source.text.split("\n")
        # Indexes so that comment lookups do not scan every comment per statement
        # (issue 17: 10,000 commented statements took 21 s, quadratic).
        self.cursor = 0  # every comment before it is used
        self.comment_lines = [c.line for c in self.pending]
        self.on_line: dict[int, list[Comment]] = {}
        for c in self.pending:
            self.on_line.setdefault(c.line, []).append(c)

    # comments --------------------------------------------------------------
    def own_line_before(self, line: int, indent: str) -> None:
        """Emit every unused comment that starts before ``line``."""
        while self.cursor < len(self.pending) and self.pending[self.cursor].line < line:
            c = self.pending[self.cursor]
            self.cursor += 1
            if id(c) in self.used:
                continue
            self.used.add(id(c))
            self.lines.append(indent + c.text)
            following = self.text_lines[c.line] if c.line < len(self.text_lines) else "x"
            if not following.strip():
                self.lines.append("")

    def trailing(self, line: int, end_column: int) -> str:
        """The comment after the last code on ``line``, if that code ends at ``end_column``."""
        if self.code_lines.get(line) != end_column:
            return ""
        for c in self.on_line.get(line, ()):
            if id(c) not in self.used and end_column <= c.column:
                self.used.add(id(c))
                return "  " + c.text
        return ""

    def comments_within(self, first: int, last: int) -> bool:
        lo = bisect.bisect_left(self.comment_lines, first, lo=self.cursor)
        hi = bisect.bisect_right(self.comment_lines, last, lo=lo)
        return any(id(c) not in self.used for c in self.pending[lo:hi])

    def blank_before(self, line: int, previous_end: int) -> bool:
        """Whether the source has a blank line between two statements, before the first
        comment between them (blank lines among comments are kept with the comments,
        so a second pass sees the same thing: fmt is idempotent)."""
        at = bisect.bisect_right(self.comment_lines, previous_end, lo=self.cursor)
        while at < len(self.pending) and id(self.pending[at]) in self.used:
            at += 1
        if at < len(self.pending) and self.pending[at].line < line:
            line = self.pending[at].line
        return any(
            not self.text_lines[i - 1].strip() for i in range(previous_end + 1, line) if i - 1 < len(self.text_lines)
        )

    # statements ------------------------------------------------------------
    def block(self, tree: Tree[Token], indent: str, top: bool) -> None:
        parts = _block_parts(tree)
        if parts is None:
            start, end = _line_range(tree)
            # Comments inside a statement broken over several lines move above it.
            self.own_line_before(end, indent)
            self.lines.append(indent + _join(tree) + self.trailing(end, _end_column(tree)))
            return
        header, body, close = parts
        start, end = _line_range(tree)
        inline = self.inline(tree, header, body, indent) if not top else None
        if inline is not None:
            self.own_line_before(_open_brace(tree).line or start, indent)  # comments before '{' move above
            self.lines.append(indent + inline + self.trailing(end, _end_column(tree)))
            return
        header_text = _join_tokens(header)
        open_brace = _open_brace(tree)
        open_line = open_brace.line or start
        self.own_line_before(open_line, indent)
        if not body and not self.comments_within(start, end):
            self.lines.append(indent + header_text + " {}" + self.trailing(end, _end_column(tree)))
            return
        self.lines.append(indent + header_text + " {" + self.trailing(open_line, open_brace.end_column or 0))
        previous = open_line
        for stmt in body:
            s_start, s_end = _line_range(stmt)
            if (
                self.blank_before(s_start, previous)
                and self.lines[-1].strip() != "{"
                and not self.lines[-1].endswith("{")
            ):
                self.lines.append("")
            self.own_line_before(s_start, indent + INDENT)
            self.block(stmt, indent + INDENT, top=False)
            previous = s_end
        self.own_line_before(close.line or end, indent + INDENT)
        self.lines.append(indent + "}" + self.trailing(close.line or end, close.end_column or 0))

    def inline(self, tree: Tree[Token], header: list[Token], body: list[Tree[Token]], indent: str) -> str | None:
        start, end = _line_range(tree)
        if (
            tree.data not in _INLINE_BLOCKS
            or any(_block_parts(s) is not None for s in body)
            # Comments between the header and '{' move above the block either way (fmt must be idempotent).
            or self.comments_within(_open_brace(tree).line or start, end)
        ):
            return None
        inner = "  ".join(_join(s) for s in body)
        text = f"{_join_tokens(header)} {{ {inner} }}" if body else f"{_join_tokens(header)} {{}}"
        return text if len(indent) + len(text) <= WIDTH else None


def _tokens(tree: Tree[Token] | Token) -> list[Token]:
    if isinstance(tree, Token):
        return [tree]
    out: list[Token] = []
    for child in tree.children:
        out.extend(_tokens(child))
    return out


def _end_column(tree: Tree[Token]) -> int:
    toks = _tokens(tree)
    return (toks[-1].end_column or 0) if toks else 0


def _open_brace(tree: Tree[Token]) -> Token:
    return next(t for t in _tokens(tree) if t.value == "{")


def _line_range(tree: Tree[Token]) -> tuple[int, int]:
    toks = _tokens(tree)
    return (toks[0].line or 1, toks[-1].end_line or toks[-1].line or 1) if toks else (1, 1)


def _block_parts(tree: Tree[Token]) -> tuple[list[Token], list[Tree[Token]], Token] | None:
    """(header tokens, statements, closing brace) when ``tree`` holds a ``{ }`` block."""
    children = list(tree.children)
    for i, child in enumerate(children):
        if isinstance(child, Tree) and child.data == "resource_block":
            children = children[:i] + list(child.children) + children[i + 1 :]
            break
    brace = next((i for i, c in enumerate(children) if isinstance(c, Token) and c.value == "{"), None)
    if brace is None:
        return None
    header: list[Token] = []
    for c in children[:brace]:
        header.extend(_tokens(c))
    body = [c for c in children[brace + 1 : -1] if isinstance(c, Tree)]
    close = children[-1]
    assert isinstance(close, Token)
    return header, body, close


def _join(tree: Tree[Token]) -> str:
    out: list[str] = []
    _emit(tree, out)
    return "".join(out).strip()


def _emit(node: Tree[Token] | Token, out: list[str]) -> None:
    if isinstance(node, Token):
        _append(out, str(node))
        return
    if node.data == "tensor_type":
        toks = _tokens(node)
        _append(out, str(toks[0]) + _join_tokens(toks[1:]).replace(" [", "["))
        return
    for child in node.children:
        _emit(child, out)


def _append(out: list[str], text: str) -> None:
    if out and text not in _NO_SPACE_BEFORE and out[-1] not in _NO_SPACE_AFTER:
        out.append(" ")
    out.append(text)


def _join_tokens(tokens: list[Token]) -> str:
    out: list[str] = []
    for t in tokens:
        _append(out, str(t))
    return "".join(out)


def _code_lines(source: SourceFile) -> dict[int, int]:
    """line -> end column of the last token on that line."""
    ends: dict[int, int] = {}
    if source.tree is None:
        return ends
    for tok in _tokens(source.tree):
        line = tok.end_line or tok.line or 0
        ends[line] = max(ends.get(line, 0), tok.end_column or 0)
    return ends


def format_source(source: SourceFile) -> str:
    """The canonical text of a parsed file (which must have parsed)."""
    assert source.tree is not None
    printer = _Printer(source)
    blocks = [b for b in source.tree.children if isinstance(b, Tree)]
    for i, block in enumerate(blocks):
        if i:
            printer.lines.append("")
        start, _ = _line_range(block)
        printer.own_line_before(start, "")
        printer.block(block, "", top=True)
    printer.own_line_before(10**9, "")
    # Comment runs separated by blank lines in the source keep one blank line.
    text = "\n".join(_squeeze(printer.lines)).strip("\n")
    return text + "\n" if text else ""


def _squeeze(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    return out
