"""The memo's sharing of equal facts (``memo._shared``): what it merges is what an equal repr
would merge (types and key order count), each merged part is one object, and nothing it
hands back differs from what it was given."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backends import memo

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, -0.0, 1.0, 1.5]),
    st.sampled_from(["", "1", "True", "v1", "a", "b"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "1"]), inner, max_size=3)
    ),
    max_leaves=12,
)


def _parts(value: Any) -> list[Any]:
    """Every dict and list in ``value``, itself first."""
    out: list[Any] = []
    if isinstance(value, dict | list):
        out.append(value)
        for v in value.values() if isinstance(value, dict) else value:
            out += _parts(v)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(_values, max_size=6))
def test_parts_are_merged_exactly_where_their_reprs_are_equal(values: list[Any]) -> None:
    table: dict[Any, tuple[Any, Any]] = {}
    shared = [memo._shared(v, table) for v in values]
    assert [repr(s) for s in shared] == [repr(v) for v in values]
    by_repr: dict[str, int] = {}
    for part in (p for s in shared for p in _parts(s)):
        # one object for each repr, never one object for two
        assert by_repr.setdefault(repr(part), id(part)) == id(part)
    assert len(set(by_repr.values())) == len(by_repr)


def test_values_that_compare_equal_but_differ_are_never_merged() -> None:
    table: dict[Any, tuple[Any, Any]] = {}
    ones = [memo._shared(v, table) for v in ({"a": 1}, {"a": True}, {"a": 1.0}, {"a": 1})]
    assert [repr(o) for o in ones] == ["{'a': 1}", "{'a': True}", "{'a': 1.0}", "{'a': 1}"]
    assert len({id(o) for o in ones}) == 3 and ones[0] is ones[3]
    zeros = [memo._shared([v], table) for v in (0.0, -0.0)]
    assert repr(zeros) == "[[0.0], [-0.0]]" and zeros[0] is not zeros[1]
    ordered = [memo._shared(v, table) for v in ({"a": 1, "b": 2}, {"b": 2, "a": 1})]
    assert list(ordered[1]) == ["b", "a"] and ordered[0] is not ordered[1]
    nested = [memo._shared({"spec": {"x": ["v1", {"k": "v"}]}}, table) for _ in range(2)]
    assert nested[0] is nested[1] and nested[0]["spec"]["x"][1] is memo._shared({"k": "v"}, table)


def test_strings_are_interned() -> None:
    made = "".join(["Deploy", "ment"])
    shared = memo._shared({made: [made]}, {})
    key = next(iter(shared))
    assert key is "Deployment" and shared[key][0] is "Deployment"  # noqa: F632 - identity is the point
