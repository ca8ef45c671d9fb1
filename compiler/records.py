"""``@record``: ``@dataclass(frozen=True, slots=True)`` that costs less to define.

Python 3.11's ``dataclass`` writes each method it adds as source text and compiles it:
a frozen class gets six (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__``, ``__delattr__``), and the IR's 33 classes took ~15 ms of a cold
``shipspec validate`` (issue 16), most of it compiling. A record is that dataclass
with ``__repr__``, ``__eq__`` and ``__hash__`` inherited from ``Record`` instead: the same
methods written once, reading each class's fields (so half the compiling). They give what
the dataclass's would: the repr ``Name(field=value, ...)`` of the ``repr`` fields (``...``
for a recursive one), equality of the ``compare`` fields between instances of the same
class (``NotImplemented`` otherwise), the hash of the tuple of the ``hash`` fields
(``compare`` ones when ``hash`` is unset); and an ``OrderedRecord`` orders by the
``compare`` fields as ``order=True`` does. Everything else is ``dataclass``'s own:
``__init__``, frozenness, slots, ``fields``/``replace``/``asdict``, match arguments;
pickling too, except that a record whose fields are all positional ``__init__`` parameters
pickles as its class called with their values (``_reducing``). An undocumented record's
docstring is dataclass's (the signature), worded without ``inspect.signature``.
``tests/unit/test_records.py`` compares records with the dataclasses they replace.
"""

from __future__ import annotations

import copyreg
import dataclasses
import sys
import types
import typing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from operator import attrgetter, itemgetter
from reprlib import recursive_repr
from typing import Any, TypeVar, cast

_T = TypeVar("_T")

# A record class's (equality key, hash key, repr field names), made on first use.
_Keys = tuple[Callable[[Any], tuple[Any, ...]], Callable[[Any], tuple[Any, ...]], tuple[str, ...]]
_KEYS: dict[type, _Keys] = {}


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of the named attributes of an object (a tuple for one name, and for none)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def _keys(cls: type) -> _Keys:
    keys = _KEYS.get(cls)
    if keys is None:
        fields = dataclasses.fields(cls)
        keys = _KEYS[cls] = (
            _getter(tuple(f.name for f in fields if f.compare)),
            _getter(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))),
            tuple(f.name for f in fields if f.repr),
        )
    return keys


class Record:
    """What every record inherits: ``__eq__``, ``__hash__`` and ``__repr__`` as ``dataclass`` writes them."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            key = _keys(self.__class__)[0]
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(_keys(self.__class__)[1](self))

    @recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _keys(self.__class__)[2])
        return f"{self.__class__.__qualname__}({shown})"


class OrderedRecord(Record):
    """A record that also orders as ``@dataclass(order=True)`` does: by its ``compare`` fields."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            key = _keys(self.__class__)[0]
            return key(self) < key(other)
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            key = _keys(self.__class__)[0]
            return key(self) <= key(other)
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            key = _keys(self.__class__)[0]
            return key(self) > key(other)
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            key = _keys(self.__class__)[0]
            return key(self) >= key(other)
        return NotImplemented


_OWN = frozenset({"__eq__", "__hash__", "__repr__", "__lt__", "__le__", "__gt__", "__ge__"})


