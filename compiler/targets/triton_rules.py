"""The rules Triton applies to a model configuration when it loads a model.

One implementation, used three ways: the checker applies them to every rendered
``config.pbtxt`` (``backends/triton/validate.py``), ``shipspec import triton``
applies them to the configs it reads (and refuses what Triton would refuse), and
``checks/triton.py`` applies the tensor-shape rules to the spec's own tensors.
They follow ``ValidateModelConfig``, ``ValidateIOShape``, ``ValidateBatchIO``,
``GetBooleanSequenceControlProperties`` and ``ValidateInstanceGroup`` in
triton-inference-server/core ``src/model_config_utils.cc``; each message is
Triton's own (without the trailing ``for <model>``), so it can be searched for in
a server log. Configs are ``tritonclient`` ModelConfig messages, typed ``Any``
(the protobuf classes are generated and untyped).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from compiler.records import Record, record

# ModelConfig fields the spec's own statements render; a ``triton`` statement may not set them.
OWNED_FIELDS = frozenset({"name", "platform", "backend", "max_batch_size", "input", "output"})

_WILDCARD = -1


@record
class Problem(Record):
    """One rule broken: Triton's message, and the config field it is about (to find its line)."""

    field: str
    message: str


def _enum(message: Any, field: str) -> str:
    """The enum value's name; a number no release defines (text format accepts any) stays a
    number here, for the importer to refuse with SS812."""
    value = getattr(message, field)
    known = message.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number.get(value)
    return str(known.name) if known is not None else str(value)


def _element_count(shape: Iterable[int]) -> int:
    count = 1
    for d in shape:
        if d == _WILDCARD:
            return _WILDCARD
        count *= d
    return count


def _segments(shape: Iterable[int]) -> list[int]:
    out, product = [], 1
    for d in shape:
        if d == _WILDCARD:
            out.append(product)
            product = 1
        else:
            product *= d
    return [*out, product]


def reshape_problem(dims: tuple[int, ...], reshape: tuple[int, ...], batches: bool) -> str | None:
    """Triton's rules for a tensor's ``reshape`` against its ``dims`` (ValidateIOShape)."""
    if not reshape and not batches:
        return "cannot have empty reshape for non-batching model as scalar tensors are not supported"
    if any(d < 1 and d != _WILDCARD for d in reshape):
        return "reshape dimensions must be integer >= 1, or -1 to indicate a variable-size dimension"
    dims_size, reshape_size = _element_count(dims), _element_count(reshape) if reshape else 0
    if dims_size != reshape_size and (reshape_size != 0 or dims_size != 1):
        return "has different size for dims and reshape"
    if dims_size == _WILDCARD:
        if dims.count(_WILDCARD) != reshape.count(_WILDCARD):
            return "has different number of variable-size dimensions for dims and reshape"
        if _segments(dims) != _segments(reshape):
            return "has different size for dims and reshape"
    return None


def _io_problems(kind: str, io: Any, max_batch: int) -> list[Problem]:
    if not io.name:
        return [Problem(kind, f"model {kind} must specify 'name'")]
    prefix = f"model {kind} '{io.name}' "
    if _enum(io, "data_type") == "TYPE_INVALID":
        return [Problem(io.name, prefix + "must specify 'data_type'")]
    if not io.dims and not (kind == "input" and io.is_shape_tensor):
        return [Problem(io.name, prefix + "must specify 'dims'")]
    if any(d < 1 and d != _WILDCARD for d in io.dims):
        why = "dimension must be integer >= 1, or -1 to indicate a variable-size dimension"
        return [Problem(io.name, prefix + why)]
    if io.HasField("reshape"):
        problem = reshape_problem(tuple(io.dims), tuple(io.reshape.shape), max_batch > 0)
        if problem:
            return [Problem(io.name, prefix + problem)]
    return []


_BATCH_INPUT_KINDS = frozenset({
    "BATCH_ELEMENT_COUNT", "BATCH_ACCUMULATED_ELEMENT_COUNT", "BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO",
    "BATCH_MAX_ELEMENT_COUNT_AS_SHAPE", "BATCH_ITEM_SHAPE", "BATCH_ITEM_SHAPE_FLATTEN",
})  # fmt: skip


def batch_input_problem(kind: str, data_type: str, sources: Sequence[str], inputs: Collection[str]) -> Problem | None:
    """One ``batch_input`` (kind and data type as Triton's enum names) against the model's inputs."""
    if kind not in _BATCH_INPUT_KINDS:
        return Problem("batch_input", f"unknown batch input kind '{kind}'")
    if len(sources) != 1:
        return Problem(kind, f"batch input kind '{kind}' expects 1 source input, got {len(sources)}")
    if data_type not in ("TYPE_INT32", "TYPE_FP32"):
        return Problem("batch_input", "batch input data type must be TYPE_INT32 or TYPE_FP32")
    for source in sources:
        if source not in inputs:
            return Problem(source, f"unknown source input name '{source}'")
    return None


