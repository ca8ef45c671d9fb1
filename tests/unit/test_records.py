"""``@record`` classes behave as the ``@dataclass(frozen=True, slots=True)`` classes they replace (issue 16)."""

from __future__ import annotations

import dataclasses
import inspect
import operator
import pickle
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from compiler.parse.sources import load, load_text
from compiler.pipeline import validate
from compiler.records import OrderedRecord, Record, record

ROOT = Path(__file__).resolve().parents[2]


@cache
def _twin(cls: type) -> type:
    """The dataclass(frozen=True, slots=True) a record class was written as."""
    fields = [
        (
            f.name,
            f.type,
            dataclasses.field(
                default=f.default,
                default_factory=f.default_factory,
                init=f.init,
                repr=f.repr,
                hash=f.hash,
                compare=f.compare,
                kw_only=f.kw_only,
            ),
        )
        for f in dataclasses.fields(cls)
    ]
    twin = dataclasses.make_dataclass(
        cls.__name__, fields, frozen=True, slots=True, order=issubclass(cls, OrderedRecord)
    )
    twin.__qualname__ = cls.__qualname__
    return twin


def _nodes(value: Any) -> Iterator[Any]:
    if isinstance(value, Record):
        yield value
        for f in dataclasses.fields(value):  # type: ignore[arg-type]
            yield from _nodes(getattr(value, f.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _nodes(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _nodes(item)


def _every_node() -> list[Any]:
    """Every record of loading the examples, the golden specs and the corpus: the IR, the
    sources and their comments, the diagnostics; and a checked spec's resolved project."""
    loaded = load([ROOT / "specs", ROOT / "tests" / "corpus", *sorted(ROOT.glob("golden/*/specs"))])
    ragged = load_text("model m {\n  batch_output y from scatter_with_input_shape x\n}\n")
    checked = validate([ROOT / "specs"])
    placements = [checked.resolved.place(m, e) for m in checked.spec.models for e in checked.spec.environments]
    return [*_nodes(loaded), *_nodes(ragged), *_nodes(checked), checked.resolved.project, *placements[:20]]


NODES = _every_node()


def test_the_examples_have_a_node_of_every_ir_class() -> None:
    from compiler import ir

    classes = {c for c in vars(ir).values() if isinstance(c, type) and issubclass(c, Record) and c is not Record}
    assert classes <= {type(n) for n in NODES}


def _as_twin(node: Any) -> Any:
    return _twin(type(node))(**{f.name: getattr(node, f.name) for f in dataclasses.fields(node)})


def test_repr_eq_and_hash_are_the_dataclasses() -> None:
    for node in NODES:
        twin = _as_twin(node)
        assert repr(node) == repr(twin)
        assert hash(node) == hash(twin)
        same, same_twin = dataclasses.replace(node), dataclasses.replace(twin)
        assert (node == same, node != same) == (twin == same_twin, twin != same_twin) == (True, False)
        assert node.__eq__(twin) is NotImplemented and twin.__eq__(node) is NotImplemented
        assert (node == object()) is (twin == object()) is False


def test_an_undocumented_record_has_the_docstring_dataclass_would_give_it() -> None:
    undocumented = 0
    for cls in {type(n) for n in NODES}:
        worded = cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
        if cls.__doc__ == worded:
            undocumented += 1
        else:  # its own docstring, which dataclass keeps
            assert cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("), cls.__doc__
    assert undocumented >= 20

    @record
    class Options(Record):
        a: int
        b: str | None = None
        c: tuple[int, ...] = dataclasses.field(default_factory=tuple)
        d: float = dataclasses.field(default=1.5, kw_only=True)
        e: int = dataclasses.field(default=0, init=False)

    assert (
        Options.__doc__ == _twin(Options).__doc__ == "Options" + str(inspect.signature(Options)).replace(" -> None", "")
    )


def test_spans_are_the_ordered_dataclass_they_were() -> None:
    """``Span`` is a tuple (it loads without a call into Python, issue 16): it orders, compares,
    hashes and reprs as the ``@dataclass(frozen=True, order=True)`` it was, and pickles and
    copies back to an equal span."""
    import copy

    from compiler.diagnostics import Span

    twin = dataclasses.make_dataclass(
        "Span", [(name, Any) for name in Span.__match_args__], frozen=True, order=True, slots=True
    )
    spans = sorted({n.span for n in NODES if isinstance(getattr(n, "span", None), Span)}, key=repr)[:40]
    assert len(spans) == 40
    spans += [Span("a", 1, 1, 1, 2), Span("a", 1, 1, 1, 2), Span("b", 1, 1, 1, 2), Span("a", 2, 1, 1, 2)]
    for a in spans:
        ta = twin(*a)
        assert (a.file, a.line, a.column, a.end_line, a.end_column) == dataclasses.astuple(ta)
        assert repr(a) == repr(ta) and hash(a) == hash(ta)
        for b in spans:
            tb = twin(*b)
            compared = (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne)
            assert [op(a, b) for op in compared] == [op(ta, tb) for op in compared]
        assert a.__lt__(object()) is NotImplemented and ta.__lt__(object()) is NotImplemented
        for again in (pickle.loads(pickle.dumps(a, protocol)) for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1)):
            assert type(again) is Span and again == a
        assert copy.copy(a) == a == copy.deepcopy(a)
    assert [twin(*s) for s in sorted(spans)] == sorted(twin(*s) for s in spans)
    assert Span(file="f", line=1, column=2, end_line=3, end_column=4) == Span("f", 1, 2, 3, 4)


def test_references_are_the_dataclass_they_were() -> None:
    """``ir.Ref`` is a tuple too (~16,000 in the IR at 1,000 models): equal, hashed and shown as
    the ``@dataclass(frozen=True)`` it was, and pickled and copied back to an equal reference."""
    import copy

    from compiler import ir
    from compiler.diagnostics import Span

    twin = dataclasses.make_dataclass("Ref", [(name, Any) for name in ir.Ref.__match_args__], frozen=True, slots=True)
    refs = sorted({r for n in NODES for r in _fields_of(n) if isinstance(r, ir.Ref)}, key=repr)[:40]
    assert len(refs) == 40
    refs += [ir.Ref("a", Span("f", 1, 1, 1, 2)), ir.Ref("a", Span("f", 1, 1, 1, 2)), ir.Ref("b", Span("f", 1, 1, 1, 2))]
    for a in refs:
        ta = twin(*a)
        assert (a.name, a.span) == (ta.name, ta.span) and a.span is ta.span
        assert repr(a) == repr(ta) and hash(a) == hash(ta)
        for b in refs:
            assert (a == b, a != b) == (ta == twin(*b), ta != twin(*b))
        for again in (pickle.loads(pickle.dumps(a, protocol)) for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1)):
            assert type(again) is ir.Ref and again == a and type(again.span) is Span
        assert copy.copy(a) == a == copy.deepcopy(a)
    assert ir.Ref(name="x", span=Span("f", 1, 1, 1, 2)) == ir.Ref("x", Span("f", 1, 1, 1, 2))


def test_a_tuple_record_is_made_from_its_fields_by_position_or_name_and_no_others() -> None:
    """``records.TupleRecord``'s call stands in for a record's ``__init__``: every field, once,
    by position or by name; a missing or unknown one is a TypeError naming it, not a tuple of
    another length."""
    from compiler.diagnostics import Span

    made = Span("f", 1, 2, 3, 4)
    assert (
        Span("f", 1, 2, end_line=3, end_column=4) == made == Span(end_column=4, end_line=3, column=2, line=1, file="f")
    )
    with pytest.raises(TypeError, match="missing field 'end_column'"):
        Span("f", 1, 2, 3)
    with pytest.raises(TypeError, match="missing field 'line'"):
        Span("f", column=2, end_line=3, end_column=4)
    with pytest.raises(TypeError, match="takes the fields file, line, column, end_line, end_column"):
        Span("f", 1, 2, 3, 4, 5)
    with pytest.raises(TypeError, match="takes the fields"):
        Span("f", 1, 2, 3, 4, width=1)
    with pytest.raises(TypeError, match="takes the fields"):
        Span("f", 1, 2, 3, 4, file="g")  # a field given twice


def _fields_of(node: Any) -> list[Any]:
    found: list[Any] = []
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        found += list(value) if type(value) is tuple else [value]
    return found


def test_fields_that_do_not_compare_are_left_out_as_the_dataclasses_leave_them() -> None:
    checked = 0
    for node in NODES:
        for f in dataclasses.fields(node):
            if f.compare or not f.init:
                continue
            twin = _as_twin(node)
            changed, changed_twin = dataclasses.replace(node, **{f.name: {}}), dataclasses.replace(twin, **{f.name: {}})
            assert (node == changed) is (twin == changed_twin) is True
            assert (hash(node) == hash(changed)) is (hash(twin) == hash(changed_twin))
            checked += 1
    assert checked


def test_a_changed_field_makes_them_differ_as_it_makes_the_dataclasses_differ() -> None:
    for node in NODES[:200]:
        for f in dataclasses.fields(node):
            if not f.compare:
                continue
            twin = _as_twin(node)
            other = dataclasses.replace(node, **{f.name: "changed"})
            other_twin = dataclasses.replace(twin, **{f.name: "changed"})
            assert (node == other) is (twin == other_twin)


def test_frozen_slotted_and_picklable_as_the_dataclasses() -> None:
    for node in NODES[:50]:
        twin = _as_twin(node)
        name = dataclasses.fields(node)[0].name
        errors = []
        for obj in (node, twin):
            with pytest.raises(dataclasses.FrozenInstanceError) as raised:
                setattr(obj, name, None)
            errors.append(str(raised.value))
            with pytest.raises(dataclasses.FrozenInstanceError) as raised:
                delattr(obj, name)
            errors.append(str(raised.value))
            assert not hasattr(obj, "__dict__")
        assert errors[:2] == errors[2:]
        assert pickle.loads(pickle.dumps(node)) == node
        assert type(node).__match_args__ == type(twin).__match_args__
        assert inspect.signature(type(node)) == inspect.signature(type(twin))
        assert type(node).__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_init_errors_are_the_dataclasses() -> None:
    """``record`` writes ``__init__`` itself for plain classes (no dataclass processing, issue 16):
    the same text, so the same errors for missing, extra and repeated arguments."""
    for cls in sorted({type(n) for n in NODES}, key=lambda c: c.__qualname__):
        twin = _twin(cls)
        for args, kwargs in (((), {}), ((1,) * 40, {}), ((), {"not_a_field": 1})):
            messages = []
            for made in (cls, twin):
                try:
                    made(*args, **kwargs)
                    messages.append("made")
                except TypeError as exc:
                    messages.append(str(exc))
            assert messages[0] == messages[1], cls


def test_a_record_made_from_the_template_is_the_dataclass() -> None:
    """Fields named as the template's placeholders, factories, defaults: the same instances."""

    @record
    class Tricky(Record):
        _p1: int
        _p0: str
        items: tuple[int, ...] = dataclasses.field(default_factory=lambda: (1, 2))
        rest: list[int] = dataclasses.field(default_factory=list, compare=False)
        last: str = "z"

    twin = _twin(Tricky)
    assert inspect.signature(Tricky) == inspect.signature(twin)
    for args in ((1, "a"), (1, "a", (3,)), (1, "a", (3,), [4], "y")):
        made, made_twin = Tricky(*args), twin(*args)
        assert [getattr(made, f.name) for f in dataclasses.fields(made)] == [
            getattr(made_twin, f.name) for f in dataclasses.fields(made_twin)
        ]
        assert repr(made) == repr(made_twin)
    assert Tricky(1, "a").rest is not Tricky(1, "a").rest
    assert Tricky(_p0="b", _p1=2) == Tricky(2, "b")


def test_a_recursive_repr_is_cut_short_as_a_dataclass_cuts_it() -> None:
    @record
    class Box(Record):
        items: list[Any]

    box = Box([])
    box.items.append(box)
    twin_box = _twin(Box)([])
    twin_box.items.append(twin_box)
    assert repr(box) == repr(twin_box)
    assert repr(box).endswith("<locals>.Box(items=[...])")


def test_a_record_must_be_a_record_and_leave_the_methods_to_it() -> None:
    class Plain:
        x: int

    with pytest.raises(TypeError, match="must derive from Record"):
        record(Plain)

    class Equal(Record):
        x: int

        def __eq__(self, other: object) -> bool:
            return True

    with pytest.raises(TypeError, match="defines __eq__, __hash__"):
        record(Equal)


def test_every_combination_of_field_options_as_the_dataclasses_have_it() -> None:
    @record
    class Options(Record):
        plain: int
        no_compare: int = dataclasses.field(default=0, compare=False)
        no_hash: int = dataclasses.field(default=0, hash=False)
        only_hash: int = dataclasses.field(default=0, compare=False, hash=True)
        no_repr: int = dataclasses.field(default=0, repr=False)
        factory: tuple[int, ...] = dataclasses.field(default_factory=tuple)

    @record
    class Derived(Options):
        extra: int = 0

    twin, derived_twin = _twin(Options), _twin(Derived)
    for values in (
        {"plain": 1},
        {"plain": 1, "no_compare": 2},
        {"plain": 1, "no_hash": 3},
        {"plain": 1, "only_hash": 4},
    ):
        for other in ({"plain": 1}, {"plain": 2}, {"plain": 1, "no_hash": 5}, {"plain": 1, "only_hash": 6}):
            a, b, ta, tb = Options(**values), Options(**other), twin(**values), twin(**other)
            assert (repr(a), a == b, hash(a) == hash(b)) == (repr(ta), ta == tb, hash(ta) == hash(tb))
            d, td = Derived(**values), derived_twin(**values)
            assert (repr(d), hash(d), d == a, a == d) == (repr(td), hash(td), td == ta, ta == td)
            assert a.__eq__(d) is NotImplemented and ta.__eq__(td) is NotImplemented


def test_ordering_leaves_out_the_fields_that_do_not_compare() -> None:
    @record
    class Ordered(OrderedRecord):
        a: int
        b: int = dataclasses.field(default=0, compare=False)

    twin = _twin(Ordered)
    pairs = [((1, 5), (1, 0)), ((1, 0), (2, 0)), ((2, 9), (1, 0))]
    for x, y in pairs:
        got = [op(Ordered(*x), Ordered(*y)) for op in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq)]
        want = [op(twin(*x), twin(*y)) for op in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq)]
        assert got == want, (x, y)

    class Less(OrderedRecord):
        a: int

        def __lt__(self, other: object) -> bool:
            return True

    with pytest.raises(TypeError, match="defines __lt__"):
        record(Less)


