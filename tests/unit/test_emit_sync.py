"""What emit makes durable, and in which order, now that a batch of files is synced at once
(``fsutil.Syncs``): each file's data before its rename, each directory after the renames
into it; an interrupt in the middle leaves no temporary and no open descriptor."""

from __future__ import annotations

import ctypes
import errno
import gc
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from compiler import emit, fsutil
from compiler.emit import LEDGER
from tests.unit.test_emit import SECOND, SPEC, run

EXTRA = "\n".join(SECOND.replace("model reg", f"model reg{i}").replace("2.0.0", f"2.0.{i}") for i in range(4))


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "main.ship").write_text(SPEC)
    (specs / "more.ship").write_text(EXTRA)
    return specs, tmp_path / "out"


def _open_files() -> set[str]:
    """What this process has open (listing the descriptors opens one: it is gone when read)."""
    gc.collect()  # (a spooled output's temporary file goes with its last reference)
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            held.add(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:
            pass
    return held


def _outputs(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and ".shipspec" not in p.parts]


def test_each_file_is_synced_before_its_rename_and_each_directory_after(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, out = tree
    monkeypatch.setattr(emit, "_batch_size", lambda: 5)  # several batches, and a last one shorter
    monkeypatch.setattr(fsutil, "_ALONE", 2)  # and synced in lanes
    events: list[tuple[str, int, str]] = []
    lock = threading.Lock()
    lanes: set[int] = set()
    real_sync, real_dir, real_replace = fsutil.fdatasync, emit._sync_dir_fd, os.replace

    def sync(fd: int) -> None:
        real_sync(fd)
        time.sleep(0.001)  # as a sync that waits for the disk: the other lanes take their share
        with lock:
            events.append(("sync", os.fstat(fd).st_ino, ""))
            lanes.add(threading.get_ident())

    def sync_dir(fd: int) -> None:
        real_dir(fd)
        with lock:
            events.append(("dir", os.fstat(fd).st_ino, ""))

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        inode = os.stat(src).st_ino
        real_replace(src, dst)
        with lock:
            events.append(("rename", inode, os.fspath(dst)))

    real_created = emit._created

    def created(target: Path, suffix: str) -> tuple[int, Path] | None:
        with lock:
            events.append(("created", 0, os.fspath(target)))
        return real_created(target, suffix)

    monkeypatch.setattr(fsutil, "fdatasync", sync)
    monkeypatch.setattr(emit, "_sync_dir_fd", sync_dir)
    monkeypatch.setattr(emit, "_created", created)
    monkeypatch.setattr(os, "replace", replace)
    assert run("compile", str(specs), "--out", str(out))[0] == 0
    monkeypatch.undo()

    outputs = _outputs(out)
    assert len(outputs) > 2 * 5, "the tree must span several batches"
    renamed = {dst: (at, inode) for at, (kind, inode, dst) in enumerate(events) if kind == "rename"}
    for path in outputs:
        at, inode = renamed[os.fspath(path)]
        assert ("sync", inode, "") in events[:at], f"{path} renamed before its data was synced"
        parent = path.parent.stat().st_ino
        assert ("dir", parent, "") in events[at:], f"{path.parent} not synced after {path.name} went in"
    assert len(lanes) > 1, "a batch's syncs ran in one thread"
    # The second batch is written while the first syncs: before any of the first is renamed.
    kinds = [kind for kind, _, dst in events if kind in ("created", "rename") and ".shipspec" not in dst]
    assert kinds[:10] == ["created"] * 10, kinds[:12]
    assert run("check", str(specs), "--out", str(out))[0] == 0


def test_an_interrupt_while_a_batch_syncs_leaves_no_temporary_and_no_descriptor(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, out = tree
    monkeypatch.setattr(emit, "_batch_size", lambda: 6)
    monkeypatch.setattr(fsutil, "_ALONE", 2)
    calls = iter(range(1_000_000))
    real_sync = fsutil.fdatasync

    def sync(fd: int) -> None:
        if next(calls) == 8:  # in the second batch's lanes
            raise KeyboardInterrupt
        real_sync(fd)

    open_before = _open_files()
    monkeypatch.setattr(fsutil, "fdatasync", sync)
    assert run("compile", str(specs), "--out", str(out))[0] == 130  # the CLI's answer to an interrupt
    monkeypatch.undo()
    assert _open_files() == open_before
    assert not [t for t in threading.enumerate() if t.name.startswith("shipspec-sync")]
    assert not list(out.rglob("*.tmp"))
    assert 0 < len(_outputs(out))  # the first batch went in
    rc, _, err = run("compile", str(specs), "--out", str(out))
    assert rc == 0 and "SS901" not in err, err
    assert run("check", str(specs), "--out", str(out))[0] == 0


def test_a_rewritten_file_keeps_its_mode_and_a_new_one_is_0644_whatever_the_umask(tree: tuple[Path, Path]) -> None:
    specs, out = tree
    old = os.umask(0o077)
    try:
        assert run("compile", str(specs), "--out", str(out))[0] == 0
        target = out / "deploy/prod/scaledobject-clf.yaml"
        assert all(p.stat().st_mode & 0o777 == 0o644 for p in _outputs(out))
        target.chmod(0o600)
        before = target.read_bytes()
        (specs / "main.ship").write_text(SPEC.replace("replicas 2..4", "replicas 2..6"))
        assert run("compile", str(specs), "--out", str(out))[0] == 0
    finally:
        os.umask(old)
    assert target.read_bytes() != before and target.stat().st_mode & 0o777 == 0o600
    assert (out / LEDGER).exists()


def test_syncs_syncs_each_descriptor_once_and_raises_after_every_lane_ends() -> None:
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def sync(fd: int) -> None:
        if fd == 3:
            raise OSError("disk")
        time.sleep(0.002)  # as a sync that waits for the disk: the other lanes take their share
        with lock:
            seen.append((fd, threading.get_ident()))

    with fsutil.Syncs(sync) as syncs:
        with pytest.raises(OSError, match="disk"):
            syncs.each(list(range(40)))
        # Lane 3 stops at its failure (3, 19, 35: nothing of it is renamed); every other lane ended first.
        assert sorted(fd for fd, _ in seen) == [fd for fd in range(40) if fd not in (3, 19, 35)]
        seen.clear()
        syncs.each(list(range(100, 140)))
        assert sorted(fd for fd, _ in seen) == list(range(100, 140))
        assert len({lane for _, lane in seen}) > 1
        seen.clear()
        syncs.each(list(range(200, 200 + fsutil._ALONE - 1)))  # a few: in the caller's thread
        assert {lane for _, lane in seen} == {threading.get_ident()}
    assert not [t for t in threading.enumerate() if t.name.startswith("shipspec-sync")]


def test_batches_fit_the_descriptor_limit() -> None:
    assert emit._batch_size(256) == 69  # macOS's default soft limit: two batches and the rest fit
    assert emit._batch_size(1024) == emit._batch_size(20_000) == emit._batch_size(resource.RLIM_INFINITY) == 256
    assert emit._batch_size(40) == 4


def test_a_compile_under_a_low_descriptor_limit_writes_every_file(tree: tuple[Path, Path]) -> None:
    """Two batches of files are open at once: under a soft limit of 64 a cold compile still
    writes its whole tree, in batches sized to fit."""
    specs, out = tree

    def low() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    cmd = [sys.executable, "-m", "compiler", "compile", str(specs), "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, preexec_fn=low, check=False)
    assert done.returncode == 0, done.stderr
    assert len(_outputs(out)) > 2 * emit._batch_size(64)
    assert run("check", str(specs), "--out", str(out))[0] == 0


def _bulk_events(monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> list[tuple[str, str]]:
    """Make every plan a bulk one (``emit.BULK``) and record, in order: each temporary
    created, each whole-file-system sync (with the directories it was given), each rename,
    each per-file sync, and the journal's end. ``fail_at``: the sync of that index raises
    an interrupt instead."""
    events: list[tuple[str, str]] = []
    real_sync_fs, real_replace, real_created = fsutil.sync_file_systems, os.replace, emit._created
    real_end, real_fdatasync = emit.emit_journal.end_journal, fsutil.fdatasync

    def sync_fs(directories: Any) -> bool:
        directories = list(directories)
        if fail_at is not None and sum(kind == "syncfs" for kind, _ in events) == fail_at:
            raise KeyboardInterrupt
        synced = real_sync_fs(directories)
        if synced:
            events.append(("syncfs", "\n".join(sorted({os.fspath(d) for d in directories}))))
        return synced

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_replace(src, dst)
        events.append(("rename", os.fspath(dst)))

    def created(target: Path, suffix: str) -> tuple[int, Path] | None:
        events.append(("created", os.fspath(target)))
        return real_created(target, suffix)

    def fdatasync(fd: int) -> None:
        events.append(("fdatasync", ""))
        real_fdatasync(fd)

    def end(root: Path) -> None:
        events.append(("journal ends", ""))
        real_end(root)

    monkeypatch.setattr(emit, "BULK", 1)
    monkeypatch.setattr(emit, "_batch_size", lambda: 5)  # several batches
    monkeypatch.setattr(fsutil, "sync_file_systems", sync_fs)
    monkeypatch.setattr(fsutil, "fdatasync", fdatasync)
    monkeypatch.setattr(emit, "_created", created)
    monkeypatch.setattr(emit.emit_journal, "end_journal", end)
    monkeypatch.setattr(os, "replace", replace)
    return events


@pytest.mark.skipif(not fsutil.can_sync_file_systems(), reason="syncfs(2) is Linux's")
def test_a_bulk_plan_syncs_its_file_system_before_the_renames_and_again_before_the_ledger(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan of thousands of files (here every plan: ``BULK`` 1) syncs the file system once
    its temporaries are written, renames them, and syncs it again before the ledger vouches
    for them: no file is synced one by one, and each file's data is durable before its
    rename as with a sync per file."""
    specs, out = tree
    events = _bulk_events(monkeypatch)
    assert run("compile", str(specs), "--out", str(out))[0] == 0
    monkeypatch.undo()

    outputs = {os.fspath(p) for p in _outputs(out)}
    assert len(outputs) > 2 * 5, "the tree must span several batches"
    kinds = [kind for kind, _ in events]
    assert kinds.count("syncfs") == 2 and "fdatasync" not in kinds, kinds
    first, second = (i for i, kind in enumerate(kinds) if kind == "syncfs")
    created = {path for kind, path in events[:first] if kind == "created"}
    renamed = [path for kind, path in events[first:second] if kind == "rename"]
    assert created == outputs and sorted(renamed) == sorted(outputs)
    assert not [path for kind, path in events if kind == "created" and events.index((kind, path)) > first]
    # Each file system a temporary is on is synced: it is given each temporary's directory.
    assert {os.fspath(Path(path).parent) for path in outputs} <= set(events[first][1].split("\n"))
    ledger = os.fspath(out / LEDGER)
    assert kinds.index("journal ends") > events.index(("rename", ledger)) > second
    assert run("check", str(specs), "--out", str(out))[0] == 0


@pytest.mark.skipif(not fsutil.can_sync_file_systems(), reason="syncfs(2) is Linux's")
def test_an_interrupt_in_a_bulk_plans_sync_leaves_no_temporary_no_file_and_no_descriptor(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    specs, out = tree
    open_before = _open_files()
    _bulk_events(monkeypatch, fail_at=0)
    assert run("compile", str(specs), "--out", str(out))[0] == 130
    monkeypatch.undo()
    assert _open_files() == open_before
    assert not list(out.rglob("*.tmp"))
    assert _outputs(out) == []  # nothing was renamed before the data was durable
    rc, _, err = run("compile", str(specs), "--out", str(out))
    assert rc == 0 and "SS901" not in err, err
    assert run("check", str(specs), "--out", str(out))[0] == 0


@pytest.mark.skipif(not fsutil.can_sync_file_systems(), reason="syncfs(2) is Linux's")
def test_sync_file_systems_syncs_each_file_system_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = Path("/dev/shm")
    if not other.is_dir() or other.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system to sync")
    (tmp_path / "a").mkdir()
    synced: list[int] = []
    real = fsutil._syncfs()
    assert real is not None

    def syncfs(fd: int) -> int:
        synced.append(os.fstat(fd).st_dev)
        return real(fd)

    monkeypatch.setattr(fsutil, "_SYNCFS", [syncfs])
    fsutil.sync_file_systems([tmp_path, tmp_path / "a", other, tmp_path / "gone"])
    assert sorted(synced) == sorted({tmp_path.stat().st_dev, other.stat().st_dev})
    monkeypatch.setattr(fsutil, "_SYNCFS", [_failing(errno.EIO)])
    with pytest.raises(OSError, match="Input/output error"):
        fsutil.sync_file_systems([tmp_path])
    monkeypatch.setattr(fsutil, "_SYNCFS", [_failing(errno.ENOSYS)])
    assert fsutil.sync_file_systems([tmp_path]) is False  # unusable here: the caller syncs each file
    assert not fsutil.can_sync_file_systems()


def _failing(code: int) -> Any:
    def syncfs(fd: int) -> int:
        ctypes.set_errno(code)
        return -1

    return syncfs


@pytest.mark.skipif(not fsutil.can_sync_file_systems(), reason="syncfs(2) is Linux's")
def test_a_bulk_plan_where_syncfs_is_refused_syncs_each_file_before_its_rename(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sandbox that refuses syncfs (EPERM from a seccomp filter): each temporary's data is
    synced one by one before any rename, each directory after, and the compile succeeds."""
    specs, out = tree
    events = _bulk_events(monkeypatch)
    monkeypatch.setattr(fsutil, "_SYNCFS", [_failing(errno.EPERM)])
    dirs: list[str] = []
    real_dir = emit._sync_dir_fd
    monkeypatch.setattr(emit, "_sync_dir_fd", lambda fd: dirs.append("dir") or real_dir(fd))
    assert run("compile", str(specs), "--out", str(out))[0] == 0
    monkeypatch.undo()
    outputs = _outputs(out)
    kinds = [kind for kind, _ in events]
    assert "syncfs" not in kinds
    written = {os.fspath(p) for p in outputs}
    first_rename = next(i for i, (kind, path) in enumerate(events) if kind == "rename" and path in written)
    assert kinds[:first_rename].count("fdatasync") >= len(outputs), "each file synced before any rename"
    assert dirs, "each directory synced after the renames"
    assert run("check", str(specs), "--out", str(out))[0] == 0


@pytest.mark.skipif(not fsutil.can_sync_file_systems(), reason="syncfs(2) is Linux's")
def test_a_bulk_plan_holds_no_path_per_file_while_its_file_system_syncs(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporaries waiting for the sync are named again when renamed, not held: a pair
    of ``Path`` objects for each file was 20 MiB of a cold compile's peak at 1,000 models."""
    specs, out = tree
    monkeypatch.setattr(emit, "BULK", 1)
    monkeypatch.setattr(emit, "_batch_size", lambda: 5)
    held: list[int] = []
    real = fsutil.sync_file_systems

    def sync_fs(directories: Any) -> bool:
        directories = list(directories)
        if not held:
            gc.collect()
            held.append(sum(1 for o in gc.get_objects() if isinstance(o, Path) and o.name.endswith(".tmp")))
        return real(directories)

    monkeypatch.setattr(fsutil, "sync_file_systems", sync_fs)
    assert run("compile", str(specs), "--out", str(out))[0] == 0
    monkeypatch.undo()
    assert len(_outputs(out)) > 50
    assert held == [0], "temporaries held as paths through the sync"
