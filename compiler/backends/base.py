"""What a backend is: a named renderer from the IR to output files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NotRequired, Protocol, TypedDict

from compiler.backends.memo import Units
from compiler.backends.render import Templates
from compiler.diagnostics import Sink
from compiler.ir import Spec
from compiler.output import FileValidator, OutputFile
from compiler.resolve import Resolved

# OutputFile and FileValidator live in compiler.output (below validate and emit,
# which import no backend); re-exported here for the backends.
__all__ = ["Backend", "FileValidator", "OutputFile", "RenderContext", "any_version"]


class ObjectMeta(TypedDict):
    """The ``metadata`` every rendered Kubernetes object's template receives."""

    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    finalizers: NotRequired[list[str]]


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a backend renders from: the resolved spec, the templates, and where to report."""

    resolved: Resolved
    templates: Templates
    sink: Sink
    # What CI `pip install`s to get shipspec (`[ci] install` in shipspec.toml); None: this release's tag.
    ci_install: str | None = None
    # The render-unit memo (compiler.backends.memo); None renders every unit.
    units: Units | None = None

    @property
    def spec(self) -> Spec:
        return self.resolved.spec


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
    and ``close()``, and ``files``: its files where they are at hand before ``finish``
    (None where they are not; see ``compiler.pipeline.render``)."""

    @property
    def name(self) -> str: ...

    @property
    def validators(self) -> Mapping[str, FileValidator]: ...

    def render(self, ctx: RenderContext) -> list[OutputFile]: ...
