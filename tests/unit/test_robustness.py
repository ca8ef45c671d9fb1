"""No input, however broken, produces a Python traceback; exit codes stay meaningful."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.cli import main
from tests.support.specs import MINIMAL


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def write(tmp_path: Path, data: bytes) -> Path:
    (tmp_path / "specs").mkdir(exist_ok=True)
    path = tmp_path / "specs" / "x.ship"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("binary", bytes(range(256)) * 4, "SS002"),
        ("invalid utf-8", b'project p {\n  registry "\xff\xfe"\n}\n', "SS002"),
        ("nul byte", b"project p {}\x00", "SS002"),
        ("ten megabytes", b"# " + b"x" * (10 * 1024 * 1024) + b"\n", "SS003"),
        ("deep nesting", b"model m " + b"{" * 50_000 + b"}" * 50_000, "SS014"),
        ("deep brackets", b"model m { preferred " + b"[" * 5000, "SS014"),
    ],
)
def test_hostile_files_are_diagnosed(tmp_path: Path, name: str, data: bytes, code: str) -> None:
    write(tmp_path, data)
    r = run_cli(["validate", "--format", "json"], tmp_path)
    assert "Traceback" not in r.stderr + r.stdout, name
    assert r.returncode == 1 and code in r.stdout, (name, r.stdout[:500], r.stderr[:500])


def test_invalid_utf8_position_is_exact(tmp_path: Path) -> None:
    write(tmp_path, b'project p {\n  registry "ab\xff"\n}\n')
    r = run_cli(["validate"], tmp_path)
    assert "specs/x.ship:2:15: error[SS002]: invalid UTF-8 byte 0xff" in r.stdout


def test_empty_spec_directory_and_empty_file(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    r = run_cli(["validate"], tmp_path)
    assert r.returncode == 1 and "SS004" in r.stdout
    write(tmp_path, b"")
    r = run_cli(["validate"], tmp_path)
    assert r.returncode == 1 and "SS109" in r.stdout  # an empty spec has no project


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli(["validate"], tmp_path).returncode == 2  # no specs/ here
    assert run_cli(["frobnicate"], tmp_path).returncode == 2
    r = run_cli(["validate", "--format", "xml"], tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run_cli(["compile", "--templates", str(tmp_path / "nope")], Path(__file__).resolve().parents[2])
    assert r.returncode == 2 and "not a directory" in r.stderr


def test_missing_path_is_a_diagnostic(tmp_path: Path) -> None:
    r = run_cli(["validate", "nope.ship"], tmp_path)
    assert r.returncode == 1 and "nope.ship:1:1: error[SS001]" in r.stdout


def test_random_mutations_never_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Cheap fuzzing in-process: delete, duplicate and swap slices of a valid spec."""
    rng = random.Random(20261122)
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    path = spec_dir / "x.ship"
    alphabet = ['"', "{", "}", "[", "]", "->", "..", "%", "#", "\n", "-1", "99.9%", "p99", "@a/b", "=", ",", "\\"]
    for _ in range(300):
        text = MINIMAL
        for _ in range(rng.randint(1, 4)):
            i, j = sorted(rng.randrange(len(text)) for _ in range(2))
            op = rng.randrange(3)
            if op == 0:
                text = text[:i] + text[j:]
            elif op == 1:
                text = text[:i] + rng.choice(alphabet) + text[i:]
            else:
                text = text[:i] + text[i:j][::-1] + text[j:]
        path.write_text(text)
        for args in (["validate", str(spec_dir), "--format", "json"], ["fmt", str(spec_dir)]):
            rc = main(args)
            assert rc in (0, 1), (rc, text)
    out = capsys.readouterr()
    assert "internal error" not in out.err
