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