@typing.dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True, slots=True)`` for a subclass of ``Record`` (``order=True`` too
    for a subclass of ``OrderedRecord``)."""
    if not issubclass(cls, Record):
        raise TypeError(f"@record class {cls.__name__} must derive from Record")
    own = _OWN & set(vars(cls))
    if own:  # dataclass would keep them, and derive __hash__ from an __eq__: write a dataclass
        raise TypeError(f"@record class {cls.__name__} defines {', '.join(sorted(own))}")
    undocumented = not cls.__doc__
    if undocumented:  # dataclass would word the docstring with inspect.signature: slow
        cls.__doc__ = _PENDING
    made = _plain(cls)
    if made is None:
        made = dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)
        _pickles_by_names(made)
    if undocumented:
        made.__doc__ = _SignatureDoc()  # type: ignore[assignment]
    return made


def _pickles_by_names(cls: type) -> None:
    """A record ``dataclass`` made (the unusual ones ``_plain`` leaves to it) pickles as the
    fast path's do (``_pickling``), without dataclass's call to ``fields`` per object: that
    was most of loading a cached IR or render unit (issue 16)."""
    for name, fn in _pickling(tuple(f.name for f in dataclasses.fields(cls))).items():
        fn.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, fn)


class _Params:
    """Every fast-path record's ``__dataclass_params__``: the flags ``record`` passes, as
    ``dataclass`` makes them, made when first read (a dataclass that derives from a record
    reads them). Made for a prototype class, they took ``dataclass`` three methods compiled
    from source in every cold start (issue 16)."""

    made: Any = None

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if _Params.made is None:

            @dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)
            class _Prototype:
                pass

            _Params.made = _Prototype.__dataclass_params__  # type: ignore[attr-defined]
        return _Params.made


def _plain(cls: type[_T]) -> type[_T] | None:
    """``cls`` made as ``dataclass(frozen=True, slots=True, eq=False, repr=False)`` makes it, for
    the plain case (a direct subclass of ``Record``/``OrderedRecord``, annotated fields and
    ``field()`` defaults); None when the class is not that plain.

    Issue 16: ``dataclass`` checked every string annotation against ClassVar and InitVar
    with a regular expression and compiled three methods per class from source (``__init__``,
    ``__setattr__``, ``__delattr__``); for the ~50 records a cold ``shipspec validate`` loads,
    that was ~15 ms. Here only ``__init__`` is compiled (the same text dataclass writes, so
    the same signature, defaults and errors); the frozen ``__setattr__``/``__delattr__`` and
    the pickling methods are closures. The result has dataclass's ``__dataclass_fields__``
    (real ``Field`` objects, made when first read, as ``__init__`` is), ``__dataclass_params__``,
    ``__match_args__`` and slots, so ``fields``/``replace``/``asdict`` and pickling behave the
    same (tests/unit/test_records.py). What is left to ``dataclasses.dataclass``: annotations
    it would read as ClassVar, InitVar or KW_ONLY (it matches their spelling too), and a
    ``__post_init__``.
    """
    if cls.__bases__ not in ((Record,), (OrderedRecord,)) or "__post_init__" in vars(cls):
        return None
    if "__slots__" in cls.__dict__:
        return None
    annotations: dict[str, Any] = cls.__dict__.get("__annotations__", {})
    # (name, annotation, class attribute): the fields' Field objects are made when first
    # asked for (_LazyFields); what dataclass checks at definition is checked here.
    raw: list[tuple[str, str, Any]] = []
    positional: list[str] = []
    misordered: str | None = None
    seen_default = False
    for name, kind in annotations.items():
        if not isinstance(kind, str) or "ClassVar" in kind or "InitVar" in kind or "KW_ONLY" in kind:
            return None
        given = cls.__dict__.get(name, _MISSING)
        if isinstance(given, dataclasses.Field):
            default, factory, init, kw_only = given.default, given.default_factory, given.init, given.kw_only is True
        else:
            default, factory, init, kw_only = given, _MISSING, True, False
        if default is not _MISSING and default.__class__.__hash__ is None:
            raise ValueError(f"mutable default {type(default)} for field {name} is not allowed: use default_factory")
        if init and not kw_only:
            positional.append(name)
            if default is not _MISSING or factory is not _MISSING:
                seen_default = True
            elif seen_default and misordered is None:
                misordered = name
        raw.append((name, kind, given))
    if misordered is not None:
        raise TypeError(f"non-default argument {misordered!r} follows default argument")
    names = tuple(name for name, _, _ in raw)
    body = dict(cls.__dict__)
    for name in names:
        body.pop(name, None)
    body.pop("__dict__", None)
    body.pop("__weakref__", None)
    fields = _LazyFields(raw)
    body["__slots__"] = names
    body["__dataclass_fields__"] = fields
    body["__dataclass_params__"] = _PARAMS
    body["__match_args__"] = tuple(positional)
    meta: Any = type(cls)
    made: type[_T] = meta(cls.__name__, cls.__bases__, body)
    made.__qualname__ = cls.__qualname__
    fields.cls = made
    module = sys.modules.get(cls.__module__)
    made.__init__ = _LazyInit(made, module.__dict__ if module is not None else {})  # type: ignore[method-assign,assignment]
    for method_name, method in _frozen(made, names, tuple(positional) == names).items():
        method.__qualname__ = f"{made.__qualname__}.{method_name}"
        setattr(made, method_name, method)
    return made


class _LazyFields:
    """A fast-path record's ``__dataclass_fields__`` until first read (``dataclasses.fields``,
    ``replace``, the record's first ``==``, ``hash`` or ``repr``, its ``__init__``): then the
    ``Field`` objects dataclass would make, which replace this on the class. Making them for
    every record a cold ``shipspec validate`` defines was ~0.3 ms (issue 16)."""

    __slots__ = ("cls", "raw")

    def __init__(self, raw: list[tuple[str, str, Any]]) -> None:
        self.cls: type | None = None
        self.raw = raw

    def __get__(self, obj: object, owner: type | None = None) -> dict[str, dataclasses.Field[Any]]:
        assert self.cls is not None
        made: Any = self.cls.__dict__.get("__dataclass_fields__")
        if made is self:
            made = {}
            for name, kind, given in self.raw:
                f: dataclasses.Field[Any] = (
                    given if isinstance(given, dataclasses.Field) else dataclasses.field(default=given)
                )
                f.name = name
                f.type = kind
                f._field_type = _FIELD  # type: ignore[attr-defined]
                if f.kw_only is _MISSING:
                    f.kw_only = False
                made[name] = f
            type.__setattr__(self.cls, "__dataclass_fields__", made)
        result: dict[str, dataclasses.Field[Any]] = made
        return result


class _LazyInit:
    """A fast-path record's ``__init__`` until it is first looked up (an instance made,
    ``inspect.signature``): then ``_init`` makes the function, which replaces this on the
    class. A cold ``shipspec validate`` defines some 45 records and makes 27 of them; making
    the others' ``__init__`` was ~0.25 ms (issue 16)."""

    __slots__ = ("cls", "module_globals")

    def __init__(self, cls: type, module_globals: dict[str, Any]) -> None:
        self.cls = cls
        self.module_globals = module_globals

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        made = self.cls.__dict__.get("__init__")
        if made is self:
            fields: dict[str, dataclasses.Field[Any]] = self.cls.__dataclass_fields__
            made = _init(fields.values(), self.module_globals)
            made.__qualname__ = f"{self.cls.__qualname__}.__init__"
            type.__setattr__(self.cls, "__init__", made)
        assert made is not None
        return made if obj is None else made.__get__(obj, owner)


