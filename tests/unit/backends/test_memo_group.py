"""``memo.group``: a loop body over render units, handed back whole by a watching build
when its inputs are the very objects they were last step, with its units counted as used
exactly as running it would count them."""

from __future__ import annotations

from typing import Any

from compiler.backends.memo import Units, group, unit
from compiler.diagnostics import Diagnostic, Severity, Sink, Span
from compiler.ir import Environment, Tier
from compiler.output import OutputFile


class _Ctx:
    def __init__(self, units: Units | None) -> None:
        self.units, self.templates, self.sink = units, None, Sink()


RUNS: list[str] = []


def _render(_templates: Any, sink: Sink, env: Environment, n: int) -> list[OutputFile]:
    sink.report("SS740", f"rendered {env.name} {n}", Span.point("x.ship"))
    return [OutputFile(f"{env.name}-{n}.yaml", f"n: {n}\n", Span.point("x.ship"))]


def _body(units: Units | None, sink: Sink, env: Environment, count: int) -> tuple[OutputFile, ...]:
    RUNS.append(env.name)
    sink.report("SS731", f"body {env.name}", Span.point("y.ship"))
    ctx = _Ctx(units)
    ctx.sink = sink
    return tuple(f for n in range(count) for f in unit(ctx, "u", _render, env, n))


def _step(units: Units, envs: list[Environment], count: int = 2) -> tuple[list[OutputFile], list[str]]:
    ctx = _Ctx(units)
    files = [f for env in envs for f in group(ctx, "g", lambda s, *i: _body(units, s, *i), env, count)]
    return files, [d.message for d in ctx.sink.items]


def _check(files: list[OutputFile]) -> tuple[Diagnostic, ...]:
    """A unit's validation verdict (``Units.check``): one diagnostic a file."""
    return tuple(Diagnostic("SS741", Severity.WARNING, f"checked {f.path}", f.source) for f in files)


def _watching(config: str = "c") -> Units:
    units = Units(check=_check)
    units.config = config
    units.resume(None)
    return units


def _next(last: Units, config: str = "c") -> Units:
    """The next step's memo, as ``pipeline.build`` makes it in a watching process."""
    units = Units(known=last.used, check=_check)
    units.config = config
    units.resume(last.step())
    return units


def _book(units: Units, files: list[OutputFile]) -> tuple[Any, ...]:
    """What a step's memo tells validation of the units it used, however it booked them: their
    verdicts, and which of the build's files (``files``, and one no unit made) no unit made."""
    extra = OutputFile("extra.yaml", "x: 1\n", Span.point("x.ship"))
    verdicts = units.unit_verdicts()
    assert None not in verdicts
    said = sorted({d.message for v in verdicts if v is not None for d in v})
    return said, [f.path for f in units.unbooked([*files, extra])]


def test_a_watching_build_hands_back_a_body_over_the_same_inputs_and_counts_its_units() -> None:
    a, b = (Environment(name, Tier.STAGING, Span.point("p.ship")) for name in ("a", "b"))
    first = _watching()
    RUNS.clear()
    files, said = _step(first, [a, b])
    assert RUNS == ["a", "b"] and len(files) == 4
    assert said == ["body a", "rendered a 0", "rendered a 1", "body b", "rendered b 0", "rendered b 1"]
    # Nothing changed: no body runs, the same files come back, the same is said in the same
    # order, and the memo books the units as a body that ran over hits would.
    second = _next(first)
    RUNS.clear()
    again, said_again = _step(second, [a, b])
    assert RUNS == [] and [id(f) for f in again] == [id(f) for f in files] and said_again == said
    ran = _next(first)
    ran.carried_groups = {}  # as if no body had been kept: every one runs, every unit a hit
    _step(ran, [a, b])
    assert _book(second, again) == _book(ran, files) == (sorted(f"checked {f.path}" for f in files), ["extra.yaml"])
    # A new object for one input (equal, not the same): that body runs, the other does not.
    b2 = Environment("b", Tier.STAGING, Span.point("p.ship"))
    third = _next(second)
    RUNS.clear()
    assert _step(third, [a, b2])[1] == said and RUNS == ["b"]
    # Another input value runs it; so does another build configuration (templates, switches).
    fourth = _next(third)
    RUNS.clear()
    _step(fourth, [a, b2], count=3)
    assert RUNS == ["a", "b"]
    RUNS.clear()
    _step(_next(fourth, config="other templates"), [a, b2], count=3)
    assert RUNS == ["a", "b"]


