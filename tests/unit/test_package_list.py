"""Every package of the compiler is in pyproject's explicit ``packages`` list: a package left
out installs nowhere but an editable checkout, and the wheel fails at import (the catalog
backend did, caught by tests/live/test_release.py only)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_compiler_package_is_packaged() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "compiler").rglob("__init__.py")}
    assert found - listed == set()
