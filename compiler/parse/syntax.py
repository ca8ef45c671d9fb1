"""Source text to syntax tree: the only module that talks to lark's parser.

Syntax errors become diagnostics that name what was expected in words; a lark
exception never reaches the user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from compiler.diagnostics import Diagnostic, Sink, Span, did_you_mean
from compiler.limits import SPEC_BYTES, TooLarge, read_bounded

GRAMMAR = Path(__file__).parent / "grammar" / "spec.lark"
MAX_BYTES = SPEC_BYTES
MAX_DEPTH = 64

# Words for terminals, used in "expected ..." messages.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted string like "text"',
    "NUMBER": "a number",
    "QUANTITY": "a value with a unit (like 50ms, 4Gi, 99.9% or 200rps)",
    "PERCENTILE": "a percentile like p99",
    "OWNER": "an owner like @org/team",
    "CMP": "a comparison (<, <=, >, >=, ==)",
    "$END": "end of file",
}
_PUNCT_WORDS = {
    "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'", "COMMA": "','",
    "COLON": "':'", "EQUAL": "'='", "__ANON_0": "'->'", "MORETHAN": "'>'",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    text: str
    tree: Tree[Token] | None
    comments: tuple[Comment, ...]


@lru_cache(maxsize=1)
def parser() -> Lark:
    # keep_all_tokens: the formatter needs the keywords and punctuation; the
    # lowering pass skips them. cache=True keeps start-up fast in hooks.
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        keep_all_tokens=True,
        maybe_placeholders=False,
        cache=True,
    )


def _word(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    if name in _PUNCT_WORDS:
        return _PUNCT_WORDS[name]
    term = next((t for t in parser().terminals if t.name == name), None)
    if term is not None and term.pattern.type == "str":
        return f"'{term.pattern.value}'"
    return name.lower()


def expected_words(names: Iterable[str]) -> str:
    words = sorted({_word(n) for n in names})
    if len(words) > 30:
        words = words[:30] + ["..."]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    return repr(str(tok))[1:-1] if tok.value else tok.type


def _error(path: str, text: str, err: UnexpectedInput) -> Diagnostic:
    sink = Sink()
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END"):
        lines = text.split("\n")
        line = len(lines)
        col = len(lines[-1]) + 1
        expected = expected_words(err.expected)
        sink.report(
            "SS012",
            f"unexpected end of file; expected {expected}",
            Span(path, line, col, line, col + 1),
            hint="a block opened with '{' is probably missing its '}'",
        )
    elif isinstance(err, UnexpectedToken):
        tok = err.token
        span = Span(
            path,
            tok.line or 1,
            tok.column or 1,
            tok.end_line or tok.line or 1,
            tok.end_column or (tok.column or 1) + 1,
        )
        expected = expected_words(err.expected)
        hint = None
        if tok.type == "STRING" and "NAME" in err.expected:
            hint = "names are written without quotes"
        elif tok.type in ("NAME", "NUMBER", "QUANTITY") and "STRING" in err.expected:
            hint = f'put the value in double quotes: "{tok}"'
        elif tok.type == "NAME":
            keywords = [_word(n).strip("'") for n in err.expected if n not in _TERMINAL_WORDS]
            hint = did_you_mean(str(tok), keywords)
        sink.report("SS010", f"unexpected '{_token_text(tok)}'; expected {expected}", span, hint)
    elif isinstance(err, UnexpectedCharacters):
        line, col = err.line, err.column
        pos = err.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        hint = None
        if char == '"':
            hint = "strings end on the same line; close the quote"
        elif char == "'":
            hint = "strings use double quotes"
        allowed = err.allowed or set()
        expected = f"; expected {expected_words(allowed)}" if allowed else ""
        sink.report("SS011", f"unexpected character {char!r}{expected}", Span(path, line, col, line, col + 1), hint)
    else:  # pragma: no cover - lark has no other UnexpectedInput subclasses
        sink.report("SS010", str(err), Span.point(path))
    return sink.items[0]


def _depth_error(path: str, text: str) -> Diagnostic | None:
    if text.count("{") + text.count("[") <= MAX_DEPTH:
        return None
    depth = 0
    line, col = 1, 0
    in_string = escaped = in_comment = False
    # Cheap pre-scan so a pathological input cannot exhaust the recursion of
    # the tree walkers that follow the parser. Escaped quotes and comments are
    # skipped as the lexer skips them (issue 17: SS014 on '\"').
    for ch in text:
        col += 1
        if ch == "\n":
            line, col, in_string, escaped, in_comment = line + 1, 0, False, False, False
        elif in_comment:
            continue
        elif escaped:
            escaped = False
        elif in_string and ch == "\\":
            escaped = True
        elif not in_string and ch == "#":
            in_comment = True
        elif ch == '"':
            in_string = not in_string
        elif not in_string and ch in "{[":
            depth += 1
            if depth > MAX_DEPTH:
                sink = Sink()
                sink.report("SS014", f"brackets nested more than {MAX_DEPTH} deep", Span.point(path, line, col))
                return sink.items[0]
        elif not in_string and ch in "}]":
            depth -= 1
    return None


def scan_comments(text: str) -> tuple[Comment, ...]:
    """Find ``#`` comments outside strings (strings never span lines)."""
    found = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if "#" not in line:
            continue
        in_string = escaped = False
        for i, ch in enumerate(line):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "#":
                found.append(Comment(line[i:].rstrip(), lineno, i + 1))
                break
    return tuple(found)


def parse_text(text: str, path: str) -> tuple[SourceFile, list[Diagnostic]]:
    empty = SourceFile(path, text, None, ())
    if (too_deep := _depth_error(path, text)) is not None:
        return empty, [too_deep]
    try:
        tree = parser().parse(text)
    except UnexpectedInput as err:
        return empty, [_error(path, text, err)]
    return SourceFile(path, text, tree, scan_comments(text)), []


def read_source(path: Path, display: str) -> tuple[str | None, list[Diagnostic]]:
    """Read a spec file as UTF-8, reporting unreadable, binary or huge files."""
    sink = Sink()
    try:
        data = read_bounded(path, MAX_BYTES)  # issue 17: /dev/zero or a sparse 2 GB file is not read whole
    except TooLarge:
        data = b""
        too_large = True
    except OSError as err:
        sink.report("SS001", f"cannot read file: {err.strerror or err}", Span.point(display))
        return None, sink.items
    else:
        too_large = False
    if too_large:
        sink.report(
            "SS003",
            f"file is larger than {MAX_BYTES} bytes; spec files are limited to {MAX_BYTES} bytes",
            Span.point(display),
            hint="split the spec into several files",
        )
        return None, sink.items
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        sink.report("SS002", f"invalid UTF-8 byte 0x{data[err.start]:02x}", Span.point(display, line, col))
        return None, sink.items
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        sink.report("SS002", "file contains a NUL byte; is it binary?", Span.point(display, line, col))
        return None, sink.items
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n"), []
