"""Where templates/ and schemas/ are: inside the installed package, or at the
top of a source checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_HERE / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"shipspec's {name}/ directory is missing from the installation")


@cache
def templates_dir() -> Path:
    return _find("templates")


@cache
def schemas_dir() -> Path:
    return _find("schemas")


def _find_any(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"shipspec's {candidates[0].name}/ directory is missing from the installation")


@cache
def corpus_dir() -> Path:
    """The diagnostic corpus (``tests/corpus`` in a checkout): ``shipspec explain``'s examples."""
    return _find_any(_HERE / "corpus", _HERE.parent / "tests" / "corpus")


@cache
def example_dir() -> Path:
    """The full example spec (``specs/`` in a checkout): ``shipspec init --example``."""
    return _find_any(_HERE / "example", _HERE.parent / "specs")
