"""What a run reports after allowances (compiler.allowances) is what the whole passes it
replaced reported, in the same order: ``ordered`` is the sorted set of its parts, ties,
duplicates and all, and ``apply`` the one it was before ``ordered`` and its shortcuts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hypothesis import given
from hypothesis import strategies as st

from compiler import allowances
from compiler.allowances import _RENDER_PHASES, Inline, _diag, _top_level_blocks, inline_allowances, ordered
from compiler.diagnostics import CODES, Diagnostic, Severity, Sink, Span, any_error
from compiler.parse.syntax import SourceFile

FILES = ["a.ship", "b.ship", "c.ship"]
# A few codes of each kind: warnings, a render-phase one, an error.
DIAGNOSTIC_CODES = ["SS640", "SS526", "SS740", "SS101"]

diagnostics = st.builds(
    lambda code, file, line, column, message, end, hint: Diagnostic(
        code, CODES[code][0], message, Span(file, line, column, line, column + end), hint
    ),
    st.sampled_from(DIAGNOSTIC_CODES),
    st.sampled_from(FILES),
    st.integers(1, 8),
    st.integers(1, 2),
    st.sampled_from(["m", "n"]),
    st.integers(1, 2),  # spans alike but for their end: the same sort key, another diagnostic
    st.sampled_from([None, "h"]),
)


@given(st.lists(st.lists(diagnostics, max_size=12), min_size=1, max_size=3))
def test_ordered_is_the_sorted_set_of_its_parts(parts: list[list[Diagnostic]]) -> None:
    union = set(parts[0])
    for part in parts[1:]:
        union = union | set(part)
    assert ordered(*parts) == tuple(sorted(union, key=Diagnostic.sort_key))


@given(st.lists(st.lists(diagnostics, max_size=12), min_size=1, max_size=3), st.lists(diagnostics, max_size=6))
def test_a_tuple_ordered_made_is_its_own_order_and_ordered_with_more_as_any_part(
    parts: list[list[Diagnostic]], more: list[Diagnostic]
) -> None:
    """``ordered`` does not key again a tuple it made in strict order (``_MADE``): alone, it is
    the answer itself; with more, the answer is as if it were any part."""
    made = ordered(*parts)
    keys = [d.sort_key() for part in parts for d in part]
    if made and len(set(keys)) == len(keys):  # in strict order: kept
        assert ordered(made) is made and ordered((), made, []) is made
    if len({d.sort_key() for d in made}) < len(made):  # equal keys may come out in another order: not kept
        assert ordered(made) is not made
    assert ordered(made, more) == ordered(list(made), more) == ordered(list(made), list(more))
    assert ordered(more, made) == ordered(list(more), list(made))


def _before(
    sources: Sequence[SourceFile],
    diagnostics: Iterable[Diagnostic],
    allow: frozenset[str] = frozenset(),
    *,
    rendered: bool,
) -> tuple[Diagnostic, ...]:
    """``allowances.apply`` as it was (72df7b3), for comparison."""
    items = list(diagnostics)
    by_file = {s.path: s for s in sources}
    inline: dict[str, list[Inline]] = {}
    extra: list[Diagnostic] = []
    for source in sources:
        found, problems = inline_allowances(source)
        inline[source.path] = found
        extra.extend(problems)
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
            hit = next(
                (a for a in inline.get(d.span.file, ()) if d.code in a.codes and a.first <= d.span.line <= a.last),
                None,
            )
            if hit is not None:
                used.add(id(hit))
                continue
            if any(
                first <= d.span.line <= last and any(first <= e <= last for e in errors_at[d.span.file])
                for first, last in blocks.get(d.span.file, ())
            ):
                continue
        kept.append(d)
    stopped_early = any(d.severity is Severity.ERROR for d in items)
    for found_here in inline.values():
        for a in found_here:
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
    return tuple(sorted(set(kept) | set(extra), key=Diagnostic.sort_key))


LINES = st.sampled_from(
    [
        "model m {",
        "}",
        "  cpu 1",
        "# shipspec: allow(SS640)",
        "# shipspec: allow(SS640, SS740) -- a reason",
        "  x 1  # shipspec: allow(SS526)",
        "# shipspec: allow(SS999)",
        "# shipspec: allow(SS101)",
        "# a comment",
        "",
    ]
)


@given(
    st.lists(st.lists(LINES, max_size=8), min_size=1, max_size=3),
    st.lists(diagnostics, max_size=20),
    st.sets(st.sampled_from(["SS640", "SS526"])),
    st.booleans(),
)
def test_apply_reports_what_it_did_before(
    texts: list[list[str]], found: list[Diagnostic], allow: set[str], rendered: bool
) -> None:
    sources = [SourceFile(path, "\n".join(lines), None, ()) for path, lines in zip(FILES, texts, strict=False)]
    expected = _before(sources, found, frozenset(allow), rendered=rendered)
    assert allowances.apply(sources, found, frozenset(allow), rendered=rendered) == expected


def test_without_inline_allowances_allowed_codes_and_follow_ons_of_errors_still_go() -> None:
    """Files with no inline allowance (most runs, which ``apply`` takes a shortcut for): an
    allowed code is dropped, and so is a warning in the block of an error, only where there is one."""
    text = "model m {\n  cpu 1\n}\n"
    sources = [SourceFile(path, text, None, ()) for path in ("a.ship", "b.ship")]

    def made(path: str, code: str) -> Diagnostic:
        return Diagnostic(code, CODES[code][0], "m", Span(path, 2, 1, 2, 2))

    warnings = [made("a.ship", "SS640"), made("a.ship", "SS526"), made("b.ship", "SS526")]
    error = made("b.ship", "SS101")
    for allow in (frozenset(), frozenset({"SS640"})):
        for found in (warnings, [*warnings, error]):
            got = allowances.apply(sources, found, allow, rendered=True)
            assert got == _before(sources, found, allow, rendered=True)
            codes = {(d.span.file, d.code) for d in got}
            assert (("a.ship", "SS640") in codes) is not bool(allow)
            assert (("b.ship", "SS526") in codes) is (error not in found)


@given(st.lists(diagnostics, max_size=12))
def test_any_error_is_whether_one_diagnostic_is_an_error(items: list[Diagnostic]) -> None:
    expected = any(d.severity is Severity.ERROR for d in items)
    assert any_error(items) is expected and any_error(iter(items)) is expected
    assert Sink(list(items)).has_errors is expected
