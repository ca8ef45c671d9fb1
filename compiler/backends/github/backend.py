"""The GitHub backend: the workflows that run the lifecycle, and CODEOWNERS.

Renders into ``.github/``: ``shipspec.yml`` (every pull request), ``testing.yml``
(the testing tier), one ``promote-*.yml`` per gate, one ``retrain-*.yml`` per
model that a drift alert retrains, and ``CODEOWNERS``. See docs/workflows.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from operator import attrgetter
from typing import Any, NamedTuple

from compiler.backends.base import OutputFile, RenderContext, any_version
from compiler.backends.github import validate as limits
from compiler.backends.github import views
from compiler.backends.github.codeowners import codeowners_lines, owned_facts
from compiler.backends.github.validate import validate_actionlint_config, validate_workflow
from compiler.backends.memo import unit, unit_each
from compiler.backends.render import Raw, Templates
from compiler.diagnostics import Sink, Span
from compiler.ir import Gate, Spec
from compiler.targets import layout
from compiler.targets.kubernetes import k8s_name

WORKFLOW = "github-workflow"
_CODEOWNERS = "codeowners"  # a watching build's lines kept for the next step (``Units.state``)
_CODEOWNERS_FILE = "codeowners.file"  # and the file (``_Codeowners``)

ACTIONLINT = "actionlint-config"


class _Codeowners(NamedTuple):
    """A watching step's CODEOWNERS, with what it was made from and in."""

    templates: Templates
    lines: list[Raw]
    file: OutputFile
    spec: Spec
    cwd: str  # an absolute spec path's line is made relative to it


_GATE_OWNER = attrgetter("model.name", "source.name", "target.name")  # a gate's owner in its loop


