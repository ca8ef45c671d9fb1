"""The pipeline as calls: load, lower and check a spec; render and validate its outputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.checks import check
from compiler.diagnostics import Diagnostic, Severity, Sink
from compiler.ir import Spec
from compiler.parse.sources import Loaded, load
from compiler.parse.syntax import SourceFile
from compiler.resolve import Resolved, resolve

if TYPE_CHECKING:
    from compiler.backends.base import OutputFile
    from compiler.backends.render import Templates


@dataclass(frozen=True, slots=True)
class Checked:
    """A spec read, lowered, resolved and checked: what every later stage starts from."""

    resolved: Resolved
    sources: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def spec(self) -> Spec:
        return self.resolved.spec

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
    resolved = resolve(loaded.spec)
    check(resolved, sink)
    found = sink.items
    if any(d.code < "SS100" for d in loaded.diagnostics):
        # A file that did not parse may hold the definitions other files use;
        # "unknown name" there would only echo the syntax error.
        found = [d for d in found if d.code not in _ECHOES_OF_MISSING_FILES]
    return Checked(resolved, loaded.sources, tuple(sorted(set(found) | set(loaded.diagnostics), key=Diagnostic.sort_key)))


_ECHOES_OF_MISSING_FILES = frozenset({"SS101", "SS109", "SS402", "SS502", "SS603"})


@dataclass(frozen=True, slots=True)
class Build:
    checked: Checked
    files: tuple[OutputFile, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def render(checked: Checked, templates: Templates, only: Sequence[str] | None = None) -> tuple[list[OutputFile], Sink]:
    """Every backend's files, sorted by path, and their diagnostics in backend order.

    A backend with ``start`` may hand back pending work (forked workers) that
    finishes while the backends after it render; each backend reports into its
    own sink, so diagnostics come out in the same order either way."""
    # Rendering imports jinja2 and every backend: `shipspec validate` never pays for them.
    from compiler.backends import BACKENDS
    from compiler.backends.base import RenderContext
    from compiler.backends.kubernetes import kustomize

    sink = Sink()
    started: list[tuple[Any, Sink]] = []
    try:
        for backend in BACKENDS:
            if only is not None and backend.name not in only:
                continue
            ctx = RenderContext(checked.resolved, templates, Sink())
            start = getattr(backend, "start", None)
            started.append((start(ctx) if start is not None else backend.render(ctx), ctx.sink))
        files: list[OutputFile] = []
        for result, own in started:
            files.extend(result if isinstance(result, list) else result.finish())
            sink.extend(own.items)
    finally:
        for result, _ in started:
            if not isinstance(result, list):
                result.close()  # no-op once finished; stops workers after an error
    files.extend(kustomize.assemble(files))
    return sorted(files, key=lambda f: f.path), sink


def build(inputs: Sequence[Path], template_dir: Path | None = None, *, validate_output: bool = True) -> Build:
    """Check the spec; if it has no errors, render and validate every output."""
    from compiler import validate as output_validation
    from compiler.backends import file_validators
    from compiler.backends.render import Templates

    checked = validate(inputs)
    if checked.has_errors:
        return Build(checked, (), checked.diagnostics)
    files, sink = render(checked, Templates.load(template_dir))
    if validate_output and not sink.has_errors:
        output_validation.validate_files(files, checked.resolved.project.kubernetes_version, sink,
                                         file_validators())
    diags = tuple(sorted(set(checked.diagnostics) | set(sink.items), key=Diagnostic.sort_key))
    return Build(checked, tuple(files), diags)


# Emit: what writing a build under a root would change, and writing it. Appended
# by the cli/commands split; the command line and ``promote`` call these.

if TYPE_CHECKING:
    from compiler.emit import Plan


@dataclass(frozen=True, slots=True)
class Planned:
    """A build's plan for the tree under a root: ``checked`` carries the build's
    diagnostics and the plan's (hand-edited or foreign files in the way); ``plan``
    is None when the build has errors."""

    checked: Checked
    plan: Plan | None

    @property
    def has_errors(self) -> bool:
        return self.checked.has_errors


def outcome(built: Build) -> Checked:
    """The built spec and its sources with every diagnostic of the build (checks, rendering, validation)."""
    from dataclasses import replace

    return replace(built.checked, diagnostics=built.diagnostics)


def plan(built: Build, root: Path, *, force: bool = False) -> Planned:
    """What writing ``built`` under ``root`` would do; ``force`` overwrites or prunes hand-edited files."""
    from dataclasses import replace

    from compiler import emit as emitting

    sink = Sink(list(built.diagnostics))
    planned = None if built.has_errors else emitting.plan(built.files, root, sink, force=force)
    diagnostics = tuple(sorted(set(sink.items), key=Diagnostic.sort_key))
    return Planned(replace(built.checked, diagnostics=diagnostics), planned)


def emit(planned: Planned) -> bool:
    """Write the plan, atomically and only files shipspec owns; False (nothing written) when it has errors."""
    from compiler import emit as emitting

    if planned.plan is None or planned.has_errors:
        return False
    emitting.apply(planned.plan)
    return True


def stale(built: Build, root: Path) -> str:
    """The unified diff from the tree under ``root`` to ``built``; empty when the committed output is current."""
    return check_tree(built, root)[0]


def check_tree(built: Build, root: Path) -> tuple[str, list[Diagnostic]]:
    """``stale``'s diff, and the ledger entries and paths that were refused: never read, so
    reported instead of diffed (a diff would show what is outside the tree: issue 17)."""
    from compiler import emit as emitting

    sink = Sink()
    planned = emitting.plan(built.files, root, sink)
    return emitting.diff(planned), [d for d in sink.items if d.code in emitting.REFUSED_PATHS]
