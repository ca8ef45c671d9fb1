"""The back half of the pipeline: render every backend, validate, plan the emit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.backends import BACKENDS, kustomize
from compiler.backends.base import OutputFile, RenderContext
from compiler.diagnostics import Diagnostic, Severity, Sink
from compiler.pipeline import Checked, validate
from compiler.render import Templates


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
    sink = Sink()
    started: list[tuple[Any, Sink]] = []
    try:
        for backend in BACKENDS:
            if only is not None and backend.name not in only:
                continue
            ctx = RenderContext(checked.spec, templates, Sink())
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

    checked = validate(inputs)
    if checked.has_errors:
        return Build(checked, (), checked.diagnostics)
    files, sink = render(checked, Templates.load(template_dir))
    if validate_output and not sink.has_errors:
        project = checked.spec.project
        output_validation.validate_files(files, project.kubernetes_version if project else "1.33", sink)
    diags = tuple(sorted(set(checked.diagnostics) | set(sink.items), key=Diagnostic.sort_key))
    return Build(checked, tuple(files), diags)
