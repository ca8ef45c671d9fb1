"""The monitoring backend (not yet implemented: renders nothing)."""

from __future__ import annotations

from compiler.backends.base import OutputFile, RenderContext


class _Backend:
    name = "monitoring"

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        return []


BACKEND = _Backend()