_MISSING: Any = dataclasses.MISSING
_PARAMS = _Params()
_FIELD = dataclasses._FIELD  # type: ignore[attr-defined]


def _init(fields: Iterable[dataclasses.Field[Any]], module_globals: dict[str, Any]) -> Callable[..., None]:
    """The ``__init__`` dataclass would write for a frozen class with these fields.

    Compiling it from source, as dataclass does, costs ~0.1 ms a class (issue 16: most of
    what defining a record cost). When every field is a positional ``__init__`` parameter
    (no ``init=False``, no ``kw_only``) the function is made from a template compiled
    once per number of fields (``_template``) instead: its code with the parameters and
    the names ``object.__setattr__`` is given renamed, and dataclass's defaults and
    annotations. It takes the same arguments and raises the same errors; a default
    factory is called when its parameter is left out, as dataclass's does.
    """
    listed = list(fields)
    if not listed or any(not f.init or f.kw_only or f.name in _TEMPLATE_NAMES for f in listed):
        return _compiled_init(listed, module_globals)
    defaults: list[Any] = []
    for f in listed:
        if f.default is not _MISSING:
            defaults.append(f.default)
        elif f.default_factory is not _MISSING:
            defaults.append(_HAS_DEFAULT_FACTORY)
        elif defaults:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
    code, placeholders = _template(len(listed))
    names = {placeholder: f.name for placeholder, f in zip(placeholders, listed, strict=True)}
    code = code.replace(
        co_varnames=("self", *(f.name for f in listed)),
        co_consts=tuple(names.get(c, c) if isinstance(c, str) else c for c in code.co_consts),
    )
    factories = tuple(f.default_factory if f.default_factory is not _MISSING else None for f in listed)
    cells = {"__o": object.__setattr__, "__f": _HAS_DEFAULT_FACTORY, "__d": factories}
    closure = tuple(types.CellType(cells[name]) for name in code.co_freevars)
    made = types.FunctionType(code, module_globals, "__init__", tuple(defaults) or None, closure)
    made.__annotations__ = {**{f.name: f.type for f in listed}, "return": None}
    return made


