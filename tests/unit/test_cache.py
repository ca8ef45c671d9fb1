"""The build cache never changes a result: cached and uncached compiles agree
after any sequence of edits (same files, same bytes, same diagnostics), and an
entry the cache cannot vouch for is a miss."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler import cache as cache_module
from compiler.cache import Cache, Memory
from compiler.cli import main
from compiler.diagnostics import Sink
from compiler.emit import plan
from compiler.pipeline import Build, build, emit
from compiler.pipeline import plan as pipeline_plan
from tests.support.cache_reads import record_hits

# (old, new) text edits of one model file; {n} is drawn. Some break the spec.
EDITS = [
    ('version "1.1.0"', 'version "1.1.{n}"'),
    ("cpu 1 ", "cpu {n} "),
    ("auc >= 0.8", "auc >= 0.{n}"),
    ("latency p99 < 80ms", "latency p99 < {n}0ms"),
    ("format onnx", "format"),  # a syntax error
    ("serve in staging", "serve in stagin"),  # an unknown name
    ("batching { max 32", "batching { max {n}"),
    ("", "\n# comment {n}\n"),  # same IR, other text (spans move)
    ("approval @synth/leads", "approval @synth/lead{n}"),
]


def _result(built: Build) -> tuple[object, ...]:
    files = tuple((f.path, f.text, f.kind, f.source, f.config_map) for f in built.files)
    return files, built.diagnostics


def _apply(path: Path, edit: int, n: int) -> None:
    old, new = EDITS[edit]
    text = path.read_text()
    new = new.replace("{n}", str(n))
    path.write_text(text.replace(old, new, 1) if old else text + new)


@settings(max_examples=12)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, len(EDITS) - 1), st.integers(1, 9)), min_size=1, max_size=4)
)
def test_cached_and_uncached_compiles_agree_after_random_edits(edits: list[tuple[int, int, int]]) -> None:
    from compiler import pipeline
    from compiler.backends import memo
    from compiler.backends.kubernetes import policy

    # Blocks of two: most loop bodies over units (``memo_groups``) are then kept by one build
    # and handed back by the next, not run again because the edit touched every block. The
    # checks and the policy in a forked child, as a large spec's one-shot builds do them.
    was = memo.BLOCK, pipeline.CHECKS_APART_FROM, policy.APART_FROM
    memo.BLOCK, pipeline.CHECKS_APART_FROM, policy.APART_FROM = 2, 0, 0
    try:
        _agree_after(edits)
    finally:
        memo.BLOCK, pipeline.CHECKS_APART_FROM, policy.APART_FROM = was


def _agree_after(edits: list[tuple[int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        specs = generate(root, 3)
        memory = Memory()
        disk = Cache(root / "out")
        earlier = None  # the memory builds resolve with the last one's placements, as watch does
        for model, edit, n in [(0, 0, 0), *edits]:  # the first step edits nothing new: a warm no-op
            if (model, edit, n) != (0, 0, 0):
                _apply(specs / "models" / f"m{model:05d}.ship", edit, n)
            fresh = build([specs])
            for store in (memory, disk):
                cached = build([specs], store=store, earlier=earlier if store is memory else None)
                if store is memory:
                    earlier = cached.checked.resolved
                assert _result(cached) == _result(fresh)
                planned = pipeline_plan(cached, root / "out", store=disk)
                uncached_plan = plan(fresh.files, root / "out", Sink()) if not fresh.has_errors else None
                if uncached_plan is not None:
                    assert planned.plan is not None
                    assert (planned.plan.write, planned.plan.unchanged, planned.plan.delete) == (
                        uncached_plan.write,
                        uncached_plan.unchanged,
                        uncached_plan.delete,
                    )
                emit(planned, disk)
        disk.close()
        assert disk.hits > 0  # the cache was used, not bypassed


def test_an_entry_from_another_key_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries are pickles, so one the user's key did not sign (committed to a
    repository, copied from elsewhere) is never loaded."""
    store = Cache(tmp_path)
    store.put("ir", "ab" * 32, ([], []))
    assert Cache(tmp_path).get("ir", "ab" * 32) == ([], [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-home"))
    assert Cache(tmp_path).get("ir", "ab" * 32) is None


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    store = Cache(tmp_path)
    store.put("build", "cd" * 32, "value")
    path = next(p for p in (tmp_path / cache_module.DIR).rglob("cd*") if p.is_file())
    path.write_bytes(path.read_bytes()[:-3])
    assert Cache(tmp_path).get("build", "cd" * 32) is None


@pytest.mark.parametrize("damage", ["none", "truncated", "flipped", "other key"])
def test_a_large_entry_is_unpickled_from_its_file_only_once_its_mac_holds(
    damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry past ``_STREAMED`` (the render-unit memo) is checked a MiB at a time and then
    unpickled from the file: the same value, and the same misses as a small one's."""
    value = {f"{i:05d}": (f"{i:05d}" * 60, i) for i in range(12_000)}  # ~4 MB pickled: several chunks
    Cache(tmp_path).put("units", "ef" * 32, value)
    path = next(p for p in (tmp_path / cache_module.DIR).rglob("ef*") if p.is_file())
    assert path.stat().st_size > cache_module._STREAMED
    loads: list[object] = []
    real_loads = cache_module.pickle.loads
    monkeypatch.setattr(cache_module.pickle, "loads", lambda *a, **k: loads.append(a) or real_loads(*a, **k))
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        path.write_bytes(data[:-3])
    elif damage == "flipped":
        data[len(data) // 2] ^= 1
        path.write_bytes(data)
    elif damage == "other key":
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-home"))
    found = Cache(tmp_path).get("units", "ef" * 32)
    assert found == (value if damage == "none" else None)
    assert not loads  # never the whole file's bytes at once


def test_the_cache_is_bounded_and_drops_other_versions(tmp_path: Path) -> None:
    stale_version = tmp_path / cache_module.DIR / "0.0.0-old"
    stale_version.mkdir(parents=True)
    (stale_version / "entry").write_bytes(b"x")
    store = Cache(tmp_path, limit=10_000)
    for i in range(20):
        store.put("ir", f"{i:064x}", b"y" * 1000)
    store.close()
    entries = [p for p in (tmp_path / cache_module.DIR).rglob("*") if p.is_file() and p.name != ".gitignore"]
    assert 0 < sum(p.stat().st_size for p in entries) <= 10_000
    assert not stale_version.exists()
    assert (tmp_path / cache_module.DIR / ".gitignore").read_text().endswith("*\n")


def test_a_warm_no_op_compile_writes_nothing_and_reads_no_output(tmp_path: Path) -> None:
    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0
    # Files older than the settle time are recorded; age them instead of sleeping.
    import os

    for path in out.rglob("*"):
        if path.is_file() and ".shipspec/cache" not in path.as_posix():
            os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert main(["compile", str(specs), "--out", str(out), "--format", "json"]) == 0  # records the stats
    store = Cache(out)
    kinds = record_hits(store)
    built = build([specs], store=store)
    # The render units, the three spec files' IR (one entry: parse.ir_pack), the records'
    # digests and the loop bodies over units (and compiled templates) come from the cache.
    assert sorted(k for k in kinds if k != "jinja") == ["digests", "groups", "irs", "units"]
    planned = pipeline_plan(built, out, store=store)
    assert planned.plan is not None and not planned.plan.write and len(planned.plan.unchanged) == len(built.files)
    # A hand edit of the same size: the stat changes, so the plan reads it and reports it.
    victim = out / built.files[0].path
    victim.write_bytes(victim.read_bytes().replace(b"#", b"%", 1))
    planned = pipeline_plan(built, out, store=store)
    assert any(d.code == "SS901" for d in planned.checked.diagnostics)


def test_check_never_writes_the_cache(tmp_path: Path) -> None:
    specs = generate(tmp_path, 1)
    out = tmp_path / "out"
    assert main(["check", str(specs), "--out", str(out), "--format", "json"]) == 1  # nothing compiled yet
    assert not out.exists()


# Edits of the shared platform file: they change what many render units read (the
# project's releases, an environment's namespace or gateway), so every unit they
# touch must miss. Some break the spec.
PLATFORM_EDITS = [
    ('triton "2.51.0"', 'triton "2.5{n}.0"'),
    ('namespace "ml-prod"', 'namespace "ml-prod{n}"'),
    ('  gateway "istio-ingress"\n', ""),
    ('kubernetes "1.33"', 'kubernetes "1.3{n}"'),
    ("replicas 3..12", "replicas {n}..12"),
    # What catalog pages show of other blocks: a dataset's version and digest, an
    # environment's tier (the promotion order, "production"), the project's runbooks and owners.
    ('version "1"\n  uri', 'version "{n}"\n  uri'),
    ('sha256 "0000', 'sha256 "{n}000'),
    ("tier preprod", "tier staging"),
    ('runbooks "https://runbooks.synth.example"', 'runbooks "https://rb{n}.example"'),
    ("owners @synth/platform", "owners @synth/plat{n}"),
]


def _apply_platform(path: Path, edit: int, n: int) -> None:
    old, new = PLATFORM_EDITS[edit]
    path.write_text(path.read_text().replace(old, new.replace("{n}", str(n)), 1))


@settings(max_examples=10, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.integers(0, 2), st.integers(0, len(EDITS) - 1), st.integers(1, 9)),
            st.tuples(st.just(-1), st.integers(0, len(PLATFORM_EDITS) - 1), st.integers(1, 9)),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_render_units_from_the_memo_agree_with_a_fresh_render(edits: list[tuple[int, int, int]]) -> None:
    """The render-unit memo (compiler.backends.memo) never changes a result: after random
    edits of one model or of what every model shares, builds take units from the memo (in
    memory and on disk, their documents cut to facts) and give the same files, bytes and
    diagnostics as a build without a store."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        specs = generate(root, 3)
        (root / "out").mkdir()
        memory = Memory()
        disk = Cache(root / "out")
        reused = 0
        earlier = None  # the memory builds resolve with the last one's, as watch does (keys by identity)
        for model, edit, n in [(0, 0, 0), *edits]:
            if model >= 0 and (model, edit, n) != (0, 0, 0):
                _apply(specs / "models" / f"m{model:05d}.ship", edit, n)
            elif model < 0:
                _apply_platform(specs / "platform.ship", edit, n)
            fresh = build([specs])
            for store in (memory, disk):
                cached = build([specs], store=store, earlier=earlier if store is memory else None)
                if store is memory:
                    earlier = cached.checked.resolved
                assert _result(cached) == _result(fresh)
            units = memory.entries.get(("units", _units_key()))
            reused += len(units[0]) if units else 0
        disk.close()
        assert reused > 0  # the memo was filled and kept, not bypassed


def _units_key() -> str:
    from compiler.pipeline import units_key

    return units_key(None, True, None)


def test_a_one_model_edit_renders_only_that_models_units(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """After one field of one model changed, the render units that run again are that
    model's (its triton configs, Kubernetes objects and monitoring files, per environment)."""
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.backends.monitoring import backend as monitoring
    from compiler.backends.triton import backend as triton

    rendered: list[tuple[str, str, str]] = []
    for module, name in ((triton, "_config"), (kubernetes, "_serve"), (monitoring, "_per_model")):
        original = getattr(module, name)

        def counting(templates: object, sink: Sink, placed: object, *rest: object, _f=original, _n=name) -> object:  # type: ignore[no-untyped-def]
            if _n == "_config":  # a Triton config renders from its view: (view, header, path, map, model, ...)
                rendered.append((_n, rest[3], rest[1].split("/")[1]))  # type: ignore[attr-defined]
            else:
                rendered.append((_n, placed.model.name, placed.env.name))  # type: ignore[attr-defined]
            return _f(templates, sink, placed, *rest)

        monkeypatch.setattr(module, name, counting)
    specs = generate(tmp_path, 6)
    memory = Memory()
    first = build([specs], store=memory)
    assert {m for _, m, _ in rendered} == {f"m{i:05d}" for i in range(6)}
    rendered.clear()
    _apply(specs / "models" / "m00001.ship", EDITS.index(("cpu 1 ", "cpu {n} ")), 2)
    second = build([specs], store=memory)
    assert rendered and {m for _, m, _ in rendered} == {"m00001"}
    # Every unit of m00001 ran again (its placement changed), once per environment it is served in.
    assert sorted(rendered) == sorted(u for u in _all_units(specs) if u[1] == "m00001")
    assert not second.has_errors and _result(second) == _result(build([specs]))
    assert first.files != second.files
    rendered.clear()
    build([specs], store=Memory())  # an empty memo renders every unit
    assert len({m for _, m, _ in rendered}) == 6


def test_a_one_shot_build_renders_a_triton_config_only_where_its_view_changed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """On disk a Triton config is keyed by what it is made of (``triton.backend._unit_inputs``):
    a CPU edit of one model renders none again (its Kubernetes objects it does), a batching
    edit renders that model's, and each build is an uncached build's, files and diagnostics."""
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.backends.triton import backend as triton

    rendered: list[tuple[str, str]] = []
    config, serve = triton._config, kubernetes._serve

    def counting_config(templates: object, sink: Sink, *args: Any) -> Any:
        rendered.append(("triton", args[4]))
        return config(templates, sink, *args)  # type: ignore[arg-type]

    def counting_serve(templates: object, sink: Sink, placed: Any, *rest: Any) -> Any:
        rendered.append(("kubernetes", placed.model.name))
        return serve(templates, sink, placed, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(triton, "_config", counting_config)
    monkeypatch.setattr(kubernetes, "_serve", counting_serve)
    specs = generate(tmp_path, 6)
    out = tmp_path / "out"
    out.mkdir()  # the cache is written under an output root that exists
    for _ in range(2):  # the second keeps the loop bodies a one-shot build hands back
        build([specs], store=Cache(out))
    model = specs / "models" / "m00001.ship"
    served = sum(1 for u in _all_units(specs) if u[0] == "_config" and u[1] == "m00001")
    for edit, n, triton_again in (
        (("cpu 1 ", "cpu {n} "), 6, False),
        (("batching { max 32", "batching { max {n}"), 64, True),
    ):
        rendered.clear()
        _apply(model, EDITS.index(edit), n)
        built = build([specs], store=Cache(out))
        assert not built.has_errors
        assert rendered.count(("kubernetes", "m00001")) == served
        assert rendered.count(("triton", "m00001")) == (served if triton_again else 0), (edit, rendered)
        assert {m for _, m in rendered} == {"m00001"}
        assert _result(built) == _result(build([specs]))


def _all_units(specs: Path) -> list[tuple[str, str, str]]:
    from compiler.pipeline import validate as check_spec

    r = check_spec([specs]).resolved
    out = []
    for m in r.spec.models:
        for env in r.served(m):
            out.append(("_config", m.name, env.name))
            out.append(("_serve", m.name, env.name))
            out.append(("_per_model", m.name, env.name))
    return out


def test_a_watching_build_keys_the_units_an_edit_left_alone_without_pickling_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In a watching process a unit given the very records it was given last build (and
    equal plain values) takes last build's key: after a one-model edit only that model's
    per-placement units pickle their inputs, and the build is a fresh build's."""
    from compiler.backends.memo import Units

    pickled: list[str] = []
    models: list[str] = []  # the model of each per-placement unit pickled
    original = Units._key

    def counting(self: Units, name: str, inputs: tuple[object, ...]) -> str:
        pickled.append(name)
        if name == "monitoring.groups":
            models.append(inputs[1].model)  # type: ignore[attr-defined]
        elif name in per_placement:
            models.append(inputs[0].model.name)  # type: ignore[attr-defined]
        elif (
            name == "triton.config"
        ):  # a one-shot build keys a config by its view: (view, header, path, map, model, ...)
            models.append(inputs[4])  # type: ignore[arg-type]
        elif name in per_model:
            # A gate's workflow, a model's page, a monitor's drift job: views made from records.
            model = inputs[-1].gate.model if name == "github.promote" else inputs[0].model  # type: ignore[attr-defined]
            models.append(getattr(model, "name", model))
        return original(self, name, inputs)

    monkeypatch.setattr(Units, "_key", counting)
    # A watching build keys a Triton config by its placement (by identity), not by its view.
    per_placement = ("kubernetes.serve", "triton.config@item", "monitoring.model", "monitoring.groups")
    per_model = ("github.promote", "catalog.page", "monitoring.drift")
    specs = generate(tmp_path, 6)
    memory = Memory()
    first = build([specs], store=memory)
    placements = sum(1 for u in _all_units(specs) if u[0] == "_serve")
    assert all(pickled.count(name) == placements for name in per_placement)
    assert pickled.count("catalog.page") == 6 and pickled.count("monitoring.drift") >= 6
    gates = pickled.count("github.promote")
    assert gates >= 6
    pickled.clear()
    models.clear()
    from compiler.backends.kubernetes import kustomize
    from compiler.backends.monitoring import backend as monitoring

    bodies: list[str] = []  # the model of each monitoring placement body that ran
    placement = monitoring._placement
    monkeypatch.setattr(monitoring, "_placement", lambda *a: bodies.append(a[3].model.name) or placement(*a))
    assembled: list[str] = []
    directory = kustomize._directory
    monkeypatch.setattr(kustomize, "_directory", lambda top, *rest: assembled.append(top) or directory(top, *rest))
    _apply(specs / "models" / "m00001.ship", EDITS.index(("cpu 1 ", "cpu {n} ")), 2)
    second = build([specs], store=memory, earlier=first.checked.resolved)
    assert assembled == []  # a CPU edit changes no directory's kustomization: none is assembled again
    assert bodies == ["m00001"] * len(bodies) and 0 < len(bodies) < placements  # only its placements' bodies ran
    edited = sum(1 for u in _all_units(specs) if u[0] == "_serve" and u[1] == "m00001")
    assert 0 < edited < placements
    assert [pickled.count(name) for name in per_placement[:3]] == [edited, edited, edited]
    # The groups' records are the edited file's SLA and monitor, lowered again (equal, not the same).
    assert pickled.count("monitoring.groups") <= edited and set(models) == {"m00001"}
    # The views made from records key by their records: only the edited model's are pickled.
    assert pickled.count("catalog.page") == 1 and 1 <= pickled.count("monitoring.drift") < 6
    assert 1 <= pickled.count("github.promote") < gates
    # What else a step pickles is a handful of aggregates, not a unit per model.
    assert len(pickled) - sum(pickled.count(name) for name in (*per_placement, *per_model)) <= 8, pickled
    assert not second.has_errors and _result(second) == _result(build([specs]))
    # And a result the memo hands out again is the same file objects: not made again.
    before = {f.path: f for f in first.files}
    kept = [f.path for f in second.files if before.get(f.path) is f]
    changed = [f.path for f in second.files if f.path in before and before[f.path].text != f.text]
    assert changed and not set(changed) & set(kept) and any("m00000" in p for p in kept)
    # The edited model's units that read the CPU were made again; those that do not (its rules) were not.
    assert not [p for p in kept if "m00001" in p and ("deployment-" in p or "rollout-" in p or "triton/" in p)]
    assert "deploy/prod/monitoring/rules/m00001.yaml" in kept
    bodies.clear()
    third = build([specs], store=memory, earlier=second.checked.resolved)  # nothing changed
    assert bodies == []
    again = [b.path for a, b in zip(second.files, third.files, strict=True) if a is b]
    assert _result(third) == _result(second) and {f.path for f in second.files if "m00001" in f.path} <= set(again)
    # A one-shot process has no last build in memory: every key is pickled.
    pickled.clear()
    build([specs], store=Memory())
    assert all(pickled.count(name) == placements for name in per_placement)
    pickled.clear()
    (tmp_path / "out").mkdir()
    build([specs], store=Cache(tmp_path / "out"))  # on disk: a Triton config is keyed by its view
    assert pickled.count("triton.config") == placements and "triton.config@item" not in pickled


def test_unit_identities_tell_apart_what_pickles_apart() -> None:
    """``memo.identities``: records by identity, plain values by value and type, and None
    (pickle the inputs) for anything else."""
    from compiler.backends.memo import identities
    from compiler.backends.monitoring.slo import Target
    from compiler.diagnostics import Span

    a, b = Span.point("a.ship"), Span.point("a.ship")
    assert a == b and identities("u", (a,)) != identities("u", (b,)) and identities("u", (a,)) == identities("u", (a,))
    assert len({identities("u", (x,)) for x in (1, True, 1.0, "1", b"1", None)}) == 6
    assert identities("u", (0.0,)) != identities("u", (-0.0,)) and identities("u", (0.5,)) == identities("u", (0.5,))
    assert identities("u", (1,)) != identities("v", (1,))
    assert identities("u", (("x", ("y", "z")),)) == identities("u", (("x", ("y", "z")),))
    t = ("m", "prod", "ml-prod", "team", None)
    assert identities("u", (Target(*t),)) == identities("u", (Target(*t),))
    assert identities("u", (Target(*t),)) != identities("u", (Target(*t[:-1], "https://rb"),))
    labels = identities("u", ({"a": "1", "b": "2"},))
    assert labels == identities("u", ({"a": "1", "b": "2"},)) != identities("u", ({"b": "2", "a": "1"},))
    assert labels != identities("u", ((("a", "1"), ("b", "2")),))
    # Keyed by value, they must stay frozen records of strings: 1 == 1.0 == True would merge keys.
    import dataclasses
    import importlib

    from compiler.backends.memo import _BY_VALUE

    for module, name in _BY_VALUE:
        cls = getattr(importlib.import_module(module), name)
        assert cls.__dataclass_params__.frozen
        assert {f.type for f in dataclasses.fields(cls)} <= {"str", "str | None"}, cls
    # Tuples element by element: what pickles apart stays apart, nesting included.
    tuples = [(1, 2), (1.0, 2), (True, 2), ((1, 2),), (1, (2,)), ("1", 2), (a,), (b,), (), ((),), (None,)]
    assert len({identities("u", (x,)) for x in tuples}) == len(tuples)
    assert identities("u", ((1, (a, "x")),)) == identities("u", ((1, (a, "x")),))
    for other in ({"k": 1}, {"k": {"v": "w"}}, ["x"], ("x", ["y"]), {"x"}, object(), ((object(),),)):
        assert identities("u", ("x", other)) is None
    # A record made again from the same records (``_BY_FIELDS``) is keyed by their identities.
    from compiler.backends.github.views import GateInputs, gate_inputs
    from compiler.pipeline import validate as check_spec

    with tempfile.TemporaryDirectory() as tmp:
        resolved = check_spec([generate(Path(tmp), 2)]).resolved
    gate = resolved.spec.gates[0]
    made, again = gate_inputs(resolved, gate), gate_inputs(resolved, gate)
    assert made is not again and identities("u", (made,)) == identities("u", (again,)) is not None
    other = GateInputs(*(dataclasses.replace(gate) if f == "gate" else getattr(made, f) for f in made.__slots__))
    assert other == made and identities("u", (other,)) != identities("u", (made,))
    assert identities("u", (dataclasses.replace(made, spec_dir="elsewhere"),)) != identities("u", (made,))


def test_a_watching_resolve_keeps_the_project_an_edit_left_alone(tmp_path: Path) -> None:
    from compiler.pipeline import validate as check_spec
    from compiler.resolve import resolve

    specs = generate(tmp_path, 2)
    first = check_spec([specs]).resolved
    again = resolve(check_spec([specs]).spec, first)
    assert again.project is first.project
    _apply_platform(specs / "platform.ship", 3, 2)  # kubernetes "1.32"
    moved = resolve(check_spec([specs]).spec, first)
    assert moved.project is not first.project and moved.project.kubernetes_version == "1.32"


def test_watch_renders_what_a_one_shot_compile_renders_with_the_project_config(tmp_path: Path) -> None:
    """shipspec.toml's [ci] install and warning allowances reach a watching compile too."""
    from compiler.commands.watch import Watcher

    specs = generate(tmp_path, 1)
    install = "shipspec==9.9.9"
    watcher = Watcher([specs], tmp_path / "out", ci_install=install, allow=frozenset({"SS640"}))
    watcher.compile()
    assert watcher.built is not None
    expected = build([specs], ci_install=install, allow=frozenset({"SS640"}))
    assert _result(watcher.built) == _result(expected)
    assert _result(expected) != _result(build([specs]))


def test_a_watching_compile_plans_over_the_tree_it_wrote_and_sees_hand_edits(tmp_path: Path) -> None:
    """After its first compile the watcher plans over the recorded tree; a generated file
    edited by hand meanwhile is reported (SS901) and left alone, as a one-shot compile does."""
    from compiler.commands.watch import Watcher

    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    watcher = Watcher([specs], out)
    watcher.compile()
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    planned = watcher.step()
    assert planned is not None and planned.plan is not None and planned.plan.verified
    assert 0 < len(planned.plan.write) < 10 and not planned.has_errors
    victim = out / planned.plan.write[0]
    victim.write_text(victim.read_text() + "# by hand\n")
    model.write_text(model.read_text().replace("cpu 2 ", "cpu 3 "))
    planned = watcher.step()
    assert planned is not None and planned.plan is not None and not planned.plan.verified
    assert "SS901" in {d.code for d in planned.checked.diagnostics}
    assert victim.read_text().endswith("# by hand\n")


def test_compiled_templates_are_kept_in_the_cache_and_render_the_same(tmp_path: Path) -> None:
    """A second build loads each template's code from the (signed) cache instead of
    compiling it, and renders the same bytes."""
    import jinja2

    from compiler.backends import render as rendering

    specs = generate(tmp_path, 1)
    out = tmp_path / "out"
    assert main(["compile", str(specs), "--out", str(out)]) == 0
    assert len([p for p in (Cache(out).dir / "jinja").rglob("*") if p.is_file()]) >= 10
    shutil.rmtree(Cache(out).dir / "units")  # no memo: every unit renders again, each template as kept
    compiled: list[str] = []
    loaded: list[str] = []
    real_compile, real_load = jinja2.Environment._compile, rendering._Compiled.load_bytecode

    def counting(self: jinja2.Environment, source: str, filename: str) -> object:
        compiled.append(filename)
        return real_compile(self, source, filename)

    def loading(self: rendering._Compiled, bucket: jinja2.bccache.Bucket) -> None:
        real_load(self, bucket)
        if bucket.code is not None:
            loaded.append(bucket.key)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jinja2.Environment, "_compile", counting)
        mp.setattr(rendering._Compiled, "load_bytecode", loading)
        built = build([specs], store=Cache(out))
    assert compiled == [] and len(loaded) >= 10
    assert _result(built) == _result(build([specs]))


def test_a_watching_compile_compares_only_what_it_changes(tmp_path: Path) -> None:
    """A hand edit of a file the next step does not change is left alone and not read
    (watch compares only what it rewrites or removes); ``check`` still reports it."""
    from compiler.commands.watch import Watcher

    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    watcher = Watcher([specs], out)
    first = watcher.compile()
    assert first.plan is not None
    other = out / next(p for p in first.plan.files if "m00000" in p and p.endswith(".yaml"))
    other.write_text(other.read_text() + "# by hand\n")
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    planned = watcher.step()
    assert planned is not None and planned.plan is not None and planned.plan.verified
    assert not planned.has_errors and other.read_text().endswith("# by hand\n")
    assert main(["check", str(specs), "--out", str(out), "--format", "json"]) == 1


def test_a_watching_process_keeps_the_ir_of_the_current_texts_only(tmp_path: Path) -> None:
    """Each edit lowers one file anew; the IR of the text it replaced is let go, so the
    memory of a long watching session does not grow with the number of edits."""
    from compiler.commands.watch import Watcher

    specs = generate(tmp_path, 2)
    watcher = Watcher([specs], tmp_path / "out")
    watcher.compile()
    files = len(list(specs.rglob("*.ship")))
    model = specs / "models" / "m00001.ship"
    for n in range(2, 6):
        model.write_text(model.read_text().replace(f"cpu {n - 1} ", f"cpu {n} "))
        assert watcher.step() is not None
        assert sum(1 for kind, _ in watcher.store.entries if kind == "ir") == files


def test_the_watch_loop_reports_the_first_compile_and_then_each_edit(tmp_path: Path) -> None:
    """``compile --watch``'s loop (``watch.run``): a report for the first compile, none for
    polls that find nothing changed, one for the poll after an edit, whose files are written."""
    from compiler.commands import watch

    specs = generate(tmp_path, 2)
    out = tmp_path / "out"
    model = specs / "models" / "m00001.ship"
    reports: list[int] = []

    def report(planned: object) -> None:
        plan = planned.plan  # type: ignore[attr-defined]
        reports.append(len(plan.write))
        if len(reports) == 1:  # after the first compile: an edit for the next poll to find
            model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))

    assert watch.run([specs], out, None, False, report, interval=0.01, cycles=4) == 0
    assert len(reports) == 2 and reports[0] > 10 and 0 < reports[1] < 10
    deployment = (out / "deploy" / "preprod" / "deployment-m00001.yaml").read_text()
    assert deployment.count("cpu: '2'") == 2  # the Triton container's request and limit


def test_the_watch_loop_collects_after_each_report_never_before_it(tmp_path: Path) -> None:
    """The cyclic collector walks the whole held heap (a tenth of a second or more at 1,000
    models): the loop runs it once each report is out, not when a step ends, and leaves it as
    it found it."""
    import gc

    from compiler.commands import watch

    specs = generate(tmp_path, 2)
    model = specs / "models" / "m00001.ship"
    events: list[str] = []

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            events.append(f"gc{info['generation']}")

    def report(planned: object) -> None:
        events.append("report")
        if events.count("report") == 1:
            model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))

    gc.callbacks.append(collected)
    try:
        assert watch.run([specs], tmp_path / "out", None, False, report, interval=0.01, cycles=3) == 0
    finally:
        gc.callbacks.remove(collected)
    assert gc.isenabled()
    assert events == ["report", "gc2", "report", "gc2"]


