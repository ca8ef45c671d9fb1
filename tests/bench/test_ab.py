"""``python -m bench.ab`` runs both versions, alternating, and reports what it timed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bench import ab


@pytest.mark.realtools  # git archive
def test_ab_times_each_version_in_turn_and_pairs_the_rounds(capsys: pytest.CaptureFixture[str]) -> None:
    ab.main(["--base", "HEAD", "--models", "3", "--pairs", "2", "--watch", "1", "--steps", "3"])
    out = capsys.readouterr().out
    runs = dict(re.findall(r"^ *(one-shot|watch) +(?:base|now): median [0-9.]+ s.*\((\d+) runs\)$", out, re.M))
    assert runs == {"one-shot": "2", "watch": "2"}, out  # the first watch step of each process left out
    assert len(re.findall(r"^ *(?:one-shot|watch) +(base|now):", out, re.M)) == 4
    paired = r"now minus base in the same round: median [-+]\d+ ms, mean [-+]\d+ ms; now faster in \d of 2"
    assert re.search(paired, out), out


@pytest.mark.realtools  # git
def test_the_base_is_the_named_commit_s_tree(tmp_path: Path) -> None:
    head = subprocess.run(["git", "-C", str(ab.REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    tracked = subprocess.run(["git", "-C", str(ab.REPO), "show", "HEAD:compiler/pipeline.py"], capture_output=True)
    assert head.returncode == 0 and tracked.returncode == 0
    code = ab.unpack("HEAD", tmp_path / "base")
    assert (code / "compiler" / "pipeline.py").read_bytes() == tracked.stdout
    assert not (code / ".git").exists()


@pytest.mark.realtools  # git
def test_now_is_a_copy_of_the_working_tree_beside_the_base(tmp_path: Path) -> None:
    """ "now" runs from a copy (tracked and untracked files, no ignored ones) in the same place
    as the base, byte-compiled like it; each round alternates which runs first."""
    code = ab.byte_compiled(ab.working_copy(tmp_path / "now"))
    for name in ("compiler/pipeline.py", "bench/ab.py", "templates", "schemas"):
        assert (code / name).exists(), name
    assert (code / "compiler" / "cache.py").read_bytes() == (ab.REPO / "compiler" / "cache.py").read_bytes()
    assert not (code / ".venv").exists() and not (code / ".git").exists()
    assert list((code / "compiler").glob("__pycache__/pipeline.*.pyc"))
    assert [ab._turns(i) for i in range(3)] == [("base", "now"), ("now", "base"), ("base", "now")]
