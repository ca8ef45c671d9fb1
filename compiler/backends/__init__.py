"""The backends, in render order: each renders one target from the resolved spec.

A backend is a subpackage (``backends/<name>/``) whose ``backend`` module
defines ``BACKEND``, its templates under ``templates/<name>/``, and one line in
``REGISTRY``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compiler.backends.base import Backend, FileValidator

    BACKENDS: tuple[Backend, ...]

REGISTRY: tuple[str, ...] = ("triton", "kubernetes", "argocd", "monitoring", "github", "catalog")


def __getattr__(name: str) -> Any:
    # Built on first use: the checks on the `shipspec validate` path import small
    # modules near this package (compiler.targets) and must not pay for every
    # backend (jinja2, yaml, ...) when nothing is rendered.
    if name != "BACKENDS":
        raise AttributeError(name)
    backends = tuple(importlib.import_module(f"compiler.backends.{b}.backend").BACKEND for b in REGISTRY)
    globals()["BACKENDS"] = backends
    return backends


def file_validators() -> dict[str, FileValidator]:
    """Every file kind's validator, as the backends declare them."""
    out: dict[str, FileValidator] = {}
    for backend in __getattr__("BACKENDS"):
        out.update(backend.validators)
    return out
