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
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_smoke_without_a_server_fails_clearly() -> None:
    (port,) = free_ports(1)
    r = smoke(f"127.0.0.1:{port}", "prod")
    # Unreachable: exit 2, as for load (issue 13); 1 is a failed check.
    assert r.returncode == 2 and "does not answer" in r.stdout and "Traceback" not in r.stderr


def test_smoke_unknown_environment() -> None:
    (port,) = free_ports(1)
    r = smoke(f"127.0.0.1:{port}", "nowhere")
    assert r.returncode == 1 and "no environment 'nowhere'" in r.stdout


def test_comparing_repeated_fields_uses_no_deprecated_protobuf_api() -> None:
    # FieldDescriptor.label is deprecated in protobuf 6 (a DeprecationWarning, an error under
    # the suite's filterwarnings); the comparison reads is_repeated instead.
    import warnings

    from compiler.backends.triton.validate import parse_config
    from compiler.commands.smoke import subset_mismatches

    git = parse_config(
        'name: "m" input [{ name: "A" data_type: TYPE_FP32 dims: [2, 3] }] instance_group [{ kind: KIND_CPU count: 2 }]'
    )
    served = parse_config(
        'name: "m" input [{ name: "A" data_type: TYPE_FP32 dims: [2, 4] }] instance_group [{ kind: KIND_GPU count: 2 }]'
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problems = subset_mismatches(git, served, "", frozenset())
    assert problems == [
        "input[0].dims: served [2, 4], Git has [2, 3]",
        "instance_group[0].kind: served 'KIND_GPU', Git has 'KIND_CPU'",
    ]
