"""``shipspec smoke`` where no server answers: the command fails clearly (no tritonserver needed;
the runs against a real server are tests/live/test_smoke.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.procs import free_ports

ROOT = Path(__file__).resolve().parents[3]


def smoke(url: str, env: str, *extra: str, specs: str = "specs") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", "smoke", specs, "--url", url, "--env", env, "--timeout", "5", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_smoke_without_a_server_fails_clearly() -> None:
    (port,) = free_ports(1)
    r = smoke(f"127.0.0.1:{port}", "prod")
    assert r.returncode == 1 and "does not answer" in r.stdout and "Traceback" not in r.stderr


def test_smoke_unknown_environment() -> None:
    (port,) = free_ports(1)
    r = smoke(f"127.0.0.1:{port}", "nowhere")
    assert r.returncode == 1 and "no environment 'nowhere'" in r.stdout
