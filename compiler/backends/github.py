"""The github backend (not yet implemented: renders nothing)."""

from __future__ import annotations

from compiler.backends.base import OutputFile, RenderContext


class _Backend:
    name = "github"

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        return []


BACKEND = _Backend()