class _Backend:
    name = "github"
    validators = {WORKFLOW: any_version(validate_workflow), ACTIONLINT: any_version(validate_actionlint_config)}

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        spec = ctx.spec
        if spec.project is None:
            return []
        base = views.base_context(ctx.resolved.project, ctx.resolved.spec_dir, ctx.ci_install)
        origin = spec.project.span
        files = [self._workflow(ctx, "shipspec.yml", "shipspec.yml.j2", origin, base)]
        testing = views.testing_view(ctx.resolved)
        if testing is not None:
            files += self._testing(ctx, base, testing, origin)
        # A unit per gate of the records its view is made from: a watching build takes an
        # unchanged gate's by their identities, where a view made again each build was pickled.
        r, ci_install = ctx.resolved, ctx.ci_install

        def make(g: Gate) -> tuple[Any, ...]:
            return views.gate_file(g).rsplit("/", 1)[1], g.span, ci_install, views.gate_inputs(r, g)

        owners = list(map(_GATE_OWNER, spec.gates))  # (in C: 3,000 gates at 1,000 models, every step)
        shared = (ci_install, r.project, r.spec_dir)
        files += unit_each(ctx, "github.promote", _render_promote, spec.gates, make=make, owners=owners, shared=shared)
        for retrain in views.retraining_views(ctx.resolved):
            training = next(t for t in spec.trainings if t.model.name == retrain.model)
            files.append(
                self._workflow(
                    ctx,
                    f"retrain-{k8s_name(retrain.model)}.yml",
                    "retrain.yml.j2",
                    training.span,
                    {**base, "r": retrain},
                )
            )
        labels = sorted({label for env in spec.environments for label in env.runner} - views.STANDARD_LABELS)
        if labels:
            # actionlint (and so the editor and CI linting the workflows) only knows GitHub's own
            # runner labels; this is its documented configuration of self-hosted ones.
            text = ctx.templates.render("github/actionlint.yaml.j2", labels=labels)
            files.append(OutputFile(layout.ACTIONLINT_CONFIG, text, origin,
                                    kind=ACTIONLINT))  # fmt: skip
        units = ctx.units
        if units is not None and units.by_identity:  # a watching build: last step's lines, where they are as they were
            last: _Codeowners | None = units.carried_state.get(_CODEOWNERS_FILE)
            cwd, changed = os.getcwd(), units.changed
            if last is not None and (last.templates is not ctx.templates or last.file.source != origin):
                last = None
            if (
                last is not None
                and changed is not None
                and last.spec is units.last_spec()
                and last.cwd == cwd
                and owned_facts(spec, changed) == owned_facts(last.spec, changed)
            ):
                # No line can differ (``owned_facts``): last step's file, without 17,000 lines made again.
                units.state[_CODEOWNERS] = units.carried_state.get(_CODEOWNERS, {})
                units.state[_CODEOWNERS_FILE] = last._replace(spec=spec)
                files.append(last.file)
                return files
            keep: dict[tuple[str, ...], tuple[Raw, ...]] = {}
            lines = codeowners_lines(ctx.resolved, units.carried_state.get(_CODEOWNERS), keep)
            units.state[_CODEOWNERS] = keep
            # Last step's lines (most the very objects: compared in C), from the same templates
            # (shipspec's own are loaded once a process): its file, not 17,000 lines laid out again.
            if last is not None and lines == last.lines:
                files.append(last.file)
                units.state[_CODEOWNERS_FILE] = last._replace(spec=spec, cwd=cwd)
                return files
        else:
            lines = codeowners_lines(ctx.resolved)
        if lines:
            text = ctx.templates.render("github/CODEOWNERS.j2", lines=lines)
            files.append(OutputFile(layout.CODEOWNERS, text, origin, kind="codeowners"))
            if units is not None and units.by_identity:
                units.state[_CODEOWNERS_FILE] = _Codeowners(ctx.templates, lines, files[-1], spec, os.getcwd())
        return files

    def _testing(
        self, ctx: RenderContext, base: Mapping[str, object], testing: views.TestingView, origin: Span
    ) -> list[OutputFile]:
        """The testing workflow, in as many files as GitHub's limits ask (``views.testing_parts``):
        no matrix of more than ``limits.MATRIX_JOBS`` datasets, no file over ``limits.WORKFLOW_BYTES``. One
        file for all but the largest specs."""
        least = max(1, -(-len(testing["datasets"]) // limits.MATRIX_JOBS))
        # At most a model a part (more would leave a part with no job): a file still too large
        # then is SS807's to report.
        most = max(least, len({j["model"] for j in [*testing["test_jobs"], *testing["benchmark_jobs"]]}))
        parts = least
        while True:
            made = [
                self._workflow(ctx, name, "testing.yml.j2", origin, {**base, **view})
                for name, view in views.testing_parts(ctx.resolved, testing, parts)
            ]
            largest = max(limits.written_size(f) for f in made)
            if largest <= limits.WORKFLOW_BYTES or parts >= most:
                return made
            parts = min(most, max(parts + 1, -(-parts * largest // (limits.WORKFLOW_BYTES * 9 // 10))))

    @staticmethod
    def _workflow(ctx: RenderContext, name: str, template: str, source: Span, view: Mapping[str, object]) -> OutputFile:
        """A workflow: a render unit of exactly the template's inputs (the view is plain data)."""
        (f,) = unit(ctx, "github.workflow", _render_workflow, name, template, source, dict(view))
        return f


def _render_promote(
    templates: Templates, sink: Sink, name: str, source: Span, ci_install: str | None, g: views.GateInputs
) -> list[OutputFile]:
    view = {**views.base_context(g.project, g.spec_dir, ci_install), "gate": views.gate_view(g)}
    return _render_workflow(templates, sink, name, "promote.yml.j2", source, view)


def _render_workflow(
    templates: Templates, _sink: Sink, name: str, template: str, source: Span, view: dict[str, object]
) -> list[OutputFile]:
    text = templates.render(f"github/{template}", **view)
    return [OutputFile(f"{layout.WORKFLOWS_DIR}/{name}", text, source, kind=WORKFLOW)]


BACKEND = _Backend()
