"""What a backend is: a named renderer from the IR to output files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from compiler.diagnostics import Sink, Span
from compiler.ir import Spec
from compiler.backends.render import Templates


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One rendered file, with where in the spec it came from.

    ``path`` is relative to the output root and uses '/'. ``text`` is the
    file's content without the generated-file header; ``emit`` adds it.
    ``documents`` are the parsed objects that validation checks (empty for
    files that are not YAML/JSON, such as config.pbtxt, which have their own
    validator keyed by ``kind``). Every file with documents under
    ``deploy/<dir>/`` becomes a resource of that directory's kustomization.
    """

    path: str
    text: str
    source: Span
    kind: str = "yaml"
    documents: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    # Files that reach pods through a kustomize configMapGenerator name it here.
    config_map: str | None = None


@dataclass(frozen=True, slots=True)
class RenderContext:
    spec: Spec
    templates: Templates
    sink: Sink


class Backend(Protocol):
    name: str

    def render(self, ctx: RenderContext) -> list[OutputFile]: ...


# kind -> validator(OutputFile, Sink); a backend registers validators for its
# own file kinds (e.g. "triton-config"); YAML documents go to compiler.validate.
FileValidator = Callable[[OutputFile, Sink], None]
