"""The Triton backend: one ``config.pbtxt`` per model and serving environment.

``deploy/<env>/triton/<model>/config.pbtxt``; each file names the ConfigMap
(``layout.triton_config_map``) through which the Kubernetes Deployment mounts it.
Environments of the training, testing and monitoring tiers serve nothing.
"""

from __future__ import annotations

from compiler import ir

from compiler.targets import layout
from compiler.backends.base import OutputFile, RenderContext
from compiler.backends.triton.validate import KIND, validate_config
from compiler.backends.triton.view import config_view
from compiler.validate import FILE_VALIDATORS

TEMPLATE = "triton/config.pbtxt.j2"

FILE_VALIDATORS[KIND] = validate_config


def serving_environments(spec: ir.Spec, model: ir.Model) -> list[ir.Environment]:
    """The environments a model is served in, in the spec's (sorted) order."""
    wanted = {r.name for r in model.serve_in}
    return [env for env in spec.environments if env.name in wanted]


def _header(spec: ir.Spec, model: ir.Model, env: ir.Environment) -> str:
    # Comments are valid protobuf text: they tell a reader where the artifact goes.
    version = spec.version_in(model.name, env.name)
    directory = layout.triton_version_dir(version)
    return (
        f"# model {model.name} version {version or '(none)'} in {env.name}: "
        f"served from version directory {directory}\n"
    )


class _Backend:
    name = "triton"

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        files: list[OutputFile] = []
        for model in ctx.spec.models:
            for env in serving_environments(ctx.spec, model):
                text = ctx.templates.render(TEMPLATE, **config_view(ctx.spec, model, env))
                files.append(
                    OutputFile(
                        path=layout.triton_config_path(env.name, model.name),
                        text=_header(ctx.spec, model, env) + text,
                        source=model.span,
                        kind=KIND,
                        config_map=layout.triton_config_map(model.name),
                    )
                )
        return files


BACKEND = _Backend()
