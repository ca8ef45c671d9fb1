"""Run the front half of the pipeline on in-memory text."""

from __future__ import annotations

from compiler.diagnostics import Diagnostic
from compiler.ir import Spec
from compiler.parse.sources import load_text
from compiler.pipeline import check_loaded


def diagnose(text: str) -> tuple[Spec, list[Diagnostic]]:
    checked = check_loaded(load_text(text, "t.ship"))
    return checked.spec, list(checked.diagnostics)


def codes(text: str) -> list[str]:
    return [d.code for d in diagnose(text)[1]]


def tuples(text: str) -> list[tuple[str, int, int]]:
    return [d.check_tuple() for d in diagnose(text)[1]]


def where(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of needle."""
    start = -1
    for _ in range(occurrence):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    return line, start - (text.rfind("\n", 0, start) + 1) + 1


def _without_spans(x: object) -> object:
    if isinstance(x, dict):
        return {k: _without_spans(v) for k, v in x.items() if k not in ("span", "files")}
    if isinstance(x, list):
        return [_without_spans(v) for v in x]
    return x


def meaning(spec: Spec) -> object:
    """A spec's IR export without spans or file names: equal for specs that say the same thing."""
    from compiler.commands.export import export

    return _without_spans(export(spec))
