"""Warning control: which warnings a run reports.

Three ways to allow (not report) a warning or note:

- ``--allow CODE`` on the command line, or ``allow = ["CODE"]`` in ``shipspec.toml``:
  the code is allowed everywhere;
- ``# shipspec: allow(CODE, ...)`` in a spec file, optionally followed by a reason
  (``# shipspec: allow(SS740) -- no histograms before Triton 2.52``): on a line of its
  own it concerns the next statement, at the end of a line that line; when that
  statement opens a block (``sla ... {``), the whole block.

An inline allowance that suppresses nothing is reported (SS020), so stale ones do
not pile up. Errors cannot be allowed.

Follow-on warnings: a warning inside a top-level block (a gate, a model, ...) that
already has an error is not reported; it is most often a consequence of the error
(SS640 on a gate whose endpoint is unknown) and comes back if it still holds once
the error is fixed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Sequence
from itertools import islice

from compiler.diagnostics import CODES, Diagnostic, Severity, Span
from compiler.parse.syntax import SourceFile, code_chars, scan_comments
from compiler.records import Record, record

_INLINE = r"#\s*shipspec:\s*allow\(([^)]*)\)"  # compiled for the first comment (issue 16)
# Codes raised while rendering or writing: a run that stops before rendering (validate)
# cannot tell whether an inline allowance of them is used.
_RENDER_PHASES = ("SS7", "SS8", "SS9")


@record
class Inline(Record):
    codes: frozenset[str]
    span: Span  # the comment
    first: int  # lines it concerns, inclusive
    last: int


def _opens_block_until(lines: list[str], index: int) -> int:
    """The 0-based index of the line closing the first block opened on ``lines[index]`` and
    not closed there, or ``index`` itself."""
    depth = 0
    opened = False
    for i in range(index, len(lines)):
        for _, ch in code_chars(lines[i]):
            if ch == "{":
                depth += 1
                opened = True
            elif ch == "}":
                depth -= 1
        if not opened or depth <= 0:
            return i
    return len(lines) - 1


def inline_allowances(source: SourceFile) -> tuple[list[Inline], list[Diagnostic]]:
    """The file's ``# shipspec: allow(...)`` comments, and diagnostics for malformed ones."""
    if "shipspec" not in source.text:  # most files: none, found without scanning for comments
        return [], []
    lines = source.text.split("\n")
    found: list[Inline] = []
    problems: list[Diagnostic] = []
    for comment in source.comments or scan_comments(source.text):
        m = re.match(_INLINE, comment.text)
        if m is None:
            continue
        span = Span(source.path, comment.line, comment.column, comment.line, comment.column + len(comment.text))
        codes: set[str] = set()
        for raw in m.group(1).split(","):
            code = raw.strip().upper()
            if code not in CODES:
                problems.append(
                    _diag(
                        "SS021",
                        f"'{raw.strip()}' is not a shipspec diagnostic code",
                        span,
                        "see the codes: shipspec explain --list",
                    )
                )
            elif CODES[code][0] is Severity.ERROR:
                problems.append(
                    _diag(
                        "SS021",
                        f"{code} is an error; only warnings and notes can be allowed",
                        span,
                        "fix what the error reports instead",
                    )
                )
            else:
                codes.add(code)
        if not codes:
            continue
        index = comment.line - 1
        if not lines[index][: comment.column - 1].strip():  # a comment on a line of its own: the next statement
            index += 1
            while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith("#")):
                index += 1
            if index >= len(lines):
                index = comment.line - 1
        found.append(Inline(frozenset(codes), span, index + 1, _opens_block_until(lines, index) + 1))
    return found, problems


def _diag(code: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, CODES[code][0], message, span, hint)


def _top_level_blocks(source: SourceFile) -> list[tuple[int, int]]:
    """(first, last) lines of each top-level block of the file."""
    lines = source.text.split("\n")
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if "{" in lines[i].split("#", 1)[0]:
            end = _opens_block_until(lines, i)
            blocks.append((i + 1, end + 1))
            i = end + 1
        else:
            i += 1
    return blocks