_HAS_DEFAULT_FACTORY: Any = dataclasses._HAS_DEFAULT_FACTORY  # type: ignore[attr-defined]
# The template's own names, which a field may not take.
_TEMPLATE_NAMES = frozenset({"self", "__o", "__f", "__d"})
_TEMPLATES: dict[int, tuple[types.CodeType, tuple[str, ...]]] = {}
# compiler/record_inits.py holds the templates up to this many fields, so that the
# interpreter loads their code from the bytecode cache instead of compiling them.
TEMPLATE_FIELDS = 32


def _placeholders(count: int) -> tuple[str, ...]:
    return tuple(f"_p{i}" for i in range(count))


def template_source(count: int) -> str:
    """The text of the template for ``count`` fields (``__o`` is ``object.__setattr__``,
    ``__f`` dataclass's default-factory sentinel, ``__d`` the fields' factories)."""
    placeholders = _placeholders(count)
    lines = [
        f"def _init{count}(__o, __f, __d):",
        f"    def __init__(self, {', '.join(placeholders)}):",
        *(f'        __o(self, "{p}", __d[{i}]() if {p} is __f else {p})' for i, p in enumerate(placeholders)),
        "    return __init__",
    ]
    return "\n".join(lines) + "\n"


def template_module() -> str:
    """What compiler/record_inits.py holds before ``ruff format`` (tests/unit/test_records.py
    checks that its functions' code is this text's)."""
    head = (
        "# mypy: allow-untyped-defs\n"
        '"""The templates of ``compiler.records``\' ``__init__`` functions, up to '
        f"{TEMPLATE_FIELDS} fields.\n\n"
        "Written by ``compiler.records.template_module()`` (then ``ruff format``): edit that, not this file.\n"
        '"""\n'
    )
    body = "\n\n".join(template_source(n) for n in range(1, TEMPLATE_FIELDS + 1))
    index = ", ".join(f"_init{n}" for n in range(1, TEMPLATE_FIELDS + 1))
    return f"{head}\n\n{body}\n\nTEMPLATES = ({index})\n"


def _template(count: int) -> tuple[types.CodeType, tuple[str, ...]]:
    """The code of an ``__init__`` of ``count`` fields, and its placeholder field names."""
    made = _TEMPLATES.get(count)
    if made is None:
        if count <= TEMPLATE_FIELDS:
            from compiler.record_inits import TEMPLATES

            outer: Callable[..., Any] = TEMPLATES[count - 1]
        else:
            namespace: dict[str, Any] = {}
            source = template_source(count)
            exec(compile(source, "<string>", "exec", dont_inherit=True), {}, namespace)
            outer = namespace[f"_init{count}"]
        code: types.CodeType = outer(None, None, None).__code__
        made = _TEMPLATES[count] = (code, _placeholders(count))
    return made