# Edits of what the monitoring and catalog backends' aggregates read besides each model's own
# units (memoised on those units' keys, ``memo.over``): an environment no model serves, a dataset
# no model uses, a training, the SLOs the shared rule groups are made from. (file, old, new).
AGGREGATE_EDITS = [
    ("platform.ship", 'namespace "ml-dev"', 'namespace "ml-dev{n}"'),
    ("platform.ship", "tier development", "tier staging"),
    ("platform.ship", "", '\ndataset unused {\n  version "{n}"\n  uri "s3://synth/unused/{n}/"\n}\n'),
    ("platform.ship", "", '\nenvironment extra{n} {\n  tier staging\n  namespace "ml-extra{n}"\n}\n'),
    ("models/m00002.ship", "", '\ntraining m00002 {\n  in train\n  image "ghcr.io/synth/t:{n}"\n  dataset unused\n}\n'),
    ("models/m00001.ship", "over 30d", "over {n}0d"),
    ("models/m00001.ship", "latency p99 < 80ms", "latency p9{n} < 80ms"),
    ("models/m00000.ship", "availability 99.9%", "availability 9{n}.5%"),
    ("models/m00000.ship", "error_rate < 0.5%", "error_rate < {n}%"),
    (
        "models/m00001.ship",
        "gate staging -> preprod for m00001 {\n",
        "gate staging -> preprod for m00001 {\n  approval @synth/qa\n",
    ),
    ("models/m00001.ship", "metric auc >= 0.8 on events", "metric auc >= 0.8 on unused"),
]


