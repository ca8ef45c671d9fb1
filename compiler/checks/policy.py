"""Tier policy: what each tier of environment demands of what runs in it."""

from __future__ import annotations

import re

from compiler import ir
from compiler.diagnostics import Severity, Sink
from compiler.resolve import Resolved

_SERVING_TIERS = frozenset({ir.Tier.DEVELOPMENT, ir.Tier.STAGING, ir.Tier.PREPROD, ir.Tier.PRODUCTION})
_SLA_TIERS = frozenset({ir.Tier.STAGING, ir.Tier.PREPROD, ir.Tier.PRODUCTION})


def _members(r: Resolved) -> dict[str, set[str]]:
    """model -> environments where it is served as a member of an ensemble."""
    out: dict[str, set[str]] = {}
    for m in r.spec.models:
        for step in m.steps:
            out.setdefault(step.model.name, set()).update(e.name for e in r.served(m))
    return out


def check_production(r: Resolved, sink: Sink) -> None:
    """Production runs at least two replicas, and every model served there has
    an SLA and resource limits (cpu and memory).

    Failing: ``environment prod { tier production replicas 1..4 }``. Passing: ``replicas 3..12``.
    """
    spec = r.spec
    members = _members(r)
    slas = {(s.model.name, s.environment.name) for s in spec.slas}
    for env in spec.environments:
        if env.tier is not ir.Tier.PRODUCTION:
            continue
        if env.replicas is None:
            if "replicas" not in env.spans:  # a written but invalid range is reported already
                sink.report(
                    "SS501",
                    f"production environment '{env.name}' declares no replicas",
                    env.span,
                    hint="add: replicas 2..N (at least two, so one can fail or drain)",
                )
        elif env.replicas.min < 2:
            sink.report("SS501", f"production runs at least 2 replicas, not {env.replicas.min}", env.replicas.span)
        for o in env.overrides:
            if o.replicas is not None and o.replicas.min < 2:
                sink.report("SS501", f"production runs at least 2 replicas, not {o.replicas.min}", o.replicas.span)
    for model in spec.models:
        for ref in model.serve_in:
            prod = r.environments.get(ref.name)
            if prod is None or prod.tier is not ir.Tier.PRODUCTION:
                continue
            member_only = ref.name in members.get(model.name, set())
            if (model.name, prod.name) not in slas and not member_only:
                sink.report(
                    "SS502",
                    f"'{model.name}' is served in production '{prod.name}' without an SLA",
                    ref.span,
                    hint=f"add: sla {model.name} in {prod.name} {{ latency p99 < 100ms  availability 99.9% over 30d }}",
                )
            res = r.place(model, prod).resources
            if res is None or res.cpu is None or res.memory is None:
                sink.report(
                    "SS503",
                    f"'{model.name}' needs cpu and memory limits to run in production '{prod.name}'",
                    (res.span if res else ref.span),
                    hint="add: resources { cpu 2 memory 4Gi }",
                )


def check_tiers(r: Resolved, sink: Sink) -> None:
    """Each statement that names an environment names one of a fitting tier.

    Training runs in a training environment; models are served only in
    development, staging, preprod and production; SLAs and monitors apply from
    staging on; shadow traffic goes to preprod from production.
    """
    spec = r.spec
    for model in spec.models:
        for ref in model.serve_in:
            tier = r.tier(ref.name)
            if tier is not None and tier not in _SERVING_TIERS:
                sink.report("SS505", f"models are not served in {tier.value} environment '{ref.name}'", ref.span)
            env = r.environments.get(ref.name)
            gpu = model.resources.gpu if model.resources else 0
            if (
                env is not None
                and gpu
                and tier in (ir.Tier.STAGING, ir.Tier.PREPROD, ir.Tier.PRODUCTION)
                and not (env.tolerations or env.node_selector)
            ):
                sink.report(
                    "SS506",
                    f"'{model.name}' asks for a GPU but '{env.name}' declares no GPU nodes",
                    ref.span,
                    hint='add to the environment: toleration "nvidia.com/gpu"',
                )
    for t in spec.trainings:
        if t.environment and (tier := r.tier(t.environment.name)) not in (None, ir.Tier.TRAINING):
            sink.report("SS505", f"training runs in a training environment, not {tier.value}", t.environment.span)
    for what, items in (("SLA", spec.slas), ("monitor", spec.monitors)):
        for item in items:
            tier = r.tier(item.environment.name)
            if tier is not None and tier not in _SLA_TIERS:
                sink.report(
                    "SS505",
                    f"an {what} applies to staging, preprod or production, not {tier.value}",
                    item.environment.span,
                )
    for env in spec.environments:
        if env.shadow is not None:
            if env.tier is not ir.Tier.PREPROD:
                sink.report("SS505", "only a preprod environment takes shadow traffic", env.shadow.span)
            src = r.tier(env.shadow.source.name)
            if src is not None and src is not ir.Tier.PRODUCTION:
                sink.report("SS505", f"shadow traffic comes from production, not {src.value}", env.shadow.source.span)
        if env.quota is not None and env.tier is not ir.Tier.DEVELOPMENT:
            sink.report("SS606", "a quota is rendered only for development environments", env.quota.span)
        if env.namespace is None and env.tier is not None:
            sink.report(
                "SS508", f"environment '{env.name}' has no namespace; '{env.name.replace('_', '-')}' is used", env.span
            )


_LATEST = r"(:latest$|/latest(/|$))"


def _latest(ref: str) -> bool:
    """Whether ``ref`` names a mutable 'latest' (compiled only for a ref that holds the word: issue 16)."""
    return "latest" in ref and re.search(_LATEST, ref) is not None


def _image_untagged(image: str) -> bool:
    last = image.rsplit("/", 1)[-1]
    return ":" not in last and "@" not in last


def check_mutable_tags(r: Resolved, sink: Sink) -> None:
    """Nothing deployed to production refers to a mutable 'latest' version,
    artifact or image; training images carry a tag (a warning otherwise).

    Failing: ``artifact "s3://m/latest/model.onnx"``. Passing: ``artifact "s3://m/1.4.2/model.onnx"``.
    """
    spec = r.spec
    for model in spec.models:
        in_prod = any(e.tier is ir.Tier.PRODUCTION for e in r.served(model))
        severity = Severity.ERROR if in_prod else Severity.WARNING
        if model.version == "latest":
            sink.report(
                "SS504", "'latest' is not a version; pin one", model.spans.get("version", model.span), severity=severity
            )
        if model.artifact and _latest(model.artifact):
            sink.report(
                "SS504",
                "the artifact refers to a mutable 'latest'; pin a version",
                model.spans.get("artifact", model.span),
                severity=severity,
            )
    for t in spec.trainings:
        if t.image and (_latest(t.image) or _image_untagged(t.image)):
            sink.report(
                "SS504",
                f"training image '{t.image}' has no pinned tag",
                t.spans.get("image", t.span),
                severity=Severity.WARNING,
                hint="pin a version tag or a digest (@sha256:...)",
            )
