"""Issue 17, point 17: --templates overrides render in Jinja's sandbox. The shipped
templates render byte-identically there (every golden case, compiled with an
override directory that replaces nothing), and a template that reaches for
Python internals is refused (exit 2), not run."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import jinja2.sandbox
import pytest

from compiler.backends.render import Templates
from compiler.cli import main
from tests.support.golden import _chdir, case_cwd, cases, expected

ROOT = Path(__file__).resolve().parents[2]


def compile_with_override(case: str, override: Path) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp, _chdir(case_cwd(case)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            rc = main(["compile", "specs", "--out", tmp, "--format", "text", "--templates", str(override)])
        if rc != 0:
            return {"diagnostics.txt": f"exit {rc}\n{out.getvalue()}".encode()}
        return {
            p.relative_to(tmp).as_posix(): p.read_bytes()
            for p in sorted(Path(tmp).rglob("*"))
            if p.is_file() and not p.relative_to(tmp).as_posix().startswith(".shipspec/")
        }


def test_an_override_directory_selects_the_sandbox(tmp_path: Path) -> None:
    assert isinstance(Templates.load(tmp_path).env, jinja2.sandbox.SandboxedEnvironment)
    assert not isinstance(Templates.load(None).env, jinja2.sandbox.SandboxedEnvironment)


@pytest.mark.parametrize("case", [c for c in cases() if "diagnostics.txt" not in expected(c)])
def test_shipped_templates_render_byte_identically_in_the_sandbox(case: str, tmp_path: Path) -> None:
    got = compile_with_override(case, tmp_path)
    want = expected(case)
    assert sorted(got) == sorted(want)
    assert [p for p in want if got[p] != want[p]] == []


PAYLOAD = "{{ ''.__class__.__mro__[1].__subclasses__() }}"


def test_a_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    override = tmp_path / "templates" / "github"
    override.mkdir(parents=True)
    shipped = (ROOT / "templates" / "github" / "shipspec.yml.j2").read_text()
    (override / "shipspec.yml.j2").write_text(PAYLOAD + "\n" + shipped)
    err = io.StringIO()
    with _chdir(ROOT), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = main(["compile", "specs", "--out", str(tmp_path / "out"), "--templates", str(tmp_path / "templates")])
    assert rc == 2
    assert "shipspec: error: template " in err.getvalue() and "unsafe" in err.getvalue()
    assert "internal error" not in err.getvalue()
    assert not (tmp_path / "out" / ".github").exists()
