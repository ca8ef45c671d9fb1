"""Tier policy: what each tier of environment demands of what runs in it."""

from __future__ import annotations

import re

from compiler import ir
from compiler.checks.kept import ONE_SHOT, Lookup, Memo
from compiler.diagnostics import Severity, Sink
from compiler.resolve import Placement, Resolved

_SERVING_TIERS = frozenset({ir.Tier.DEVELOPMENT, ir.Tier.STAGING, ir.Tier.PREPROD, ir.Tier.PRODUCTION})
_SLA_TIERS = frozenset({ir.Tier.STAGING, ir.Tier.PREPROD, ir.Tier.PRODUCTION})


def _members(r: Resolved) -> dict[str, frozenset[str]]:
    """model -> environments where it is served as a member of an ensemble."""
    out: dict[str, set[str]] = {}
    for m in r.spec.models:
        for step in m.steps:
            out.setdefault(step.model.name, set()).update(e.name for e in r.served(m))
    return {name: frozenset(envs) for name, envs in out.items()}


def check_production(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Production runs at least two replicas, and every model served there has
    an SLA and resource limits (cpu and memory).

    Failing: ``environment prod { tier production replicas 1..4 }``. Passing: ``replicas 3..12``.
    """
    spec = r.spec
    members = _members(r)
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
    placed = memo.table("placements by model", r.served_placements)
    memo.each(_check_in_production, sink, spec.models, placed, memo.table("served as member", members))


def _check_in_production(
    sink: Sink,
    model: ir.Model,
    placements: Lookup[int, tuple[Placement, ...]],
    members: Lookup[str, frozenset[str]],
) -> None:
    """``model`` as each production environment runs it; ``members``: the environments
    where an ensemble serves each model as a member."""
    placed = {p.env.name: p for p in placements.get(id(model)) or ()}
    for ref in model.serve_in:
        p = placed.get(ref.name)
        if p is None or p.env.tier is not ir.Tier.PRODUCTION:
            continue
        prod = p.env
        member_only = ref.name in (members.get(model.name) or ())
        if p.sla is None and not member_only:
            sink.report(
                "SS502",
                f"'{model.name}' is served in production '{prod.name}' without an SLA",
                ref.span,
                hint=f"add: sla {model.name} in {prod.name} {{ latency p99 < 100ms  availability 99.9% over 30d }}",
            )
        res = p.resources
        if res is None or res.cpu is None or res.memory is None:
            sink.report(
                "SS503",
                f"'{model.name}' needs cpu and memory limits to run in production '{prod.name}'",
                (res.span if res else ref.span),
                hint="add: resources { cpu 2 memory 4Gi }",
            )


def check_tiers(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Each statement that names an environment names one of a fitting tier.

    Training runs in a training environment; models are served only in
    development, staging, preprod and production; SLAs and monitors apply from
    staging on; shadow traffic goes to preprod from production.
    """
    spec = r.spec
    envs = memo.table("environments", r.environments)
    memo.each(_check_served_in, sink, spec.models, envs)
    for t in spec.trainings:
        if t.environment and (tier := r.tier(t.environment.name)) not in (None, ir.Tier.TRAINING):
            sink.report("SS505", f"training runs in a training environment, not {tier.value}", t.environment.span)
    memo.each(_check_applies_in, sink, spec.slas, envs, "SLA")
    memo.each(_check_applies_in, sink, spec.monitors, envs, "monitor")
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
    stacks = [env for env in spec.environments if env.tier is ir.Tier.MONITORING]
    for extra in stacks[1:]:
        # The stack's namespace, labels and alerting are the first's (``Resolved.monitoring_env``).
        sink.report(
            "SS606",
            f"'{extra.name}' is a second monitoring environment: the monitoring stack is '{stacks[0].name}''s "
            "(the namespace analyses, autoscalers and network policies reach, the rules' labels, the "
            "alerting); this one renders only its namespace",
            extra.spans.get("tier", extra.span),
            hint="keep one monitoring environment",
        )


def _check_served_in(sink: Sink, model: ir.Model, envs: Lookup[str, ir.Environment]) -> None:
    for ref in model.serve_in:
        env = envs.get(ref.name)
        tier = env.tier if env else None
        if tier is not None and tier not in _SERVING_TIERS:
            sink.report("SS505", f"models are not served in {tier.value} environment '{ref.name}'", ref.span)
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


def _check_applies_in(sink: Sink, item: ir.Sla | ir.Monitor, envs: Lookup[str, ir.Environment], what: str) -> None:
    """An SLA's or a monitor's (``what``) environment."""
    env = envs.get(item.environment.name)
    tier = env.tier if env else None
    if tier is not None and tier not in _SLA_TIERS:
        sink.report(
            "SS505",
            f"an {what} applies to staging, preprod or production, not {tier.value}",
            item.environment.span,
        )


_LATEST = r"(:latest$|/latest(/|$))"


def _latest(ref: str) -> bool:
    """Whether ``ref`` names a mutable 'latest' (compiled only for a ref that holds the word: issue 16)."""
    return "latest" in ref and re.search(_LATEST, ref) is not None


def _image_untagged(image: str) -> bool:
    last = image.rsplit("/", 1)[-1]
    return ":" not in last and "@" not in last


def check_mutable_tags(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Nothing deployed to production refers to a mutable 'latest' version,
    artifact or image; training images carry a tag (a warning otherwise).

    Failing: ``artifact "s3://m/latest/model.onnx"``. Passing: ``artifact "s3://m/1.4.2/model.onnx"``.
    """
    spec = r.spec
    memo.each(_check_pinned, sink, spec.models, memo.table("environments", r.environments))
    for t in spec.trainings:
        if t.image and (_latest(t.image) or _image_untagged(t.image)):
            sink.report(
                "SS504",
                f"training image '{t.image}' has no pinned tag",
                t.spans.get("image", t.span),
                severity=Severity.WARNING,
                hint="pin a version tag or a digest (@sha256:...)",
            )


def _check_pinned(sink: Sink, model: ir.Model, envs: Lookup[str, ir.Environment]) -> None:
    in_prod = any(env.tier is ir.Tier.PRODUCTION for ref in model.serve_in if (env := envs.get(ref.name)) is not None)
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
