"""Validate a rendered ``config.pbtxt`` by parsing it into Triton's own ModelConfig protobuf.

An unknown field or enum value is an error (SS810), reported against the spec
line the model came from, with the position inside the rendered file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from compiler.backends.base import OutputFile
from compiler.diagnostics import Sink
from compiler.targets.triton_rules import config_problems

KIND = "triton-config"


def model_config_pb2() -> Any:
    """``tritonclient.grpc.model_config_pb2``, without running ``tritonclient.grpc``'s
    ``__init__``: that imports grpc, numpy and ml_dtypes (0.6 s), and a compile that
    validates one changed config needs none of them. Loaded under its own name, so a
    later ``from tritonclient.grpc import model_config_pb2`` takes this module (the
    protobuf descriptor pool refuses the same file registered twice)."""
    import sys

    name = "tritonclient.grpc.model_config_pb2"
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    import importlib.util

    found = importlib.util.find_spec("tritonclient")  # the namespace's __init__ is empty
    where = [*found.submodule_search_locations] if found and found.submodule_search_locations else []
    for base in where:
        spec = importlib.util.spec_from_file_location(name, f"{base}/grpc/model_config_pb2.py")
        if spec is None or spec.loader is None:
            continue
        try:
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except (OSError, ImportError):
            sys.modules.pop(name, None)
            continue
        return module
    raise ImportError("tritonclient is not installed")


def parse_config(text: str) -> Any:
    """``text`` as a ``tritonclient`` ModelConfig; raises ``text_format.ParseError``.
    The text shipspec writes is read by ``pbtxt.read``, which gives the same message in a
    third of the time; any other text, or an error, is ``text_format``'s."""
    from google.protobuf import text_format

    from compiler.backends.triton import pbtxt

    message_class = model_config_pb2().ModelConfig
    read = pbtxt.read(text, message_class)
    return read if read is not None else text_format.Parse(text, message_class())


# Configs parsed by ``parse_kept`` and not yet validated, by their text: at most a few,
# since each is validated right after it is rendered (``Units.check``).
_KEPT: dict[str, Any] = {}
_KEEP_AT_MOST = 8


def parse_kept(text: str) -> Any:
    """``parse_config(text)``, kept for ``validate_config`` of a file of that very text (the
    render parses each config it made for the release check; validation took a second
    parse of the same text, ~0.25 ms each, 3,250 of them at 1,000 models); None where it
    does not parse or ``tritonclient`` is not installed (validation reports either)."""
    from google.protobuf import text_format

    try:
        config = parse_config(text)
    except (text_format.ParseError, ImportError):
        return None
    if len(_KEPT) >= _KEEP_AT_MOST:
        del _KEPT[next(iter(_KEPT))]
    _KEPT[text] = config
    return config


def parse_fields(text: str) -> Any:
    """Protobuf text of some ModelConfig fields as a ModelConfig; raises ``text_format.ParseError``."""
    return parse_config(text)


def verbatim_fields(texts: Iterable[str]) -> set[str]:
    """The top-level fields a model's ``triton`` statements set (unparsable text sets none)."""
    out: set[str] = set()
    for text in texts:
        try:
            out.update(desc.name for desc, _ in parse_fields(text).ListFields())
        except Exception:  # noqa: BLE001 — ParseError or no tritonclient: the check reports it
            continue
    return out


def merge_fields(config: Any, texts: Iterable[str]) -> Any:
    """``config`` with each field the texts set replaced by theirs (a field is replaced whole)."""
    for text in texts:
        extra = parse_fields(text)
        for desc, _ in extra.ListFields():
            config.ClearField(desc.name)
        config.MergeFrom(extra)
    return config


def validate_config(f: OutputFile, sink: Sink) -> None:
    try:
        from google.protobuf import text_format

        model_config_pb2()
    except ImportError:
        sink.report(
            "SS811",
            f"{f.path}: cannot check it: tritonclient is not installed (pip install 'shipspec[render]')",
            f.source,
        )
        return
    try:
        text = f.text
        config = _KEPT.pop(text, None)
        if config is None:
            config = parse_config(text)
    except text_format.ParseError as err:
        where = f"{err.GetLine()}:{err.GetColumn()}" if err.GetLine() else "?"
        sink.report("SS810", f"{f.path}:{where}: not a valid Triton ModelConfig: {err}", f.source)
        return
    # Triton's load-time rules, the same ones ``import triton`` applies to the configs it reads.
    for problem in config_problems(config):
        sink.report("SS614", f"{f.path}: Triton would refuse it: {problem.message}", f.source)
