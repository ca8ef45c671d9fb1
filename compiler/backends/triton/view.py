"""The view model of one Triton ``config.pbtxt``: what a model becomes in one environment.

Every value that reaches the template is either a number or ``Raw`` protobuf
text (quoted strings, enum names), so the template only lays fields out. The
mapping from the spec lives here and nowhere else; ``triton_import`` is its
inverse and the round-trip tests hold the two together.
"""

from __future__ import annotations

from typing import Any, TypedDict, TypeGuard

from compiler import ir
from compiler.backends.render import Raw
from compiler.backends.triton.validate import verbatim_fields
from compiler.resolve import Placement
from compiler.targets.triton import LATENCY_HISTOGRAM, supports_model_metrics

# Model format -> (field, value): which of platform/backend names the runtime.
RUNTIME: dict[ir.ModelFormat, tuple[str, str]] = {
    ir.ModelFormat.ONNX: ("platform", "onnxruntime_onnx"),
    ir.ModelFormat.PYTORCH: ("platform", "pytorch_libtorch"),
    ir.ModelFormat.TENSORFLOW: ("platform", "tensorflow_savedmodel"),
    ir.ModelFormat.TENSORRT: ("platform", "tensorrt_plan"),
    ir.ModelFormat.PYTHON: ("backend", "python"),
    ir.ModelFormat.ENSEMBLE: ("platform", "ensemble"),
}

# Spec dtype -> Triton DataType enum.
DATA_TYPE: dict[str, str] = {
    "bool": "TYPE_BOOL", "uint8": "TYPE_UINT8", "uint16": "TYPE_UINT16", "uint32": "TYPE_UINT32",
    "uint64": "TYPE_UINT64", "int8": "TYPE_INT8", "int16": "TYPE_INT16", "int32": "TYPE_INT32",
    "int64": "TYPE_INT64", "fp16": "TYPE_FP16", "fp32": "TYPE_FP32", "fp64": "TYPE_FP64",
    "bf16": "TYPE_BF16", "string": "TYPE_STRING",
}  # fmt: skip

# Bucket edges (ms) around which the SLA thresholds are inserted.
BASE_BUCKETS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


def pb_string(value: str) -> Raw:
    """A protobuf text-format string literal (C escapes; non-ASCII as UTF-8 octal bytes)."""
    out = []
    for byte in value.encode("utf-8"):
        ch = chr(byte)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return Raw('"' + "".join(out) + '"')


def _tensor(t: ir.Tensor) -> dict[str, Any]:
    return {
        "name": pb_string(t.name),
        "data_type": Raw(DATA_TYPE.get(t.dtype, "TYPE_INVALID")),
        "dims": Raw(_ints(t.dims)),
        "reshape": Raw(_ints(t.reshape)) if t.reshape is not None else None,
        "optional": t.optional,
        "format": Raw("FORMAT_" + t.format.upper()) if t.format else None,
        "labels": pb_string(t.labels) if t.labels is not None else None,
    }


def _ints(values: tuple[int, ...] | list[int]) -> str:
    return "[ " + ", ".join(str(v) for v in values) + " ]" if values else "[ ]"


def _micros(seconds: float) -> int:
    return int(round(seconds * 1_000_000))


def _queue(q: ir.QueuePolicy) -> dict[str, Any]:
    return {
        "timeout_action": Raw("DELAY" if q.on_timeout == "delay" else "REJECT"),
        "timeout": _micros(q.timeout) if q.timeout is not None else None,
        "max_queue_size": q.max_size,
        "allow_override": q.allow_override,
    }


def _dynamic_batching(b: ir.Batching) -> dict[str, Any]:
    return {
        "preferred": Raw(_ints(b.preferred)) if b.preferred else None,
        "delay": _micros(b.delay) if b.delay is not None else None,
        "priority_levels": b.priority_levels,
        "default_priority": b.default_priority,
        "queue": _queue(b.queue) if b.queue is not None else None,
        "preserve_ordering": b.preserve_ordering,
        "priority_queues": [(level, _queue(q)) for level, q in b.priority_queues],
    }


# A start/end/ready control's false/true values, by its tensor type.
_CONTROL_VALUES = {"int32": ("int32_false_true", "[ 0, 1 ]"), "fp32": ("fp32_false_true", "[ 0, 1 ]"),
                   "bool": ("bool_false_true", "[ false, true ]")}  # fmt: skip


def _sequence(s: ir.Sequence) -> dict[str, Any]:
    controls = []
    for c in s.controls:
        entry: dict[str, Any] = {"name": pb_string(c.tensor), "kind": Raw(f"CONTROL_SEQUENCE_{c.kind.upper()}")}
        if c.kind == "corrid":
            entry["data_type"] = Raw(DATA_TYPE.get(c.dtype, "TYPE_INVALID"))
        else:
            field, values = _CONTROL_VALUES[c.dtype]
            entry["values"] = (Raw(field), Raw(values))
        controls.append(entry)
    settings: list[tuple[Raw, Any]] = []
    if s.candidates is not None:
        settings.append((Raw("max_candidate_sequences"), s.candidates))
    if s.preferred:
        settings.append((Raw("preferred_batch_size"), Raw(_ints(s.preferred))))
    if s.delay is not None:
        settings.append((Raw("max_queue_delay_microseconds"), _micros(s.delay)))
    if s.utilization is not None:
        settings.append((Raw("minimum_slot_utilization"), Raw(f"{s.utilization:g}")))
    if s.preserve_ordering:
        settings.append((Raw("preserve_ordering"), Raw("true")))
    return {
        "idle": _micros(s.idle) if s.idle is not None else None,
        "strategy": Raw(s.strategy),
        "controls": controls,
        "settings": settings,
    }


