"""A cold ``shipspec validate`` (issue 16, target 5): a plain ``validate PATH...`` is read
without argparse, into the namespace argparse would make; and the command loads none of the
modules only rendering, output validation, caching or a process pool need. Speed itself is
``bench/cold.py``'s to measure, never asserted here."""

from __future__ import annotations

import os
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
# `validate PATH` needs none) and the modules it pulled in, pickle.py; and the standard
# library's modules the compiler's imports only need for what validate never does: inspect
# (and ast, dis, tokenize) for undocumented dataclasses' docstrings, copy and weakref,
# urllib.parse and ipaddress for Path.as_uri, ntpath and fnmatch, json (reports and escapes),
# importlib (the pickled parser's re module); and compiler.pipeline with compiler.output
# (cli._Validated does validate's part of the pipeline).
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
    "inspect",
    "ast",
    "dis",
    "tokenize",
    "linecache",
    "copy",
    "weakref",
    "urllib.parse",
    "ipaddress",
    "ntpath",
    "fnmatch",
    "json",
    "regex",
    "threading",
    "importlib",
    "compiler.pipeline",
    "compiler.output",
)

# run() ends a finished validate with os._exit (cli._end_now): the probe reports what was
# imported from there. The probes run without site (-S), from the checkout: an editable
# install's finder, which site loads, imports pathlib, urllib.parse and more into every
# interpreter; a regular install has none.
ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import os, sys
wanted = sys.argv[2:]
sys.argv = ["shipspec", "validate", sys.argv[1]]
real_exit = os._exit


def ending(code):
    print("\\nexit:", code)
    print("imported:", ",".join(sorted(m for m in wanted if m in sys.modules)))
    sys.stdout.flush()
    real_exit(code)


os._exit = ending
from compiler.cli import run

