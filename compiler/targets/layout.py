"""Where rendered files go under the output root. Backends share these so a
path written by one (a Triton config) can be referenced by another (the
kustomization that mounts it)."""

from __future__ import annotations

from compiler.targets.kubernetes import k8s_name

DEPLOY = "deploy"
ARGOCD_DIR = f"{DEPLOY}/argocd"
WORKFLOWS_DIR = ".github/workflows"
CODEOWNERS = ".github/CODEOWNERS"
# actionlint's configuration (the self-hosted runner labels the workflows use).
ACTIONLINT_CONFIG = ".github/actionlint.yaml"
# The model catalog (Markdown): an index and one page per model.
CATALOG_DIR = "docs/catalog"
CATALOG_INDEX = f"{CATALOG_DIR}/README.md"
# Everything shipspec may write, read back or remove under an output root: the trees
# and the single files above. The ledger (emit) may name nothing else (issue 17).
OUTPUT_TREES = (f"{DEPLOY}/", f"{WORKFLOWS_DIR}/", f"{CATALOG_DIR}/")
OUTPUT_FILES = frozenset({CODEOWNERS, ACTIONLINT_CONFIG})


def env_dir(env: str) -> str:
    return f"{DEPLOY}/{env}"


def object_path(env: str, kind: str, name: str) -> str:
    """One file per Kubernetes object: ``deploy/prod/deployment-fraud-detector.yaml``."""
    return f"{env_dir(env)}/{kind.lower()}-{k8s_name(name)}.yaml"


def dashboard_path(env: str, model: str) -> str:
    """The ConfigMap that carries a model's Grafana dashboard in an environment."""
    return f"{monitoring_dir(env)}/dashboard-{k8s_name(model)}.yaml"


def catalog_model_page(model: str) -> str:
    return f"{CATALOG_DIR}/models/{model}.md"


def triton_dir(env: str) -> str:
    return f"{env_dir(env)}/triton"


def triton_config_path(env: str, model: str) -> str:
    return f"{triton_dir(env)}/{model}/config.pbtxt"


def triton_config_map(model: str) -> str:
    """The kustomize configMapGenerator that carries a model's config.pbtxt."""
    return f"{k8s_name(model)}-triton-config"


def monitoring_dir(env: str) -> str:
    return f"{env_dir(env)}/monitoring"


# Inside a serving pod: the model repository Triton loads. The config.pbtxt of
# each model comes from Git through its ConfigMap; the artifact is fetched by an
# init container into the version directory.
MODEL_REPOSITORY = "/models"

# What Triton expects a model file to be called, per backend (ensembles have none).
ARTIFACT_FILE = {
    "onnx": "model.onnx",
    "pytorch": "model.pt",
    "tensorflow": "model.savedmodel",
    "tensorrt": "model.plan",
    "python": "model.py",
}


def triton_version_dir(version: str | None) -> int:
    """Triton's integer version directory for a spec version.

    Semantic versions map monotonically, ``MAJOR*1_000_000 + MINOR*1_000 + PATCH``
    (``1.4.2`` -> ``1004002``), so a ``versions latest N`` policy picks the
    newest releases when several are present. Anything else (or no version)
    is version 1; the checker reports versions that cannot be mapped.
    """
    parts = (version or "").split(".")
    if len(parts) == 3 and all(p.isdigit() and len(p) <= 3 for p in parts):
        major, minor, patch = (int(p) for p in parts)
        return max(1, major * 1_000_000 + minor * 1_000 + patch)
    return 1


def training_name(model: str) -> str:
    """The name of a model's training Job or PyTorchJob (and its checkpoint claim's prefix)."""
    return f"{k8s_name(model)}-train"
