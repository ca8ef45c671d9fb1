"""The monitoring tier's workloads and Alertmanager configuration, rendered
into the environment of tier ``monitoring`` (``deploy/<env>/monitoring/``):

* one ``CronJob`` per ``monitor`` block that has drift or data-quality rules:
  ``shipspec drift`` compares the model's recent feature logs with its
  ``trained_on`` dataset and pushes the metrics to the Pushgateway; the
  schedule follows the monitor's shortest window (a quarter of it, at least
  every 5 minutes), so an alert's ``for:`` sees several fresh values;
* the retrain relay (``shipspec relay``, a ``Deployment`` and ``Service``)
  when a rule retrains: Alertmanager's webhook -> GitHub repository_dispatch,
  its token from a Secret reference;
* ``alertmanager.yml``: routes by severity and team, ``-> retrain`` alerts to
  the relay, tickets inhibited by a page of the same SLO.

Without a monitoring-tier environment nothing here is rendered.
"""

from __future__ import annotations

import re
from typing import Any

from compiler import __version__, ir
from compiler.backends.base import OutputFile, RenderContext
from compiler.backends.memo import unit, unit_each
from compiler.backends.render import Raw, Templates
from compiler.diagnostics import Sink, Span
from compiler.resolve import Project, Resolved, namespace
from compiler.serialize import to_yaml
from compiler.targets import kubernetes as kc
from compiler.targets.kubernetes import k8s_name
from compiler.targets.layout import monitoring_dir
from compiler.targets.slo import prom_duration

ALERTMANAGER_KIND = "alertmanager-config"
PUSHGATEWAY_SERVICE, PUSHGATEWAY_PORT = "pushgateway", 9091
RELAY, RELAY_PORT = "shipspec-retrain-relay", 8080
RELAY_SECRET, RELAY_SECRET_KEY = "shipspec-retrain-relay", "token"  # a reference: the Secret is not rendered
FEATURE_LOGS = "shipspec-feature-logs"  # ConfigMap: key <model>.<environment> -> where the feature logs are
MIN_INTERVAL = 300.0
RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
RETRAIN_RECEIVER, DEFAULT_RECEIVER = "github-retrain", "default"


def drift_interval(monitor: ir.Monitor) -> float:
    """How often the drift job runs: a quarter of the shortest rule window, at least every 5 minutes."""
    return max(MIN_INTERVAL, min(r.duration for r in monitor.rules) / 4)


def cron(interval: float) -> tuple[str, int]:
    """A cron schedule running at most ``interval`` apart, on round minutes /
    hours, and the seconds between its runs."""
    minutes = int(interval // 60)
    if minutes < 60:
        step = max(d for d in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) if d <= minutes)
        return ("* * * * *" if step == 1 else f"*/{step} * * * *"), step * 60
    hours = minutes // 60
    if hours < 24:
        step = max(d for d in (1, 2, 3, 4, 6, 8, 12) if d <= hours)
        return ("0 * * * *" if step == 1 else f"0 */{step} * * *"), step * 3600
    return "0 0 * * *", 86_400


def image(project: Project) -> str:
    registry = (project.registry or "ghcr.io/shipspec").rstrip("/")
    return f"{registry}/shipspec:{__version__}"


def github_repository(project: Project) -> str | None:
    """``owner/repo`` of the project's GitHub repository URL."""
    url = project.repository
    m = re.match(r"^(?:https?://|git@)github\.com[/:]([^/]+)/([^/]+?)(?:\.git)?/?$", url or "")
    return f"{m.group(1)}/{m.group(2)}" if m else None


def team_of(model: ir.Model, project: Project) -> str:
    """The team an alert about ``model`` goes to: its first owner, else the project's."""
    owners = model.owners or project.owners
    return owners[0].lstrip("@") if owners else "unowned"


def _labels(project: Project, env: ir.Environment, name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "shipspec",
        "app.kubernetes.io/part-of": project.name,
        "shipspec.dev/environment": env.name,
    }


def _file(ctx: RenderContext, path: str, template: str, source: Span, **view: Any) -> OutputFile:
    """The file a template renders from ``view``: a render unit of exactly these inputs."""
    (f,) = unit(ctx, "monitoring.file", _render_file, path, template, source, view)
    return f