def test_a_body_runs_every_time_outside_a_watch_and_inside_another_body() -> None:
    a = Environment("a", Tier.STAGING, Span.point("p.ship"))
    one_shot = Units()
    RUNS.clear()
    for _ in range(2):
        _step(one_shot, [a])
    assert RUNS == ["a", "a"]
    watching = Units()
    watching.resume(None)
    RUNS.clear()
    ctx = _Ctx(watching)
    for _ in range(2):
        group(ctx, "outer", lambda s, env: group(ctx, "g", lambda s2, e: _body(watching, s2, e, 1), env), a)
    assert RUNS == ["a"]  # the outer body is handed back the second time; the inner one ran inside it
    assert group(_Ctx(None), "g", lambda s, e: _body(None, s, e, 1), a)[0].path == "a-0.yaml"


def test_unit_each_asks_again_only_the_blocks_an_edit_touched(monkeypatch: Any) -> None:
    from compiler.backends import memo

    envs = [Environment(f"e{i:03d}", Tier.STAGING, Span.point("p.ship")) for i in range(3 * memo.BLOCK + 5)]
    asked: list[str] = []
    keyed = Units.keyed
    monkeypatch.setattr(Units, "keyed", lambda self, *a: asked.append(a[0]) or keyed(self, *a))

    inputs = [(env, 1) for env in envs]
    plain = unit_each(None, inputs)
    assert plain[0] == [f"{e.name}-1.yaml" for e in envs]
    first = _watching()
    assert unit_each(first, inputs) == plain and len(asked) == len(envs)
    asked.clear()
    second = _next(first)
    assert unit_each(second, inputs) == plain and asked == []  # every block as it was: none asked
    booked = _book(second, LAST)  # (asked now: the next step moves what the books count on from this one's)
    # One input a new object: its block is asked again (and only its own unit renders).
    inputs[memo.BLOCK + 3] = (Environment(envs[memo.BLOCK + 3].name, Tier.STAGING, Span.point("p.ship")), 1)
    third = _next(second)
    assert unit_each(third, inputs) == plain and len(asked) == memo.BLOCK
    # Equal to the old one, so its key (pickled) is the old key: found, not rendered.
    assert third.rendered == 0 and _book(third, LAST) == booked
    assert _book(third, LAST)[1] == ["extra.yaml"] and len(_book(third, LAST)[0]) == len(envs)
    # Another value: a block asked again, and its unit rendered.
    inputs[2 * memo.BLOCK] = (envs[2 * memo.BLOCK], 2)
    asked.clear()
    fourth = _next(third)
    assert unit_each(fourth, inputs) == unit_each(None, inputs) != plain
    assert len(asked) == memo.BLOCK and fourth.rendered == 1


def unit_each(units: Units | None, inputs: list[tuple[Any, ...]]) -> tuple[list[str], list[str]]:
    """``memo.unit_each`` of ``_render`` over ``inputs``: the paths of its files and what it said."""
    from compiler.backends import memo

    ctx = _Ctx(units)
    files = memo.unit_each(ctx, "u", _render, inputs)
    LAST[:] = files
    return [f.path for f in files], [d.message for d in ctx.sink.items]


LAST: list[OutputFile] = []  # the files of the last ``unit_each``


def _twice(units: Units, sink: Sink, env: Environment) -> tuple[OutputFile, ...]:
    """A body that uses one unit twice (and so books its files twice)."""
    RUNS.append(env.name)
    ctx = _Ctx(units)
    ctx.sink = sink
    return tuple(f for _ in range(2) for f in unit(ctx, "u", _render, env, 0))


def test_a_replayed_body_that_used_a_unit_twice_leaves_validation_what_running_it_does() -> None:
    """A body that used one unit twice, run and then replayed in one step (and replayed the
    next): every file it handed out is a unit's, with that unit's verdict."""
    a = Environment("a", Tier.STAGING, Span.point("p.ship"))

    def step(units: Units) -> list[OutputFile]:
        ctx = _Ctx(units)
        # The same body twice in one step: the second is this step's, replayed over the first's units.
        return [f for _ in range(2) for f in group(ctx, "g", lambda s, e: _twice(units, s, e), a)]

    first = _watching()
    RUNS.clear()
    files = step(first)
    assert len(files) == 4 and RUNS == ["a"]
    second = _next(first)
    RUNS.clear()
    again = step(second)
    assert RUNS == [] and [id(f) for f in again] == [id(f) for f in files]
    ran = _next(first)
    ran.carried_groups = {}
    RUNS.clear()
    ran_files = step(ran)
    assert RUNS == ["a"]  # the first call runs; the second is handed back from this step
    expected = (["checked a-0.yaml"], ["extra.yaml"])
    assert _book(first, files) == _book(second, again) == _book(ran, ran_files) == expected


def test_owners_named_twice_are_told_apart_by_their_place_among_their_own() -> None:
    from compiler.backends.memo import _named

    assert _named(["a", ("b", "x"), "c"]) == ["a", ("b", "x"), "c"]
    assert _named(["a", ("b", "x"), "a", ("b", "x"), "a"]) == ["a", ("b", "x"), ("a", 1), ("b", "x", 1), ("a", 2)]
