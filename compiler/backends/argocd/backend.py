"""The argocd backend: one Argo CD ``Application`` per environment, one
``AppProject`` per tier, and a root app-of-apps, under ``deploy/argocd/``.

Each Application syncs ``deploy/<env>`` into the environment's cluster and
namespace, automatically, in its tier's AppProject (destinations limited to the
tier's clusters and namespaces, cluster-scoped kinds to Namespace); it prunes
below production (production only ever adds or changes objects without a
person deciding to delete; superseded hashed ConfigMaps are ignored there, see
``kubernetes/kustomize.py``). Its resources finalizer deletes what it deployed
when the Application itself is deleted. Child Applications carry no sync waves:
Argo CD assesses no Application health since 1.8, so waves between them would
order nothing (environments are independent; promotion orders them). Inside the
root, AppProjects come a wave before the Applications that name them.
"""

from __future__ import annotations

from typing import Any, TypedDict

from compiler import ir
from compiler.backends.base import FileValidator, ObjectMeta, OutputFile, RenderContext
from compiler.backends.memo import Scope, unit
from compiler.backends.objects import object_file
from compiler.backends.render import Templates
from compiler.diagnostics import Sink
from compiler.resolve import namespace
from compiler.targets import kubernetes as kc
from compiler.targets.kubernetes import k8s_name
from compiler.targets.layout import ARGOCD_DIR, env_dir

ARGOCD_NAMESPACE = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
ROOT_FILE = f"{ARGOCD_DIR}/app-of-apps.yaml"


def _meta(project: str, name: str, component: str, wave: int) -> ObjectMeta:
    return {
        "name": name,
        "namespace": ARGOCD_NAMESPACE,
        "labels": kc.labels(project, component, name),
        "annotations": kc.wave(str(wave)),
    }


# Deleting an Application deletes the objects it deployed (cascading), in the background.
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
WAVE_PROJECTS, WAVE_APPLICATIONS = -1, 0
# Fields Argo Rollouts owns at run time: Argo CD must neither report them as drift
# nor put them back (RespectIgnoreDifferences) while a canary runs.
ROLLOUT_OWNED = [
    {"group": "networking.istio.io", "kind": "VirtualService", "jqPathExpressions": [".spec.http[].route[].weight"]},
    {"group": "", "kind": "Service", "jsonPointers": ["/spec/selector/rollouts-pod-template-hash"]},
]


class ProjectView(TypedDict):
    meta: ObjectMeta
    description: str
    repos: list[str]
    destinations: list[dict[str, str]]
    cluster_kinds: list[dict[str, str]]
    namespace_kinds: list[dict[str, str]]


class ApplicationView(TypedDict):
    meta: ObjectMeta
    project: str
    repo: str | None
    revision: str
    path: str
    destination: dict[str, str]
    prune: bool
    sync_options: list[str]
    ignore_differences: list[dict[str, Any]]


def project_name(project: str, tier: ir.Tier | None) -> str:
    return f"{k8s_name(project)}-{tier.value if tier else 'untiered'}"


def _project_view(
    project: ir.Project,
    name: str,
    description: str,
    destinations: list[dict[str, str]],
    cluster_kinds: list[dict[str, str]],
    namespace_kinds: list[dict[str, str]],
) -> ProjectView:
    assert project.repository is not None
    return {
        "meta": _meta(project.name, name, "project", WAVE_PROJECTS),
        "description": description,
        "repos": [project.repository],
        "destinations": destinations,
        "cluster_kinds": cluster_kinds,
        "namespace_kinds": namespace_kinds,
    }


def application_name(project: str, env: ir.Environment) -> str:
    return f"{k8s_name(project)}-{k8s_name(env.name)}"


def _destination(env: ir.Environment) -> dict[str, str]:
    return {"name": env.cluster} if env.cluster else {"server": IN_CLUSTER}


