"""``shipspec smoke``: check a running Triton against what the spec renders for one environment.

Checks, in order: the server is live and ready; every model of the environment
is READY; the served config equals the rendered one on every field shipspec
sets (Triton fills in defaults for the rest); one inference with synthetic
inputs of the declared types and shapes returns every declared output. Each
check prints one line; any failure makes the command exit 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Triton DataType -> (numpy dtype name, tritonclient datatype).
_TYPES: dict[str, tuple[str, str]] = {
    "TYPE_BOOL": ("bool", "BOOL"), "TYPE_UINT8": ("uint8", "UINT8"), "TYPE_UINT16": ("uint16", "UINT16"),
    "TYPE_UINT32": ("uint32", "UINT32"), "TYPE_UINT64": ("uint64", "UINT64"), "TYPE_INT8": ("int8", "INT8"),
    "TYPE_INT16": ("int16", "INT16"), "TYPE_INT32": ("int32", "INT32"), "TYPE_INT64": ("int64", "INT64"),
    "TYPE_FP16": ("float16", "FP16"), "TYPE_FP32": ("float32", "FP32"), "TYPE_FP64": ("float64", "FP64"),
    "TYPE_STRING": ("object", "BYTES"),
}  # fmt: skip


@dataclass
class Report:
    lines: list[tuple[bool, str]] = field(default_factory=list)
    unreachable: bool = False  # the server did not answer at all (the command line exits 2, as load does)

    def add(self, ok: bool, message: str) -> None:
        self.lines.append((ok, message))

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.lines)

    def text(self) -> str:
        body = "\n".join(f"{'ok  ' if ok else 'FAIL'} {msg}" for ok, msg in self.lines)
        failed = sum(1 for ok, _ in self.lines if not ok)
        return body + f"\n{len(self.lines) - failed} passed, {failed} failed\n"


def request_shape(dims: Sequence[int], batch: int | None, variable: int = 3) -> list[int]:
    """A concrete request shape: variable dims become ``variable``; batch dim first if batching."""
    shape = [variable if d < 0 else int(d) for d in dims]
    return [batch, *shape] if batch is not None else shape


def synthetic_inputs(config: Any, batch: int | None) -> list[Any]:
    """tritonclient.http InferInputs for every non-optional input of a ModelConfig."""
    import numpy as np
    import tritonclient.http as httpclient
    from tritonclient.grpc import model_config_pb2

    out = []
    for t in config.input:
        if t.optional:
            continue
        np_type, wire = _TYPES[model_config_pb2.DataType.Name(t.data_type)]
        shape = request_shape(list(t.dims), batch if config.max_batch_size > 0 else None)
        if np_type == "object":
            data = np.full(shape, b"shipspec", dtype=object)
        else:
            data = np.ones(shape, dtype=np_type)
        item = httpclient.InferInput(t.name, shape, wire)
        item.set_data_from_numpy(data)
        out.append(item)
    return out


def subset_mismatches(expected: Any, served: Any, path: str = "", ignore: frozenset[str] = frozenset()) -> list[str]:
    """Fields set in ``expected`` whose value differs in ``served`` (dotted paths)."""
    problems: list[str] = []
    for desc, value in expected.ListFields():
        where = f"{path}{desc.name}"
        if desc.name in ignore or where in ignore:
            continue
        other = getattr(served, desc.name)
        is_map = desc.message_type is not None and desc.message_type.GetOptions().map_entry
        if is_map:
            for key in value:
                if key not in other:
                    problems.append(f"{where}[{key}]: missing")
                elif hasattr(value[key], "ListFields"):
                    problems += subset_mismatches(value[key], other[key], f"{where}[{key}].", ignore)
                elif value[key] != other[key]:
                    problems.append(f"{where}[{key}]: {other[key]!r} != {value[key]!r}")
        elif desc.is_repeated and desc.message_type is not None:
            if len(value) != len(other):
                problems.append(f"{where}: {len(other)} served, {len(value)} in Git")
                continue
            for i, (a, b) in enumerate(zip(value, other, strict=True)):
                problems += subset_mismatches(a, b, f"{where}[{i}].", ignore)
        elif desc.message_type is not None:
            problems += subset_mismatches(value, other, f"{where}.", ignore)
        elif list(value) != list(other) if desc.is_repeated else value != other:
            if desc.enum_type is not None and not desc.is_repeated:
                other, value = desc.enum_type.values_by_number[other].name, desc.enum_type.values_by_number[value].name
            problems.append(f"{where}: served {other!r}, Git has {value!r}")
    return problems


def run(
    paths: Sequence[Path],
    url: str,
    env: str,
    ignore: Sequence[str] = (),
    timeout: float = 10.0,
    tree: Path | None = None,
) -> Report:
    """Check the Triton at ``url`` (host:port of its HTTP endpoint) against environment ``env``.

    The expected configs are rendered from the spec, or, with ``tree``, read from the
    committed output tree (``tree/deploy/<env>/triton/*/config.pbtxt``), i.e. what Git deploys.
    """
    import tritonclient.http as httpclient
    from google.protobuf import json_format
    from tritonclient.grpc import model_config_pb2
    from tritonclient.utils import InferenceServerException

    from compiler.backends.render import Templates
    from compiler.backends.triton.validate import KIND, parse_config
    from compiler.pipeline import (
        render,
        validate,
    )

    report = Report()
    checked = validate(list(paths))
    if checked.has_errors:
        report.add(False, "the spec has errors; run: shipspec validate")
        return report
    if env not in checked.resolved.environments:
        report.add(False, f"no environment '{env}' in the spec")
        return report
    prefix = f"deploy/{env}/triton/"
    if tree is not None:
        configs = {}
        for cfg in sorted((tree / prefix).glob("*/config.pbtxt")):
            try:
                configs[cfg.parent.name] = parse_config(cfg.read_text(encoding="utf-8"))
            except Exception as err:  # noqa: BLE001 - a broken committed file is a failed check
                report.add(False, f"{cfg}: not a valid Triton ModelConfig: {err}")
    else:
        files, _ = render(checked, Templates.load(), only=["triton"])
        configs = {
            f.path[len(prefix) :].split("/")[0]: parse_config(f.text)
            for f in files
            if f.kind == KIND and f.path.startswith(prefix)
        }
    client = httpclient.InferenceServerClient(url, connection_timeout=timeout, network_timeout=timeout)
    try:
        report.add(client.is_server_live(), f"server {url} is live")
        report.add(client.is_server_ready(), f"server {url} is ready")
        pinned = checked.spec.project.triton_version if checked.spec.project else None
        served_version = str(client.get_server_metadata().get("version", "?"))
        if pinned is not None:
            report.add(
                served_version == pinned,
                f"server version {served_version} "
                + ("matches" if served_version == pinned else "differs from")
                + f' the spec\'s triton "{pinned}"',
            )
    except Exception as err:  # noqa: BLE001 - any transport failure is a failed check
        report.add(False, f"server {url} does not answer: {err}")
        report.unreachable = True
        return report
    if not configs:
        report.add(False, f"environment '{env}' serves no models")
    ignored = frozenset(ignore)
    for name, expected in sorted(configs.items()):
        try:
            if not client.is_model_ready(name):
                report.add(False, f"{name}: not READY")
                continue
            report.add(True, f"{name}: READY")
            served = json_format.ParseDict(
                client.get_model_config(name), model_config_pb2.ModelConfig(), ignore_unknown_fields=True
            )
            problems = subset_mismatches(expected, served, ignore=ignored)
            report.add(
                not problems,
                f"{name}: served config matches Git"
                if not problems
                else f"{name}: served config differs from Git: " + "; ".join(problems),
            )
            batch = 1 if expected.max_batch_size > 0 else None
            # A stateful model answers only inside a sequence: one request that starts and ends one.
            sequence = (
                dict(sequence_id=1, sequence_start=True, sequence_end=True)
                if expected.HasField("sequence_batching")
                else {}
            )
            result = client.infer(name, synthetic_inputs(expected, batch), **sequence)
            missing = [o.name for o in expected.output if result.as_numpy(o.name) is None]
            report.add(
                not missing,
                f"{name}: inference answered"
                if not missing
                else f"{name}: inference lacks outputs {', '.join(missing)}",
            )
        except InferenceServerException as err:
            report.add(False, f"{name}: {err.message()}")
    return report
