"""Golden cases: ``golden/<case>/specs/*.ship`` rendered into ``golden/<case>/expected/``.

The case ``example`` renders the repository's own ``specs/``. A case whose spec
has errors stores ``expected/diagnostics.txt`` instead of a tree. Each case
also stores its IR export (``shipspec export --format json``) as
``golden/<case>/ir.json``; a case whose spec has errors has none.
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

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden"
REGEN = "python -m tests.regen_golden"
IR_FILE = "ir.json"


def cases() -> list[str]:
    """Every case under golden/, and always ``example`` (the repository's own specs/)."""
    found = {p.name for p in GOLDEN.iterdir() if p.is_dir()} if GOLDEN.is_dir() else set()
    return sorted(found | {"example"})


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


def _run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main(args)
    return rc, out.getvalue()


def export_case(case: str) -> bytes | None:
    """The case's IR export through the real CLI, or None when the spec has errors."""
    with _chdir(case_cwd(case)):
        rc, out = _run(["export", "specs", "--format", "json"])
    return out.encode() if rc == 0 else None


def expected_ir(case: str) -> bytes | None:
    path = GOLDEN / case / IR_FILE
    return path.read_bytes() if path.is_file() else None


def write_ir(case: str, data: bytes | None) -> None:
    path = GOLDEN / case / IR_FILE
    if data is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def render_case(case: str) -> dict[str, bytes]:
    """Compile a case in-process through the real CLI; return {path: bytes}."""
    with tempfile.TemporaryDirectory() as tmp, _chdir(case_cwd(case)):
        rc, out = _run(["compile", "specs", "--out", tmp, "--format", "text"])
        if rc != 0:
            return {"diagnostics.txt": f"exit {rc}\n{out}".encode()}
        files = {}
        for path in sorted(Path(tmp).rglob("*")):
            rel = path.relative_to(tmp).as_posix()
            if path.is_file() and not rel.startswith(".shipspec/"):
                files[rel] = path.read_bytes()
        return files


def write_repository_output() -> tuple[int, str]:
    """Compile the repository's ``specs/`` into its own top level (``deploy/``, ``.github/``,
    ``docs/catalog/``, ``.shipspec/ledger.json``), where they are committed as in any
    deployment repository: the same bytes as the case ``example``'s expected tree."""
    with _chdir(ROOT):
        return _run(["compile", "specs", "--format", "text"])


def check_repository_output() -> tuple[int, str]:
    """``shipspec check`` of the committed top-level output, as CI runs it on a fresh clone
    (without the build cache: a clone has none, and its verdict must not depend on one)."""
    with _chdir(ROOT):
        return _run(["check", "specs", "--no-cache", "--format", "text"])


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