def _render_file(
    templates: Templates, _sink: Sink, path: str, template: str, source: Span, view: dict[str, Any]
) -> list[OutputFile]:
    from compiler.serialize import load_all  # libyaml; PyYAML's pure-Python loader was 30 ms a file

    text = templates.render(template, o=view)
    docs = tuple(d for d in load_all(text) if d is not None)
    return [OutputFile(path, text, source, documents=docs)]


def _render_drift(
    templates: Templates,
    sink: Sink,
    mon: ir.Monitor,
    model: ir.Model,
    env: ir.Environment,
    dataset: ir.Dataset,
    project: Project,
    home: ir.Environment,
) -> list[OutputFile]:
    """The drift CronJob of ``mon`` (``model`` in ``env``, compared with ``dataset``), run in ``home``."""
    ns = namespace(home)
    gateway = f"http://{PUSHGATEWAY_SERVICE}.{ns}.svc:{PUSHGATEWAY_PORT}"
    name = f"drift-{k8s_name(model.name)}-{k8s_name(env.name)}"
    schedule, every = cron(drift_interval(mon))
    key = f"{model.name}.{env.name}"
    assert dataset.uri is not None, "a monitor without a dataset URI has no drift job"
    return _render_file(
        templates,
        sink,
        f"{monitoring_dir(home.name)}/cronjob-{name}.yaml",
        "monitoring/cronjob-drift.yaml.j2",
        mon.span,
        {
            "name": name,
            "namespace": ns,
            "labels": _labels(project, home, name, "drift"),
            "schedule": schedule,
            "deadline": every,
            "image": image(project),
            "args": [
                "drift",
                model.name,
                "--env",
                env.name,
                "--namespace",
                namespace(env),
                "--reference",
                dataset.uri,
                "--current",
                "$(FEATURE_LOGS)",
                "--pushgateway",
                gateway,
            ],
            "env": [{"name": "FEATURE_LOGS", "valueFrom": {"configMapKeyRef": {"name": FEATURE_LOGS, "key": key}}}],
            "resources": RESOURCES,
            "pod_security": kc.POD_SECURITY,
            "container_security": kc.CONTAINER_SECURITY,
        },
    )


def render(ctx: RenderContext) -> list[OutputFile]:
    r = ctx.resolved
    spec, project = r.spec, r.project
    home = r.monitoring_env
    if home is None:
        return []
    ns, out_dir = namespace(home), monitoring_dir(home.name)
    drifts = []
    for mon in sorted(spec.monitors, key=lambda m: (m.model.name, m.environment.name)):
        model, env = r.models.get(mon.model.name), r.environments.get(mon.environment.name)
        if model is None or env is None or not mon.rules:
            continue
        dataset = r.datasets.get(model.trained_on.name) if model.trained_on else None
        if dataset is None or not dataset.uri:
            continue  # nothing to compare with; docs/monitoring.md says so
        drifts.append((mon, model, env, dataset, project, home))
    # A unit per monitor of the records its view is made from (a watching build keys an
    # unchanged monitor's by their identities; a view made again each build was pickled).
    owners = [(mon.model.name, mon.environment.name) for mon, *_ in drifts]
    files = unit_each(ctx, "monitoring.drift", _render_drift, drifts, owners=owners, shared=(project, home))
    retrains = any(r.action == "retrain" for m in spec.monitors for r in m.rules)
    repository = github_repository(project)
    if retrains and repository:
        labels = _labels(project, home, RELAY, "retrain-relay")
        selector = {"app.kubernetes.io/name": RELAY, "app.kubernetes.io/component": "retrain-relay"}
        source = next(m.span for m in spec.monitors if any(r.action == "retrain" for r in m.rules))
        files.append(
            _file(
                ctx,
                f"{out_dir}/deployment-{RELAY}.yaml",
                "monitoring/deployment-relay.yaml.j2",
                source,
                name=RELAY,
                namespace=ns,
                labels=labels,
                selector=selector,
                image=image(project),
                port=RELAY_PORT,
                args=["relay", "--listen", f"0.0.0.0:{RELAY_PORT}", "--repository", repository],
                env=[
                    {
                        "name": "GITHUB_TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": RELAY_SECRET, "key": RELAY_SECRET_KEY}},
                    }
                ],
                resources=RESOURCES,
                pod_security=kc.POD_SECURITY,
                container_security=kc.CONTAINER_SECURITY,
            )
        )
        files.append(
            _file(
                ctx,
                f"{out_dir}/service-{RELAY}.yaml",
                "monitoring/service-relay.yaml.j2",
                source,
                name=RELAY,
                namespace=ns,
                labels=labels,
                selector=selector,
                port=RELAY_PORT,
            )
        )
    if spec.slas or spec.monitors:
        relay_url = f"http://{RELAY}.{ns}.svc:{RELAY_PORT}/alerts" if retrains and repository else None
        doc = alertmanager_config(r, relay_url)
        text = ctx.templates.render("monitoring/alertmanager.yml.j2", o={"body": Raw(to_yaml(doc).rstrip("\n"))})
        files.append(OutputFile(f"{out_dir}/alertmanager.yml", text, home.span, kind=ALERTMANAGER_KIND))
    return files