def test_the_committed_templates_are_what_records_writes() -> None:
    """compiler/record_inits.py (loaded from the bytecode cache, not compiled in every
    process) holds the code ``template_source`` writes; else regenerate it:
    ``python -c "from compiler.records import template_module; print(template_module(), end='')"
    > compiler/record_inits.py && ruff format compiler/record_inits.py``."""
    from compiler import record_inits, records

    assert len(record_inits.TEMPLATES) == records.TEMPLATE_FIELDS
    for count, committed in enumerate(record_inits.TEMPLATES, start=1):
        namespace: dict[str, Any] = {}
        exec(records.template_source(count), namespace)
        written = namespace[f"_init{count}"](None, None, None).__code__
        code = committed(None, None, None).__code__
        for attribute in ("co_code", "co_consts", "co_varnames", "co_freevars", "co_argcount", "co_names"):
            assert getattr(code, attribute) == getattr(written, attribute), (count, attribute)


def test_a_records_dataclass_params_are_a_dataclasses_and_made_when_read() -> None:
    """``__dataclass_params__`` is made on first read (issue 16), with dataclass's flags; a
    frozen dataclass may derive from a record as from the dataclass it replaces."""

    @record
    class Point(Record):
        x: int
        y: int = 0

    params = Point.__dataclass_params__  # type: ignore[attr-defined]
    twin = _twin(Point).__dataclass_params__  # type: ignore[attr-defined]
    assert (params.init, params.eq, params.order, params.unsafe_hash, params.frozen) == (
        True,
        False,
        False,
        False,
        True,
    )
    assert (twin.init, twin.frozen) == (params.init, params.frozen)
    assert Point(1).__dataclass_params__ is params  # type: ignore[attr-defined]

    @dataclasses.dataclass(frozen=True)
    class Point3(Point):
        z: int = 0

    assert Point3(1, 2, 3).z == 3 and [f.name for f in dataclasses.fields(Point3)] == ["x", "y", "z"]
    with pytest.raises(TypeError, match="non-frozen"):

        @dataclasses.dataclass
        class Loose(Point):
            z: int = 0


