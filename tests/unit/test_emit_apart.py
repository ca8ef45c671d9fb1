"""A bulk plan of ``emit.APART_FROM`` files or more is written by two processes: a forked
child writes the second half's temporaries while the compiling process writes the first
(``emit._write_apart``). The tree and its ledger are the same bytes as one process writes;
where the child fails, the compiling process writes its half; an interrupt leaves no
temporary and no child."""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path
from typing import Any

import pytest

from bench.synth import generate
from compiler import emit, fsutil
from compiler.cli import main


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (the ledger included, the cache's directory aside) by path."""
    return {
        os.fspath(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "cache" not in p.relative_to(root).parts
    }


def _compile(specs: Path, out: Path) -> int:
    return main(["compile", str(specs), "--out", str(out), "--format", "json", "--no-cache"])


def _split(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Every plan is a bulk one written apart (on any number of cores); each share written is
    logged with the process that wrote it (a child's appends reach the file)."""
    monkeypatch.setattr(emit, "BULK", 1)
    monkeypatch.setattr(emit, "APART_FROM", 1)
    monkeypatch.setattr(emit, "workers_beside", lambda tasks: 1)
    share = emit._write_share

    def logged(p: emit.Plan, paths: list[str], *rest: Any) -> None:
        with open(log, "a", encoding="utf-8") as fh:
            fh.writelines(f"{os.getpid()} {path}\n" for path in paths)
        share(p, paths, *rest)

    monkeypatch.setattr(emit, "_write_share", logged)


def _writers(log: Path) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        pid, path = line.split(" ", 1)
        out.setdefault(int(pid), []).append(path)
    return out


def _children() -> list[str]:
    me = os.getpid()
    return Path(f"/proc/{me}/task/{me}/children").read_text().split()


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    return generate(tmp_path, 3)


@pytest.fixture
def alone(specs: Path, tmp_path: Path) -> dict[str, bytes]:
    """The tree one process writes (a plan under ``APART_FROM``), to compare with."""
    assert _compile(specs, tmp_path / "alone") == 0
    return _tree(tmp_path / "alone")


def test_a_large_plan_is_written_by_two_processes_into_the_same_bytes(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alone: dict[str, bytes]
) -> None:
    log = tmp_path / "shares.log"
    _split(monkeypatch, log)
    plans: list[emit.Plan] = []
    apply = emit.apply
    monkeypatch.setattr(emit, "apply", lambda p: plans.append(p) or apply(p))
    assert _compile(specs, tmp_path / "apart") == 0
    monkeypatch.undo()
    # The child's sizes came back with its answer: no file's bytes are made again to count them.
    (plan,) = plans
    assert set(plan.sizes) == set(plan.write)
    writers = _writers(log)
    assert len(writers) == 2 and os.getpid() in writers, writers.keys()
    mine = writers.pop(os.getpid())
    (theirs,) = writers.values()
    written = _tree(tmp_path / "apart")
    assert sorted(mine + theirs) == sorted(p for p in written if not p.startswith(".shipspec"))
    assert abs(len(mine) - len(theirs)) <= 1  # halves
    # The ledger records each file's size and digest: the child's sizes reached it.
    assert written == alone
    assert not _children()
    assert main(["check", str(specs), "--out", str(tmp_path / "apart"), "--no-cache"]) == 0


def test_where_the_child_fails_the_compiling_process_writes_its_half(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alone: dict[str, bytes]
) -> None:
    _split(monkeypatch, tmp_path / "shares.log")
    share, parent = emit._write_share, os.getpid()

    def failing(p: emit.Plan, paths: list[str], *rest: Any) -> None:
        if os.getpid() != parent:  # the child: some temporaries written, then an error
            share(p, paths[:3], *rest)
            raise OSError("no space left")
        share(p, paths, *rest)

    monkeypatch.setattr(emit, "_write_share", failing)
    assert _compile(specs, tmp_path / "apart") == 0
    monkeypatch.undo()
    assert not list((tmp_path / "apart").rglob("*.tmp")), "the child's temporaries are gone"
    assert _tree(tmp_path / "apart") == alone
    assert not _children()


def test_a_path_whose_temporary_name_the_child_finds_taken_is_written_in_place(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alone: dict[str, bytes]
) -> None:
    """``_created`` answers None where the temporary's name is taken (a killed compile of a
    process with the same pid left it); the child writes that file in place, and the parent,
    told so, does not rename a temporary that is not there."""
    _split(monkeypatch, tmp_path / "shares.log")
    created, parent = emit._created, os.getpid()
    taken: list[str] = []

    def sometimes_taken(target: Path, suffix: str) -> tuple[int, Path] | None:
        if os.getpid() != parent and not taken:
            taken.append(os.fspath(target))
            return None
        return created(target, suffix)

    monkeypatch.setattr(emit, "_created", sometimes_taken)
    assert _compile(specs, tmp_path / "apart") == 0
    monkeypatch.undo()
    assert _tree(tmp_path / "apart") == alone


@pytest.mark.skipif(not fsutil.can_sync_file_systems(), reason="syncfs(2) is Linux's")
def test_where_syncfs_is_refused_each_directory_the_child_made_is_synced(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _split(monkeypatch, tmp_path / "shares.log")
    monkeypatch.setattr(fsutil, "_SYNCFS", [lambda fd: ctypes.set_errno(errno.EPERM) or -1])
    synced: set[str] = set()
    real = emit._sync_dir_fd

    def sync_dir(fd: int) -> None:
        synced.add(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(emit, "_sync_dir_fd", sync_dir)
    out = tmp_path / "out"
    assert _compile(specs, out) == 0
    monkeypatch.undo()
    made = {os.fspath(p.parent) for p in out.rglob("*") if p.is_file()}
    assert made <= synced, sorted(made - synced)


def test_an_interrupt_while_the_child_writes_leaves_no_temporary_no_file_and_no_child(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _split(monkeypatch, tmp_path / "shares.log")
    share, parent = emit._write_share, os.getpid()

    def interrupted(p: emit.Plan, paths: list[str], *rest: Any) -> None:
        share(p, paths, *rest)
        if os.getpid() == parent:  # the parent's half written, the child's perhaps not yet
            raise KeyboardInterrupt

    monkeypatch.setattr(emit, "_write_share", interrupted)
    out = tmp_path / "out"
    assert _compile(specs, out) == 130
    monkeypatch.undo()
    assert not list(out.rglob("*.tmp"))
    assert not [p for p in out.rglob("*") if p.is_file() and ".shipspec" not in p.parts]
    assert not _children()
    assert _compile(specs, out) == 0


def _log_renames_and_syncs(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Each rename, with the process that made it, and each whole-file-system sync, in the
    order they happened (a child's appends reach the file)."""
    replace, sync = os.replace, fsutil.sync_file_systems

    def logged_replace(src: Any, dst: Any) -> None:
        replace(src, dst)
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"rename {os.getpid()} {os.fspath(dst)}\n")

    def logged_sync(directories: Any) -> bool:
        synced = sync(directories)
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"sync {os.getpid()} -\n")
        return synced

    monkeypatch.setattr(os, "replace", logged_replace)
    monkeypatch.setattr(fsutil, "sync_file_systems", logged_sync)


@pytest.mark.skipif(not fsutil.can_sync_file_systems(), reason="syncfs(2) is Linux's")
def test_the_child_renames_its_half_once_every_temporary_is_synced(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shares, events = tmp_path / "shares.log", tmp_path / "events.log"
    _split(monkeypatch, shares)
    _log_renames_and_syncs(monkeypatch, events)
    out = tmp_path / "out"
    assert _compile(specs, out) == 0
    monkeypatch.undo()
    writers = _writers(shares)
    child = next(pid for pid in writers if pid != os.getpid())
    lines = [line.split(" ", 2) for line in events.read_text(encoding="utf-8").splitlines()]
    outputs = {os.fspath(out / path) for paths in writers.values() for path in paths}
    lines = [(kind, pid, path) for kind, pid, path in lines if kind == "sync" or path in outputs]
    first_sync = next(i for i, (kind, _, _) in enumerate(lines) if kind == "sync")
    renamed = [(int(pid), path) for kind, pid, path in lines if kind == "rename"]
    assert all(kind != "rename" for kind, _, _ in lines[:first_sync]), "an output renamed before it was synced"
    assert len(renamed) == len(outputs)
    by_child = {os.path.relpath(path, out) for pid, path in renamed if pid == child}
    assert by_child == set(writers[child])
    assert {os.path.relpath(path, out) for pid, path in renamed if pid == os.getpid()} >= set(writers[os.getpid()])
    assert not list(out.rglob("*.tmp"))


def test_what_the_child_did_not_rename_the_compiling_process_renames(
    specs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alone: dict[str, bytes]
) -> None:
    _split(monkeypatch, tmp_path / "shares.log")
    replace, parent = os.replace, os.getpid()
    done: list[int] = []

    def failing(src: Any, dst: Any) -> None:
        if os.getpid() != parent and len(done) == 2:
            raise OSError("the child stops after two renames")
        replace(src, dst)
        done.append(1)

    monkeypatch.setattr(os, "replace", failing)
    assert _compile(specs, tmp_path / "apart") == 0
    monkeypatch.undo()
    assert not list((tmp_path / "apart").rglob("*.tmp"))
    assert _tree(tmp_path / "apart") == alone
    assert not _children()
