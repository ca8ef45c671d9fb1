"""``memo.keyed_over``: a value computed from render units' files is memoised on those units'
keys (``Units.keyed``), and only when every unit was memoised."""

from __future__ import annotations

from typing import Any

from compiler.backends.memo import Units, keyed_over
from compiler.diagnostics import Sink, Span
from compiler.output import OutputFile


class _Ctx:
    def __init__(self, units: Units | None) -> None:
        self.units, self.templates, self.sink = units, None, Sink()


def keyed(ctx: _Ctx, name: str, fn: Any, *inputs: Any) -> tuple[str | None, list[OutputFile]]:
    """A render unit with its key (None without a memo, as the backends' units have)."""
    if ctx.units is None:
        return None, fn(ctx.templates, ctx.sink, *inputs)
    return ctx.units.keyed(name, fn, ctx.templates, ctx.sink, *inputs)


def over(ctx: _Ctx, name: str, fn: Any, keys: Any, given: Any, *inputs: Any) -> Any:
    return keyed_over(ctx, name, fn, keys, given, *inputs)[1]


def _render(_templates: Any, sink: Sink, name: str) -> list[OutputFile]:
    sink.report("SS740", f"rendered {name}", Span.point("x.ship"))
    return [OutputFile(f"{name}.yaml", f"name: {name}\n", Span.point("x.ship"))]


CALLS: list[str] = []


def _count(sink: Sink, files: list[OutputFile], sep: str) -> str:
    CALLS.append(sep)
    sink.report("SS740", "counted", Span.point("y.ship"))
    return sep.join(f.path for f in files)


def test_a_value_over_units_is_computed_once_per_set_of_keys() -> None:
    known = Units()
    CALLS.clear()
    for _ in range(2):
        units = Units(known=known.used)
        ctx = _Ctx(units)
        made = [keyed(ctx, "u", _render, n) for n in ("a", "b")]
        keys = [k for k, _ in made]
        assert all(isinstance(k, str) for k in keys) and keys[0] != keys[1]
        files = [f for _, fs in made for f in fs]
        assert over(ctx, "joined", _count, keys, files, ",") == "a.yaml,b.yaml"
        known = units
        # The value's diagnostics are reported again when it is taken from the memo.
        assert [d.message for d in ctx.sink.items].count("counted") == 1
    assert CALLS == [","]
    ctx = _Ctx(Units(known=known.used))
    # Other keys (another unit) or other inputs: computed again.
    keys = [keyed(ctx, "u", _render, n)[0] for n in ("a", "c")]
    assert over(ctx, "joined", _count, keys, [], ",") == ""
    assert over(ctx, "joined", _count, keys[:1], [], "+") == ""
    assert CALLS == [",", ",", "+"]


def test_a_unit_that_is_not_memoised_has_no_key_and_its_value_is_computed_every_time() -> None:
    ctx = _Ctx(Units())
    key, files = keyed(ctx, "u", lambda _t, _s, gen: [OutputFile("g.yaml", "g: 1\n", Span.point("x"))], (i for i in ()))
    assert key is None and [f.path for f in files] == ["g.yaml"]
    calls: list[int] = []
    for _ in range(2):
        over(ctx, "joined", lambda sink, given, c: c.append(1), [key], files, calls)
    assert calls == [1, 1]


def test_without_a_memo_both_compute() -> None:
    ctx = _Ctx(None)
    key, files = keyed(ctx, "u", _render, "a")
    assert key is None and files[0].path == "a.yaml"
    assert over(ctx, "joined", _count, [key], files, ",") == "a.yaml"
