"""What a backend is: a named renderer from the IR to output files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from compiler.diagnostics import Sink, Span
from compiler.ir import Spec
from compiler.resolve import Resolved
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
    """What a backend renders from: the resolved spec, the templates, and where to report."""

    resolved: Resolved
    templates: Templates
    sink: Sink

    @property
    def spec(self) -> Spec:
        return self.resolved.spec


# A validator of one file kind: the file, where to report, and the Kubernetes
# version manifests are validated against (for kinds that embed core objects).
# YAML documents of every kind are also checked against their schemas by
# compiler.validate.
FileValidator = Callable[[OutputFile, Sink, str], None]


def any_version(check: Callable[[OutputFile, Sink], None]) -> FileValidator:
    """A validator that does not depend on the Kubernetes version."""

    def run(f: OutputFile, sink: Sink, _k8s_version: str) -> None:
        check(f, sink)

    return run


class Backend(Protocol):
    """A named renderer from the resolved spec to output files.

    ``validators`` declares a validator for each file kind the backend renders
    beyond plain YAML. A backend that can render in forked workers also has
    ``start(ctx)``, returning its files or a pending result with ``finish()``
    and ``close()`` (see ``compiler.pipeline.render``)."""

    @property
    def name(self) -> str: ...

    @property
    def validators(self) -> Mapping[str, FileValidator]: ...

    def render(self, ctx: RenderContext) -> list[OutputFile]: ...
