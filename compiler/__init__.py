"""shipspec: a declarative GitOps spec compiler for the ML model lifecycle.

The pipeline: parse -> lower (IR) -> check -> render -> validate -> emit.
"""

from __future__ import annotations

__version__ = "0.2.0"
# The git tag of this release (CHANGELOG.md): what `rev:` in a pre-commit config and the
# rendered workflows' `pip install` point at.
RELEASE_TAG = f"v{__version__}"
# Where users install shipspec from (pipx / pip / pre-commit): the repository that carries the tag.
SOURCE_REPOSITORY = "https://github.com/shipspec/shipspec"


def _dataclasses_without_inspect() -> None:
    """Import ``dataclasses`` without the ``inspect`` it imports at its top (issue 16).

    Every module of the compiler defines dataclasses, and ``dataclasses`` imports ``inspect``
    (and with it ast, dis, tokenize, linecache: ~4 ms of a cold ``shipspec validate``) for one
    use: wording the docstring of a class that has none with ``inspect.signature``. Records
    word it themselves (``compiler.records``) and the compiler's dataclasses have docstrings,
    so ``dataclasses`` is given a stand-in for ``inspect`` that imports the real module when
    first asked for a name. The stand-in is only ``dataclasses``' own: it leaves
    ``sys.modules`` as soon as ``dataclasses`` is imported, so anyone's ``import inspect``
    gets the real module. Where ``dataclasses`` or ``inspect`` is already imported (a test
    run, the language server) nothing changes."""
    import sys

    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    import types

    class _Inspect(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            import inspect  # the real module: the stand-in has left sys.modules

            return getattr(inspect, name)

    stand_in = _Inspect("inspect", "inspect, imported on first use (compiler._dataclasses_without_inspect)")
    sys.modules["inspect"] = stand_in
    try:
        import dataclasses  # noqa: F401
    finally:
        if sys.modules.get("inspect") is stand_in:
            del sys.modules["inspect"]


_dataclasses_without_inspect()