class _Backend:
    name = "argocd"
    validators: dict[str, FileValidator] = {}

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        spec = ctx.spec
        project = spec.project
        if project is None or not spec.environments:
            return []
        if not project.repository:
            ctx.sink.report(
                "SS731",
                "no Argo CD Applications rendered: the project names no Git repository",
                project.span,
                hint='add to the project: repository "https://github.com/ORG/REPO.git"',
            )
            return []
        # One render unit of the records it reads: an edit of a model leaves it a hit (in a
        # watching build, by the records' identities), its objects not rendered, parsed back
        # and validated again each step.
        return unit(ctx, "argocd.objects", _objects, project, tuple(spec.environments))


def _objects(
    templates: Templates, sink: Sink, project: ir.Project, environments: tuple[ir.Environment, ...]
) -> list[OutputFile]:
    """The AppProjects and Applications of ``project``'s ``environments`` (a render unit)."""
    ctx = Scope(templates, sink)
    files: list[OutputFile] = []
    by_tier: dict[ir.Tier | None, list[ir.Environment]] = {}
    for env in environments:
        by_tier.setdefault(env.tier, []).append(env)
    for tier, envs in sorted(by_tier.items(), key=lambda kv: kv[0].rank if kv[0] else -1):
        name = project_name(project.name, tier)
        destinations = sorted(
            ({**_destination(env), "namespace": namespace(env)} for env in envs), key=lambda d: sorted(d.items())
        )
        view = _project_view(
            project,
            name,
            f"{tier.value if tier else 'untiered'} environments of {project.name}",
            destinations,
            [{"group": "", "kind": "Namespace"}],
            [],
        )
        f = object_file(ctx, f"{ARGOCD_DIR}/appproject-{name}.yaml", "argocd/appproject.yaml.j2", envs[0].span, o=view)
        if f is not None:
            files.append(f)
    for env in sorted(environments, key=lambda e: e.name):
        production = env.tier is ir.Tier.PRODUCTION
        meta = _meta(project.name, application_name(project.name, env), "application", WAVE_APPLICATIONS)
        meta["finalizers"] = [RESOURCES_FINALIZER]
        app: ApplicationView = {
            "meta": meta,
            "project": project_name(project.name, env.tier),
            "repo": project.repository,
            "revision": "HEAD",
            "path": env_dir(env.name),
            "destination": {**_destination(env), "namespace": namespace(env)},
            "prune": not production,
            "sync_options": [
                "PrunePropagationPolicy=foreground",
                "PruneLast=true",
                "RespectIgnoreDifferences=true",
            ],
            "ignore_differences": ROLLOUT_OWNED,
        }
        f = object_file(
            ctx,
            f"{ARGOCD_DIR}/application-{k8s_name(env.name)}.yaml",
            "argocd/application.yaml.j2",
            env.span,
            o=app,
        )
        if f is not None:
            files.append(f)
    root_project = project_name(project.name, None).replace("-untiered", "-gitops")
    view = _project_view(
        project,
        root_project,
        f"the Applications and AppProjects of {project.name}",
        [{"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE}],
        [],
        [{"group": "argoproj.io", "kind": "Application"}, {"group": "argoproj.io", "kind": "AppProject"}],
    )
    f = object_file(
        ctx, f"{ARGOCD_DIR}/appproject-{root_project}.yaml", "argocd/appproject.yaml.j2", project.span, o=view
    )
    if f is not None:
        files.append(f)
    root = {
        "meta": _meta(project.name, f"{k8s_name(project.name)}-root", "app-of-apps", -10),
        "project": root_project,
        "repo": project.repository,
        "revision": "HEAD",
        "path": ARGOCD_DIR,
        "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
        # Removing an environment from the spec must not delete it from a
        # cluster on its own: the root never prunes.
        "prune": False,
        "sync_options": ["PruneLast=true"],
        "ignore_differences": [],
    }
    f = object_file(ctx, ROOT_FILE, "argocd/application.yaml.j2", project.span, o=root)
    if f is not None:
        files.append(f)
    return files


BACKEND = _Backend()
__all__ = ["BACKEND"]
