"""Golden cases: ``golden/<case>/specs/*.ship`` rendered into ``golden/<case>/expected/``.

The case ``example`` renders the repository's own ``specs/``. A case whose spec
has errors stores ``expected/diagnostics.txt`` instead of a tree.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "golden"
REGEN = "python -m tests.regen_golden"


def cases() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) if GOLDEN.is_dir() else []


def case_cwd(case: str) -> Path:
    return ROOT if case == "example" else GOLDEN / case


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def render_case(case: str) -> dict[str, bytes]:
    """Compile a case in-process through the real CLI; return {path: bytes}."""
    with tempfile.TemporaryDirectory() as tmp, _chdir(case_cwd(case)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            rc = main(["compile", "specs", "--out", tmp, "--format", "text"])
        if rc != 0:
            return {"diagnostics.txt": f"exit {rc}\n{out.getvalue()}".encode()}
        files = {}
        for path in sorted(Path(tmp).rglob("*")):
            rel = path.relative_to(tmp).as_posix()
            if path.is_file() and not rel.startswith(".shipspec/"):
                files[rel] = path.read_bytes()
        return files


def expected(case: str) -> dict[str, bytes]:
    root = GOLDEN / case / "expected"
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_expected(case: str, files: dict[str, bytes]) -> None:
    root = GOLDEN / case / "expected"
    if root.exists():
        shutil.rmtree(root)
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
