"""The no-external-program guard's hook: a test not marked ``realtools`` may not start a program.

Always on. While a test without the ``realtools`` marker runs (setup, call and
teardown), a ``sys.addaudithook`` hook watches every way CPython starts a program
(``subprocess.Popen``, ``os.exec*``, ``os.posix_spawn*``, ``os.spawn*``, ``os.system``,
``pty.spawn``): each one is recorded and refused, and the test fails naming it, even
when the test caught the refusal. ``os.fork`` stays allowed: the compiler forks
workers for large specs (``multiprocessing`` "fork"), which runs no other program.

One program is allowed: this interpreter (``sys.executable``), which the CLI tests
use to run ``python -m compiler`` or a ``-c`` probe of the compiler's own code. The
guard follows it there: such a child gets ``SHIPSPEC_NOEXEC_LOG`` and a
``PYTHONPATH`` entry whose ``sitecustomize`` installs this same hook, so a program
that the child starts (``git`` from ``shipspec diff``, say) is recorded in the
same log and fails the test too.

Stdlib only: a child interpreter imports it at start-up (noexec_site/sitecustomize.py);
the pytest side is tests/support/noexec.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

LOG_ENV = "SHIPSPEC_NOEXEC_LOG"
SITE_DIR = str(Path(__file__).resolve().parent / "noexec_site")
# Audit events that start a program (see the CPython audit events table).
EXEC_EVENTS = frozenset({"subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "pty.spawn"})


class ExternalProgramRefused(RuntimeError):
    """Raised in place of starting a program from a test not marked realtools."""


_state: dict[str, Any] = {"active": False, "log": None, "installed": False}


def _program(event: str, args: tuple[Any, ...]) -> str:
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        if executable is not None:
            return os.fsdecode(executable)
        if isinstance(argv, (str, bytes, os.PathLike)):
            return os.fsdecode(argv)
        return os.fsdecode(list(argv)[0]) if argv else "?"
    if event == "os.system":
        return os.fsdecode(args[0])
    return os.fsdecode(args[0]) if args else "?"


def _own_interpreter(program: str) -> bool:
    return program == sys.executable or os.path.abspath(program) == os.path.abspath(sys.executable)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _state["active"] or event not in EXEC_EVENTS:
        return
    program = _program(event, args)
    if event in ("subprocess.Popen", "os.exec", "os.posix_spawn") and _own_interpreter(program):
        env = args[3] if event == "subprocess.Popen" else args[2]
        if isinstance(env, dict):  # an explicit environment: carry the guard into it
            env.update(child_env(env))
        return
    line = f"{os.getpid()} {event}: {program}"
    log = _state["log"]
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    raise ExternalProgramRefused(f"started an external program without @pytest.mark.realtools: {line}")


def install(log: str | None, *, active: bool) -> None:
    """Add the audit hook (once per process) and point it at ``log``."""
    _state["log"], _state["active"] = log, active
    if not _state["installed"]:
        sys.addaudithook(_hook)
        _state["installed"] = True


def child_env(base: dict[str, str]) -> dict[str, str]:
    """The variables that carry the guard into a child interpreter started with ``base``."""
    if not _state["log"]:
        return {}
    path = base.get("PYTHONPATH", "")
    parts = path.split(os.pathsep) if path else []
    return {LOG_ENV: _state["log"], "PYTHONPATH": os.pathsep.join([SITE_DIR, *(p for p in parts if p != SITE_DIR)])}
