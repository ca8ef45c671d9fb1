"""Benchmarks: parse + check, and each stage of compile (render, validate, emit),
on synthetic repositories of N models; plus the tests that keep the fast paths
those stages use (YAML layout, parse-back, compiled validators) exact.

``pytest tests/bench/test_bench.py --benchmark-enable`` measures (several rounds per N);
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
from compiler.backends import file_validators
from compiler.parse.sources import load
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
HEAVY = (
    "jinja2",
    "jsonschema",
    "jsonschema_rs",
    "kubernetes",
    "kubernetes_validate",
    "tritonclient",
    "google.protobuf",
    "grpc",
    "numpy",
    "yaml",
    "ruamel",
    "referencing",
)
# Nor these, which a one-file validate without a shipspec.toml does not need (issue 16: the
# cold start): lark (the parser is compiler.lark_standalone), logging (lark's logger is made
# on first use), the process pool's modules (one file is parsed in-process), tomllib (no
# shipspec.toml to read), difflib (no misspelling to suggest for).
UNNEEDED = ("lark", "interegular", "logging", "concurrent.futures", "multiprocessing", "tomllib", "difflib")


def test_validate_keeps_heavy_modules_out(tmp_path: Path) -> None:
    spec = one_file_spec(tmp_path)
    (tmp_path / ".git").mkdir()  # where the search for a shipspec.toml stops
    probe = (
        "import atexit, sys\n"
        "from compiler.cli import run\n"
        f"sys.argv = ['shipspec', 'validate', {str(spec)!r}]\n"
        "atexit.register(print)  # exit work left: run() returns (cli._end_now)\n"
        "rc = run()\n"
        f"print(rc, sorted(m for m in {HEAVY + UNNEEDED!r} if m in sys.modules))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "0 []", r.stdout


# -- import order and validator lookup ----------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
IMPORT_ORDERS = (
    "import compiler.validate\nfrom compiler.backends import BACKENDS",
    "import compiler.validate\nimport compiler.backends.github.backend",
    "import compiler.backends.github.validate\nimport compiler.validate\nimport compiler.backends.github.backend",
    "import compiler.backends.github.backend\nimport compiler.validate",
    "import compiler.backends.triton.backend\nimport compiler.validate\nimport compiler.pipeline",
    "import compiler.emit\nimport compiler.validate\nimport compiler.backends.kubernetes.backend",
)


@pytest.mark.parametrize("order", IMPORT_ORDERS, ids=range(len(IMPORT_ORDERS)))
def test_modules_import_in_any_order(order: str) -> None:
    r = subprocess.run(
        [sys.executable, "-c", order + "\nprint('ok')"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_every_file_kind_rendered_has_the_validator_its_backend_declares() -> None:
    # One way to register a validator: each backend declares them for the kinds it renders.
    from compiler.backends import BACKENDS, file_validators
    from compiler.backends.github import backend as github
    from compiler.backends.render import Templates
    from compiler.backends.triton import validate as triton_validate
    from compiler.pipeline import render
    from compiler.pipeline import validate as check_spec

    validators = file_validators()
    assert set(validators) == {k for b in BACKENDS for k in b.validators}
    assert github.WORKFLOW in validators and triton_validate.KIND in validators and "yaml" not in validators
    files, _ = render(check_spec([ROOT / "specs"]), Templates.load())
    kinds = {f.kind for f in files} - {"yaml"}
    assert kinds and kinds <= set(validators) | {"codeowners", "prometheus-rules"}


# -- compile stages: render, validate, emit ---------------------------------------

# 1,000 models take tens of seconds per run on a 2-core machine: that size is
# measured by `python -m bench.stages --models 1000`, not in the suite.
COMPILE_SIZES = (10, 100)


@pytest.fixture(scope="module", params=COMPILE_SIZES, ids=[f"{n}-models" for n in COMPILE_SIZES])
def checked_synthetic(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Checked]:
    models: int = request.param
    checked = parse_and_check(generate(tmp_path_factory.mktemp(f"compile{models}"), models))
    assert not checked.has_errors, checked.diagnostics[:3]
    return models, checked


def _render(checked: Checked) -> tuple[list[Any], Any]:
    from compiler.backends.render import Templates
    from compiler.pipeline import render

    return render(checked, Templates.load())


def test_render(benchmark: Any, checked_synthetic: tuple[int, Checked]) -> None:
    models, checked = checked_synthetic
    benchmark.group = "compile: render"
    benchmark.extra_info["models"] = models
    files, sink = benchmark.pedantic(_render, args=(checked,), rounds=3, iterations=1)
    assert not sink.has_errors, sink.items[:3]
    deployments = [
        f
        for f in files
        if f.documents
        and f.documents[0].get("kind") in ("Deployment", "Rollout")
        and f.documents[0]["metadata"]["labels"].get("app.kubernetes.io/component") == "triton"
    ]
    # every model is served in staging, preprod and prod, every fourth also in dev
    assert len(deployments) == 3 * models + (models + 3) // 4


def test_validate(benchmark: Any, checked_synthetic: tuple[int, Checked]) -> None:
    from compiler import validate
    from compiler.diagnostics import Sink

    models, checked = checked_synthetic
    files, _ = _render(checked)
    benchmark.group = "compile: validate"
    benchmark.extra_info["models"] = models

    def run() -> Sink:
        sink = Sink()
        validate.validate_files(files, "1.33", sink, file_validators())
        return sink

    sink = benchmark.pedantic(run, rounds=3, iterations=1)
    assert not sink.items, sink.items[:3]


def test_emit(benchmark: Any, checked_synthetic: tuple[int, Checked], tmp_path: Path) -> None:
    from compiler import emit
    from compiler.diagnostics import Sink

    models, checked = checked_synthetic
    files, _ = _render(checked)
    benchmark.group = "compile: emit"
    benchmark.extra_info["models"] = models
    roots = iter(tmp_path / f"out{i}" for i in range(100))

    def run() -> emit.Plan:
        plan = emit.plan(files, next(roots), Sink())
        emit.apply(plan)
        return plan

    plan = benchmark.pedantic(run, rounds=3, iterations=1)
    assert len(plan.write) == len(files)
    assert (plan.root / emit.LEDGER).is_file()
    again = emit.plan(files, plan.root, Sink())
    assert not again.write and len(again.unchanged) == len(files)


# -- the fast paths stay exact ----------------------------------------------------

_WORDS = [
    "",
    "true",
    "no",
    "on",
    "null",
    "~",
    "1",
    "0x1F",
    "1e3",
    "1.5",
    "-",
    "- a",
    "a: b",
    "#x",
    "y",
    "2001-12-14",
    ".inf",
    "<<",
    "=",
    " lead",
    "trail ",
    "a  b",
    "x" * 130,
    "'q'",
    '"d"',
    "NO",
    "0o17",
    "1_000",
    "+1",
    ".5",
    "key:",
    "@at",
    "%p",
    "!t",
    "&a",
    "*a",
    "a #b",
    "a\nb",
    "a\n",
    "\n",
    " a\nb",
    "a\tb",
    "é",
    "{{ x }}",
    "x" * 999,
    "x" * 1001,
    "x " * 700,
]
_CHARS = "abcXYZ019 :-_#&*!|>'\"%@`{}[],?.\n\t\r\\/é€\x00\x85\u2028\ufeff"


def _random_scalar(rnd: Any) -> Any:
    r = rnd.random()
    if r < 0.4:
        return rnd.choice(_WORDS)
    if r < 0.65:
        return "".join(rnd.choice(_CHARS) for _ in range(rnd.randint(0, 12)))
    if r < 0.75:
        return rnd.randint(-(10**6), 10**20)
    if r < 0.85:
        return rnd.choice([0.0, -1.5, 1e20, 1e-7, float("inf"), float("-inf"), 3.0, 0.1])
    return rnd.choice([True, False, None])


def _random_document(rnd: Any, depth: int = 0) -> Any:
    r = rnd.random()
    if depth > 4 or r < 0.35:
        return _random_scalar(rnd)
    if r < 0.7:
        return {
            (str(_random_scalar(rnd)) if rnd.random() < 0.9 else _random_scalar(rnd)): _random_document(rnd, depth + 1)
            for _ in range(rnd.randint(0, 4))
        }
    return [_random_document(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - the comparison includes failures
        return ("error", type(exc).__name__, str(exc))


def test_yaml_layout_is_byte_identical_to_pyyaml() -> None:
    import random

    from compiler import serialize

    rnd = random.Random(20261123)
    direct = 0
    for _ in range(1500):
        doc = _random_document(rnd)
        for sort_keys in (False, True):
            want = _outcome(serialize._pyyaml, doc, sort_keys)
            assert _outcome(serialize.to_yaml, doc, sort_keys) == want, doc
        direct += isinstance(doc, dict | list)
    # and the documents backends build (maps of labels, lists of containers) take the direct path
    doc = {"metadata": {"labels": {"app": "x", "n": 1}}, "spec": [{"name": "a", "args": ["--x", "1"], "e": {}}]}
    serialize._SCALARS.clear()
    serialize._STRINGS.clear()
    assert serialize.to_yaml(doc) == serialize._pyyaml(doc, False)
    assert serialize._STRINGS, "layout did not go through the direct path"
    assert direct > 500


_LOAD_CASES = [
    "a: 1",
    "a: &x [1, 2]\nb: *x",
    "a: &x {k: 1}\nb: *x\nc:\n  <<: *x\n  d: 2",
    "t: 2001-12-14",
    "b: !!binary aGVsbG8=",
    "s: !!set {a, b}",
    "o: !!omap [a: 1]",
    "x: !!bool foo",
    "x: !!int 1.5",
    "? [1, 2]\n: x",
    "=: 1",
    "a: yes\nb: NO\nc: ~\nd: 0x1F\ne: 0o17\nf: 1_000\ng: 1:30\nh: .inf\ni: -1.5e3\nj: 017",
    "a: !!str 1",
    "a: !!float 1",
    "a: !!null ''",
    "- !!map x",
    "a: !custom x",
    "---\na: 1\n---\n- 2\n...\n",
    "",
    "# c",
    "a: [1, {b: c}]",
    "a: 1\na: 2",
    "[1]: 2",
    "{a: 1}: 2",
    "a: |\n  x\n  y\n",
    "'a': \"b\\n\"",
    "a: !!seq [1]",
    "a: !!python/object x",
    "a: b: c",
    "a: [",
    "key: 'unterminated",
    "! a: ! 1",
    "on: [push]",
    "1: 2\n1.5: 3\nnull: 4",
]


def test_parse_back_reads_what_pyyaml_reads() -> None:
    import random

    import yaml

    from compiler import serialize

    def pyyaml(text: str) -> list[Any]:
        return list(yaml.load_all(text, Loader=yaml.CSafeLoader))

    rnd = random.Random(7)
    texts = list(_LOAD_CASES)
    for _ in range(600):
        doc = _random_document(rnd)
        shared = [1, {"a": "b"}]
        texts.append(
            yaml.dump({"x": shared, "y": shared, "z": doc}, default_flow_style=rnd.choice([None, False, True]))
        )
    for text in texts:
        want, got = _outcome(pyyaml, text), _outcome(serialize.load_all, text)
        assert repr(got) == repr(want), text  # repr: nan != nan, and types count (1 vs True)
    twice = serialize.load("x: &a {k: 1}\ny: *a\nz: [*a]")
    assert twice["x"] is twice["y"] is twice["z"][0]  # an alias is one object, as in PyYAML
    cycle = serialize.load("&a [*a]")
    assert cycle[0] is cycle


def test_compiled_validator_agrees_with_jsonschema(tmp_path: Path) -> None:
    """Documents of every kind compile renders, mutated at random: the validator
    (jsonschema-rs deciding, jsonschema wording) reports exactly what a plain
    jsonschema validator reports."""
    import copy
    import json
    import random

    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("jsonschema_rs")
    from compiler import validate

    files, sink = _render(parse_and_check(generate(tmp_path, 6)))
    docs = [d for f in files for d in f.documents]
    assert len({d["kind"] for d in docs}) >= 10

    def reference(doc: dict[str, Any]) -> list[tuple[str, str]]:
        api, kind = doc.get("apiVersion"), doc.get("kind")
        name = validate._crd_index().get(f"{api}/{kind}")
        if name:
            schema = json.loads((validate.schemas_dir() / "crds" / name).read_text())
            return validate._wrap(jsonschema.Draft202012Validator(schema))(doc)
        root = validate._k8s_root("1.33")
        schema = json.loads((root / validate._k8s_file(str(api), str(kind))).read_text())
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        return validate._wrap(cls(schema, registry=validate._k8s_registry("1.33")))(doc)

    rnd = random.Random(3)
    values = [1, -1, "x", "", True, None, 1.5, [], {}, "5m\n", "\uff11", "a" * 300, {"bogus": 1}, 10**20]
    rejected = 0
    for _ in range(400):
        doc = copy.deepcopy(rnd.choice(docs))
        paths: list[list[Any]] = []

        def walk(x: Any, p: list[Any], paths: list[list[Any]] = paths) -> None:
            paths.append(p)
            items = x.items() if isinstance(x, dict) else enumerate(x) if isinstance(x, list) else ()
            for k, v in items:
                walk(v, [*p, k])

        walk(doc, [])
        where = rnd.choice(paths[2:])  # not apiVersion/kind themselves: the schema must stay found
        parent = doc
        for k in where[:-1]:
            parent = parent[k]
        if rnd.random() < 0.3 and isinstance(parent, dict):
            del parent[where[-1]]
        elif rnd.random() < 0.3 and isinstance(parent, dict):
            parent["unknownField"] = 1
        else:
            parent[where[-1]] = rnd.choice(values)
        check = validate.validator_for(doc, "1.33")
        if check is None:
            continue
        want = reference(doc)
        assert check(doc) == want, (where, want[:2])
        rejected += bool(want)
    assert rejected > 100


def test_compiled_workflow_check_agrees_with_jsonschema(tmp_path: Path) -> None:
    """Rendered workflows, mutated at random: jsonschema-rs accepts exactly those
    the jsonschema validator (whose messages diagnostics quote) finds no error in."""
    import copy
    import random

    pytest.importorskip("jsonschema_rs")
    from compiler import serialize
    from compiler.backends.github import validate as github_validate

    accepts = github_validate._accepts()
    if github_validate._schema() is None:
        pytest.skip("check-jsonschema (the workflow schema) is not installed")
    assert accepts is not None
    files, _ = _render(parse_and_check(generate(tmp_path, 3)))
    docs = []
    for f in files:
        if f.kind == "github-workflow":
            doc = serialize.load(f.text)
            docs.append({("on" if k is True else k): v for k, v in doc.items()})
    reference = github_validate._schema_validator()
    rnd = random.Random(11)
    values = [1, "x", "", True, None, [], {}, {"bogus": 1}, ["a"], "${{ x }}"]
    rejected = 0
    for _ in range(300):
        doc = copy.deepcopy(rnd.choice(docs))
        node: Any = doc
        picked = None
        for _depth in range(rnd.randint(1, 6)):
            children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            if not children:
                break
            key, child = rnd.choice(children)
            picked = (node, key)
            if not isinstance(child, dict | list) or rnd.random() < 0.3:
                break
            node = child
        if picked is None:
            continue
        parent, key = picked
        if isinstance(parent, dict) and rnd.random() < 0.3:
            del parent[key]
        elif isinstance(parent, dict) and rnd.random() < 0.3:
            parent["unknown-key"] = 1
        else:
            parent[key] = rnd.choice(values)
        invalid = any(True for _ in reference.iter_errors(doc))
        assert accepts(doc) is not invalid, key
        rejected += invalid
    assert rejected > 50


def test_parallel_render_equals_sequential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forked workers, each rendering a share of an environment, give the same
    files and the same diagnostics in the same order as one process."""
    from compiler.backends.kubernetes import backend as kubernetes

    checked = parse_and_check(generate(tmp_path, 13))
    monkeypatch.setattr(kubernetes, "PARALLEL_FROM", 10**9)
    files, sink = _render(checked)
    monkeypatch.setattr(kubernetes, "PARALLEL_FROM", 0)
    monkeypatch.setattr(kubernetes, "SHARE", 4)
    envs = sorted(checked.spec.environments, key=lambda e: e.name)
    assert max(parts for _, _, parts in kubernetes._tasks(checked.resolved, envs)) >= 3
    par_files, par_sink = _render(checked)
    assert [(f.path, f.text, f.documents, f.kind, f.source) for f in par_files] == [
        (f.path, f.text, f.documents, f.kind, f.source) for f in files
    ]
    assert par_sink.items == sink.items and sink.items  # the synthetic spec has warnings to keep in order


