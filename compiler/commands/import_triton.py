"""``shipspec import triton PATH``: existing ``config.pbtxt`` files as spec text.

The inverse of ``compiler.backends.triton.view``: a config Triton would refuse is
refused with Triton's reason (SS614, the shared rules of ``targets.triton_rules``);
every field with a statement of its own becomes that statement, every other
top-level field a verbatim ``triton "..."`` statement; a tensor field the
language cannot express fails the import (SS712) unless ``--drop`` names it
(SS714). Compiling the imported model again gives a protobuf-equal config.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler import ir, limits
from compiler.backends.triton.view import DATA_TYPE, RUNTIME
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.targets import layout
from compiler.targets.triton_rules import config_problems

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DTYPE = {v: k for k, v in DATA_TYPE.items()}
# platform or backend value -> format; several spellings name one runtime.
_FORMATS: dict[str, ir.ModelFormat] = {value: fmt for fmt, (_, value) in RUNTIME.items()}
_HANDLED = {
    "name", "platform", "backend", "max_batch_size", "input", "output", "dynamic_batching",
    "sequence_batching", "ensemble_scheduling", "instance_group", "version_policy", "parameters",
    "response_cache", "batch_input", "batch_output", "model_transaction_policy",
}  # fmt: skip
# Runtimes other than a format's default, by the format their model files have.
_RUNTIME_FORMATS = {
    "onnxruntime": ir.ModelFormat.ONNX,
    "pytorch": ir.ModelFormat.PYTORCH,
    "tensorrt": ir.ModelFormat.TENSORRT,
    "tensorflow": ir.ModelFormat.TENSORFLOW,
    "tensorflow_graphdef": ir.ModelFormat.TENSORFLOW,
    "tensorflow_savedmodel": ir.ModelFormat.TENSORFLOW,
}


@dataclass
class Imported:
    text: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # config path -> text, for caret display


def config_files(path: Path) -> list[Path]:
    """The configs under ``path``: a file, a model directory, or a model repository."""
    if path.is_file():
        return [path]
    if (path / "config.pbtxt").is_file():
        return [path / "config.pbtxt"]
    return sorted(p for p in path.glob("*/config.pbtxt") if p.is_file())


def _duration(micros: int) -> str:
    for unit, size in (("s", 1_000_000), ("ms", 1_000)):
        if micros and micros % size == 0:
            return f"{micros // size}{unit}"
    return f"{micros}us"


def _version_from_dirs(model_dir: Path) -> tuple[str, int] | None:
    dirs = [int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()] if model_dir.is_dir() else []
    if not dirs:
        return None
    n = max(dirs)
    return f"{n // 1_000_000}.{n // 1_000 % 1_000}.{n % 1_000}", n


_TENSOR_FIELDS = ("name", "data_type", "dims", "reshape", "optional", "format", "label_filename")
_DYNAMIC_FIELDS = {
    "preferred_batch_size", "max_queue_delay_microseconds", "priority_levels", "default_priority_level",
    "default_queue_policy", "preserve_ordering", "priority_queue_policy",
}  # fmt: skip
_STRATEGY_FIELDS = {
    "direct": {"max_queue_delay_microseconds", "minimum_slot_utilization"},
    "oldest": {"max_candidate_sequences", "preferred_batch_size", "max_queue_delay_microseconds", "preserve_ordering"},
}
# A start/end/ready control's values, as the spec renders them for each tensor type.
_CONTROL_VALUES = {"int32_false_true": ("int32", [0, 1]), "fp32_false_true": ("fp32", [0.0, 1.0]),
                   "bool_false_true": ("bool", [False, True])}  # fmt: skip


class _Importer:
    def __init__(self, path: Path, text: str, sink: Sink, artifact_base: str) -> None:
        self.path, self.text, self.sink = path, text, sink
        self.artifact_base = artifact_base.rstrip("/")
        self.verbatim: list[Any] = []  # top-level fields written as `triton "..."` statements

    def where(self, needle: str) -> Span:
        """The first line of the config mentioning ``needle`` (protobuf keeps no positions)."""
        for i, line in enumerate(self.text.splitlines(), 1):
            if not line.lstrip().startswith("#") and re.search(rf"\b{re.escape(needle)}\b", line):
                return Span.point(str(self.path), i, line.find(needle) + 1)
        return Span.point(str(self.path))

    def cannot(self, needle: str, why: str) -> None:
        self.sink.report("SS712", why, self.where(needle), hint="pass --drop FIELD to import without it")

    def name_ok(self, name: str, what: str) -> bool:
        if _NAME.fullmatch(name):
            return True
        self.cannot(name, f"{what} '{name}' is not a spec name (letters, digits, '_')")
        return False

    def keep(self, config: Any, field_name: str) -> None:
        """Write a whole top-level field verbatim (a ``triton`` statement)."""
        self.verbatim.append((config, field_name))

    def tensor(self, kind: str, t: Any) -> str | None:
        for desc, _ in t.ListFields():
            if desc.name not in _TENSOR_FIELDS:
                self.cannot(desc.name, f"{kind} '{t.name}': field '{desc.name}' cannot be expressed")
        dtype = _DTYPE.get(_enum_name(t, "data_type", t.data_type), "fp32")
        out = f"  {kind} {_tensor_name(t.name)}: {dtype}[{', '.join(str(d) for d in t.dims)}]"
        if t.HasField("reshape"):
            out += f" reshape [{', '.join(str(d) for d in t.reshape.shape)}]"
        if getattr(t, "optional", False):
            out += " optional"
        if getattr(t, "format", 0):
            out += " layout " + _enum_name(t, "format", t.format).removeprefix("FORMAT_").lower()
        if getattr(t, "label_filename", ""):
            out += f" labels {_quote(t.label_filename)}"
        return out

    def batching(self, config: Any) -> str | None:
        parts = [f"max {config.max_batch_size}"]
        db = config.dynamic_batching
        q = db.default_queue_policy
        expressible = {d.name for d, _ in db.ListFields()} <= _DYNAMIC_FIELDS
        if config.HasField("dynamic_batching") and not expressible:
            self.keep(config, "dynamic_batching")
        elif config.HasField("dynamic_batching"):
            if db.preferred_batch_size:
                parts.append(f"preferred [{', '.join(str(b) for b in db.preferred_batch_size)}]")
            # An empty dynamic_batching is written as 'delay 0us' (0 is Triton's default delay).
            parts.append(f"delay {_duration(db.max_queue_delay_microseconds)}")
            if db.priority_levels:
                parts.append(f"priorities {db.priority_levels} default {db.default_priority_level}")
            if db.preserve_ordering:
                parts.append("preserve_ordering")
            if db.HasField("default_queue_policy"):
                parts.append("queue " + _queue(q))
            for level in sorted(db.priority_queue_policy):
                parts.append(f"queue {level} " + _queue(db.priority_queue_policy[level]))
        if config.max_batch_size == 0 and len(parts) == 1:
            return None
        return "  batching { " + "  ".join(parts) + " }"

    def sequence(self, config: Any) -> str | None:
        sb = config.sequence_batching
        strategy = "oldest" if sb.HasField("oldest") else "direct"
        settings = getattr(sb, strategy)
        controls = [c for ci in sb.control_input if (c := _control(ci)) is not None]
        known = {"max_sequence_idle_microseconds", "direct", "oldest", "control_input"}
        plain = (
            {d.name for d, _ in sb.ListFields()} <= known
            and not (sb.HasField("direct") and sb.HasField("oldest"))
            and {d.name for d, _ in settings.ListFields()} <= _STRATEGY_FIELDS[strategy]
            and len(controls) == len(sb.control_input)
        )
        if not plain:
            self.keep(config, "sequence_batching")  # implicit state, several controls on one tensor, other values
            return None
        parts = []
        if sb.max_sequence_idle_microseconds:
            parts.append(f"idle {_duration(sb.max_sequence_idle_microseconds)}")
        given = []
        if settings.ListFields():
            if strategy == "oldest" and settings.max_candidate_sequences:
                given.append(f"candidates {settings.max_candidate_sequences}")
            if strategy == "oldest" and settings.preferred_batch_size:
                given.append(f"preferred [{', '.join(str(b) for b in settings.preferred_batch_size)}]")
            if settings.max_queue_delay_microseconds:
                given.append(f"delay {_duration(settings.max_queue_delay_microseconds)}")
            if strategy == "direct" and settings.minimum_slot_utilization:
                given.append(f"utilization {settings.minimum_slot_utilization:g}")
            if strategy == "oldest" and settings.preserve_ordering:
                given.append("preserve_ordering")
        parts.append(f"strategy {strategy}" + (" { " + "  ".join(given) + " }" if given else ""))
        parts += controls
        return "  sequence { " + "  ".join(parts) + " }"

    def batch_io(self, config: Any) -> list[str]:
        """``batch_input``/``batch_output`` statements, or the whole field verbatim where one cannot be said."""
        lines: list[str] = []
        inputs: list[str] = []
        for b in config.batch_input:
            dtype = _DTYPE.get(_enum_name(b, "data_type", b.data_type))
            kind = _enum_name(b, "kind", b.kind).removeprefix("BATCH_").lower()
            if len(b.target_name) != 1 or len(b.source_input) != 1 or dtype not in ("int32", "fp32"):
                self.keep(config, "batch_input")
                inputs = []
                break
            inputs.append(
                f"  batch_input {_tensor_name(b.target_name[0])}: {dtype} from {kind} {_tensor_name(b.source_input[0])}"
            )
        lines += inputs
        outputs: list[str] = []
        for b in config.batch_output:
            kind = _enum_name(b, "kind", b.kind).removeprefix("BATCH_").lower()
            if len(b.target_name) != 1 or len(b.source_input) != 1:
                self.keep(config, "batch_output")
                outputs = []
                break
            outputs.append(
                f"  batch_output {_tensor_name(b.target_name[0])} from {kind} {_tensor_name(b.source_input[0])}"
            )
        return lines + outputs

    def steps(self, es: Any) -> list[str]:
        lines = []
        for step in es.step:
            if step.model_version != -1:
                self.cannot(
                    "model_version",
                    f"step '{step.model_name}' pins model_version {step.model_version}; "
                    "steps always use the latest version",
                )
            if not self.name_ok(step.model_name, "step model"):
                continue
            lines.append(f"  step {step.model_name} {{")
            lines += [f"    input {_tensor_name(v)} -> {_tensor_name(k)}" for k, v in sorted(step.input_map.items())]
            lines += [f"    output {_tensor_name(k)} -> {_tensor_name(v)}" for k, v in sorted(step.output_map.items())]
            lines.append("  }")
        return lines

    def instances(self, config: Any) -> list[str]:
        groups = list(config.instance_group)
        if not groups:
            return []
        kinds = {_enum_name(g, "kind", g.kind) for g in groups}
        out = ["  resources { gpu 1 }"] if "KIND_GPU" in kinds else []
        g = groups[0]
        plain = len(groups) == 1 and {d.name for d, _ in g.ListFields()} <= {"count", "kind", "name"}
        if not plain or kinds & {"KIND_MODEL"}:
            self.keep(config, "instance_group")  # several groups, gpus, profiles, secondary devices
            return out
        if g.count > 1:
            out.append(f"  instances {g.count}")
        return out

    def runtime(self, config: Any) -> tuple[ir.ModelFormat, str | None]:
        """The model's format, and a ``runtime`` statement when its runtime is not the format's default."""
        if config.platform and config.backend:
            self.cannot("backend", "both 'platform' and 'backend' are set; the spec names one runtime")
        field_name = "platform" if config.platform or not config.backend else "backend"
        value = config.platform or config.backend
        exact = _FORMATS.get(value)
        if exact is not None and RUNTIME[exact][0] == field_name:
            return exact, None
        fmt = exact or _RUNTIME_FORMATS.get(value, ir.ModelFormat.PYTHON)
        return fmt, f"  runtime {field_name} {_quote(value)}"

    def model(self, config: Any, model_dir: Path, serve_in: Sequence[str]) -> str | None:
        name = config.name or model_dir.name
        if not self.name_ok(name, "model name"):
            return None
        fmt, runtime = self.runtime(config)
        found = _version_from_dirs(model_dir)
        version, vdir = found if found else ("1.0.0", 1_000_000)
        lines = [f"model {name} {{", f'  version "{version}"', f"  format {fmt.value}"]
        if runtime:
            lines.append(runtime)
        if fmt is not ir.ModelFormat.ENSEMBLE:
            filename = config.default_model_filename or layout.ARTIFACT_FILE[fmt.value]
            lines.append(f"  artifact {_quote(f'{self.artifact_base}/{name}/{vdir}/{filename}')}")
        if not config.input or not config.output:
            lines.append("  signature auto")  # Triton completes what is missing from the model file
        lines += [x for t in config.input if (x := self.tensor("input", t))]
        lines += [x for t in config.output if (x := self.tensor("output", t))]
        lines += self.batch_io(config)
        if (b := self.batching(config)) is not None:
            lines.append(b)
        if config.HasField("sequence_batching") and (seq := self.sequence(config)) is not None:
            lines.append(seq)
        lines += self.instances(config)
        lines += self.steps(config.ensemble_scheduling) if config.HasField("ensemble_scheduling") else []
        for key, value in sorted(config.parameters.items()):
            lines.append(f"  parameter {_quote(key)} = {_quote(value.string_value)}")
        if config.HasField("response_cache") and config.response_cache.enable:
            lines.append("  cache on")
        if config.HasField("model_transaction_policy"):
            policy = config.model_transaction_policy
            if [d.name for d, _ in policy.ListFields()] == ["decoupled"]:
                lines.append("  decoupled")
            else:
                self.keep(config, "model_transaction_policy")
        if config.HasField("version_policy"):
            vp = config.version_policy
            if vp.HasField("all"):
                lines.append("  versions all")
            elif vp.HasField("latest"):
                lines.append(f"  versions latest {vp.latest.num_versions or 1}")
            else:
                self.keep(config, "version_policy")
        for desc, _ in config.ListFields():
            if desc.name == "model_warmup" and _derived_warmup(config, name):
                continue  # what shipspec derives itself for a production environment
            if desc.name not in _HANDLED:
                self.keep(config, desc.name)
        for source, field_name in self.verbatim:
            lines.append(f"  triton {_verbatim(source, field_name)}")
        if serve_in:
            lines.append(f"  serve in {', '.join(serve_in)}")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _queue(q: Any) -> str:
    """A queue policy as the body of a ``queue`` statement."""
    action = "delay" if _enum_name(q, "timeout_action", q.timeout_action) == "DELAY" else "reject"
    queue = [f"on_timeout {action}"]
    if q.default_timeout_microseconds:
        queue.insert(0, f"timeout {_duration(q.default_timeout_microseconds)}")
    if q.max_queue_size:
        queue.append(f"size {q.max_queue_size}")
    if q.allow_timeout_override:
        queue.append("allow_override")
    return "{ " + "  ".join(queue) + " }"


def _control(ci: Any) -> str | None:
    """A ``control`` statement for a control tensor, or None when it holds what the statement cannot say."""
    if len(ci.control) != 1:
        return None
    c = ci.control[0]
    kind = _enum_name(c, "kind", c.kind).removeprefix("CONTROL_SEQUENCE_").lower()
    given = [d.name for d, _ in c.ListFields() if d.name != "kind"]
    if kind == "corrid":
        dtype = _DTYPE.get(_enum_name(c, "data_type", c.data_type))
        ok = given == ["data_type"] and dtype in ("uint64", "int64", "uint32", "int32", "string")
    elif kind in ("start", "end", "ready") and len(given) == 1 and given[0] in _CONTROL_VALUES:
        dtype, values = _CONTROL_VALUES[given[0]]
        ok = list(getattr(c, given[0])) == values
    else:
        ok = False
    return f"control {kind} {_tensor_name(ci.name)}: {dtype}" if ok else None


def _verbatim(config: Any, field_name: str) -> str:
    """One top-level field of ``config`` as a spec string of one-line protobuf text."""
    from google.protobuf import text_format

    only = type(config)()
    only.CopyFrom(config)
    for desc, _ in only.ListFields():
        if desc.name != field_name:
            only.ClearField(desc.name)
    return json.dumps(text_format.MessageToString(only, as_one_line=True), ensure_ascii=False)


def _derived_warmup(config: Any, name: str) -> bool:
    """Whether the config's warmup is exactly the one shipspec renders in production."""
    if len(config.model_warmup) != 1:
        return False
    w = config.model_warmup[0]
    wanted = {t.name: (t.data_type, [1 if d < 0 else d for d in t.dims]) for t in config.input if not t.optional}
    got = {k: (v.data_type, list(v.dims)) for k, v in w.inputs.items() if v.zero_data}
    return (
        w.name == f"{name}_warmup" and w.batch_size == 1 and not w.count and got == wanted and len(w.inputs) == len(got)
    )


