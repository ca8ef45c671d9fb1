"""``memo_groups``: loop bodies over render units kept on disk for the next process. A build
that finds a body kept under the digest of its inputs books its units as running it would,
hands back the same files and says the same, without running it or keying its units; a body
it cannot vouch for runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import generate
from compiler.backends import memo
from compiler.backends.memo import Units, group, unit
from compiler.backends.memo_groups import kept_of
from compiler.cache import Cache
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.ir import Environment, Tier
from compiler.output import OutputFile
from tests.unit.backends.test_memo_group import _Ctx, _render, unit_each

RUNS: list[str] = []


def _count(sink: Sink, env: Environment) -> tuple[int, str]:
    sink.report("SS740", f"counted {env.name}", Span.point("z.ship"))
    return (len(env.name), "x" * 600)  # a text long enough to be kept in the memo's pack


def _body(units: Units | None, sink: Sink, env: Environment, count: int) -> tuple[Any, ...]:
    RUNS.append(env.name)
    sink.report("SS731", f"body {env.name}", Span.point("y.ship"))
    ctx = _Ctx(units)
    ctx.sink = sink
    files = tuple(f for n in range(count) for f in unit(ctx, "u", _render, env, n))
    value = memo.keyed_value(ctx, "v", _count, env)[1]
    return files, value, env.name.upper()  # files, a value with a text in it, and its own data


def _build(units: Units, envs: list[Environment], count: int = 2) -> tuple[list[Any], list[Diagnostic]]:
    ctx = _Ctx(units)
    made = [group(ctx, "g", lambda s, *i: _body(units, s, *i), env, count) for env in envs]
    return made, list(ctx.sink.items)


def _shown(made: list[Any]) -> list[Any]:
    return [([(f.path, f.text) for f in files], (value[0], memo.text(value[1])), own) for files, value, own in made]


def _process(last: Units | None = None, config: str = "c") -> Units:
    """A build's memo in a new process, as ``pipeline.build`` makes it with a cache on disk."""
    units = Units(known=dict(last.used) if last else {}, keeps_bodies=True)
    units.config = config
    if last is not None:
        units.known_bodies = dict(last.bodies)
    return units


def _book(units: Units) -> tuple[Any, ...]:
    assert not units.file_ids  # a build on disk makes the set once, when it validates
    return dict(units.used), {k: [(f.path, f.text) for f in fs] for k, fs in units.files.items()}


ENVS = [Environment(name, Tier.STAGING, Span.point("p.ship")) for name in ("a", "b")]


def test_a_body_kept_by_an_earlier_process_is_handed_back_with_its_units_booked() -> None:
    RUNS.clear()
    first = _process()
    made, said = _build(first, ENVS)
    assert RUNS == ["a", "b"] and len(first.bodies) == 2
    RUNS.clear()
    second = _process(first)
    again, said_again = _build(second, ENVS)
    assert RUNS == [] and _shown(again) == _shown(made) and said_again == said
    # Booked as a build that ran every body over hits books its units.
    ran = _process(first)
    ran.known_bodies = {}
    _build(ran, ENVS)
    assert _book(second) == _book(ran) and second.bodies == ran.bodies
    # The files handed back are this build's objects, as the units handed them out.
    files = [f for fs in second.files.values() for f in fs]
    assert {id(f) for got in again for f in got[0]} == {id(f) for f in files}


def test_a_kept_body_runs_when_its_inputs_configuration_or_units_are_not_as_kept() -> None:
    RUNS.clear()
    first = _process()
    _build(first, ENVS)
    RUNS.clear()
    _build(_process(first), ENVS, count=3)  # another input value
    assert RUNS == ["a", "b"]
    RUNS.clear()
    _build(_process(first, config="other templates"), ENVS)
    assert RUNS == ["a", "b"]
    RUNS.clear()
    missing = _process(first)
    gone = next(k for k, r in missing.known.items() if r.files and r.files[0][0] == "b-1.yaml")
    del missing.known[gone]  # a unit the memo no longer holds: that body runs
    made, _ = _build(missing, ENVS)
    assert RUNS == ["b"] and missing.files[gone][0].path == "b-1.yaml"
    # A build that validates takes no unit without a verdict for its version: the body runs.
    RUNS.clear()
    checking = _process(first)
    checking.check = lambda files: ()  # the same body keys: the units' lack of a verdict decides
    _build(checking, ENVS)
    assert RUNS == ["a", "b"]
    # Nor one validated under another Kubernetes version (the body keys name the version, so
    # only a memo of other verdicts under the same keys meets this).
    validated = _validating(_process())
    _build(validated, ENVS)
    RUNS.clear()
    _build(_validating(_process(validated)), ENVS)
    assert RUNS == []  # validated as this build validates: handed back
    other = _validating(_process(validated))
    other.known = {k: r._replace(k8s_version="1.29") if r.files else r for k, r in other.known.items()}
    _build(other, ENVS)
    assert RUNS == ["a", "b"]