def test_monitoring_and_catalog_aggregates_from_the_memo_agree_with_a_fresh_render(tmp_path: Path) -> None:
    """Each edit of ``AGGREGATE_EDITS`` in turn (some break the spec): builds taking the rules'
    shared groups, their problems and the catalog index from the memo (in memory and on disk)
    give the files, bytes and diagnostics of a build without a store."""
    specs = generate(tmp_path, 3)
    (tmp_path / "out").mkdir()
    memory, disk = Memory(), Cache(tmp_path / "out")
    for n, (name, old, new) in enumerate([("platform.ship", "", ""), *AGGREGATE_EDITS], start=1):
        path = specs / name
        text = path.read_text()
        assert not old or old in text, old
        new = new.replace("{n}", str(n))
        path.write_text(text.replace(old, new, 1) if old else text + new)
        fresh = build([specs])
        for store in (memory, disk):
            assert _result(build([specs], store=store)) == _result(fresh), (name, new)
    disk.close()


@pytest.mark.parametrize("on_disk", [False, True])
def test_an_edit_that_leaves_the_rule_groups_takes_the_rules_files_from_the_memo(
    on_disk: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model's rule groups are memoised on what they read (target, SLA, monitor, Triton
    version, tier), and the rules file and the model's PrometheusRule on the groups' keys: a
    CPU request changes none of them, so neither the groups nor those files are made again
    (the prod rules file is 8 MB at 1,000 models). An SLA edit makes that model's groups and
    every file over them again. Either way, the files and diagnostics of a fresh build."""
    from compiler.backends.monitoring import backend as monitoring

    made: list[str] = []
    real_groups, real_rules = monitoring._model_groups, monitoring._Backend._rules_file
    monkeypatch.setattr(monitoring, "_model_groups", lambda s, t, *a: made.append(t.model) or real_groups(s, t, *a))

    def rules_file(self: object, ctx: object, parts: list[str], out_dir: str, source: object) -> object:
        made.append(out_dir)
        return real_rules(self, ctx, parts, out_dir, source)  # type: ignore[arg-type]

    monkeypatch.setattr(monitoring._Backend, "_rules_file", rules_file)
    specs = generate(tmp_path, 4)
    (tmp_path / "out").mkdir()
    store = Cache(tmp_path / "out") if on_disk else Memory()
    assert not build([specs], store=store).has_errors
    assert made
    model = specs / "models" / "m00001.ship"
    cpu, latency = EDITS.index(("cpu 1 ", "cpu {n} ")), EDITS.index(("latency p99 < 80ms", "latency p99 < {n}0ms"))
    # The last build takes the files the SLA edit laid out (on disk: kept from the spool,
    # never read back) from the memo, and reads their texts to compare them.
    for edit, n in ((cpu, 3), (latency, 9), (cpu, 4)):
        made.clear()
        if edit == cpu:
            model.write_text(re.sub(r"cpu \d+ ", f"cpu {n} ", model.read_text(), count=1))
        else:
            _apply(model, edit, n)
        built = build([specs], store=store)
        if "cpu" in EDITS[edit][0]:
            assert made == []
        else:
            served = [env for env in ("deploy/staging/monitoring", "deploy/prod/monitoring") if env in made]
            assert "m00001" in made and served and set(made) <= {"m00001", *served}
        assert _result(built) == _result(build([specs]))


@pytest.mark.parametrize(
    "edit",
    [
        ('runbooks "https://runbooks.synth.example"', 'runbooks "https://rb.example"'),
        ('triton "2.51.0"', 'triton "2.52.0"'),
        ('registry "ghcr.io/synth"', 'registry "ghcr.io/other"'),
        ("owners @synth/platform", "owners @synth/other"),
    ],
)
def test_a_watching_build_sees_a_project_edit_in_a_file_of_its_own(tmp_path: Path, edit: tuple[str, str]) -> None:
    """With the project in its own file, an edit of it leaves every environment, model and
    placement the same objects: what reads the project (a unit, a body handed back whole by
    ``memo.group``) must be keyed on it too, or a watching build would keep last step's."""
    specs = generate(tmp_path, 3)
    platform = (specs / "platform.ship").read_text()
    start, end = platform.index("project synth {"), platform.index("}\n", platform.index("project synth {")) + 2
    (specs / "project.ship").write_text(platform[start:end])
    (specs / "platform.ship").write_text(platform[:start] + platform[end:])
    memory = Memory()
    first = build([specs], store=memory)
    assert not first.has_errors
    project = specs / "project.ship"
    project.write_text(project.read_text().replace(*edit))
    second = build([specs], store=memory, earlier=first.checked.resolved)
    # The premise: the environments and placements are last step's very objects.
    before, after = first.checked.resolved, second.checked.resolved
    assert all(
        a is b
        for e1, e2 in zip(before.spec.environments, after.spec.environments, strict=True)
        for a, b in zip(before.placements(e1), after.placements(e2), strict=True)
    )
    assert _result(second) == _result(build([specs])) != _result(first)


