"""Validate a rendered ``config.pbtxt`` by parsing it into Triton's own ModelConfig protobuf.

An unknown field or enum value is an error (SS810), reported against the spec
line the model came from, with the position inside the rendered file.
"""

from __future__ import annotations

from typing import Any

from compiler.backends.base import OutputFile
from compiler.diagnostics import Sink

KIND = "triton-config"


def parse_config(text: str) -> Any:
    """``text`` as a ``tritonclient`` ModelConfig; raises ``text_format.ParseError``."""
    from google.protobuf import text_format  # noqa: PLC0415 — heavy, only when validating
    from tritonclient.grpc import model_config_pb2  # noqa: PLC0415

    return text_format.Parse(text, model_config_pb2.ModelConfig())


def validate_config(f: OutputFile, sink: Sink) -> None:
    try:
        from google.protobuf import text_format  # noqa: PLC0415
        from tritonclient.grpc import model_config_pb2  # noqa: F401, PLC0415
    except ImportError:
        sink.report("SS811", f"{f.path}: cannot check it: tritonclient is not installed "
                    "(pip install 'shipspec[render]')", f.source)
        return
    try:
        parse_config(f.text)
    except text_format.ParseError as err:
        where = f"{err.GetLine()}:{err.GetColumn()}" if err.GetLine() else "?"
        sink.report("SS810", f"{f.path}:{where}: not a valid Triton ModelConfig: {err}", f.source)
