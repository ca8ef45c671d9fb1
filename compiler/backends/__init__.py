"""The backends, in render order. Each renders one target from the IR."""

from __future__ import annotations

from compiler.backends import argocd, github, kubernetes, monitoring, triton
from compiler.backends.base import Backend

BACKENDS: tuple[Backend, ...] = (
    triton.BACKEND,
    kubernetes.BACKEND,
    argocd.BACKEND,
    monitoring.BACKEND,
    github.BACKEND,
)
