"""Kubernetes policy on the spec: what it must satisfy to render valid, safe objects.

``check_kubernetes`` runs with the other checks (``shipspec validate``): values
that become Kubernetes names, labels, namespaces and env var names must be
valid there; secret references must name a store; artifacts must be fetchable;
and a Triton version must have a known container image. What the rendered
objects must carry is verified by ``compiler.backends.kubernetes.policy``.
"""

from __future__ import annotations

from collections.abc import Iterable

from compiler import ir
from compiler.diagnostics import Sink
from compiler.resolve import Resolved, namespace
from compiler.targets import kubernetes as kc
from compiler.targets import triton as triton_target

_FETCHABLE = ("s3", "gs", "https", "http")


def check_kubernetes(r: Resolved, sink: Sink) -> None:
    """Spec values that end up in Kubernetes objects are valid there.

    Failing: ``namespace "ML Prod"``, two environments in one namespace of one cluster,
    ``node_selector "gpu type" = "a b"``,
    ``env DB = secret "My Vault:db"``, ``artifact "ftp://host/m.onnx"``. Passing: ``namespace "ml-prod"``,
    ``env DB = secret "vault:ml/db#password"``, ``artifact "s3://bucket/m.onnx"``.
    """
    spec = r.spec
    for env in spec.environments:
        span = env.spans.get("namespace", env.span)
        if env.namespace is not None and not kc.is_dns_label(env.namespace):
            sink.report(
                "SS224",
                f"namespace {env.namespace!r} is not a valid Kubernetes namespace",
                span,
                hint="use lower-case letters, digits and '-', at most 63 characters",
            )
        if env.gateway is not None:
            ns, slash, gw = env.gateway.partition("/")
            if not kc.is_dns_label(ns) or (slash and not kc.is_dns_label(gw)):
                sink.report(
                    "SS224",
                    f"gateway {env.gateway!r} must be the gateway's namespace name, "
                    "optionally with its Istio Gateway's name (NAMESPACE/NAME)",
                    env.spans.get("gateway", env.span),
                )
        for key, value in env.node_selector:
            if not kc.is_label_key(key) or not kc.is_label_value(value):
                sink.report(
                    "SS221",
                    f"node_selector {key!r} = {value!r} is not a valid Kubernetes label",
                    env.spans.get("node_selector", env.span),
                )
        for key, value in env.prometheus_labels:
            if not kc.is_label_key(key) or not kc.is_label_value(value):
                sink.report(
                    "SS221",
                    f"prometheus_label {key!r} = {value!r} is not a valid Kubernetes label",
                    env.spans.get("prometheus_label", env.span),
                )
        for key in env.tolerations:
            if not kc.is_label_key(key):
                sink.report(
                    "SS221", f"toleration {key!r} is not a valid taint key", env.spans.get("toleration", env.span)
                )
    _check_shared_namespaces(spec, sink)
    for model in spec.models:
        _check_env(model.env, sink)
        # Every artifact, not only of served models: an ensemble's pod fetches its members' too.
        if model.format not in (None, ir.ModelFormat.ENSEMBLE) and model.artifact:
            scheme = model.artifact.split("://", 1)[0] if "://" in model.artifact else ""
            if scheme not in _FETCHABLE:
                sink.report(
                    "SS226",
                    f"artifact {model.artifact!r} cannot be fetched into the model repository",
                    model.spans.get("artifact", model.span),
                    hint="use an s3://, gs:// or https:// URI",
                )
    for t in spec.trainings:
        _check_env(t.env, sink)
        ds = r.datasets.get(t.dataset.name) if t.dataset else None
        if ds is not None and ds.uri and ds.uri.split("://", 1)[0] not in _FETCHABLE:
            # The training pod copies the dataset in an init container; a file:// path is a
            # CI runner's (workflows fetch it there), so the trainer would have to read it itself.
            sink.report(
                "SS227",
                f"dataset {ds.name} ({ds.uri!r}) is not fetched into the training pod: "
                "its sha256 is not verified there",
                t.spans.get("train_dataset", t.span),
                hint="give the dataset an s3://, gs:// or https:// URI",
            )
    project = spec.project
    if project is not None and triton_target.triton_release(project.triton_version) is None:
        sink.report(
            "SS732",
            f"no Triton container image is known for server version {project.triton_version!r}",
            project.spans.get("triton_version", project.span),
            hint=f"pin a 2.MINOR.PATCH version with MINOR from {triton_target.TRITON_MINOR_MIN} "
            f"to {triton_target.TRITON_MINOR_MAX}",
        )
    _check_shadow(spec, sink)
    _check_monitored_cluster(r, sink)


