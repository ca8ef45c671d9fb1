"""The front half of the pipeline as one call: load, lower, check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compiler.checks import check
from compiler.diagnostics import Diagnostic, Severity, Sink
from compiler.ir import Spec
from compiler.load import Loaded, load
from compiler.parse import SourceFile


@dataclass(frozen=True, slots=True)
class Checked:
    spec: Spec
    sources: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def texts(self) -> dict[str, str]:
        return {s.path: s.text for s in self.sources}


def validate(inputs: Sequence[Path]) -> Checked:
    return check_loaded(load(inputs))


def check_loaded(loaded: Loaded) -> Checked:
    sink = Sink()
    check(loaded.spec, sink)
    found = sink.items
    if any(d.code < "SS100" for d in loaded.diagnostics):
        # A file that did not parse may hold the definitions other files use;
        # "unknown name" there would only echo the syntax error.
        found = [d for d in found if d.code not in _ECHOES_OF_MISSING_FILES]
    return Checked(loaded.spec, loaded.sources, tuple(sorted(set(found) | set(loaded.diagnostics), key=Diagnostic.sort_key)))


_ECHOES_OF_MISSING_FILES = frozenset({"SS101", "SS109", "SS402", "SS502", "SS603"})
