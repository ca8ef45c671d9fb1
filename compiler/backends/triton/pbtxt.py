"""A reader of the protobuf text that shipspec's Triton configs are written in, giving
exactly the message ``text_format.Parse`` gives, or None where the text is anything else.

Every rendered ``config.pbtxt`` is parsed for the release check and validation;
``text_format`` took ~180 us a config (0.6 s for the 3,250 configs of 1,000 models, on
the process that renders the other backends), mostly in its Python tokenizer. This reads
the subset the template and ``MessageToString`` write, in one regular expression pass:

- fields ``name: scalar``, ``name: [ scalar, ... ]`` (a repeated scalar) and
  ``name { ... }`` (a message, a repeated message's element, a map's entry);
- double-quoted strings of printable ASCII without escapes, decimal integers, decimal
  numbers without an exponent (for float fields), ``true``/``false``, enum names;
- ``#`` comments.

Anything else (escapes, single quotes, hex or octal, exponents, ``<>``, ``:`` before ``{``,
separators, extensions, a field set twice, two members of a oneof, a value its field
cannot hold) is declined: the caller parses it with ``text_format``, which gives its
answer or its error exactly as before. ``tests/unit/backends/triton/test_pbtxt.py`` holds
it to ``text_format`` over every golden config and generated texts.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import FieldDescriptor

# One token, its text in group 2: a comment (group 1, skipped), a word (an identifier or a
# number, taken as far as text_format's tokenizer takes either), a plain string or
# punctuation; anything else is group 3, which declines the text. A word is checked where
# it is used: a field or enum name, true or false, an integer or a decimal (``_INT``, ``_DECIMAL``).
_TOKEN = re.compile(
    r'[ \n]*(?:(#[^\n]*)|([A-Za-z0-9_][\w+.-]*|-[0-9][\w+.-]*|"[ !#-\[\]-~]*"|[{}\[\]:,])|([^ \n]))', re.A
)
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")
_TYPE_STRING = FieldDescriptor.TYPE_STRING
_TYPE_BOOL = FieldDescriptor.TYPE_BOOL
_TYPE_ENUM = FieldDescriptor.TYPE_ENUM
_FLOATS = frozenset({FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE})
_INTS = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_MESSAGE = FieldDescriptor.CPPTYPE_MESSAGE


class _Declined(Exception):
    """The text is outside the subset (or not valid): text_format is to parse it."""


def read(text: str, message_class: Any) -> Any:
    """``text_format.Parse(text, message_class())``, or None where the text is outside the subset."""
    tokens = _tokens(text)
    if tokens is None:
        return None
    message = message_class()
    try:
        end = _fields(tokens, 0, message)
    except (_Declined, ValueError, TypeError, KeyError, IndexError):
        return None
    return message if end == len(tokens) else None


def _tokens(text: str) -> list[str] | None:
    """The text of each token, comments left out; None where some text is no token."""
    found = _TOKEN.findall(text)
    if any(bad for _, _, bad in found):
        return None
    return [token for _, token, _ in found if token]


class _Field:
    """What reading a field needs of its descriptor, found once per field."""

    __slots__ = ("name", "field", "repeated", "oneof", "message", "map_value_message", "kind")

    def __init__(self, field: Any) -> None:
        self.name, self.field = field.name, field
        is_repeated = getattr(field, "is_repeated", None)  # protobuf 5.28 on; label before
        self.repeated = is_repeated if is_repeated is not None else field.label == FieldDescriptor.LABEL_REPEATED
        self.oneof = field.containing_oneof.name if field.containing_oneof is not None else None
        self.message = field.cpp_type == _MESSAGE
        entry = field.message_type if self.message and field.message_type.GetOptions().map_entry else None
        self.map_value_message = None if entry is None else entry.fields_by_name["value"].cpp_type == _MESSAGE
        self.kind = field.type


_FIELDS: dict[str, dict[str, _Field]] = {}


def _fields_of(descriptor: Any) -> dict[str, _Field]:
    found = _FIELDS.get(descriptor.full_name)
    if found is None:
        found = _FIELDS[descriptor.full_name] = {name: _Field(f) for name, f in descriptor.fields_by_name.items()}
    return found


def _fields(tokens: list[str], at: int, message: Any) -> int:
    """Read fields into ``message`` from ``tokens[at]`` to a ``}`` or the end; where it stopped."""
    fields = _fields_of(message.DESCRIPTOR)
    seen: set[str] = set()
    n = len(tokens)
    while at < n:
        name = tokens[at]
        if name == "}":
            return at
        field = fields.get(name)  # (an identifier: no field is named by other tokens)
        if field is None:
            raise _Declined
        repeated = field.repeated
        if not repeated:
            if name in seen:
                raise _Declined  # text_format refuses most of these; all go to it
            if field.oneof is not None and message.WhichOneof(field.oneof) not in (None, name):
                raise _Declined
            seen.add(name)
        at += 1
        if field.message:
            if tokens[at] != _OPEN:
                raise _Declined
            at = _message(tokens, at + 1, message, field)
            continue
        if tokens[at] != _COLON:
            raise _Declined
        at += 1
        if tokens[at] == _LIST:
            if not repeated:
                raise _Declined
            values = getattr(message, name)
            at += 1
            if tokens[at] == _END_LIST:
                at += 1
                continue
            while True:
                values.append(_scalar(field, tokens[at]))
                at += 1
                if tokens[at] == _END_LIST:
                    at += 1
                    break
                if tokens[at] != _COMMA:
                    raise _Declined
                at += 1
            continue
        # (Adjacent strings, one string to text_format, are declined: no field is named by a string.)
        value = _scalar(field, tokens[at])
        at += 1
        if repeated:
            getattr(message, name).append(value)
        else:
            setattr(message, name, value)
    return at


_OPEN, _CLOSE, _COLON, _LIST, _END_LIST, _COMMA = "{", "}", ":", "[", "]", ","


def _message(tokens: list[str], at: int, message: Any, field: _Field) -> int:
    """Read a message field's body from ``tokens[at]`` (past its ``{``); past its ``}``."""
    if field.map_value_message is not None:
        holder = getattr(message, field.name)
        entry = holder.GetEntryClass()()
        at = _fields(tokens, at, entry)
        if field.map_value_message:
            holder[entry.key].CopyFrom(entry.value)
        else:
            holder[entry.key] = entry.value
    else:
        sub = getattr(message, field.name).add() if field.repeated else getattr(message, field.name)
        sub.SetInParent()
        at = _fields(tokens, at, sub)
    if tokens[at] != _CLOSE:
        raise _Declined
    return at + 1


def _scalar(field: _Field, token: str) -> Any:
    t = field.kind
    if t == _TYPE_STRING:
        if token[0] != '"':
            raise _Declined
        return token[1:-1]
    if t in _INTS:
        if not _INT.match(token):
            raise _Declined
        return int(token)
    if t in _FLOATS:
        if not _DECIMAL.match(token):  # float() of it, as text_format's ParseFloat
            raise _Declined
        return float(token)
    if t == _TYPE_BOOL:
        if token not in ("true", "false"):
            raise _Declined
        return token == "true"
    if t == _TYPE_ENUM:
        return field.field.enum_type.values_by_name[token].number  # KeyError: not one of its names
    raise _Declined  # bytes