def test_a_body_that_used_a_unit_twice_is_handed_back_with_its_files_booked_twice() -> None:
    def twice(units: Units) -> list[Any]:
        def body(sink: Sink, env: Environment) -> tuple[OutputFile, ...]:
            RUNS.append(env.name)
            ctx = _Ctx(units)
            ctx.sink = sink
            return (
                *unit(ctx, "u", _render, env, 1),
                *unit(ctx, "u", _render, env, 2),
                *unit(ctx, "u", _render, env, 1),
            )

        return [group(_Ctx(units), "twice", body, env) for env in ENVS]

    first = _process()
    twice(first)
    RUNS.clear()
    second = _process(first)
    made = twice(second)
    assert RUNS == []
    ran = _process(first)
    ran.known_bodies = {}
    assert [[f.path for f in files] for files in twice(ran)] == [[f.path for f in files] for files in made]
    assert _book(second) == _book(ran)
    assert sorted(len(fs) for fs in second.files.values()) == [1, 1, 2, 2]


def _validating(units: Units) -> Units:
    units.check = lambda files: ()
    units.k8s_version = "1.30"
    return units


def test_a_key_does_not_depend_on_which_equal_values_are_one_object() -> None:
    # A string the IR shares when parsed is two when loaded from the cache: a body's key (many
    # units' inputs in one pickle) would differ between a cold compile and the next.
    one, other = "".join(["m0", "0001"]), "".join(["m0", "0001"])
    assert one is not other
    units = Units()
    assert units._key("n", (one, one)) == units._key("n", (one, other))


def test_a_body_whose_result_holds_what_no_unit_made_is_not_kept() -> None:
    units = _process()

    def body(sink: Sink, env: Environment) -> tuple[OutputFile, ...]:
        ctx = _Ctx(units)
        made = unit(ctx, "u", _render, env, 1)
        return (*made, OutputFile("own.yaml", "x: 1\n", Span.point("x.ship")))

    for _ in range(2):
        files = group(_Ctx(units), "own", body, ENVS[0])
        assert [f.path for f in files] == ["a-1.yaml", "own.yaml"]
    assert units.bodies == {}
    assert kept_of([], (OutputFile("own.yaml", "", Span.point("x.ship")),), ()) is None


def test_unit_each_keys_only_the_blocks_an_edit_touched_in_a_new_process(monkeypatch: Any) -> None:
    envs = [Environment(f"e{i:03d}", Tier.STAGING, Span.point("p.ship")) for i in range(3 * memo.BLOCK + 5)]
    keyed: list[str] = []
    key = Units._key
    monkeypatch.setattr(Units, "_key", lambda self, name, inputs: keyed.append(name) or key(self, name, inputs))

    inputs = [(env, 1) for env in envs]
    plain = unit_each(None, inputs)
    first = _process()
    assert unit_each(first, inputs) == plain
    keyed.clear()
    second = _process(first)
    assert unit_each(second, inputs) == plain and keyed == ["group:u[]"] * 4  # one key a block, no unit's
    inputs[memo.BLOCK + 3] = (envs[memo.BLOCK + 3], 2)
    keyed.clear()
    third = _process(second)
    assert unit_each(third, inputs) == unit_each(None, inputs)
    assert keyed.count("u") == memo.BLOCK and third.rendered == 1


def _cpu(specs: Path, n: int) -> None:
    path = specs / "models" / "m00001.ship"
    path.write_text(re.sub(r"\bcpu \d+ ", f"cpu {n} ", path.read_text(), count=1))


