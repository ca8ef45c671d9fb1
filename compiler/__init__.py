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


def _import_without(target: str, spared: dict[str, tuple[str, ...]]) -> None:
    """Import the standard library's ``target`` without modules it imports at its top only
    for rarely called functions (issue 16: a cold ``shipspec validate`` of one file).

    ``dataclasses`` imports ``inspect`` (with ast, dis, tokenize and linecache: ~4 ms) only to
    word the docstring of a class that has none with ``inspect.signature`` (records word
    theirs, ``compiler.records``, and the compiler's dataclasses have docstrings), and
    ``copy`` (with weakref) only for ``asdict``, ``astuple`` and ``replace``'s deep copies.
    ``pathlib`` imports ``urllib.parse`` (with ipaddress: ~1.5 ms) only for ``Path.as_uri``,
    ``ntpath`` (whose probes for Windows' modules search sys.path) for ``PureWindowsPath``
    and ``fnmatch`` for ``glob`` and ``match``.

    While ``target`` is imported, each spared module is a stand-in that imports the real
    module when first asked for a name; the names given with it are the ones ``target``
    takes with ``from ... import``: functions that import the real module when called. The
    stand-ins are ``target``'s own: they leave ``sys.modules`` as soon as ``target`` is
    imported, so anyone else's import gets the real module. Where ``target`` or a spared
    module is already imported (a test run, an editable install's finder) nothing changes.
    ``tests/unit/test_cold_validate.py`` checks that the modules still work."""
    import sys

    if target in sys.modules or any(name in sys.modules for name in spared):
        return
    if sys.version_info[:2] != (3, 11):
        # What each module takes from the spared ones is 3.11's (3.12's pathlib takes
        # fnmatch.translate at import): elsewhere, a plain import.
        return
    import types

    def real(module: str) -> types.ModuleType:
        __import__(module)  # the stand-in has left sys.modules: this is the real module
        return sys.modules[module]

    class _Later(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            if sys.modules.get(self.__name__) is self:  # asked while target loads (the import system's __path__)
                raise AttributeError(name)
            return getattr(real(self.__name__), name)

    def later(module: str, name: str) -> object:
        def call(*args: object, **kwargs: object) -> object:
            return getattr(real(module), name)(*args, **kwargs)

        call.__name__ = call.__qualname__ = name
        return call

    stand_ins = {}
    for module, functions in spared.items():
        stand_in = stand_ins[module] = _Later(module, f"{module}, imported on first use (compiler._import_without)")
        for name in functions:
            setattr(stand_in, name, later(module, name))
    sys.modules.update(stand_ins)
    try:
        __import__(target)
    except Exception:  # noqa: BLE001 - a target that wants more of a spared module: imported plainly below
        sys.modules.pop(target, None)
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]
    __import__(target)  # imported above, or plainly now


_import_without("dataclasses", {"inspect": (), "copy": ()})
_import_without("pathlib", {"urllib.parse": ("quote_from_bytes",), "ntpath": (), "fnmatch": ()})
