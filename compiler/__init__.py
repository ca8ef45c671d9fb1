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


def _import_without(target: str, spared: str, functions: tuple[str, ...] = ()) -> None:
    """Import the standard library's ``target`` without the ``spared`` module it imports at
    its top only for a rarely called function (issue 16: a cold ``shipspec validate``).

    ``dataclasses`` imports ``inspect`` (with ast, dis, tokenize and linecache: ~4 ms) only to
    word the docstring of a class that has none with ``inspect.signature``; records word
    theirs (``compiler.records``) and the compiler's dataclasses have docstrings.
    ``pathlib`` imports ``urllib.parse`` (with ipaddress: ~1.5 ms) only for
    ``Path.as_uri``'s ``quote_from_bytes``. While ``target`` is imported, ``spared`` is a
    stand-in that imports the real module when first asked for a name (``functions`` are
    its names that ``target`` takes with ``from ... import``: each imports the real module
    when called). The stand-in is only ``target``'s own: it leaves ``sys.modules`` as soon
    as ``target`` is imported, so anyone else's import gets the real module. Where either is
    already imported (a test run, an editable install's finder) nothing changes.
    ``tests/unit/test_cold_validate.py`` checks both modules still work."""
    import sys

    if target in sys.modules or spared in sys.modules:
        return
    import types

    def real() -> types.ModuleType:
        __import__(spared)  # the stand-in has left sys.modules: this is the real module
        return sys.modules[spared]

    class _Later(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            if sys.modules.get(spared) is self:  # asked while target loads (the import system's __path__)
                raise AttributeError(name)
            return getattr(real(), name)

    def later(name: str) -> object:
        def call(*args: object, **kwargs: object) -> object:
            return getattr(real(), name)(*args, **kwargs)

        call.__name__ = call.__qualname__ = name
        return call

    stand_in = _Later(spared, f"{spared}, imported on first use (compiler._import_without)")
    for name in functions:
        setattr(stand_in, name, later(name))
    sys.modules[spared] = stand_in
    try:
        __import__(target)
    finally:
        if sys.modules.get(spared) is stand_in:
            del sys.modules[spared]


_import_without("dataclasses", "inspect")
_import_without("pathlib", "urllib.parse", ("quote_from_bytes",))