def batch_output_problem(
    kind: str, sources: Sequence[str], targets: Sequence[str], inputs: Collection[str], outputs: Collection[str]
) -> Problem | None:
    """One ``batch_output`` against the model's inputs and outputs."""
    if kind != "BATCH_SCATTER_WITH_INPUT_SHAPE":
        return Problem("batch_output", f"unknown batch output kind '{kind}'")
    if len(sources) != 1:
        return Problem(kind, f"batch output kind '{kind}' expects 1 source input, got {len(sources)}")
    for source in sources:
        if source not in inputs:
            return Problem(source, f"unknown source input name '{source}'")
    seen: set[str] = set()
    for target in targets:
        if target not in outputs:
            return Problem(target, f"unknown target output name '{target}'")
        if target in seen:
            return Problem(target, f"target output name '{target}' can only be specified once")
        seen.add(target)
    return None


def _batch_io_problems(config: Any) -> list[Problem]:
    inputs = {t.name for t in config.input}
    outputs = {t.name for t in config.output}
    for b in config.batch_input:
        if p := batch_input_problem(_enum(b, "kind"), _enum(b, "data_type"), list(b.source_input), inputs):
            return [p]
    for b in config.batch_output:
        if p := batch_output_problem(_enum(b, "kind"), list(b.source_input), list(b.target_name), inputs, outputs):
            return [p]
    return []


_BOOL_CONTROLS = ("CONTROL_SEQUENCE_START", "CONTROL_SEQUENCE_END", "CONTROL_SEQUENCE_READY")
_VALUE_FIELDS = ("int32_false_true", "fp32_false_true", "bool_false_true")
_CORRID_TYPES = ("TYPE_UINT64", "TYPE_INT64", "TYPE_UINT32", "TYPE_INT32", "TYPE_STRING")


@record
class Control(Record):
    """One sequence-batching control: its kind, its CORRID data type, and the value lists given."""

    kind: str  # CONTROL_SEQUENCE_START / _END / _READY / _CORRID
    data_type: str = "TYPE_INVALID"
    values: tuple[tuple[str, int], ...] = ()  # (int32_false_true | fp32_false_true | bool_false_true, entries)


def control_problems(control_inputs: Sequence[tuple[str, Sequence[Control]]]) -> list[Problem]:
    """Sequence batching control tensors, as (tensor name, its controls) in config order
    (GetBooleanSequenceControlProperties / GetTypedSequenceControlProperties)."""
    for wanted in (*_BOOL_CONTROLS, "CONTROL_SEQUENCE_CORRID"):
        seen_tensors: set[str] = set()
        seen_control = False
        for name, controls in control_inputs:
            if not name:
                return [Problem("control_input", "sequence batching control tensor must have a name")]
            if name in seen_tensors:
                return [
                    Problem(name, f"sequence batching control tensor '{name}' is specified for multiple control kinds")
                ]
            seen_tensors.add(name)
            for c in controls:
                if c.kind != wanted:
                    continue
                if seen_control:
                    return [Problem(wanted, f"sequence batching specifies multiple {wanted} tensors")]
                seen_control = True
                if wanted == "CONTROL_SEQUENCE_CORRID":
                    if c.data_type not in _CORRID_TYPES:
                        return [
                            Problem(
                                wanted,
                                f"unexpected data type for control {wanted}. Allowed data types "
                                "are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 and TYPE_STRING",
                            )
                        ]
                    continue
                given = [(f, n) for f, n in c.values if n]
                if not given:
                    return [
                        Problem(
                            wanted,
                            "sequence batching must specify either 'int32_false_true', "
                            f"'fp32_false_true' or 'bool_false_true' for {wanted}",
                        )
                    ]
                if len(given) > 1:
                    return [
                        Problem(
                            wanted,
                            "sequence batching specifies more than one from 'int32_false_true', "
                            f"'fp32_false_true' and 'bool_false_true' for {wanted}",
                        )
                    ]
                if given[0][1] != 2:
                    return [
                        Problem(
                            given[0][0],
                            f"sequence batching control '{given[0][0]}' must have exactly 2 entries for {wanted}",
                        )
                    ]
    return []


def _control_problems(sb: Any) -> list[Problem]:
    return control_problems([
        (ci.name, [Control(_enum(c, "kind"), _enum(c, "data_type"),
                           tuple((f, len(getattr(c, f))) for f in _VALUE_FIELDS)) for c in ci.control])
        for ci in sb.control_input
    ])  # fmt: skip


def priority_problems(levels: int, default_level: int, policy_levels: Iterable[int]) -> list[Problem]:
    """Priority levels of the dynamic batcher: the default and each per-priority queue policy in range."""
    if not levels:
        return []
    if default_level == 0 or default_level > levels:
        return [Problem("default_priority_level", f"default priority level must be in range [1, {levels}]")]
    for level in policy_levels:
        if level == 0 or level > levels:
            return [
                Problem(
                    "priority_queue_policy", f"priority queue policy must have priority level in range [1, {levels}]"
                )
            ]
    return []