def _compiled_init(fields: Sequence[dataclasses.Field[Any]], module_globals: dict[str, Any]) -> Callable[..., None]:
    """The ``__init__`` dataclass writes for a frozen class (dataclasses._init_fn, its text)."""
    local: dict[str, Any] = {
        "MISSING": _MISSING,
        "_HAS_DEFAULT_FACTORY": _HAS_DEFAULT_FACTORY,
        "__dataclass_builtins_object__": object,
    }
    positional: list[str] = []
    keyword: list[str] = []
    lines: list[str] = []
    seen_default = False
    for f in fields:
        local[f"_type_{f.name}"] = f.type
        default = f"_dflt_{f.name}"
        value: str | None = f.name
        if f.default_factory is not _MISSING:
            local[default] = f.default_factory
            value = f"{default}() if {f.name} is _HAS_DEFAULT_FACTORY else {f.name}" if f.init else f"{default}()"
        elif f.default is not _MISSING:
            local[default] = f.default
            value = f.name if f.init else default
        elif not f.init:
            value = None
        if value is not None:
            lines.append(f"__dataclass_builtins_object__.__setattr__(self,{f.name!r},{value})")
        if not f.init:
            continue
        if f.default is not _MISSING:
            param = f"{f.name}:_type_{f.name}=_dflt_{f.name}"
        elif f.default_factory is not _MISSING:
            param = f"{f.name}:_type_{f.name}=_HAS_DEFAULT_FACTORY"
        else:
            param = f"{f.name}:_type_{f.name}"
        if f.kw_only:
            keyword.append(param)
            continue
        if param.endswith(f"_type_{f.name}"):
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        else:
            seen_default = True
        positional.append(param)
    local["_return_type"] = None
    params = ",".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    text = "\n".join(f"  {line}" for line in lines or ["pass"])
    source = f"def __create_fn__({', '.join(local)}):\n def __init__({params})->_return_type:\n{text}\n return __init__"
    namespace: dict[str, Any] = {}
    # dont_inherit: this module's ``from __future__ import annotations`` would make the
    # annotations the names ``_type_x`` instead of the field types.
    exec(compile(source, "<string>", "exec", dont_inherit=True), module_globals, namespace)
    made: Callable[..., None] = namespace["__create_fn__"](**local)
    return made


def _frozen(cls: type, names: tuple[str, ...], positional: bool) -> dict[str, Callable[..., Any]]:
    """A frozen dataclass's ``__setattr__``/``__delattr__`` and its slots' pickling methods
    (``positional``: every field is a positional ``__init__`` parameter, in order)."""
    fields = frozenset(names)
    owner: Any = cls

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in fields:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(owner, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in fields:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(owner, self).__delattr__(name)

    made: dict[str, Callable[..., Any]] = {"__setattr__": __setattr__, "__delattr__": __delattr__, **_pickling(names)}
    if positional:
        made["__reduce__"] = _reducing(cls, names)
    return made


# What ``object.__reduce_ex__`` gives a slotted instance: the pickle says NEWOBJ, then BUILD.
_NEWOBJ: Any = copyreg.__newobj__  # type: ignore[attr-defined]


def _reducing(cls: type, names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A ``__reduce__`` that pickles a record as its class called with its fields' values: loaded,
    that is one call of its ``__init__`` (``_init``: a field set per line), where the state
    ``__getstate__`` gives was an instance made empty, then ``__setstate__`` looked up and
    called, with a list built for it. Issue 16: a third less of loading the 1,000 cached IR
    files of a one-shot compile (84,550 records, 52,288 of them spans), and of the render-unit
    memo. A subclass's instance (its own fields, perhaps its own ``__init__``) pickles as before."""
    values = _getter(names)

    def __reduce__(self: Any) -> tuple[Any, ...]:
        if self.__class__ is cls:
            return cls, values(self)
        return _NEWOBJ, (self.__class__,), self.__getstate__()

    return __reduce__


_SET = object.__setattr__


def _drain(items: Iterator[Any]) -> None:
    deque(items, 0)


def _pickling(names: tuple[str, ...]) -> dict[str, Callable[..., Any]]:
    """A slotted dataclass's ``__getstate__``/``__setstate__`` (each field's value, in order),
    reading the names once instead of ``fields`` per object."""

    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, name) for name in names]

    def __setstate__(self: Any, state: Sequence[Any]) -> None:
        # The loop in C (a zero-length deque drains the map): a fifth less of unpickling a
        # cached IR, most of which is records (issue 16).
        _drain(map(_SET, repeat(self), names, state))

    return {"__getstate__": __getstate__, "__setstate__": __setstate__}


