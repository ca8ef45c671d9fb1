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
``__init__``, frozenness, slots, pickling, ``fields``/``replace``/``asdict``, match
arguments. An undocumented record's docstring is dataclass's (the signature), worded
without ``inspect.signature``. ``tests/unit/test_records.py`` compares records with the dataclasses they replace.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from operator import attrgetter
from reprlib import recursive_repr
from typing import Any, TypeVar

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
    made = dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)
    _pickles_by_names(made)
    if undocumented:
        made.__doc__ = _signature_doc(made)
    return made


def _pickles_by_names(cls: type) -> None:
    """The state dataclass pickles (each field's value, in order), without its call to
    ``fields`` per object: that was most of loading a cached IR or render unit (issue 16)."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    state = _getter(names)
    put = object.__setattr__

    def __getstate__(self: Any) -> tuple[Any, ...]:
        return state(self)

    def __setstate__(self: Any, values: Any) -> None:
        for name, value in zip(names, values, strict=False):
            put(self, name, value)

    for fn in (__getstate__, __setstate__):
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
        setattr(cls, fn.__name__, fn)


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
        text = f"{f.name}: {inspect.formatannotation(f.type)}"
        if f.default is not dataclasses.MISSING:
            text += f" = {f.default!r}"
        elif f.default_factory is not dataclasses.MISSING:
            text += " = <factory>"
        params.append(text)
    return f"{cls.__name__}({', '.join(params)})".replace(" -> None", "")
