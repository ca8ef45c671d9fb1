"""Where rendered files go under the output root. Backends share these so a
path written by one (a Triton config) can be referenced by another (the
kustomization that mounts it)."""

from __future__ import annotations

from compiler.render import k8s_name

DEPLOY = "deploy"
ARGOCD_DIR = f"{DEPLOY}/argocd"
WORKFLOWS_DIR = ".github/workflows"
CODEOWNERS = ".github/CODEOWNERS"


def env_dir(env: str) -> str:
    return f"{DEPLOY}/{env}"


def object_path(env: str, kind: str, name: str) -> str:
    """One file per Kubernetes object: ``deploy/prod/deployment-fraud-detector.yaml``."""
    return f"{env_dir(env)}/{kind.lower()}-{k8s_name(name)}.yaml"


def triton_dir(env: str) -> str:
    return f"{env_dir(env)}/triton"


def triton_config_path(env: str, model: str) -> str:
    return f"{triton_dir(env)}/{model}/config.pbtxt"


def triton_config_map(model: str) -> str:
    """The kustomize configMapGenerator that carries a model's config.pbtxt."""
    return f"{k8s_name(model)}-triton-config"


def monitoring_dir(env: str) -> str:
    return f"{env_dir(env)}/monitoring"
