"""The Triton backend: one ``config.pbtxt`` per model and serving environment.

``deploy/<env>/triton/<model>/config.pbtxt``; each file names the ConfigMap
(``layout.triton_config_map``) through which the Kubernetes Deployment mounts it.
Environments of the training, testing and monitoring tiers serve nothing.
"""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.backends.base import OutputFile, RenderContext, any_version
from compiler.backends.memo import unit_each
from compiler.backends.render import Templates
from compiler.backends.triton.validate import (
    KIND,
    merge_fields,
    parse_config,
    parse_fields,
    parse_kept,
    validate_config,
)
from compiler.backends.triton.view import ConfigView, config_view
from compiler.diagnostics import Sink, Span
from compiler.resolve import Placement
from compiler.targets import layout
from compiler.targets.triton_rules import OWNED_FIELDS

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
        f"# model {model.name} version {version or '(none)'} in {env.name}: served from version directory {directory}\n"
    )


def _with_verbatim(text: str, name: str, texts: tuple[str, ...], spans: tuple[Span, ...], sink: Sink) -> str:
    """The rendered config with the model's ``triton`` fields in place of the ones rendered for them.

    Each ``triton`` text must be ModelConfig protobuf text that sets no field the model's own
    statements set (SS614, at the statement); one that is not is left out.
    """
    try:
        from google.protobuf import text_format

        config = parse_config(text)
    except ImportError:
        return text  # the validator reports the missing protobuf (SS811)
    for extra, span in zip(texts, spans, strict=True):
        try:
            fields = {desc.name for desc, _ in parse_fields(extra).ListFields()}
        except text_format.ParseError as err:
            sink.report("SS614", f"model '{name}': 'triton' text is not ModelConfig protobuf text: {err}", span)
            continue
        if owned := sorted(fields & OWNED_FIELDS):
            sink.report(
                "SS614",
                f"model '{name}': 'triton' text sets {', '.join(owned)}, which the model's own statements set",
                span,
                hint="use the format, runtime, batching, input and output statements",
            )
            continue
        merge_fields(config, [extra])
    return str(text_format.MessageToString(config))


def _check_release(text: str, whole: str, name: str, span: Span, version: str, sink: Sink) -> None:
    """SS702 where the config (``text``; ``whole``: the file, with its header) sets a field
    the target release's ModelConfig does not have. A config that names nothing the two
    ModelConfigs differ in (``protos.names_apart``) holds in the release exactly when it
    parses as ``tritonclient``'s, which is the parse validation takes (kept for it)."""
    try:
        from google.protobuf import text_format

        from compiler.backends.triton.protos import names_apart, parse_for_release, release_for
    except ImportError:
        return  # the validator reports the missing protobuf (SS811)
    apart = names_apart(release_for(version))
    if apart is not None:
        folded = text.lower()
        if not any(n in folded for n in apart) and parse_kept(whole) is not None:
            return
    try:
        parse_for_release(text, version)
    except text_format.ParseError as err:
        release = release_for(version)
        sink.report(
            "SS702",
            f"model '{name}': Triton {version}'s model config cannot hold it "
            f"(checked against release {release}'s ModelConfig): {err}",
            span,
            hint="pin a newer 'triton' release in the project, or remove the field",
        )


class _Backend:
    name = "triton"
    validators = {KIND: any_version(validate_config)}

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        version = ctx.resolved.project.triton_version
        r = ctx.resolved
        loaded = [(model, env) for model in ctx.spec.models for env in r.loaded_in(model)]

        # Placed only where a block is not handed back (a watching step places one model's).
        def make(item: tuple[ir.Model, ir.Environment]) -> tuple[Placement, str]:
            return r.place(*item), version

        owners = [(model.name, env.name) for model, env in loaded]
        return unit_each(
            ctx, "triton.config", _config, loaded, view=_unit_inputs, make=make, owners=owners, shared=(version,)
        )


def _unit_inputs(placed: Placement, triton_version: str) -> tuple[Any, ...]:
    """All a model's Triton config in one environment is made of (``_config``'s inputs):
    the template's view, the header, where it goes and what it is reported at, the
    model's ``triton`` texts. Its resources and replicas are not: an edit of those keys
    the unit as before (no config rendered, no protobuf imported)."""
    model, env = placed.model, placed.env
    fields = model.triton_fields
    spans = tuple(model.spans.get(f"triton_fields.{i}", model.span) for i in range(len(fields)))
    return (
        config_view(triton_version, placed),
        _header(placed),
        layout.triton_config_path(env.name, model.name),
        layout.triton_config_map(model.name),
        model.name,
        model.span,
        fields,
        spans,
        triton_version,
    )


def _config(
    templates: Templates,
    sink: Sink,
    view: ConfigView,
    header: str,
    path: str,
    config_map: str,
    name: str,
    source: Span,
    fields: tuple[str, ...],
    spans: tuple[Span, ...],
    triton_version: str,
) -> list[OutputFile]:
    """The render unit of one model in one environment (compiler.backends.memo)."""
    text = templates.render(TEMPLATE, **view)
    if fields:
        text = _with_verbatim(text, name, fields, spans, sink)
    # A release that cannot hold the config is reported at the first ``triton`` text, else the model.
    whole = header + text
    _check_release(text, whole, name, spans[0] if spans else source, triton_version, sink)
    return [OutputFile(path=path, text=whole, source=source, kind=KIND, config_map=config_map)]


BACKEND = _Backend()
