"""Turn a view model into an OutputFile: render its template, parse the text
back (that parsed object is what validation and the policy checks see), and
turn a broken override template into a diagnostic instead of a traceback."""

from __future__ import annotations

from typing import Any, Protocol

import jinja2
import yaml

from compiler.backends.base import OutputFile
from compiler.backends.render import Raw, Templates
from compiler.diagnostics import Sink, Span
from compiler.serialize import load_all


class Renders(Protocol):
    """What rendering an object needs: the templates and where to report (a
    ``RenderContext``, or a render unit's own scope)."""

    @property
    def templates(self) -> Templates: ...

    @property
    def sink(self) -> Sink: ...


def fragment(ctx: Renders, template: str, source: Span, **context: Any) -> Any:
    """A nested template (a pod template) as a callable ``pod(indent)`` that
    places the rendered text at the caller's indentation."""
    text = _render(ctx, template, source, context)
    if text is None:
        return None

    def at(width: int) -> Raw:
        pad = " " * width
        return Raw(("\n" + pad).join(text.rstrip("\n").split("\n")))

    return at


def _render(ctx: Renders, template: str, source: Span, context: dict[str, Any]) -> str | None:
    try:
        return ctx.templates.render(template, **context)
    except (jinja2.TemplateError, TypeError) as exc:
        ctx.sink.report(
            "SS820",
            f"template {template} failed: {exc}",
            source,
            hint="fix the template (or the --templates override that replaces it)",
        )
        return None


def object_file(
    ctx: Renders, path: str, template: str, source: Span, kind: str = "yaml", **context: Any
) -> OutputFile | None:
    """Render one Kubernetes object file; None (with a diagnostic) when it cannot be."""
    if any(v is None for v in context.values()):
        return None  # a fragment failed and was already reported
    text = _render(ctx, template, source, context)
    if text is None:
        return None
    try:
        docs = [d for d in load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        ctx.sink.report("SS805", f"{path}: template {template} rendered invalid YAML: {exc}", source)
        return None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        ctx.sink.report("SS805", f"{path}: template {template} must render exactly one object", source)
        return None
    return OutputFile(path, text, source, kind=kind, documents=(docs[0],))