def test_warm_bench_runs_and_each_edit_rewrites_the_models_files(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m bench.warm`` (targets 3 and 4): every one-field edit is new to the build (it
    rewrites the model's files, one-shot and in watch), and each kind gets its median line."""
    from bench import warm

    warm.main(["--models", "3", "--rounds", "2", "--steps", "3"])
    lines = capsys.readouterr().out.splitlines()
    edits = [line for line in lines if "one field changed, compile:" in line and "median" not in line]
    first = [line for line in lines if "watch: first edit:" in line]
    steps = [line for line in lines if "watch: one edit:" in line and "median" not in line]
    assert len(edits) == 2 and all(" 0 written" not in line and "written" in line for line in edits)
    assert len(first) == 1 and len(steps) == 3  # the first step apart from the median's
    assert all(not line.rstrip().endswith(" 0 written") for line in first + steps)
    assert sum(": median" in line for line in lines) == 2
    assert any("watch: one edit: median" in line and "of 3 " in line for line in lines)
    figure = {line.split(":")[0].strip(): line.split(":")[1].split()[0] for line in lines if ":" in line}
    one_field = next(line for line in lines if "one field changed, compile: median" in line)
    watch = next(line for line in lines if "watch: one edit: median" in line)
    for name, median in (("one field / no-op compile", one_field), ("watch step / no-op compile", watch)):
        # From the printed figures, each rounded to the millisecond, and the ratio to 0.01.
        took, noop = float(median.split("median ")[1].split()[0]), float(figure["no-op compile"])
        low, high = (took - 5e-4) / (noop + 5e-4) - 5e-3, (took + 5e-4) / (noop - 5e-4) + 5e-3
        assert figure[name].endswith("x") and low <= float(figure[name][:-1]) <= high


def _golden_objects() -> list[str]:
    from tests.support.golden import GOLDEN

    return [p.read_text(encoding="utf-8") for p in sorted(GOLDEN.glob("*/expected/deploy/**/*.yaml"))]


@pytest.mark.parametrize("reader", ["yaml_block", "libyaml"])
def test_parse_back(benchmark: Any, reader: str) -> None:
    """The golden cases' Kubernetes objects read back, by ``yaml_block`` (what a render does)
    and by libyaml (what it did, and does for any text outside the subset): compare the
    two rows of the ``parse-back`` group."""
    import yaml

    from compiler import yaml_block

    texts = _golden_objects()
    assert len(texts) > 100

    def read_all() -> list[Any]:
        if reader == "yaml_block":
            return [yaml_block.load_all(t) for t in texts]
        return [list(yaml.load_all(t, Loader=yaml.CSafeLoader)) for t in texts]

    benchmark.group = "parse-back"
    read = benchmark(read_all)
    assert None not in read and read == [list(yaml.load_all(t, Loader=yaml.CSafeLoader)) for t in texts]


@pytest.mark.parametrize("reader", ["pbtxt", "text_format"])
def test_triton_parse(benchmark: Any, reader: str) -> None:
    """The golden cases' Triton configs parsed, by ``pbtxt.read`` (what a render does) and
    by ``text_format`` (what it did, and does for any text outside the subset): compare the
    two rows of the ``triton-parse`` group."""
    from google.protobuf import text_format

    from compiler.backends.triton import pbtxt
    from compiler.backends.triton.validate import model_config_pb2
    from tests.support.golden import GOLDEN

    config = model_config_pb2().ModelConfig
    texts = [p.read_text(encoding="utf-8") for p in sorted(GOLDEN.glob("*/expected/**/*.pbtxt"))]
    assert len(texts) > 30

    def read_all() -> list[Any]:
        if reader == "pbtxt":
            return [pbtxt.read(t, config) for t in texts]
        return [text_format.Parse(t, config()) for t in texts]

    benchmark.group = "triton-parse"
    read = benchmark(read_all)
    assert None not in read and read == [text_format.Parse(t, config()) for t in texts]