def _canonical(text: str) -> str:
    """The text in ``shipspec fmt`` layout, so an import needs no formatting pass."""
    from compiler.parse.printer import format_source
    from compiler.parse.syntax import parse_text

    source, diags = parse_text(text, "imported.ship")
    return format_source(source) if not diags and text else text


class UnknownEnum(Exception):
    """An enum field holds a number Triton does not define (``data_type: 99``)."""

    def __init__(self, field_name: str, value: int) -> None:
        super().__init__(f"{field_name}: {value} is not a value Triton defines")
        self.field_name, self.value = field_name, value


def _enum_name(message: Any, field_name: str, value: int) -> str:
    known = message.DESCRIPTOR.fields_by_name[field_name].enum_type.values_by_number.get(value)
    if known is None:
        raise UnknownEnum(field_name, value)
    return str(known.name)


# Words a bare tensor name would be read as, in the positions tensor names take.
_KEYWORDS = frozenset({"input", "output", "reshape", "optional", "layout", "labels"})


def _tensor_name(name: str) -> str:
    """A tensor name as spec text: bare when it is a spec name, else quoted (``"input.1"``)."""
    return name if _NAME.fullmatch(name) and name not in _KEYWORDS else _quote(name)


def _quote(value: str) -> str:
    # A spec string is a JSON string (compiler/lower/values.py reads it with json.loads):
    # quotes, backslashes, newlines and control characters are all escaped (issue 17).
    return json.dumps(value, ensure_ascii=False)