def test_a_records_init_is_made_when_first_looked_up() -> None:
    """A record's ``__init__`` is made on first use (issue 16); before, ``inspect.signature``
    reads it as the dataclass's, and a field order dataclass refuses is refused at once."""
    from compiler import records

    @record
    class Later(Record):
        a: int
        b: str = "x"

    assert isinstance(Later.__dict__["__init__"], records._LazyInit)
    assert str(inspect.signature(Later)) == str(inspect.signature(_twin(Later)))
    assert not isinstance(Later.__dict__["__init__"], records._LazyInit)

    @record
    class Fresh(Record):
        a: int

    assert Fresh(1).a == 1 and Fresh.__init__.__qualname__.endswith("Fresh.__init__")
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        Fresh()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @record
        class Wrong(Record):
            a: int = 0
            b: int


def test_a_records_fields_are_made_when_first_read() -> None:
    """``__dataclass_fields__`` is made on first read (issue 16) and is dataclass's then;
    what dataclass refuses at definition is refused at definition."""
    from compiler import records

    @record
    class Lazy(Record):
        a: int
        b: tuple[int, ...] = ()
        c: list[int] = dataclasses.field(default_factory=list, compare=False)

    assert isinstance(Lazy.__dict__["__dataclass_fields__"], records._LazyFields)
    assert Lazy.__match_args__ == ("a", "b", "c")  # type: ignore[attr-defined]
    assert [(f.name, f.type, f.compare) for f in dataclasses.fields(Lazy)] == [
        ("a", "int", True),
        ("b", "tuple[int, ...]", True),
        ("c", "list[int]", False),
    ]
    assert isinstance(Lazy.__dict__["__dataclass_fields__"], dict)
    assert Lazy(1) == Lazy(1, (), [2]) and dataclasses.replace(Lazy(1), b=(2,)).b == (2,)
    with pytest.raises(ValueError, match="mutable default"):

        @record
        class Mutable(Record):
            a: list[int] = []


