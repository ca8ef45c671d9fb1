"""Source text to syntax tree: the only module that talks to lark's parser.

Syntax errors become diagnostics that name what was expected in words; a lark
exception never reaches the user.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from compiler.diagnostics import Diagnostic, Sink, Span, did_you_mean
from compiler.lark_standalone import (
    Lark,
    Token,
    Tree,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)
from compiler.limits import SPEC_BYTES, TooLarge, read_bounded
from compiler.records import Record, record

GRAMMAR = Path(__file__).parent / "grammar" / "spec.lark"
# The parser lark builds from GRAMMAR, built and pickled by scripts/gen_parser.py (a test
# rebuilds it and compares): loading it is a fraction of lark's import and table construction.
PARSER = GRAMMAR.with_name("spec.parser.pickle")
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


@record
class Comment(Record):
    text: str
    line: int
    column: int


@record
class SourceFile(Record):
    path: str
    text: str
    tree: Tree[Token] | None
    comments: tuple[Comment, ...]


@lru_cache(maxsize=1)
def parser() -> Lark:
    """lark's LALR parser of GRAMMAR with the contextual lexer, keep_all_tokens (the formatter
    needs the keywords and punctuation; the lowering pass skips them) and propagate_positions
    (scripts/gen_parser.py's OPTIONS)."""
    # Our own file, written by scripts/gen_parser.py from the grammar. pickle.loads is the C
    # unpickler's: importing it alone spares a cold validate pickle.py's ~1 ms (its Python
    # pickler, struct), issue 16.
    try:
        from _pickle import loads
    except ImportError:  # an interpreter without the C accelerator
        from pickle import loads

    loaded: Lark = loads(PARSER.read_bytes())
    return loaded


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


# Units written after a number; "50 ms" (with a space) is a habit from prose and YAML.
_UNITS = frozenset("ns us ms s m h d w Ki Mi Gi Ti K M G T rps".split())
_BLOCK_WORDS = frozenset({"project", "environment", "model", "sla", "gate", "dataset", "training", "monitor"})


def _lexemes(line: str) -> Iterator[tuple[int, str]]:
    """(index, character) of one line's characters outside strings (strings never span
    lines); a ``#`` there starts the comment and is the last one yielded."""
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
        else:
            yield i, ch
            if ch == "#":
                return


def code_chars(line: str) -> Iterator[tuple[int, str]]:
    """(index, character) of one line's characters outside strings and its ``#`` comment."""
    return ((i, ch) for i, ch in _lexemes(line) if ch != "#")


def unclosed(text: str, upto: int | None = None) -> list[tuple[str, int, int]]:
    """The brackets opened and not closed before ``upto`` (a 1-based line; None: the whole text),
    innermost last, as (bracket, line, column); strings and comments skipped."""
    stack: list[tuple[str, int, int]] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if upto is not None and lineno >= upto:
            break
        for i, ch in code_chars(line):
            if ch in "{[":
                stack.append((ch, lineno, i + 1))
            elif ch in "}]" and stack:
                stack.pop()
    return stack


def _word_at(text: str, line: int, column: int) -> str:
    row = text.split("\n")[line - 1] if 1 <= line <= text.count("\n") + 1 else ""
    rest = row[column - 1 :]
    return rest.split()[0] if rest.split() else ""


def _before(text: str, line: int, column: int) -> str:
    row = text.split("\n")[line - 1] if 1 <= line <= text.count("\n") + 1 else ""
    return row[: column - 1].rstrip()


def _after(text: str, line: int, end_column: int) -> str:
    row = text.split("\n")[line - 1] if 1 <= line <= text.count("\n") + 1 else ""
    return row[end_column - 1 :]


def _error(path: str, text: str, err: UnexpectedInput) -> Diagnostic:
    sink = Sink()
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END"):
        lines = text.split("\n")
        line = len(lines)
        col = len(lines[-1]) + 1
        expected = expected_words(err.expected)
        open_ = unclosed(text)
        if open_:
            bracket, o_line, o_col = open_[-1]
            closer = "}" if bracket == "{" else "]"
            sink.report(
                "SS012",
                f"unclosed '{bracket}' opened at {o_line}:{o_col}; the file ends before its '{closer}'",
                Span(path, o_line, o_col, o_line, o_col + 1),
                hint=f"add '{closer}' where the block opened at line {o_line} ends",
            )
        else:
            sink.report(
                "SS012",
                f"unexpected end of file; expected {expected}",
                Span(path, line, col, line, col + 1),
                hint="a statement is not finished",
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
        after = _after(text, span.line, span.end_column)
        unit_after = after[:1].isspace() and (after.split() or [""])[0] in _UNITS
        open_ = unclosed(text, span.line) if span.column == 1 else []
        if tok.type == "COLON" and "COLON" not in err.expected:
            hint = "spec files are not YAML: write the setting and its value without ':' (version \"1.0.0\")"
        elif tok.type == "NUMBER" and unit_after and "QUANTITY" in err.expected:
            unit = after.split()[0]
            hint = f"write the number and its unit together: {tok}{unit}"
        elif (
            tok.type == "NAME"
            and str(tok) in _UNITS
            and (before := _before(text, span.line, span.column))[-1:].isdigit()
        ):
            number = before.split()[-1]
            hint = f"write the number and its unit together: {number}{tok}"
        elif str(tok) in _BLOCK_WORDS and open_ and open_[-1][0] == "{":
            o_line, o_col = open_[-1][1:]
            hint = f"the '{{' opened at {o_line}:{o_col} is not closed: add '}}' before this {tok}"
        elif tok.type == "STRING" and "NAME" in err.expected:
            hint = "names are written without quotes"
        elif tok.type in ("NAME", "NUMBER", "QUANTITY") and "STRING" in err.expected:
            hint = f'put the value in double quotes: "{_word_at(text, span.line, span.column)}"'
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
        for i, ch in _lexemes(line):
            if ch == "#":
                found.append(Comment(line[i:].rstrip(), lineno, i + 1))
    return tuple(found)


# A file reports at most this many syntax errors; past it the rest are likely echoes.
MAX_SYNTAX_ERRORS = 20


def parse_text(text: str, path: str) -> tuple[SourceFile, list[Diagnostic]]:
    """Parse a file; on syntax errors, every one of them (up to MAX_SYNTAX_ERRORS) and no tree.

    Recovery: after an error lark's LALR parser skips the offending token (or character)
    and goes on (``on_error``). Errors on the same line as the previous one are echoes of
    it and are not reported; neither is a second error at the end of the file."""
    empty = SourceFile(path, text, None, ())
    if (too_deep := _depth_error(path, text)) is not None:
        return empty, [too_deep]
    found: list[Diagnostic] = []
    last_line = 0

    lines = text.split("\n")
    fresh = [False]

    def crossed_block(after: int, before: int) -> bool:
        """Whether a top-level block starts on a line strictly between two lines."""
        return any((lines[i].split() or [""])[0] in _BLOCK_WORDS for i in range(after, min(before - 1, len(lines))))

    def recover(err: UnexpectedInput) -> bool:
        # Panic mode: after an error, tokens are dropped until a top-level block keyword
        # at the start of a line, where the parser starts afresh; errors in between are
        # echoes of the first and are not reported.
        nonlocal last_line
        at_end = isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END")
        if at_end:
            if not found or unclosed(text):
                if not any(d.code == "SS012" for d in found):
                    found.append(_error(path, text, err))
            return False
        line = getattr(err, "line", 0) or 1
        derailed = bool(found) and not fresh[0] and not crossed_block(last_line, line)
        fresh[0] = False
        tok = err.token if isinstance(err, UnexpectedToken) else None
        at_block = tok is not None and tok.column == 1 and str(tok) in _BLOCK_WORDS
        if not derailed or (at_block and not found):
            found.append(_error(path, text, err))
        last_line = line
        if at_block and tok is not None and err.interactive_parser is not None:
            state = err.interactive_parser.parser_state
            state.state_stack[:] = [state.parse_conf.start_state]
            state.value_stack[:] = []
            try:
                err.interactive_parser.feed_token(tok)
                fresh[0] = True  # started afresh at this block: its errors are new
            except UnexpectedInput:
                pass
        return len(found) < MAX_SYNTAX_ERRORS

    try:
        tree = parser().parse(text, on_error=recover)
    except UnexpectedInput as err:
        at_end = isinstance(err, UnexpectedEOF) or getattr(getattr(err, "token", None), "type", "") == "$END"
        if not found or not at_end:
            if not any(d == (e := _error(path, text, err)) for d in found) and len(found) < MAX_SYNTAX_ERRORS:
                found.append(e)
        return empty, sorted(set(found), key=Diagnostic.sort_key)
    if found:
        return empty, sorted(set(found), key=Diagnostic.sort_key)
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
