"""Compile cost grows linearly in the number of models: counted, not timed.

A compile (load, check, render, validate, plan) of N, 2N and 4N synthetic models
runs under cProfile, which counts every call of every Python function. For a
linear stage the growth from 2N to 4N is exactly twice the growth from N to 2N
(the synthetic models repeat with period 4); a quadratic one (say, a path
built for every spec file per gate) grows four times as fast. Operation counts
are exact on a noisy machine where timings are not.
"""

from __future__ import annotations

import cProfile
import os
import pstats
from pathlib import Path

import pytest

from bench.synth import generate
from compiler import emit, serialize, validate
from compiler.backends import file_validators
from compiler.backends.render import Templates
from compiler.diagnostics import Sink
from compiler.parse import sources
from compiler.parse.sources import load
from compiler.pipeline import check_loaded, render

SIZES = (8, 16, 32)


def _compile(specs: Path, out: Path) -> int:
    checked = check_loaded(load([specs]))
    assert not checked.has_errors, checked.diagnostics[:3]
    files, sink = render(checked, Templates.load())
    validate.validate_files(files, checked.resolved.project.kubernetes_version, sink, file_validators())
    assert not sink.has_errors, sink.items[:3]
    emit.ledger_bytes(emit.plan(files, out, Sink()))  # the ledger: every file's sha, so its bytes
    return len(files)


def _counts(root: Path, models: int) -> tuple[dict[str, int], int]:
    """Call counts of a compile of ``models`` models in ``root``, run from there:
    spec paths are relative, as in a repository (``specs/models/m00001.ship``)."""
    generate(root, models)
    # Each size counted as a fresh process would make it: spec paths are remembered across
    # compiles (``sources._path``), and the smaller runs' would be the larger one's hits.
    sources._path.cache_clear()
    here = os.getcwd()
    profile = cProfile.Profile()
    os.chdir(root)
    profile.enable()
    try:
        files = _compile(Path("specs"), Path("out"))
    finally:
        profile.disable()
        os.chdir(here)
    calls: dict[str, int] = {}
    for (filename, line, name), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        calls[f"{filename}:{line}({name})"] = row[1]  # total calls, recursive ones included
    return calls, files


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dict[str, int], int]]:
    # Scalar texts are remembered up to a bound: tests before this one may have filled it,
    # which would make every new scalar take the slow path mid-measurement.
    serialize.forget_scalars()
    # A first compile pays the one-off costs (imports, schema and template loading).
    warm = tmp_path_factory.mktemp("warm")
    _compile(generate(warm, 4), warm / "out")
    runs = []
    for n in SIZES:
        root = tmp_path_factory.mktemp(f"n{n}")
        runs.append(_counts(root, n))
    return runs


# Exactly linear is second == 2 * first. Sorting (n log n) and the odd cache
# warming up stay under 2.5 at these sizes; a quadratic term approaches 4.
_LINEAR_BOUND = 2.5


def _growth(runs: list[tuple[dict[str, int], int]], key: str) -> tuple[int, int]:
    a, b, c = (r[0].get(key, 0) for r in runs)
    return b - a, c - b


def _named(runs: list[tuple[dict[str, int], int]], module: str, functions: tuple[str, ...]) -> str:
    keys = {k for r in runs for k in r[0] if k.split(":")[0].endswith(module) and k.endswith(functions)}
    assert len(keys) == 1, (module, functions, sorted(keys))
    return keys.pop()


def test_every_function_is_called_linearly_often(counted: list[tuple[dict[str, int], int]]) -> None:
    keys = set().union(*(r[0] for r in counted))
    superlinear = {}
    for key in keys:
        first, second = _growth(counted, key)
        if second > _LINEAR_BOUND * max(first, 0) + 16:  # one-off calls (first use of a cache) can shrink
            superlinear[key] = (first, second)
    assert not superlinear, superlinear


@pytest.mark.parametrize(
    ("module", "functions"),
    [
        ("compiler/backends/render.py", ("(render)",)),  # Templates.render: one template rendered
        ("compiler/serialize.py", ("(load_all)",)),  # one rendered text parsed back into documents
        ("compiler/output.py", ("(file_bytes)",)),  # one file's bytes made (its digest, the plan)
        ("pathlib.py", ("(_from_parts)", "(__init__)")),  # a PurePath constructed (3.11; 3.12+)
    ],
)
def test_named_operations_grow_linearly(
    counted: list[tuple[dict[str, int], int]], module: str, functions: tuple[str, ...]
) -> None:
    operation = _named(counted, module, functions)
    key = operation
    first, second = _growth(counted, key)
    assert first > 0, f"{operation} is not exercised"
    assert second <= _LINEAR_BOUND * first + 16, (operation, first, second)


def test_files_written_grow_linearly(counted: list[tuple[dict[str, int], int]]) -> None:
    (_, a), (_, b), (_, c) = counted
    assert c - b == 2 * (b - a)