def preserve_ordering_problems(levels: int, delaying_policy: bool) -> list[Problem]:
    """``preserve_ordering``: one priority level at most, and no queue policy that delays on timeout."""
    if levels > 1:
        return [Problem("preserve_ordering", "Only one priority level is allowed when 'preserve_ordering' is true")]
    if delaying_policy:
        return [Problem("DELAY", "Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true")]
    return []


def preferred_problems(sizes: Iterable[int], max_batch: int, what: str) -> list[Problem]:
    """Preferred batch sizes; ``what`` names them as Triton does ("dynamic batching preferred size", …)."""
    for size in sizes:
        if size <= 0:
            return [Problem("preferred_batch_size", f"{what} must be positive")]
        if size > max_batch:
            return [Problem("preferred_batch_size", f"{what} must be <= max batch size")]
    return []


def slot_utilization_problems(utilization: float) -> list[Problem]:
    if not 0.0 <= utilization <= 1.0:
        return [
            Problem(
                "minimum_slot_utilization", "sequence batching minimum slot utilization must be in range (0.0, 1.0]"
            )
        ]
    return []


def cache_with_sequence(name: str) -> str:
    """Triton names the model mid-sentence here (seen in the 2.51 server's log)."""
    return (
        f"Response Cache does not currently support model {name} with sequence batching scheduler. Please "
        "disable the response cache."
    )


def cache_with_decoupled(name: str) -> str:
    return (
        f"Response Cache does not currently support model {name} with 'decoupled' transaction policy. Please "
        "disable the response cache."
    )


def _dynamic_batching_problems(config: Any) -> list[Problem]:
    db = config.dynamic_batching
    if problems := preferred_problems(
        db.preferred_batch_size, config.max_batch_size, "dynamic batching preferred size"
    ):
        return problems
    if problems := priority_problems(db.priority_levels, db.default_priority_level, db.priority_queue_policy):
        return problems
    if db.preserve_ordering:
        policies = [db.default_queue_policy, *db.priority_queue_policy.values()]
        delaying = any(p.default_timeout_microseconds and _enum(p, "timeout_action") == "DELAY" for p in policies)
        return preserve_ordering_problems(db.priority_levels, delaying)
    return []


def _sequence_problems(config: Any, name: str) -> list[Problem]:
    sb = config.sequence_batching
    if config.response_cache.enable:
        return [Problem("response_cache", cache_with_sequence(name))]
    if problems := _control_problems(sb):
        return problems
    if sb.HasField("oldest"):
        what = "sequence batching preferred batch size"
        if problems := preferred_problems(sb.oldest.preferred_batch_size, config.max_batch_size, what):
            return problems
    if sb.HasField("direct"):
        return slot_utilization_problems(sb.direct.minimum_slot_utilization)
    return []


def _instance_problems(config: Any, name: str) -> list[Problem]:
    if config.HasField("ensemble_scheduling"):
        return []
    for i, group in enumerate(config.instance_group):
        kind = _enum(group, "kind")
        # Triton names an unnamed group <model>_<index> before validating it.
        who = f"instance group {group.name or f'{name}_{i}'} of model {name}"
        if kind in ("KIND_CPU", "KIND_MODEL") and group.gpus:
            return [Problem("gpus", f"{who} has kind {kind} but specifies one or more GPUs")]
        if group.profile and config.platform != "tensorrt_plan" and config.backend != "tensorrt":
            return [Problem("profile", f"{who} specifies profile field which is only supported for TensorRT models")]
        if group.count < 0:
            return [Problem("count", f"{who} has invalid count {group.count}")]
    return []


def config_problems(config: Any, name: str | None = None) -> list[Problem]:
    """What Triton refuses in ``config`` at load time, first problem per rule group (as Triton stops at one).

    ``name`` stands in for an empty ``name`` field (Triton takes it from the directory).
    GPU availability and file presence are the server's to judge and are not checked.
    """
    name = config.name or name or ""
    problems: list[Problem] = []
    if config.max_batch_size < 0:
        problems.append(Problem("max_batch_size", "'max_batch_size' must be non-negative value"))
    if config.platform == "ensemble" and config.backend:
        problems.append(
            Problem("backend", f"Ensemble model '{name}' must have platform type 'ensemble' and empty backend type")
        )
    for kind in ("input", "output"):
        for io in getattr(config, kind):
            if found := _io_problems(kind, io, max(config.max_batch_size, 0)):
                problems += found
                break
    problems += _batch_io_problems(config)
    if config.HasField("dynamic_batching"):
        problems += _dynamic_batching_problems(config)
    if config.HasField("sequence_batching"):
        problems += _sequence_problems(config, name)
    if config.platform == "ensemble" and not config.HasField("ensemble_scheduling"):
        problems.append(
            Problem("ensemble", f"ensemble scheduling must be set for ensemble {name} whose platform is ensemble")
        )
    if config.model_transaction_policy.decoupled and config.response_cache.enable:
        problems.append(Problem("decoupled", cache_with_decoupled(name)))
    problems += _instance_problems(config, name)
    return problems
