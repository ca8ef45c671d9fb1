"""The Triton backend: one ``config.pbtxt`` per model and serving environment.

``deploy/<env>/triton/<model>/config.pbtxt``; each file names the ConfigMap
(``layout.triton_config_map``) through which the Kubernetes Deployment mounts it.
Environments of the training, testing and monitoring tiers serve nothing.
"""

from __future__ import annotations

from compiler import ir
from compiler.resolve import Placement

from compiler.targets import layout
from compiler.backends.base import OutputFile, RenderContext, any_version
from compiler.backends.triton.validate import KIND, validate_config
from compiler.backends.triton.view import config_view

TEMPLATE = "triton/config.pbtxt.j2"


def serving_environments(spec: ir.Spec, model: ir.Model) -> list[ir.Environment]:
    """The environments a model is served in, in the spec's (sorted) order."""
    wanted = {r.name for r in model.serve_in}
    return [env for env in spec.environments if env.name in wanted]


def _header(placed: Placement) -> str:
    # Comments are valid protobuf text: they tell a reader where the artifact goes.
    model, env, version = placed.model, placed.env, placed.version
    directory = layout.triton_version_dir(version)
    return (
        f"# model {model.name} version {version or '(none)'} in {env.name}: "
        f"served from version directory {directory}\n"
    )


class _Backend:
    name = "triton"
    validators = {KIND: any_version(validate_config)}

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        files: list[OutputFile] = []
        for model in ctx.spec.models:
            # Members served only inside an ensemble still need their config where its pod loads them.
            for env in ctx.resolved.loaded_in(model):
                placed = ctx.resolved.place(model, env)
                text = ctx.templates.render(TEMPLATE, **config_view(ctx.resolved, placed))
                files.append(
                    OutputFile(
                        path=layout.triton_config_path(env.name, model.name),
                        text=_header(placed) + text,
                        source=model.span,
                        kind=KIND,
                        config_map=layout.triton_config_map(model.name),
                    )
                )
        return files


BACKEND = _Backend()
