"""``heap.return_freed_memory``: after a large block is freed, glibc's moving threshold
keeps freed blocks below it in the heap, held by the process; with the threshold fixed
they go back to the system as they are freed (issue 16, target 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Frees a 16 MiB block (glibc then raises its threshold to 16 MiB), then makes 48 blocks
# of 1 MiB with a small block kept between each two, frees the large ones and prints how
# many MiB the resident set kept of them.
_PROGRAM = """
import sys
sys.path.insert(0, sys.argv[2])
from compiler import heap

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

if sys.argv[1] == "fixed":
    assert heap.return_freed_memory()
big = bytearray(16 << 20)
del big
kept, blocks = [], []
before = rss()
for _ in range(48):
    blocks.append(bytearray(1 << 20))
    kept.append(bytearray(2000))
del blocks
print(rss() - before)
"""


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError, AttributeError):
        return False


def _kept(mode: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM, mode, str(ROOT)], capture_output=True, text=True, check=True, timeout=60
    )
    return float(out.stdout)


@pytest.mark.skipif(not (_glibc() and Path("/proc/self/statm").exists()), reason="glibc on Linux only")
def test_freed_blocks_go_back_to_the_system_once_the_threshold_is_fixed() -> None:
    assert _kept("moving") > 32  # what glibc does by default: the 48 MiB freed stay with the process
    assert _kept("fixed") < 8


def test_elsewhere_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler import heap

    def not_glibc(name: str) -> str:
        raise ValueError(name)

    monkeypatch.setattr(heap.os, "confstr", not_glibc)
    assert heap.return_freed_memory() is False


def test_a_one_build_command_fixes_the_threshold_and_the_others_do_not(tmp_path: Path) -> None:
    """``cli.run`` sets it before a compile or check (``_ONE_BUILD``) builds anything, and
    leaves ``validate`` (a pre-commit hook's: no ctypes to import) and ``--watch`` alone."""
    probe = (
        "import sys\n"
        "from compiler import cli, heap\n"
        "calls = []\n"
        "heap.return_freed_memory = lambda: calls.append(1) or True\n"
        "cli.main = lambda *a: print(len(calls), flush=True) or 0\n"
        "sys.argv = ['shipspec', *sys.argv[1:]]\n"
        "cli.run()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    commands = {"compile": ["compile", "x"], "check": ["check", "x"], "validate": ["validate", "x"]}
    commands["watch"] = ["compile", "x", "--watch"]
    calls = {
        name: subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, timeout=60, check=True
        ).stdout.strip()
        for name, args in commands.items()
    }
    assert calls == {"compile": "1", "check": "1", "validate": "0", "watch": "0"}
