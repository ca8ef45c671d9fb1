"""``emit_journal.sweep_temporaries``: what a killed write left beside the planned paths is
removed; nothing is removed through a directory that leads out of the root, and a planned
directory that is not there is passed over."""

from __future__ import annotations

import os
from pathlib import Path

from compiler.emit_journal import sweep_temporaries


def test_temporaries_beside_planned_paths_go_and_nothing_else(tmp_path: Path) -> None:
    root = tmp_path / "out"
    (root / "deploy/prod").mkdir(parents=True)
    left = root / "deploy/prod/.svc.yaml.4242.tmp"
    other = root / "deploy/prod/.notes.yaml.4242.tmp"  # beside no planned path
    mine = root / "deploy/prod/svc.yaml.tmp"  # not a temporary's name
    for p in (left, other, mine):
        p.write_text("x")
    removed = sweep_temporaries(root, ["deploy/prod/svc.yaml", "deploy/dev/svc.yaml", "docs/a/b.md"])
    assert removed == ["deploy/prod/.svc.yaml.4242.tmp"]
    assert not left.exists() and other.exists() and mine.exists()


def test_nothing_is_removed_through_a_directory_that_leads_out_of_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "out", tmp_path / "elsewhere"
    (root / "deploy").mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside, root / "deploy/prod")
    theirs = outside / ".svc.yaml.4242.tmp"
    theirs.write_text("someone else's")
    assert sweep_temporaries(root, ["deploy/prod/svc.yaml"]) == []
    assert theirs.read_text() == "someone else's"
