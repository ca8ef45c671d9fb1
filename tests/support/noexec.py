"""The pytest side of the no-external-program guard (the hook itself: noexec_hook.py).

tests/conftest.py imports these hooks, so every run is guarded: a test without
``@pytest.mark.realtools`` that starts a program (itself, or through a
``python -m compiler`` child) fails, naming the program. The terminal summary
counts the guarded tests and the programs they started, so a
``pytest -m "not realtools"`` run that passes is the proof that the fast suite
starts no external program.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.noexec_hook import LOG_ENV, _state, child_env, install

_LOG_KEY = pytest.StashKey[str]()
_SEEN_KEY = pytest.StashKey[list[int]]()


def _read(log: str) -> list[str]:
    try:
        return Path(log).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def pytest_configure(config: pytest.Config) -> None:
    fd, log = tempfile.mkstemp(prefix="shipspec-noexec-", suffix=".log")
    os.close(fd)
    config.stash[_LOG_KEY] = log
    config.stash[_SEEN_KEY] = [0, 0]  # tests guarded, programs refused
    install(log, active=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    _state["active"] = False
    log = config.stash.get(_LOG_KEY, None)
    if log:
        Path(log).unlink(missing_ok=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    if item.get_closest_marker("realtools") is not None:
        return (yield)
    item.config.stash[_SEEN_KEY][0] += 1
    saved = {k: os.environ.get(k) for k in (LOG_ENV, "PYTHONPATH")}
    os.environ.update(child_env(dict(os.environ)))
    _state["active"] = True
    try:
        return (yield)
    finally:
        _state["active"] = False
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _guarded(item: pytest.Item) -> Any:
    """Run one phase; fail it when it started a program (counted even when the refusal
    already failed it)."""
    if item.get_closest_marker("realtools") is not None:
        return (yield)
    log = item.config.stash[_LOG_KEY]
    before = len(_read(log))
    try:
        result = yield
    finally:
        started = _read(log)[before:]
        item.config.stash[_SEEN_KEY][1] += len(started)
    if started:
        pytest.fail(
            "started an external program without @pytest.mark.realtools "
            "(move the test to tests/live/):\n  " + "\n  ".join(started),
            pytrace=False,
        )
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> object:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    return (yield from _guarded(item))


def pytest_sessionfinish(session: pytest.Session) -> None:
    # An xdist worker's counts travel to the controller, which writes the one summary.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["noexec_seen"] = list(session.config.stash.get(_SEEN_KEY, [0, 0]))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    seen = node.config.stash[_SEEN_KEY]
    for i, n in enumerate(getattr(node, "workeroutput", {}).get("noexec_seen", [0, 0])):
        seen[i] += n


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    guarded, refused = config.stash.get(_SEEN_KEY, [0, 0])
    terminalreporter.write_line(
        f"noexec guard: {guarded} tests ran without realtools; external programs they started: {refused}"
    )
