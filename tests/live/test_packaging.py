"""`pip install .` gives a working `shipspec` that carries its own templates and schemas."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support.specs import MINIMAL

pytestmark = pytest.mark.realtools

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_carries_grammar_templates_and_schemas(release_wheel: Path) -> None:
    wheel = release_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "compiler/parse/grammar/spec.lark" in names
    assert "compiler/parse/grammar/spec.parser.pickle" in names and "compiler/lark_standalone.py" in names
    assert "compiler/schemas/ir.schema.json" in names
    assert "compiler/templates/README.md" in names
    for path in (ROOT / "templates").rglob("*"):
        if path.is_file():
            assert f"compiler/templates/{path.relative_to(ROOT / 'templates').as_posix()}" in names
    for path in (ROOT / "schemas").rglob("*"):
        if path.is_file():
            assert f"compiler/schemas/{path.relative_to(ROOT / 'schemas').as_posix()}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "shipspec = compiler.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_command_works_away_from_the_checkout(installed_shipspec: Path, tmp_path: Path) -> None:
    venv = installed_shipspec.parent.parent
    work = tmp_path / "elsewhere"
    (work / "specs").mkdir(parents=True)
    (work / "specs" / "demo.ship").write_text(MINIMAL)
    shipspec = str(installed_shipspec)
    r = subprocess.run([shipspec, "validate"], cwd=work, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([shipspec, "export"], cwd=work, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and '"format_version": 1' in r.stdout
    # The installed package must not reach back into this checkout.
    probe = "import compiler.resources as r; print(r.templates_dir()); print(r.schemas_dir())"
    r = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], cwd=work, capture_output=True, text=True, timeout=60
    )
    assert str(ROOT) not in r.stdout and str(venv) in r.stdout