run()
print("\\nrun() returned")
"""


@pytest.mark.realtools  # starts a fresh interpreter: only a new process shows a cold import
def test_a_cold_validate_imports_none_of_the_heavy_modules(tmp_path: Path) -> None:
    spec = one_file_spec(tmp_path)
    r = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, str(spec), *HEAVY],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "warning[" in r.stdout  # it did check the spec
    assert r.stdout.strip().splitlines()[-2:] == ["exit: 0", "imported:"], r.stdout[-2000:]


@pytest.mark.realtools
@pytest.mark.parametrize("good", [True, False])
def test_a_validate_ended_early_writes_all_its_output_and_its_exit_code(tmp_path: Path, good: bool) -> None:
    """The report is flushed before os._exit: the console script's output through a pipe is
    the output of main() in this process, and so is the exit status."""
    import contextlib
    import io

    spec = one_file_spec(tmp_path)
    if not good:
        spec.write_text(spec.read_text() + "\nmodel broken {\n")
    r = subprocess.run(
        [sys.executable, "-m", "compiler", "validate", str(spec)], capture_output=True, text=True, timeout=120
    )
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["validate", str(spec)])
    assert (r.returncode, r.stdout, r.stderr) == (code, out.getvalue(), err.getvalue())
    assert code == (0 if good else 1) and r.stdout + r.stderr


def test_the_standard_library_modules_still_work_after_the_stand_ins() -> None:
    """dataclasses and pathlib were imported with stand-ins for modules they import
    (compiler._import_without); what uses those modules still works."""
    import dataclasses
    import pathlib

    import compiler  # noqa: F401

    @dataclasses.dataclass
    class Plain:
        x: list[int]

    assert Plain.__doc__ == "Plain(x: 'list[int]')"  # this module's annotations are strings
    assert dataclasses.asdict(Plain([1])) == {"x": [1]} and dataclasses.replace(Plain([1]), x=[2]).x == [2]
    assert pathlib.Path("/a b").as_uri() == "file:///a%20b"
    assert pathlib.PureWindowsPath("C:/a/b").as_posix() == "C:/a/b"
    assert pathlib.PurePath("a/b.ship").match("*.ship")


@pytest.mark.realtools
def test_the_stand_ins_import_the_real_modules_when_used() -> None:
    probe = (
        "import sys, compiler, dataclasses, pathlib\n"
        "before = [m in sys.modules for m in ('inspect', 'copy', 'urllib.parse', 'ntpath', 'fnmatch')]\n"
        "@dataclasses.dataclass\nclass P:\n    x: int\n"
        "doc = P.__doc__\n"
        "uri = pathlib.Path('/a b').as_uri()\n"
        "win = pathlib.ntpath.normcase('C:/A')\n"
        "print(before, doc, uri, win, type(sys.modules['inspect']).__name__, type(sys.modules['ntpath']).__name__)\n"
    )
    r = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.stdout.split() == [
        "[False,",
        "False,",
        "False,",
        "False,",
        "False]",
        "P(x:",
        "int)",
        "file:///a%20b",
        "c:\\a",
        "module",
        "module",
    ], r.stderr


def test_a_string_token_is_read_as_json_reads_it() -> None:
    """STRING tokens without a backslash or control character are read without json (issue 16)."""
    import json

    from compiler.lower.values import string_value

    for text in ['""', '"abc"', '"a b"', '"é ü"', '"a\\"b"', '"a\\nb"', '"\\u00e9"', '"a\tb"', '"a\x7f"']:
        try:
            want: object = json.loads(text)
        except ValueError:
            want = ValueError
        try:
            got: object = string_value(text)
        except ValueError:
            got = ValueError
        assert got == want, text


def _spec_inputs() -> list[list[Path]]:
    corpus = sorted((ROOT / "tests" / "corpus").glob("*.ship"))
    golden = sorted(p / "specs" for p in (ROOT / "golden").iterdir() if (p / "specs").is_dir())
    return [[p] for p in corpus] + [[p] for p in golden] + [[ROOT / "specs"], corpus[:5] + golden[:1]]


def test_validate_reports_what_pipeline_validate_reports() -> None:
    """cli._Validated does pipeline.validate's work without importing compiler.pipeline
    (issue 16): the same diagnostics and texts for every spec of the repository."""
    from compiler.pipeline import validate

    inputs = _spec_inputs()
    assert len(inputs) > 20
    for paths in inputs:
        for allow in (frozenset(), frozenset({"SS508", "SS526", "SS640"})):
            want = validate(paths, allow=allow)
            got = cli._Validated(paths, allow)
            assert (got.diagnostics, got.texts) == (want.diagnostics, want.texts), paths


@pytest.mark.realtools
def test_a_module_that_wants_more_of_a_spared_module_is_imported_plainly(tmp_path: Path) -> None:
    """Where the target takes a name from a spared module that its stand-in does not have
    (3.12's pathlib took ``fnmatch.translate``), the target is imported as usual instead of
    failing the import of shipspec."""
    (tmp_path / "wants_translate.py").write_text("from fnmatch import translate\nPATTERN = translate('*.ship')\n")
    probe = (
        "import sys\nsys.path.insert(0, sys.argv[1])\nimport compiler\n"
        "compiler._import_without('wants_translate', {'fnmatch': ()})\n"
        "import wants_translate\nprint(wants_translate.PATTERN, type(sys.modules['fnmatch']).__name__)\n"
    )
    r = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert r.returncode == 0 and r.stdout.split()[-1] == "module" and ".ship" in r.stdout, r.stderr


@pytest.mark.realtools
@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_shipspec_imports_and_validates_on_later_pythons(version: str) -> None:
    """The stand-ins are 3.11's; a later interpreter (where one is installed) imports plainly."""
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no python{version} here")
    probe = (
        "import sys\nsys.path.insert(0, sys.argv[1])\nimport compiler, pathlib\nprint(pathlib.Path('/a b').as_uri())\n"
    )
    r = subprocess.run([python, "-S", "-c", probe, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "file:///a%20b", r.stderr


def _interpreter(version: str) -> str | None:
    """A working ``python<version>`` on PATH or under pyenv, if there is one."""
    import glob
    import shutil

    found = shutil.which(f"python{version}")
    home = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for candidate in [found, *sorted(glob.glob(f"{home}/versions/{version}.*/bin/python{version}"))]:
        if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True, timeout=60).returncode == 0:
            return candidate
    return None