def apply(
    sources: Sequence[SourceFile],
    diagnostics: Iterable[Diagnostic],
    allow: frozenset[str] = frozenset(),
    *,
    rendered: bool,
) -> tuple[Diagnostic, ...]:
    """The diagnostics a run reports: allowed and follow-on warnings left out, unused
    inline allowances (SS020) and malformed ones (SS021) added. ``rendered`` says whether
    the run rendered (so render-phase allowances can be judged unused)."""
    items = diagnostics if type(diagnostics) is tuple else list(diagnostics)  # a tuple: maybe one ``ordered`` made
    by_file = {s.path: s for s in sources}
    inline: dict[str, list[Inline]] = {}
    extra: list[Diagnostic] = []
    for source in sources:
        found, problems = inline_allowances(source)
        inline[source.path] = found
        extra.extend(problems)
    if not extra and not any(inline.values()) and Severity.ERROR not in map(_SEVERITY, items):
        # Most runs: no error, no inline allowance anywhere, so nothing follows on or is allowed
        # inline, and no allowance is unused: the loop below would keep all but ``allow``'s codes
        # (3,000 diagnostics twice a watching step at 1,000 models).
        return ordered([d for d in items if d.code not in allow] if allow else items)
    errors_at: dict[str, list[int]] = {}
    for d in items:
        if d.severity is Severity.ERROR:
            errors_at.setdefault(d.span.file, []).append(d.span.line)
    blocks = {path: _top_level_blocks(s) for path, s in by_file.items() if path in errors_at}

    used: set[int] = set()
    kept: list[Diagnostic] = []
    for d in items:
        if d.severity is not Severity.ERROR:
            if d.code in allow:
                continue
            span = d.span
            here = inline.get(span.file)  # looked into only where there are some (a few files)
            if here:
                hit = next((a for a in here if d.code in a.codes and a.first <= span.line <= a.last), None)
                if hit is not None:
                    used.add(id(hit))
                    continue
            around = blocks.get(span.file)
            if around and any(
                first <= span.line <= last and any(first <= e <= last for e in errors_at[span.file])
                for first, last in around
            ):
                continue  # a follow-on of an error in the same block
        kept.append(d)
    stopped_early = bool(errors_at)
    for allowances in inline.values():
        for a in allowances:
            if id(a) in used:
                continue
            judged = [c for c in sorted(a.codes) if rendered or not c.startswith(_RENDER_PHASES)]
            if stopped_early or not judged or len(judged) < len(a.codes) and not rendered:
                continue
            extra.append(
                _diag(
                    "SS020",
                    f"allow({', '.join(sorted(a.codes))}) suppresses nothing here",
                    a.span,
                    "remove the comment, or move it onto the line or block the warning points at",
                )
            )
    return ordered(kept, extra)


_SEVERITY = operator.attrgetter("severity")


def ordered(*parts: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
    """``tuple(sorted(set(a) | set(b) ..., key=Diagnostic.sort_key))`` of the ``parts`` (the
    order every report takes), without hashing each diagnostic when no two have the same key:
    then none is there twice, and the keys alone make the order. Hashing one is hashing its
    fields and its span's, in Python: a step at 1,000 models sorted 3,000 that way four times.

    A part that is a tuple this made lately in strict order (``_MADE``) is not keyed again,
    and alone (or beside empty parts) is the answer: a watching step orders its checks' 2,000
    diagnostics, then the same with the render's, each again as it applies allowances and plans."""
    given = [p for p in parts if p]
    if len(given) == 1:
        made = _MADE.get(id(given[0]))
        if made is not None and made[0] is given[0]:
            return made[0]
    items: list[Diagnostic] = []
    keys: list[_Key] = []
    for part in given:
        made = _MADE.get(id(part))
        items += part
        keys += made[1] if made is not None and made[0] is part else map(Diagnostic.sort_key, part)
    if all(map(operator.lt, keys, islice(keys, 1, None))):
        return _made(tuple(items), keys)  # most calls: a report already in order, and a few more or none
    order = sorted(range(len(items)), key=keys.__getitem__)
    if all(map(operator.lt, map(keys.__getitem__, order), map(keys.__getitem__, islice(order, 1, None)))):
        return _made(tuple(map(items.__getitem__, order)), list(map(keys.__getitem__, order)))
    # Equal keys: in the order of the very set this made before (the order of a set's members
    # can depend on how it was made). Not kept in ``_MADE``: ordered again, such a tuple's
    # equal keys might come out in another order.
    union = set(parts[0]) if parts else set()
    for part in parts[1:]:
        union = union | set(part)
    return tuple(sorted(union, key=Diagnostic.sort_key))


_Key = tuple[str, int, int, str, str]
# The last tuples ``ordered`` made in strict order, with their keys, by id (each held with its
# entry, so no other object takes its id meanwhile).
_MADE: dict[int, tuple[tuple[Diagnostic, ...], list[_Key]]] = {}
_MADE_AT_MOST = 6


def _made(out: tuple[Diagnostic, ...], keys: list[_Key]) -> tuple[Diagnostic, ...]:
    if out:
        _MADE[id(out)] = (out, keys)
        if len(_MADE) > _MADE_AT_MOST:
            del _MADE[next(iter(_MADE))]
    return out
