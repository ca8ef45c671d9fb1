"""A watching process merges a step's records from last step's merge (``sources.remerge``):
the records of the files whose lowered lists changed are taken out and put in where their
keys go. After any edits it is the merge a fresh load makes, record for record and in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler.cache import Memory
from compiler.parse import sources
from compiler.parse.sources import load


def _cpu(text: str, n: int) -> str:
    return re.sub(r"\bcpu \d+ ", f"cpu {n % 7 + 1} ", text, count=1)


def _renamed(text: str, n: int) -> str:  # every record of the file moves in its kind's order
    name = re.search(r"^model (\w+)", text, re.M)
    return text if name is None else text.replace(name[1], f"{name[1][0]}{n % 9}x{name[1][1:]}")


def _gate_gone(text: str, n: int) -> str:
    return re.sub(r"\ngate preprod -> prod for \w+ \{.*?\n\}\n", "\n", text, count=1, flags=re.S)


def _dataset(text: str, n: int) -> str:
    return text + f'\ndataset extra{n % 3} {{\n  uri "s3://extra/{n}"\n}}\n'


EDITS = [_cpu, _renamed, _gate_gone, _dataset]


def _steps(specs: Path, ops: list[tuple[int, int, int]]) -> None:
    store = Memory()
    files = sorted(specs.rglob("*.ship"))
    assert load([specs], store).spec == load([specs]).spec
    for op, at, n in ops:
        path = files[at % len(files)]
        if op == len(EDITS):  # a file goes, or comes back as a copy of another (its names twice)
            other = next((f for f in files if f.exists() and f != path), None)
            if path.exists():
                path.unlink()
            elif other is not None:
                path.write_text(other.read_text())
        elif path.exists():
            path.write_text(EDITS[op](path.read_text(), n))
        assert load([specs], store).spec == load([specs]).spec


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(EDITS)), st.integers(0, 6), st.integers(0, 50)), min_size=1, max_size=6))
def test_a_merge_moved_on_is_the_merge_a_fresh_load_makes(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[int, int, int]]
) -> None:
    _steps(generate(tmp_path_factory.mktemp("specs"), 6), ops)


def test_a_one_file_edit_moves_last_steps_merge_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first load, an edit of one model's file is merged from the last merge (the
    whole merge runs only for the first), and a load with nothing changed is last step's spec."""
    specs = generate(tmp_path, 12)
    whole: list[int] = []
    real = sources.merge

    def merging(nodes: list[object], files: tuple[str, ...]) -> object:
        whole.append(len(nodes))
        return real(nodes, files)

    monkeypatch.setattr(sources, "merge", merging)
    store = Memory()
    first = load([specs], store).spec
    assert len(whole) == 1
    assert load([specs], store).spec is first
    path = specs / "models" / "m00005.ship"
    for n in range(3):
        path.write_text(_renamed(_cpu(path.read_text(), n), n))
        watched = load([specs], store).spec
        monkeypatch.setattr(sources, "merge", real)
        assert watched == load([specs]).spec and watched.models != first.models
        monkeypatch.setattr(sources, "merge", merging)
    assert len(whole) == 1
