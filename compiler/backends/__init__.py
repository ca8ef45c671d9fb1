"""The backends, in render order. Each renders one target from the IR."""

from __future__ import annotations

from compiler.backends import github, kubernetes, monitoring, triton
from compiler.backends.base import Backend

BACKENDS: tuple[Backend, ...] = (
    triton.BACKEND,
    kubernetes.BACKEND,
    monitoring.BACKEND,
    github.BACKEND,
)
