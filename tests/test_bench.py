"""Benchmarks of the front half: parse + check of synthetic repositories of N models.

``pytest tests/test_bench.py --benchmark-enable`` measures (several rounds per N);
under the project's default ``--benchmark-disable`` each benchmark runs once, so
the suite still proves the code path works at every size. No wall-clock time is
asserted: figures are for reading, not for failing. The cold-process time of
``shipspec validate`` is ``python -m bench.cold``; per-stage compile timings are
``python -m bench.stages``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.cold import one_file_spec
from bench.synth import generate
from compiler.load import load
from compiler.pipeline import Checked, check_loaded

SIZES = (10, 100, 1000)


@pytest.fixture(scope="module", params=SIZES, ids=[f"{n}-models" for n in SIZES])
def synthetic(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    models: int = request.param
    return models, generate(tmp_path_factory.mktemp(f"synth{models}"), models)


def parse_and_check(specs: Path) -> Checked:
    return check_loaded(load([specs]))


def test_parse_and_check(benchmark: Any, synthetic: tuple[int, Path]) -> None:
    models, specs = synthetic
    benchmark.group = "parse + check"
    benchmark.extra_info["models"] = models
    checked = benchmark.pedantic(parse_and_check, args=(specs,), rounds=3 if models >= 1000 else 5, iterations=1)
    assert not checked.has_errors, checked.diagnostics[:3]
    assert len(checked.spec.models) == models
    assert len(checked.spec.gates) == 2 * models


# Modules that only rendering and output validation need; a pre-commit hook
# running `shipspec validate` must not pay for importing them.
HEAVY = ("jsonschema", "kubernetes", "kubernetes_validate", "tritonclient", "google.protobuf", "grpc", "numpy")


def test_validate_keeps_heavy_modules_out(tmp_path: Path) -> None:
    spec = one_file_spec(tmp_path)
    probe = (
        "import sys\n"
        "from compiler.cli import main\n"
        f"rc = main(['validate', {str(spec)!r}])\n"
        f"print(rc, sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "0 []", r.stdout


# -- import order and validator lookup ----------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
IMPORT_ORDERS = (
    "import compiler.validate\nfrom compiler.backends import BACKENDS",
    "import compiler.validate\nimport compiler.backends.github",
    "import compiler.backends.github_validate\nimport compiler.validate\nimport compiler.backends.github",
    "import compiler.backends.github\nimport compiler.validate",
    "import compiler.backends.triton\nimport compiler.validate\nimport compiler.compile",
    "import compiler.emit\nimport compiler.validate\nimport compiler.backends.kubernetes",
)


@pytest.mark.parametrize("order", IMPORT_ORDERS, ids=range(len(IMPORT_ORDERS)))
def test_modules_import_in_any_order(order: str) -> None:
    r = subprocess.run([sys.executable, "-c", order + "\nprint('ok')"], capture_output=True, text=True,
                       timeout=60, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_file_validators_found_by_kind_without_their_backend() -> None:
    # A fresh process that never imports the GitHub backend still validates workflows.
    probe = (
        "import sys\n"
        "from compiler import validate\n"
        "from compiler.backends.base import OutputFile\n"
        "from compiler.diagnostics import Sink, Span\n"
        "sink = Sink()\n"
        "bad = OutputFile('.github/workflows/x.yml', 'on: [push\\n', Span.point('x.ship'), kind='github-workflow')\n"
        "validate.validate_files([bad], '1.33', sink)\n"
        "print(sorted({d.code for d in sink.items}), 'compiler.backends.github' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "['SS805'] False", r.stdout


def test_kinds_found_by_name_are_the_backends_kinds() -> None:
    from compiler import validate
    from compiler.backends import github, triton_validate

    assert validate.file_validator(github.WORKFLOW) is not None
    assert validate.file_validator(triton_validate.KIND) is triton_validate.validate_config
    assert validate.file_validator("yaml") is None
