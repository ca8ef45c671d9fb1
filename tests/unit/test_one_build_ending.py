"""A command that builds the spec once ends as ``validate`` does (``cli.run``, issue 16):
with ``os._exit`` once its output is flushed, holding what it built (``cli._HELD``) instead
of freeing it on the way out. What it writes and reports, and its exit status, are those of
``main`` in-process, which holds nothing."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import cli
from tests.support.k8s_support import write_spec
from tests.support.specs import MINIMAL

ROOT = Path(__file__).resolve().parents[2]
# The program as the console script runs it, with os._exit reporting how it ended first.
PROBE = """
import os, sys
sys.argv = ["shipspec", *sys.argv[1:]]
real_exit = os._exit


def ending(code):
    from compiler import cli

    sys.stdout.flush()
    sys.stderr.write(f"\\n[ended: {code} holding {len(cli._HELD or ())}]\\n")
    sys.stderr.flush()
    real_exit(code)


os._exit = ending
from compiler.cli import run

sys.exit(run())
"""


def _program(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return r.returncode, r.stdout, r.stderr


def _main(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(cwd):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def _tree(root: Path) -> dict[str, bytes]:
    """The files under ``root`` but the build cache's (named by random suffixes and its root's path)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".shipspec" not in p.parts
    }


@pytest.mark.realtools  # a fresh interpreter: how the process ends is the point
@pytest.mark.parametrize("broken", [False, True])
def test_compile_and_check_end_early_with_mains_output_and_status(tmp_path: Path, broken: bool) -> None:
    text = MINIMAL + ("\nmodel broken {\n" if broken else "")
    for side in ("program", "main"):
        write_spec(tmp_path / side / "specs", text)
    ran: dict[str, list[tuple[int, str, str]]] = {}
    # A compile into a new tree writes its cache as it ends, what it built let go first (its
    # peak): it holds nothing. Over the tree it wrote, after an edit, it holds what it built.
    # A check of the tree just written finds it recorded: nothing built, nothing held. A
    # broken spec writes no tree, so each compile is into a new one, and check builds it.
    compile_, check = ["compile", "specs", "--out", "out"], ["check", "specs", "--out", "out"]
    for argv, held, edit in (
        (compile_, 0, False),
        (compile_, 0 if broken else 1, True),
        (check, 1 if broken else 0, False),
    ):
        if edit:
            for side in ("program", "main"):
                spec = tmp_path / side / "specs" / "spec.ship"
                spec.write_text(spec.read_text().replace("cpu 1 ", "cpu 2 "))
        code, out, err = _program(argv, tmp_path / "program")
        ended = f"\n[ended: {code} holding {held}]\n"
        assert err.endswith(ended), err[-2000:]  # ended by os._exit
        ran.setdefault("program", []).append((code, out, err.removesuffix(ended)))
        ran.setdefault("main", []).append(_main(argv, tmp_path / "main"))
    assert ran["program"] == ran["main"]
    assert [code for code, _, _ in ran["program"]] == ([1, 1, 1] if broken else [0, 0, 0])
    assert _tree(tmp_path / "program") == _tree(tmp_path / "main")
    assert (tmp_path / "program" / "out" / ".shipspec").is_dir() is (not broken)
    assert cli._HELD is None  # main in-process holds nothing