@pytest.mark.parametrize("forked", [False, True], ids=["serial", "forked"])
def test_a_one_shot_compile_after_one_edit_runs_only_the_bodies_of_the_edited_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, forked: bool
) -> None:
    """Each build with its own cache object, as a new process has. A cold compile keeps every
    body, those its forked Kubernetes workers ran too (sent back with their units); each
    edit after it, the first one included, runs the bodies the edited model is in and hands
    back every other, its result that of a build without a cache."""
    from compiler.backends import memo_groups
    from compiler.backends.kubernetes import backend as kubernetes
    from compiler.pipeline import build, units_key

    monkeypatch.setattr(memo, "BLOCK", 2)
    if forked:  # each environment in workers, two models a task
        monkeypatch.setattr(kubernetes, "PARALLEL_FROM", 0)
        monkeypatch.setattr(kubernetes, "SHARE", 2)
    specs = generate(tmp_path, 9)
    out = tmp_path / "out"
    with Cache(out) as store:
        build([specs], store=store)
        out.mkdir()  # the cache is written as it closes, once the tree exists (as after emit)
    with Cache(out) as store:
        kept = store.get(memo_groups.KIND, units_key(None, True, None))
    assert type(kept) is dict and kept and all(type(v) is bytes for v in kept.values())
    ran: list[tuple[str, str]] = []
    kept_body = Units._kept_body

    def counting(self: Units, name: str, fn: Any, sink: Sink, inputs: tuple[Any, ...]) -> Any:
        def running(*args: Any) -> Any:
            ran.append((name, repr(inputs)))
            return fn(*args)

        return kept_body(self, name, running, sink, inputs)

    monkeypatch.setattr(Units, "_kept_body", counting)
    for n in (7, 8):
        ran.clear()
        _cpu(specs, n)
        with Cache(out) as store:
            built = build([specs], store=store)
        fresh = build([specs])
        assert [(f.path, f.text) for f in built.files] == [(f.path, f.text) for f in fresh.files]
        assert built.diagnostics == fresh.diagnostics
        # What runs is what m00001 is in: a block of placement bodies and of Kubernetes objects
        # per environment it is served in, and a block of the others it is in; nothing else.
        resolved = fresh.checked.resolved
        served = len(resolved.served(next(m for m in resolved.spec.models if m.name == "m00001")))
        names = [name for name, _ in ran]
        assert names.count("monitoring.placement[]") == served and names.count("kubernetes.serve[]") == served
        assert [(n, i[:300]) for n, i in ran if "m00001" not in i] == []
        assert len(ran) <= 3 * served + 4


def test_group_each_keeps_bodies_a_block_at_a_time_and_hands_them_back_in_order(monkeypatch: Any) -> None:
    monkeypatch.setattr(memo, "BLOCK", 3)
    envs = [Environment(f"e{i}", Tier.STAGING, Span.point("p.ship")) for i in range(7)]

    def each(units: Units | None) -> tuple[list[Any], list[str]]:
        ctx = _Ctx(units)
        made = memo.group_each(ctx, "g", lambda s, *i: _body(units, s, *i), [(env, 1) for env in envs])
        return _shown(made), [d.message for d in ctx.sink.items]

    RUNS.clear()
    plain = each(None)
    first = _process()
    assert each(first) == plain and len(first.bodies) == 3  # blocks of 3, 3 and 1
    RUNS.clear()
    assert each(_process(first)) == plain and RUNS == []


_SPANS = st.builds(Span, st.sampled_from(["a.ship", "b.ship"]), *[st.integers(1, 3)] * 4)
_ENVS = st.builds(Environment, st.sampled_from(["dev", "prod"]), st.sampled_from(list(Tier)), _SPANS)
_LEAVES = st.one_of(st.text(max_size=3), st.integers(-2, 2), st.booleans(), st.none(), st.just(1.0), _SPANS, _ENVS)
_VALUES = st.recursive(
    _LEAVES, lambda inner: st.tuples(inner, inner) | st.lists(inner, max_size=2).map(tuple), max_leaves=6
)


def _same(a: Any, b: Any) -> bool:
    """Equal, with types compared too (1, 1.0 and True are three keys)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(st.tuples(_VALUES, _VALUES), st.tuples(_VALUES, _VALUES))
def test_a_key_is_its_inputs_content_whatever_the_objects(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    """Records stand in a key as plain data (by digest: an environment; by fields: a span):
    two inputs have one key exactly when they are equal, whether or not their records and
    strings are the same objects; and a key's pickle names no class or function (the pickler
    imported each again, ~2.7 us a record)."""
    import copy
    import pickletools

    units = Units()
    assert (units._key("n", a) == units._key("n", b)) is _same(a, b)
    assert units._key("n", a) == Units()._key("n", copy.deepcopy(a))
    memo._HELD.units = units
    try:
        ops = {op.name for op, _, _ in pickletools.genops(memo._pickle(a))}
    finally:
        memo._HELD.units = None
    assert not ops & {"STACK_GLOBAL", "GLOBAL", "REDUCE"}