def wants_dynamic_batcher(b: ir.Batching | None) -> TypeGuard[ir.Batching]:
    """The dynamic batcher runs when a batching model sets any of its knobs.

    ``batching { max 8 }`` alone only lets clients send batches (``max_batch_size``);
    ``delay 0us`` switches the server-side batcher on with Triton's defaults.
    """
    return bool(
        b is not None
        and b.max_batch_size
        and (
            b.preferred
            or b.delay is not None
            or b.priority_levels
            or b.queue is not None
            or b.preserve_ordering
            or b.priority_queues
        )
    )


def latency_buckets(slas: list[ir.Sla]) -> list[float]:
    """Histogram bucket edges (ms) that include every SLA latency threshold exactly."""
    edges = {float(b) for b in BASE_BUCKETS_MS}
    for sla in slas:
        edges.update(round(obj.threshold * 1000, 6) for obj in sla.latency)
    return sorted(edges)


def _warmup(model: ir.Model) -> list[dict[str, Any]]:
    inputs = [
        {
            "key": pb_string(t.name),
            "data_type": Raw(DATA_TYPE.get(t.dtype, "TYPE_INVALID")),
            # A warmup request carries concrete shapes: variable dims become 1.
            "dims": Raw(_ints([1 if d < 0 else d for d in t.dims])),
        }
        for t in model.inputs
        if not t.optional
    ]
    # batch_size 1 even without batching: the 2.51 server silently skips a sample with batch_size 0.
    return [{"name": pb_string(f"{model.name}_warmup"), "batch_size": 1, "inputs": inputs}]


Fragment = dict[str, Any]  # a message of the ModelConfig, laid out for the template


class ConfigView(TypedDict):
    """What templates/triton/config.pbtxt.j2 receives (strings already protobuf-quoted)."""

    model_name: str
    runtime_field: str
    runtime: str
    max_batch_size: int
    tensor_sections: list[tuple[str, list[Fragment]]]
    version_policy: Fragment | None
    dynamic_batching: Fragment | None
    sequence: Fragment | None
    steps: list[Fragment]
    instance_group: Fragment | None
    parameters: list[tuple[str, str]]
    cache: bool
    warmup: list[Fragment]
    latency_buckets: str | None
    latency_histogram: str
    decoupled: bool
    batch_inputs: list[Fragment]
    batch_outputs: list[Fragment]


def config_view(triton_version: str, placed: Placement) -> ConfigView:
    """Everything the config template needs for a model served in an environment
    (under the project's Triton release)."""
    model, env, eff = placed.model, placed.env, placed
    fmt = model.format or ir.ModelFormat.PYTHON
    is_ensemble = fmt is ir.ModelFormat.ENSEMBLE
    field, runtime = model.runtime or RUNTIME[fmt]
    batching = eff.batching
    max_batch = batching.max_batch_size if batching else 0
    slas = [placed.sla] if placed.sla is not None and placed.sla.latency else []
    steps = [
        {
            "model": pb_string(step.model.name),
            "input_map": [(pb_string(m.target), pb_string(m.source)) for m in step.inputs],
            "output_map": [(pb_string(m.source), pb_string(m.target)) for m in step.outputs],
        }
        for step in model.steps
    ]
    sequence = _sequence(model.sequence) if model.sequence is not None else None
    policy, count = model.version_policy
    verbatim = verbatim_fields(model.triton_fields)
    return {
        "model_name": pb_string(model.name),
        "runtime_field": Raw(field),
        "runtime": pb_string(runtime),
        "max_batch_size": max_batch,
        "tensor_sections": [
            (Raw("input"), [_tensor(t) for t in model.inputs]),
            (Raw("output"), [_tensor(t) for t in model.outputs]),
        ],
        "version_policy": {"policy": policy, "count": count} if "versions" in model.spans else None,
        "dynamic_batching": (
            _dynamic_batching(batching)
            if wants_dynamic_batcher(batching) and not is_ensemble and sequence is None
            else None
        ),
        "sequence": sequence,
        "steps": steps,
        "instance_group": None
        if is_ensemble
        else {
            "count": eff.instances,
            "kind": Raw("KIND_GPU" if placed.uses_gpu else "KIND_CPU"),
        },
        "parameters": [(pb_string(k), pb_string(v)) for k, v in sorted(model.parameters)],
        "cache": model.cache,
        "warmup": (
            _warmup(model)
            if env.tier is ir.Tier.PRODUCTION
            and not is_ensemble
            and sequence is None
            and not model.auto_signature
            and not model.decoupled
            and not verbatim & {"sequence_batching", "model_warmup", "model_transaction_policy"}
            else []
        ),
        "latency_buckets": (
            Raw(_ints_f(latency_buckets(slas))) if slas and supports_model_metrics(triton_version) else None
        ),
        "latency_histogram": pb_string(LATENCY_HISTOGRAM),
        "decoupled": model.decoupled,
        "batch_inputs": [
            {
                "target": pb_string(b.target),
                "kind": Raw("BATCH_" + b.kind.upper()),
                "data_type": Raw(DATA_TYPE[b.dtype]),
                "source": pb_string(b.source),
            }
            for b in model.batch_inputs
        ],
        "batch_outputs": [
            {"target": pb_string(b.target), "kind": Raw("BATCH_" + b.kind.upper()), "source": pb_string(b.source)}
            for b in model.batch_outputs
        ],
    }


def _ints_f(values: list[float]) -> str:
    return "[ " + ", ".join(f"{v:g}" for v in values) + " ]"
