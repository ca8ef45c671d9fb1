"""Issue 17, points 1-3: a tampered ledger or a symlink cannot make shipspec read,
write or remove anything outside the output root (through the real CLI)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from compiler.emit import LEDGER
from tests.unit.test_emit import run, snapshot, tree  # noqa: F401 - the fixture

SECRET = b"root:x:0:0:the content of a file outside the tree\n"


def compiled(tree: tuple[Path, Path]) -> tuple[Path, Path]:
    specs, out = tree
    rc, _, err = run("compile", str(specs), "--out", str(out), "--format", "text")
    assert rc == 0, err
    return specs, out


def plant(out: Path, entries: dict[str, str]) -> None:
    path = out / LEDGER
    data = json.loads(path.read_text())
    data["files"].update(entries)
    path.write_text(json.dumps(data, indent=2) + "\n")


def victim(tmp_path: Path) -> tuple[Path, str]:
    v = tmp_path / "victim.txt"
    v.write_bytes(SECRET)
    return v, hashlib.sha256(SECRET).hexdigest()


@pytest.mark.parametrize("force", [False, True])
def test_a_ledger_entry_outside_the_root_is_never_removed(tree: tuple[Path, Path], tmp_path: Path, force: bool) -> None:
    specs, out = compiled(tree)
    v, sha = victim(tmp_path)
    plant(out, {"../victim.txt": sha, str(v): "0" * 64, "deploy/../../victim.txt": sha})
    rc, stdout, err = run("compile", str(specs), "--out", str(out), "--format", "text", *(["--force"] if force else []))
    assert rc == 1
    assert v.read_bytes() == SECRET
    assert stdout.count("SS904") == 3 and "removed" not in err
    assert re.search(r"ledger.json:\d+:5: error\[SS904\]: ledger entry .\.\./victim.txt", stdout)


def test_check_never_discloses_a_file_named_in_the_ledger(tree: tuple[Path, Path], tmp_path: Path) -> None:
    specs, out = compiled(tree)
    v, _ = victim(tmp_path)
    plant(
        out,
        {
            "/etc/passwd": "0" * 64,
            "../../../../proc/self/environ": "0" * 64,
            str(v): "0" * 64,
            "../victim.txt": "0" * 64,
        },
    )
    rc, stdout, err = run("check", str(specs), "--out", str(out), "--format", "text")
    assert rc == 1
    assert "SS904" in stdout
    for leaked in (b"root:", SECRET, os.environ.get("PATH", "PATH").encode()):
        assert leaked not in (stdout + err).encode()


@pytest.mark.parametrize(
    "entry", ["specs/main.ship", "deploy/./x.yaml", "deploy//x.yaml", "deploy/x\nyaml", "C:/x", "deploy\\..\\..\\x", ""]
)
def test_entries_of_a_kind_shipspec_never_writes_are_refused(tree: tuple[Path, Path], entry: str) -> None:
    specs, out = compiled(tree)
    plant(out, {entry: "0" * 64})
    rc, stdout, _ = run("compile", str(specs), "--out", str(out), "--format", "text", "--force")
    assert rc == 1 and "SS904" in stdout


def test_a_symlinked_directory_out_of_the_root_is_not_written_through(tree: tuple[Path, Path], tmp_path: Path) -> None:
    specs, out = tree
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (out / "deploy").mkdir(parents=True)
    (out / "deploy" / "staging").symlink_to(outside, target_is_directory=True)
    rc, stdout, _ = run("compile", str(specs), "--out", str(out), "--format", "text")
    assert rc == 1 and "SS905" in stdout and "leads out of the output root" in stdout
    assert list(outside.iterdir()) == []
    rc, stdout, _ = run("check", str(specs), "--out", str(out), "--format", "text")
    assert rc == 1 and "SS905" in stdout


def test_a_symlinked_file_is_neither_read_nor_replaced(tree: tuple[Path, Path], tmp_path: Path) -> None:
    specs, out = compiled(tree)
    v, _ = victim(tmp_path)
    target = out / "deploy" / "staging" / "deployment-reg.yaml"
    target.unlink()
    target.symlink_to(v)
    rc, stdout, err = run("check", str(specs), "--out", str(out), "--format", "text")
    assert rc == 1 and "SS905" in stdout and SECRET.decode() not in stdout + err
    rc, stdout, _ = run("compile", str(specs), "--out", str(out), "--format", "text", "--force")
    assert rc == 1 and v.read_bytes() == SECRET and target.is_symlink()


def test_a_symlinked_ledger_directory_is_not_read(tree: tuple[Path, Path], tmp_path: Path) -> None:
    specs, out = tree
    elsewhere = tmp_path / "meta"
    elsewhere.mkdir()
    (elsewhere / "ledger.json").write_text(json.dumps({"files": {"deploy/x.yaml": "0" * 64}}))
    out.mkdir()
    (out / ".shipspec").symlink_to(elsewhere, target_is_directory=True)
    rc, stdout, _ = run("compile", str(specs), "--out", str(out), "--format", "text")
    assert rc == 1 and "SS905" in stdout
    assert not (out / "deploy").exists()


def test_a_clean_ledger_still_prunes_what_shipspec_wrote(tree: tuple[Path, Path]) -> None:
    specs, out = compiled(tree)
    (specs / "reg.ship").unlink()
    rc, _, err = run("compile", str(specs), "--out", str(out), "--format", "text")
    assert rc == 0 and " removed" in err and " 0 removed" not in err
    assert not (out / "deploy" / "staging" / "deployment-reg.yaml").exists()
    assert snapshot(out)


def test_a_directory_swapped_for_a_symlink_after_the_plan_is_not_written_through(
    tree: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    from compiler import emit
    from compiler.diagnostics import Sink
    from compiler.pipeline import build

    specs, out = compiled(tree)
    (specs / "reg.ship").write_text((specs / "reg.ship").read_text().replace("2.0.0", "2.0.1"))
    built = build([specs])
    plan = emit.plan(built.files, out, Sink())
    assert any(p.startswith("deploy/staging/") for p in plan.write)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (out / "deploy" / "staging").rename(tmp_path / "moved")
    (out / "deploy" / "staging").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OSError, match="leads out of the output root"):
        emit.apply(plan)
    assert list(outside.iterdir()) == []


def test_a_directory_found_absent_is_looked_for_once_and_nothing_under_it_is_read(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first compile into an empty root: ``deploy`` is looked for once, not once for each
    file under it, and no file under it is opened to compare; a symlinked directory beside
    it is still refused, and the tree is the one written without the shortcut."""
    from compiler import emit, ledger_paths

    specs, out = tree
    assert run("compile", str(specs), "--out", str(out))[0] == 0
    whole = snapshot(out)
    fresh = out.parent / "fresh"
    fresh.mkdir()
    elsewhere = out.parent / "elsewhere"
    elsewhere.mkdir()
    (fresh / "docs").symlink_to(elsewhere, target_is_directory=True)
    looked: list[str] = []
    read: list[str] = []
    real_lstat, real_read = os.lstat, emit._read

    def lstat(path: str) -> os.stat_result:
        looked.append(os.path.relpath(path, fresh))
        return real_lstat(path)

    def read_file(path: Path) -> bytes | None:
        read.append(os.path.relpath(path, fresh))
        return real_read(path)

    monkeypatch.setattr(ledger_paths.os, "lstat", lstat)
    monkeypatch.setattr(emit, "_read", read_file)
    rc, stdout, _ = run("compile", str(specs), "--out", str(fresh), "--format", "text")
    monkeypatch.undo()
    assert rc == 1 and "SS905" in stdout and "passes through the symlink docs" in stdout
    deploy = [p for p in looked if p.split(os.sep)[0] == "deploy"]
    assert deploy == ["deploy"], deploy
    assert not [p for p in read if p.startswith("deploy")], read
    (fresh / "docs").unlink()
    assert run("compile", str(specs), "--out", str(fresh))[0] == 0
    assert snapshot(fresh) == whole