@record
class _Pair(Record):
    a: int
    b: tuple[int, ...] = dataclasses.field(default_factory=tuple)


@record
class _Tripled(_Pair):
    c: str = "c"


@record
class _Unset(Record):
    a: int
    b: int = dataclasses.field(default=0, init=False)
    c: int = dataclasses.field(default=0, kw_only=True)


def _opcodes(data: bytes) -> list[str]:
    import pickletools

    return [op.name for op, _, _ in pickletools.genops(data)]


def test_a_record_pickles_as_its_class_called_with_its_values() -> None:
    """Loaded, one call of its ``__init__``: no empty instance, then ``__setstate__`` with a list
    (issue 16: a third less of loading the cached IR of a one-shot compile)."""
    for node in NODES:
        if tuple(f.name for f in dataclasses.fields(node) if f.init and not f.kw_only) != node.__slots__:
            continue
        values = tuple(getattr(node, n) for n in node.__slots__)
        assert node.__reduce_ex__(pickle.HIGHEST_PROTOCOL) == (type(node), values)
        if type(node).__module__ in ("compiler.ir", "compiler.diagnostics"):
            assert pickle.loads(pickle.dumps(node)) == node


def test_a_subclass_and_a_record_with_fields_init_does_not_take_pickle_whole() -> None:
    """A subclass has fields its parent's ``__init__`` does not take, and so has a record with a field
    ``init=False`` or keyword-only: each pickles its state, as a dataclass does."""
    object.__setattr__(unset := _Unset(1, c=3), "b", 2)
    for obj in (_Pair(1, (2,)), _Tripled(1, (2,), "x"), unset):
        for protocol in (2, 3, pickle.HIGHEST_PROTOCOL):
            back = pickle.loads(pickle.dumps(obj, protocol=protocol))
            assert type(back) is type(obj)
            assert [getattr(back, n) for n in obj.__slots__] == [getattr(obj, n) for n in obj.__slots__]
    ops = _opcodes(pickle.dumps(_Pair(1), protocol=pickle.HIGHEST_PROTOCOL))
    assert "REDUCE" in ops and "BUILD" not in ops
    assert "BUILD" in _opcodes(pickle.dumps(_Tripled(1), protocol=pickle.HIGHEST_PROTOCOL))