def alertmanager_config(r: Resolved, relay_url: str | None) -> dict[str, Any]:
    """Routes: retrain alerts to the relay (and on), then per team, pages and
    tickets to the team's receivers; a page inhibits the tickets of the same
    SLO, the 1h page the 6h page."""
    spec = r.spec
    alerted = {s.model.name for s in spec.slas} | {m.model.name for m in spec.monitors}
    teams = sorted({team_of(m, r.project) for m in spec.models if m.name in alerted})
    routes: list[dict[str, Any]] = []
    receivers: list[dict[str, Any]] = [{"name": DEFAULT_RECEIVER}]
    if relay_url:
        routes.append(
            {
                "receiver": RETRAIN_RECEIVER,
                "matchers": ['action="retrain"'],
                "group_by": ["alertname", "model", "environment"],
                "group_wait": "30s",
                "repeat_interval": "24h",
                "continue": True,
            }
        )
        receivers.append(
            {"name": RETRAIN_RECEIVER, "webhook_configs": [{"url": relay_url, "send_resolved": False, "max_alerts": 0}]}
        )
    for team in teams:
        routes.append(
            {
                "receiver": f"{team}-ticket",
                "matchers": [f'team="{team}"'],
                "routes": [{"receiver": f"{team}-page", "matchers": ['severity="page"'], "repeat_interval": "1h"}],
            }
        )
        receivers += [{"name": f"{team}-page"}, {"name": f"{team}-ticket"}]
    return {
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": ["alertname", "model", "environment", "slo"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": routes,
        },
        "receivers": receivers,
        "inhibit_rules": [
            {
                "source_matchers": ['severity="page"', 'slo=~".+"'],
                "target_matchers": ['severity="ticket"', 'slo=~".+"'],
                "equal": ["model", "environment", "slo"],
            },
            {
                "source_matchers": ['alertname="ModelErrorBudgetBurn"', 'window="1h"'],
                "target_matchers": ['alertname="ModelErrorBudgetBurn"', 'window="6h"'],
                "equal": ["model", "environment", "slo"],
            },
        ],
    }


def validate_config(f: OutputFile, sink: Sink) -> None:
    """SS804 for each structural problem of a rendered Alertmanager configuration (at most five)."""
    from compiler.serialize import load

    for problem in alertmanager_problems(load(f.text))[:5]:
        sink.report("SS804", f"{f.path}: {problem}", f.source)


def alertmanager_problems(doc: Any) -> list[str]:
    """What Alertmanager would refuse, short of running ``amtool check-config``
    (the tests do): receivers named once, every route's receiver defined."""
    if not isinstance(doc, dict) or not isinstance(doc.get("route"), dict):
        return ["top level must be a map with a 'route'"]
    names = [r.get("name") for r in doc.get("receivers") or []]
    problems = [f"receiver {n!r} is defined twice" for n in sorted({n for n in names if names.count(n) > 1})]
    stack = [doc["route"]]
    while stack:
        route = stack.pop()
        if route.get("receiver") is not None and route["receiver"] not in names:
            problems.append(f"route names an undefined receiver {route['receiver']!r}")
        stack += route.get("routes") or []
    return problems


__all__ = [
    "render",
    "alertmanager_config",
    "alertmanager_problems",
    "cron",
    "drift_interval",
    "prom_duration",
    "validate_config",
]
