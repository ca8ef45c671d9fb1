"""The back half of the pipeline: render every backend, validate, plan the emit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
    sink = Sink()
    ctx = RenderContext(checked.spec, templates, sink)
    files: list[OutputFile] = []
    for backend in BACKENDS:
        if only is None or backend.name in only:
            files.extend(backend.render(ctx))
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
