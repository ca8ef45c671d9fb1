"""The backends, in render order. Each renders one target from the IR."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compiler.backends.base import Backend

    BACKENDS: tuple[Backend, ...]


def __getattr__(name: str) -> Any:
    # Built on first use: checks on the `shipspec validate` path import small
    # helper modules of this package, and must not pay for every backend
    # (jinja2, yaml, ...) when nothing is rendered.
    if name != "BACKENDS":
        raise AttributeError(name)
    from compiler.backends.argocd import backend as argocd
    from compiler.backends.github import backend as github
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.backends.monitoring import backend as monitoring
    from compiler.backends.triton import backend as triton

    backends = (
        triton.BACKEND,
        kubernetes.BACKEND,
        argocd.BACKEND,
        monitoring.BACKEND,
        github.BACKEND,
    )
    globals()["BACKENDS"] = backends
    return backends