# Where imported artifacts are said to live until the user says otherwise.
ARTIFACT_BASE = "s3://CHANGE-ME/models"


def _drop(message: Any, path: list[str]) -> bool:
    """Clear the field at ``path`` (dotted, through repeated messages); whether it was set anywhere."""
    head, rest = path[0], path[1:]
    desc = message.DESCRIPTOR.fields_by_name.get(head)
    if desc is None:
        return False
    if not rest:
        if desc.is_repeated:
            present = len(getattr(message, head)) > 0
        elif desc.message_type is not None:
            present = message.HasField(head)
        else:
            present = getattr(message, head) != desc.default_value
        message.ClearField(head)
        return present
    if desc.message_type is None:
        return False
    if desc.is_repeated:
        values = getattr(message, head)
        items = values.values() if hasattr(values, "values") else values
        return any([_drop(v, rest) for v in items if hasattr(v, "DESCRIPTOR")])
    return message.HasField(head) and _drop(getattr(message, head), rest)


def import_path(
    path: Path, serve_in: Sequence[str] = (), artifact_base: str = ARTIFACT_BASE, drop: Sequence[str] = ()
) -> Imported:
    """Spec text for every config under ``path``.

    A config Triton would refuse is refused (SS614, Triton's reason at the config's
    line). A field the language cannot express fails the import (SS712) unless
    ``drop`` names it (``optimization``, ``input.allow_ragged_batch``): then it is
    removed before import and reported (SS714). Artifacts are named
    ``<artifact_base>/<model>/<version dir>/<file>``.
    """
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    sink = Sink()
    out = Imported()
    files = config_files(path)
    if not files:
        sink.report("SS812", f"no config.pbtxt under {path}", Span.point(str(path)))
    chunks = []
    for cfg in files:
        try:
            text = limits.read_bounded(cfg, limits.TRITON_CONFIG_BYTES).decode("utf-8")
            out.sources[str(cfg)] = text
            config = text_format.Parse(text, model_config_pb2.ModelConfig())
        except limits.TooLarge as err:
            sink.report("SS812", f"cannot read {cfg}: {err}; a config.pbtxt is small", Span.point(str(cfg)))
            continue
        except (OSError, UnicodeDecodeError) as err:
            sink.report("SS812", f"cannot read {cfg}: {err}", Span.point(str(cfg)))
            continue
        except text_format.ParseError as err:
            sink.report(
                "SS812",
                f"not a Triton ModelConfig: {err}",
                Span.point(str(cfg), err.GetLine() or 1, err.GetColumn() or 1),
            )
            continue
        except ValueError as err:  # protobuf's own range checks (an enum number past int32): issue 17
            sink.report("SS812", f"not a Triton ModelConfig: {err}", Span.point(str(cfg)))
            continue
        model_dir = cfg.parent if cfg.name == "config.pbtxt" else cfg.with_suffix("")
        importer = _Importer(cfg, text, sink, artifact_base)
        for dotted in drop:
            if _drop(config, dotted.split(".")):
                sink.report(
                    "SS714",
                    f"dropped '{dotted}' (--drop): the imported model does not have it",
                    importer.where(dotted.split(".")[-1]),
                )
        name = config.name or model_dir.name
        refused = config_problems(config, name)
        for problem in refused:
            sink.report(
                "SS614", f"Triton refuses this config: {problem.message} for {name}", importer.where(problem.field)
            )
        if refused:
            continue
        try:
            chunk = importer.model(config, model_dir, serve_in)
        except UnknownEnum as err:
            sink.report("SS812", f"not a Triton ModelConfig: {err}", importer.where(err.field_name))
            continue
        if chunk is not None:
            chunks.append(f"# imported from {cfg}\n{chunk}")
            out.models.append(config.name or model_dir.name)
    out.text = _canonical("\n".join(chunks))
    out.diagnostics = sink.sorted()
    return out
