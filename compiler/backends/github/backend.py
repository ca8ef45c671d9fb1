"""The GitHub backend: the workflows that run the lifecycle, and CODEOWNERS.

Renders into ``.github/``: ``shipspec.yml`` (every pull request), ``testing.yml``
(the testing tier), one ``promote-*.yml`` per gate, one ``retrain-*.yml`` per
model that a drift alert retrains, and ``CODEOWNERS``. See docs/workflows.md.
"""

from __future__ import annotations

from typing import Any

from compiler.targets import layout
from compiler.backends.github import views
from compiler.backends.base import OutputFile, RenderContext
from compiler.backends.github.codeowners import codeowners_lines
from compiler.diagnostics import Span
from compiler.backends.render import k8s_name

WORKFLOW = "github-workflow"


class _Backend:
    name = "github"

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        spec = ctx.spec
        if spec.project is None:
            return []
        base = views.base_context(spec)
        origin = spec.project.span
        files = [self._workflow(ctx, "shipspec.yml", "shipspec.yml.j2", origin, base)]
        testing = views.testing_view(spec)
        if testing is not None:
            files.append(self._workflow(ctx, "testing.yml", "testing.yml.j2", origin, {**base, **testing}))
        for gate in spec.gates:
            path = views.gate_file(gate).rsplit("/", 1)[1]
            files.append(self._workflow(ctx, path, "promote.yml.j2", gate.span, {**base, "gate": views.gate_view(spec, gate)}))
        for r in views.retraining_views(spec):
            training = next(t for t in spec.trainings if t.model.name == r.model)
            files.append(
                self._workflow(ctx, f"retrain-{k8s_name(r.model)}.yml", "retrain.yml.j2", training.span, {**base, "r": r})
            )
        lines = codeowners_lines(spec)
        if lines:
            text = ctx.templates.render("github/CODEOWNERS.j2", lines=lines)
            files.append(OutputFile(layout.CODEOWNERS, text, origin, kind="codeowners"))
        return files

    @staticmethod
    def _workflow(ctx: RenderContext, name: str, template: str, source: Span, view: dict[str, Any]) -> OutputFile:
        text = ctx.templates.render(f"github/{template}", **view)
        return OutputFile(f"{layout.WORKFLOWS_DIR}/{name}", text, source, kind=WORKFLOW)


BACKEND = _Backend()

# compiler.validate finds this kind's validator (backends/github_validate.py) by name.