def _check_shared_namespaces(spec: ir.Spec, sink: Sink) -> None:
    """Two environments in one namespace of one cluster would render the same
    Namespace (and object names) into two Argo CD Applications that fight."""
    seen: dict[tuple[str | None, str], ir.Environment] = {}
    for env in spec.environments:
        if env.tier is None:
            continue
        key = (env.cluster, namespace(env))
        first = seen.setdefault(key, env)
        if first is not env:
            sink.report(
                "SS225",
                f"environments '{first.name}' and '{env.name}' share namespace {key[1]!r}"
                + (f" on cluster {env.cluster!r}" if env.cluster else ""),
                env.spans.get("namespace", env.span),
                hint="give each environment its own namespace",
            )


def _check_env(env: Iterable[ir.EnvVar], sink: Sink) -> None:
    for var in env:
        if not kc.ENV_NAME.match(var.name):
            sink.report("SS222", f"{var.name!r} is not a valid environment variable name", var.span)
        if not isinstance(var.value, ir.SecretRef):
            continue
        ref = var.value.ref
        # Lowering already reports a reference with no store separator at all (SS204).
        if ref and ":" in ref and kc.parse_secret(ref) is None:
            sink.report(
                "SS223",
                f"secret reference {ref!r} is not STORE:KEY#PROPERTY with a store name Kubernetes accepts",
                var.value.span,
                hint='e.g. secret "vault:ml/fraud#db"',
            )


def _check_shadow(spec: ir.Spec, sink: Sink) -> None:
    """SS620: a shadow that mirrors nothing. The mirror is a route of the source's
    VirtualService, applied in the source's cluster, to ``<model>.<preprod namespace>.svc.cluster.local``:
    Istio resolves that host in its own cluster's registry, so a preprod on another cluster
    gets no request unless one mesh spans both (then allow the warning)."""
    by_name = {e.name: e for e in spec.environments}
    for env in spec.environments:
        if env.shadow is None or env.tier is not ir.Tier.PREPROD:
            continue
        both = [m for m in spec.models if {env.name, env.shadow.source.name} <= {r.name for r in m.serve_in}]
        if not both:
            sink.report(
                "SS620",
                f"'{env.name}' shadows '{env.shadow.source.name}' but no model is served in both",
                env.shadow.span,
            )
            continue
        source = by_name.get(env.shadow.source.name)
        if source is not None and source.cluster != env.cluster:
            host = f"{kc.k8s_name(both[0].name)}.{namespace(env)}.svc.cluster.local"
            sink.report(
                "SS620",
                f"'{env.name}' ({_cluster(env)}) shadows '{source.name}' ({_cluster(source)}): the "
                f"VirtualService in '{source.name}' mirrors to {host}, a Service of another cluster, "
                f"so '{env.name}' gets none of the requests",
                env.shadow.span,
                hint="serve both environments from one cluster, or allow SS620 where one Istio mesh spans "
                "both clusters and resolves that host",
            )


def _check_monitored_cluster(r: Resolved, sink: Sink) -> None:
    """SS621: an SLA in an environment on another cluster than the monitoring environment.
    What the SLA renders reaches Prometheus in the SLA's own cluster: its rules and
    ServiceMonitor are synced there (``deploy/<env>/monitoring``), and its canary analysis
    (Argo Rollouts) and autoscaler (KEDA) query ``prometheus-operated.<monitoring
    namespace>.svc`` from there. The spec puts the monitoring stack on another cluster: with
    one stack, no rule is evaluated, the analysis errors until the Rollout aborts, and the
    autoscaler gets no metric. Allowed where every cluster runs a stack of its own."""
    home = r.monitoring_env
    if home is None:
        return
    for sla in r.spec.slas:
        env, model = r.environments.get(sla.environment.name), r.models.get(sla.model.name)
        if (
            env is None
            or model is None
            or env.cluster == home.cluster
            or env.name not in {e.name for e in r.served(model)}
        ):
            continue
        placed = r.place(model, env)
        reads = ["its recording and alerting rules and ServiceMonitor are read by a Prometheus there"]
        if placed.canary is not None:
            reads.append("its canary analysis queries one there")
        if sla.latency and placed.replicas is not None:
            reads.append("its KEDA autoscaler queries one there")
        sink.report(
            "SS621",
            f"SLA of '{model.name}' in '{env.name}' ({_cluster(env)}): {', '.join(reads)}, but the monitoring "
            f"environment '{home.name}' is on {_cluster(home)}",
            sla.span,
            hint=f"serve '{env.name}' from {_cluster(home)}, or allow SS621 where every cluster runs a monitoring "
            f"stack of its own (prometheus-operated in namespace {namespace(home)!r}, selecting the same labels)",
        )


def _cluster(env: ir.Environment) -> str:
    return f"cluster {env.cluster!r}" if env.cluster is not None else "Argo CD's own cluster"


# --- rendered objects ---------------------------------------------------------------------------