def _annotation(kind: object) -> str:
    """``inspect.formatannotation``: a string annotation (every record's, under ``from
    __future__ import annotations``) is its repr, without importing inspect (issue 16)."""
    if isinstance(kind, str):
        return repr(kind)
    import inspect

    return inspect.formatannotation(kind)


class _SignatureDoc:
    """An undocumented record's ``__doc__``: ``_signature_doc``, worded when first read.

    ``type.__doc__`` calls the ``__get__`` of what a class's ``__doc__`` holds, so the class
    and its instances read the string; wording it for every record a cold ``shipspec
    validate`` defines was ~1 ms (issue 16), and nothing there reads it."""

    __slots__ = ("_text",)

    def __init__(self) -> None:
        self._text: str | None = None

    def __get__(self, obj: object, owner: type | None = None) -> str:
        if self._text is None:
            cls = owner if owner is not None else type(obj)
            self._text = _signature_doc(cls)
        return self._text


_PENDING = "(the signature: records._signature_doc)"


def _signature_doc(cls: type) -> str:
    """What dataclass makes an undocumented class's docstring: its name and ``__init__``'s
    signature as ``inspect.signature`` words it, without ``-> None``."""
    params = []
    keyword_only = False
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.kw_only and not keyword_only:
            params.append("*")
            keyword_only = True
        text = f"{f.name}: {_annotation(f.type)}"
        if f.default is not dataclasses.MISSING:
            text += f" = {f.default!r}"
        elif f.default_factory is not dataclasses.MISSING:
            text += " = <factory>"
        params.append(text)
    return f"{cls.__name__}({', '.join(params)})".replace(" -> None", "")


class TupleRecord(type):
    """The metaclass of a record that is a tuple of its fields (``diagnostics.Span``,
    ``ir.Ref``): a tuple subclass with no ``__new__`` of its own unpickles without a call into
    Python (issue 16: 52,000 spans and 16,000 references in the IR at 1,000 models). The class
    names its fields in ``__match_args__``; each becomes a property reading its item, the class
    is called with them (by position or name) as a record's ``__init__`` is, and its repr is
    the record's. It equals, orders and hashes as the tuple of its fields."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> TupleRecord:
        cls = super().__new__(mcs, name, bases, namespace)
        for at, field_name in enumerate(namespace["__match_args__"]):
            setattr(cls, field_name, property(itemgetter(at)))
        cls.__repr__ = _tuple_repr  # type: ignore[assignment,method-assign]
        return cls

    def __call__(cls, *given: Any, **named: Any) -> Any:
        names: tuple[str, ...] = cls.__match_args__  # type: ignore[attr-defined]
        fields = list(given)
        for field_name in names[len(given) :]:
            if field_name not in named:
                raise TypeError(f"{cls.__name__}() missing field {field_name!r}")
            fields.append(named.pop(field_name))
        if named or len(fields) != len(names):
            raise TypeError(f"{cls.__name__}() takes the fields {', '.join(names)}")
        return tuple.__new__(cast(Any, cls), fields)


def _tuple_repr(self: tuple[Any, ...]) -> str:
    names = type(self).__match_args__  # type: ignore[attr-defined]
    shown = ", ".join(f"{name}={value!r}" for name, value in zip(names, self, strict=True))
    return f"{type(self).__qualname__}({shown})"