def test_a_watching_compile_reads_only_the_spec_files_whose_stat_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step reads again the files whose (mtime, size) the poll saw move, and a new one;
    the others' texts are last step's. The build is what a fresh one makes."""
    import os

    from compiler.commands.watch import Watcher
    from compiler.parse import sources

    specs = generate(tmp_path, 4)
    watcher = Watcher([specs], tmp_path / "out")
    watcher.compile()
    read: list[str] = []
    reading = sources.read_source
    monkeypatch.setattr(sources, "read_source", lambda path, display: read.append(path.name) or reading(path, display))
    model = specs / "models" / "m00001.ship"
    model.write_text(model.read_text().replace("cpu 1 ", "cpu 2 "))
    (specs / "models" / "m00002.ship").touch()  # same text, moved stat: read again all the same
    os.utime(specs / "models" / "m00002.ship", ns=(1, 1))
    (specs / "extra.ship").write_text("# a file of its own, still empty\n")
    planned = watcher.step()
    assert planned is not None and not planned.has_errors
    assert sorted(read) == ["extra.ship", "m00001.ship", "m00002.ship"]
    assert watcher.built is not None and _result(watcher.built) == _result(build([specs]))
    read.clear()
    assert watcher.step() is None and read == []  # nothing moved: no step, nothing read


def test_a_large_entrys_mac_is_checked_over_one_buffer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk read into the same buffer, not a new bytes object each (a mapping of its own,
    made and dropped, for a chunk past the allocator's threshold)."""
    value = {f"{i:05d}": f"{i:05d}" * 60 for i in range(12_000)}  # ~4 MB pickled
    Cache(tmp_path).put("units", "ef" * 32, value)
    hashed: list[object] = []
    new = cache_module.hmac.new

    class Recorded:
        def __init__(self, *args: object) -> None:
            self.mac = new(*args)  # type: ignore[arg-type]

        def update(self, data: object) -> None:
            hashed.append(data.obj if isinstance(data, memoryview) else data)
            self.mac.update(data)  # type: ignore[arg-type]

        def digest(self) -> bytes:
            return self.mac.digest()

    monkeypatch.setattr(cache_module.hmac, "new", Recorded)
    assert Cache(tmp_path).get("units", "ef" * 32) == value
    assert len(hashed) > 4 and len({id(b) for b in hashed}) == 1
