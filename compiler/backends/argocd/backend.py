"""The argocd backend: one Argo CD ``Application`` per environment and a root
app-of-apps, under ``deploy/argocd/``.

Each Application syncs ``deploy/<env>`` into the environment's cluster and
namespace, automatically; it prunes below production (production only ever
adds or changes objects without a person deciding to delete). Inside an
environment, sync waves put namespaces first (see ``k8s_common``); across
environments, the Applications' waves follow the promotion order of tiers.
"""

from __future__ import annotations

from compiler import ir
from compiler.targets import kubernetes as kc
from compiler.resolve import namespace
from compiler.backends.base import FileValidator, OutputFile, RenderContext
from compiler.backends.objects import object_file
from compiler.targets.layout import ARGOCD_DIR, env_dir
from compiler.targets.kubernetes import k8s_name

ARGOCD_NAMESPACE = "argocd"
IN_CLUSTER = "https://kubernetes.default.svc"
ROOT_FILE = f"{ARGOCD_DIR}/app-of-apps.yaml"


def _meta(project: str, name: str, component: str, wave: int) -> dict[str, object]:
    return {
        "name": name,
        "namespace": ARGOCD_NAMESPACE,
        "labels": kc.labels(project, component, name),
        "annotations": kc.wave(str(wave)),
    }


def application_name(project: str, env: ir.Environment) -> str:
    return f"{k8s_name(project)}-{k8s_name(env.name)}"


class _Backend:
    name = "argocd"
    validators: dict[str, FileValidator] = {}

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        spec = ctx.spec
        project = spec.project
        if project is None or not spec.environments:
            return []
        if not project.repository:
            ctx.sink.report("SS731", "no Argo CD Applications rendered: the project names no Git repository",
                            project.span, hint='add to the project: repository "https://github.com/ORG/REPO.git"')
            return []
        files: list[OutputFile] = []
        for env in sorted(spec.environments, key=lambda e: e.name):
            production = env.tier is ir.Tier.PRODUCTION
            destination = {"name": env.cluster} if env.cluster else {"server": IN_CLUSTER}
            view = {
                "meta": _meta(project.name, application_name(project.name, env), "application",
                              env.tier.rank if env.tier else 0),
                "project": "default",
                "repo": project.repository,
                "revision": "HEAD",
                "path": env_dir(env.name),
                "destination": {**destination, "namespace": namespace(env)},
                "prune": not production,
                "sync_options": ["PrunePropagationPolicy=foreground", "PruneLast=true"],
            }
            f = object_file(ctx, f"{ARGOCD_DIR}/application-{k8s_name(env.name)}.yaml", "argocd/application.yaml.j2",
                            env.span, o=view)
            if f is not None:
                files.append(f)
        root = {
            "meta": _meta(project.name, f"{k8s_name(project.name)}-root", "app-of-apps", -10),
            "project": "default",
            "repo": project.repository,
            "revision": "HEAD",
            "path": ARGOCD_DIR,
            "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
            # Removing an environment from the spec must not delete it from a
            # cluster on its own: the root never prunes.
            "prune": False,
            "sync_options": ["PruneLast=true"],
        }
        f = object_file(ctx, ROOT_FILE, "argocd/application.yaml.j2", project.span, o=root)
        if f is not None:
            files.append(f)
        return files


BACKEND = _Backend()
__all__ = ["BACKEND"]
