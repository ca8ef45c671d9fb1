"""``shipspec.toml``: a repository's settings, read by every command.

shipspec looks for ``shipspec.toml`` in the working directory and its parents, up
to the top of the git repository (the directory holding ``.git``). Paths in it are
relative to the file. Command-line flags override it.

Why a file of its own and not ``[tool.shipspec]`` in ``pyproject.toml``: the
repositories shipspec renders into are deployment repositories, which usually are
not Python projects and have no ``pyproject.toml``; a file named after the tool is
also what the pre-commit hooks and the rendered workflows can find without knowing
Python packaging.

    specs = ["specs"]            # spec files or directories
    out = "."                    # output root
    templates = "overrides"      # template overrides (optional)
    allow = ["SS740"]            # warnings not to report, project-wide
    strict = true                # warnings fail validate, compile and check

    [ci]
    install = "shipspec @ git+https://github.com/OWNER/shipspec@v0.2.0"   # what `pip install` gets in CI
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path

from compiler.diagnostics import CODES, Severity
from compiler.errors import UsageError
from compiler.records import Record, record

FILENAME = "shipspec.toml"
_KEYS = {"specs", "out", "templates", "allow", "strict", "ci"}
_CI_KEYS = {"install"}


@record
class Config(Record):
    """The settings; ``path`` is None when no ``shipspec.toml`` was found (defaults)."""

    path: Path | None = None
    specs: tuple[Path, ...] = ()
    out: Path | None = None
    templates: Path | None = None
    allow: frozenset[str] = field(default_factory=frozenset)
    strict: bool = False
    ci_install: str | None = None


def find(start: Path | None = None) -> Path | None:
    """The nearest ``shipspec.toml`` from ``start`` upwards, stopping at the git repository's top."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / FILENAME
        if candidate.is_file():
            return candidate
        if (directory / ".git").exists():
            return None
    return None


def allowed_codes(codes: list[object] | tuple[object, ...], where: str) -> frozenset[str]:
    """Checked codes for an allow list: known, and warnings or notes (an error cannot be allowed)."""
    found: set[str] = set()
    for code in codes:
        if not isinstance(code, str) or code.upper() not in CODES:
            raise UsageError(f"{where}: {code!r} is not a shipspec diagnostic code (see: shipspec explain)")
        code = code.upper()
        if CODES[code][0] is Severity.ERROR:
            raise UsageError(f"{where}: {code} is an error; only warnings and notes can be allowed")
        found.add(code)
    return frozenset(found)


def load(path: Path | None = None) -> Config:
    """Read ``path``, or the ``shipspec.toml`` found from the working directory; defaults when there is none."""
    path = path if path is not None else find()
    if path is None:
        return Config()
    import tomllib  # only when there is a file to read: `shipspec validate` in a hook often has none

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise UsageError(f"{path}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(_KEYS))}")
    base = path.parent

    def a_path(key: str) -> Path | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise UsageError(f"{path}: {key} must be a path (a non-empty string)")
        return base / value

    specs_value = data.get("specs", [])
    if isinstance(specs_value, str):
        specs_value = [specs_value]
    if not isinstance(specs_value, list) or not all(isinstance(s, str) and s for s in specs_value):
        raise UsageError(f"{path}: specs must be a path or a list of paths")
    allow_value = data.get("allow", [])
    if not isinstance(allow_value, list):
        raise UsageError(f'{path}: allow must be a list of codes, e.g. allow = ["SS740"]')
    strict = data.get("strict", False)
    if not isinstance(strict, bool):
        raise UsageError(f"{path}: strict must be true or false")
    ci = data.get("ci", {})
    if not isinstance(ci, dict) or set(ci) - _CI_KEYS:
        raise UsageError(f"{path}: [ci] takes only: {', '.join(sorted(_CI_KEYS))}")
    install = ci.get("install")
    if install is not None and (not isinstance(install, str) or not install.strip()):
        raise UsageError(f"{path}: [ci] install must be a pip requirement string")
    return Config(
        path=path,
        specs=tuple(base / s for s in specs_value),
        out=a_path("out"),
        templates=a_path("templates"),
        allow=allowed_codes(allow_value, f"{path}: allow"),
        strict=strict,
        ci_install=install,
    )
