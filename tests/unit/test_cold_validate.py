"""A cold ``shipspec validate`` (issue 16, target 5): a plain ``validate PATH...`` is read
without argparse, into the namespace argparse would make; and the command loads none of the
modules only rendering, output validation, caching or a process pool need. Speed itself is
``bench/cold.py``'s to measure, never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.cold import one_file_spec
from compiler import cli


@pytest.mark.parametrize(
    "argv",
    [
        ["validate"],
        ["validate", "specs"],
        ["validate", "a.ship", "dir/b.ship", "with space.ship", "x=y", ""],
    ],
)
def test_a_plain_validate_reads_as_argparse_reads_it(argv: list[str]) -> None:
    plain = cli._plain_validate(argv)
    assert plain is not None
    assert vars(plain) == vars(cli.build_parser("validate").parse_args(argv))
    assert vars(plain) == vars(cli.build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["fmt", "a.ship"],
        ["validate", "--strict", "a.ship"],
        ["validate", "a.ship", "--format", "json"],
        ["validate", "-h"],
        ["validate", "--", "-a.ship"],
        ["--no-config", "validate", "a.ship"],
    ],
)
def test_anything_else_goes_to_argparse(argv: list[str]) -> None:
    assert cli._plain_validate(argv) is None


# What a cold validate of one file must not import: the renderers and their templates, the
# output validators, Triton's protobuf, YAML, the cache, the process pool, argparse (a plain
# `validate PATH` needs none) and the modules it pulled in, pickle.py.
HEAVY = (
    "jinja2",
    "jsonschema",
    "jsonschema_rs",
    "kubernetes_validate",
    "tritonclient",
    "google.protobuf",
    "yaml",
    "ruamel",
    "multiprocessing",
    "concurrent.futures.process",
    "compiler.backends",
    "compiler.cache",
    "compiler.settled",
    "compiler.emit",
    "compiler.commands",
    "argparse",
    "shutil",
    "locale",
    "importlib.metadata",
    "pickle",  # the parser's pickle is read with _pickle.loads alone
)

PROBE = """
import sys
sys.argv = ["shipspec", "validate", sys.argv[1]]
from compiler.cli import run
code = run()
print("\\nexit:", code)
print("imported:", ",".join(sorted(m for m in sys.argv[2:] if m in sys.modules)))
"""


@pytest.mark.realtools  # starts a fresh interpreter: only a new process shows a cold import
def test_a_cold_validate_imports_none_of_the_heavy_modules(tmp_path: Path) -> None:
    spec = one_file_spec(tmp_path)
    r = subprocess.run(
        [sys.executable, "-c", PROBE, str(spec), *HEAVY], capture_output=True, text=True, timeout=120, check=False
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "warning[" in r.stdout  # it did check the spec
    assert r.stdout.strip().splitlines()[-2:] == ["exit: 0", "imported:"], r.stdout[-2000:]
