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
