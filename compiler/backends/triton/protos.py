"""Each supported Triton release's own ModelConfig protobuf, to validate configs per target.

``protos/model_config-<version>.txtpb`` is the ``FileDescriptorProto`` of
``model_config.proto`` as that release's ``tritonclient`` wheel ships it (in
text form, so a diff shows which fields a release added). A config rendered for
a target is parsed with the newest vendored release not newer than the target,
so a field the target's server does not know (``model_metrics`` before 2.52) is
refused at compile time instead of by the server at load. Each release gets its
own descriptor pool: the releases share one proto file name and package.

Regenerate a file from a wheel installed into a side directory
(``scripts/bootstrap`` puts 2.51.0 and 2.52.0 under ``.venv/triton-releases``)::

    python -c "from compiler.backends.triton.protos import descriptor_text, wheel_descriptor; \
print(descriptor_text(wheel_descriptor(PATH_TO_model_config_pb2.py)), end='')"
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Any

from compiler.targets.triton import RELEASES, version_tuple

PROTOS = Path(__file__).parent / "protos"
MESSAGE = "inference.ModelConfig"


def descriptor_path(version: str) -> Path:
    return PROTOS / f"model_config-{version}.txtpb"


def release_for(version: str) -> str:
    """The vendored release a target is validated against: the newest not newer than it."""
    known = sorted(RELEASES, key=version_tuple)
    older = [r for r in known if version_tuple(r) <= version_tuple(version)]
    return older[-1] if older else known[0]


@functools.cache
def config_class(release: str) -> Any:
    """The ModelConfig message class of ``release`` (one of ``RELEASES``), in a pool of its own."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

    proto = text_format.Parse(
        descriptor_path(release).read_text(encoding="utf-8"), descriptor_pb2.FileDescriptorProto()
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(MESSAGE))


def parse_for_release(text: str, version: str) -> tuple[str, Any]:
    """``text`` parsed as the target's release's ModelConfig: (release, message).

    Raises ``text_format.ParseError`` (with the line and column) for a field that release does not have.
    """
    from google.protobuf import text_format

    release = release_for(version)
    return release, text_format.Parse(text, config_class(release)())


def descriptor_text(proto: Any) -> str:
    """A ``FileDescriptorProto`` as the vendored text (source info dropped)."""
    from google.protobuf import text_format

    proto.ClearField("source_code_info")
    return str(text_format.MessageToString(proto))


def wheel_descriptor(pb2_path: Path) -> Any:
    """The ``FileDescriptorProto`` a ``model_config_pb2.py`` registers, read without importing it."""
    from google.protobuf import descriptor_pb2

    source = Path(pb2_path).read_text(encoding="utf-8")
    match = re.search(r"AddSerializedFile\((b'.*?')\)\s*\n", source, re.DOTALL)
    if match is None:
        raise ValueError(f"{pb2_path}: no serialized descriptor")
    proto = descriptor_pb2.FileDescriptorProto()
    proto.ParseFromString(ast.literal_eval(match.group(1)))
    return proto


@functools.cache
def names_apart(release: str) -> frozenset[str] | None:
    """The names (of fields and enum values, lower case) whose meaning to protobuf's text
    parser differs between ``release``'s ModelConfig and the installed ``tritonclient``'s:
    absent from one, or of another type, label, presence, oneof or number. None where
    ``tritonclient`` is not installed.

    The parser resolves each name it reads against the message it is in, and nothing
    else of the descriptors steers it (ModelConfig is proto3: no groups, extensions or
    ``Any``; a name that could reach one is counted apart). So a text that names none of
    these parses under one ModelConfig exactly when it parses under the other: a config
    that ``tritonclient`` parsed and that names none of them needs no parse of its own
    for the release (``backends.triton.backend``). Names of one message only are
    compared in it, and its message and enum fields in turn."""
    try:
        from compiler.backends.triton.validate import model_config_pb2

        installed = model_config_pb2().ModelConfig.DESCRIPTOR
    except ImportError:
        return None
    apart: set[str] = set()
    seen: set[str] = set()
    pairs = [(installed, config_class(release).DESCRIPTOR)]
    while pairs:
        mine, theirs = pairs.pop()
        if mine.full_name in seen:
            continue
        seen.add(mine.full_name)
        if mine.full_name != theirs.full_name or mine.full_name == _ANY:
            return frozenset(("",))  # every text names it: always parsed for the release
        for name in sorted(set(mine.fields_by_name) | set(theirs.fields_by_name)):
            a, b = mine.fields_by_name.get(name), theirs.fields_by_name.get(name)
            if a is None or b is None or _parsed_as(a) != _parsed_as(b):
                apart.add(name.lower())
                continue
            if a.message_type is not None:
                pairs.append((a.message_type, b.message_type))
            if a.enum_type is not None:
                mine_values, their_values = a.enum_type.values_by_name, b.enum_type.values_by_name
                for value in set(mine_values) | set(their_values):
                    x, y = mine_values.get(value), their_values.get(value)
                    if x is None or y is None or x.number != y.number:
                        apart.add(value.lower())
    return frozenset(apart)


_ANY = "google.protobuf.Any"


def _parsed_as(field: Any) -> tuple[Any, ...]:
    """What of a field steers the text parser."""
    # protobuf 6 deprecates ``label`` for these two; older releases have only ``label``.
    kind = (field.is_repeated, field.is_required) if hasattr(field, "is_repeated") else field.label
    return (
        field.type,
        kind,
        field.message_type.full_name if field.message_type is not None else None,
        field.enum_type.full_name if field.enum_type is not None else None,
        getattr(field.enum_type, "is_closed", None) if field.enum_type is not None else None,
        field.containing_oneof.name if field.containing_oneof is not None else None,
        field.has_presence,
        field.message_type.GetOptions().map_entry if field.message_type is not None else None,
    )
