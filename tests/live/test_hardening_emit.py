"""Issue 17, points 13 and 18: a compile killed at any point leaves nothing the
next compile mistakes for a hand edit or leaves behind, and concurrent compiles
into one tree are serialised. Real processes, real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.synth import generate
from compiler.emit_journal import locked
from tests.unit.test_emit import SPEC, run, snapshot, tree  # noqa: F401 - the fixture

pytestmark = pytest.mark.realtools  # real processes (python -m compiler, git)

ROOT = Path(__file__).resolve().parents[2]


def compile_proc(specs: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "compiler", "compile", str(specs), "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_leftover_temporaries_are_removed_and_never_committed(tree: tuple[Path, Path]) -> None:
    specs, out = tree
    assert run("compile", str(specs), "--out", str(out), "--format", "text")[0] == 0
    # What a kill between creating and renaming a temporary leaves (emit._created, fsutil.write_atomic).
    left = [
        out / "deploy/staging/.deployment-reg.yaml.4242.tmp",
        out / "deploy/argocd/.app-of-apps.yaml.k3j_x9qz.tmp",
        out / ".shipspec/.ledger.json.abcd1234.tmp",
        out / ".shipspec/.journal.json.k3j_x9qz.tmp",
    ]
    for p in left:
        p.write_bytes(b"")
    keep = out / "deploy/staging/.notes.tmp"  # not a temporary of an output: not ours
    keep.write_bytes(b"mine")
    (specs / "reg.ship").write_text((specs / "reg.ship").read_text().replace("2.0.0", "2.0.1"))
    rc, _, err = run("compile", str(specs), "--out", str(out), "--format", "text")
    assert rc == 0, err
    assert not any(p.exists() for p in left) and keep.read_bytes() == b"mine"


def test_a_killed_compile_is_not_mistaken_for_hand_edits(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    generate(a, 40)
    generate(b, 40)
    for f in b.rglob("*.ship"):  # spec B differs from A in every served model
        f.write_text(f.read_text().replace("memory 2Gi", "memory 3Gi").replace("replicas 2..", "replicas 3.."))
    first = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", str(a), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    killed_mid_write = 0
    for attempt in range(3):
        proc = compile_proc(b, out)
        ledger, journal = out / ".shipspec/ledger.json", out / ".shipspec/journal.json"
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if journal.exists():
                break  # the journal is written: files are being replaced now
            time.sleep(0.005)
        time.sleep(0.01 * attempt)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed_mid_write += 1
        proc.wait(timeout=60)
        # Compiling A again: nothing "edited by hand", nothing left over, and check is clean.
        rc, stdout, err = run("compile", str(a), "--out", str(out), "--format", "text")
        assert rc == 0 and "SS901" not in stdout and "SS902" not in stdout, stdout[:2000]
        assert not list(out.rglob("*.tmp"))
        assert run("check", str(a), "--out", str(out), "--format", "text")[0] == 0
        assert "pending" not in json.loads(ledger.read_text()) and not journal.exists()
    assert killed_mid_write >= 1


def test_a_second_compile_waits_for_the_first(tree: tuple[Path, Path]) -> None:
    specs, out = tree
    out.mkdir()
    with locked(out):
        proc = compile_proc(specs, out)
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=8)  # a compile of this spec takes ~1 s unlocked
        assert not (out / ".shipspec").exists()
    assert proc.wait(timeout=120) == 0
    assert (out / ".shipspec/ledger.json").exists()


def test_concurrent_compiles_leave_one_complete_state(tree: tuple[Path, Path], tmp_path: Path) -> None:
    specs, out = tree
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.ship").write_text(SPEC)
    procs = [compile_proc(specs, out), compile_proc(other, out)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    ok = [run("check", str(s), "--out", str(out), "--format", "text")[0] == 0 for s in (specs, other)]
    assert sorted(ok) == [False, True]
    files = snapshot(out)
    ledger = json.loads(files.pop(".shipspec/ledger.json"))["files"]
    assert set(ledger) == set(files)
