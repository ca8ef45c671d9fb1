"""``shipspec import triton PATH``: existing ``config.pbtxt`` files as spec text.

The inverse of ``compiler.backends.triton.view``: every field the language can
express becomes a statement; every field it cannot is reported (SS712, with
the line in the config) instead of being silently dropped. Compiling the
imported model again gives a protobuf-equal config for what was expressible.
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

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DTYPE = {v: k for k, v in DATA_TYPE.items()}
# platform or backend value -> format; several spellings name one runtime.
_FORMATS: dict[str, ir.ModelFormat] = {value: fmt for fmt, (_, value) in RUNTIME.items()}
_HANDLED = {
    "name", "platform", "backend", "max_batch_size", "input", "output", "dynamic_batching",
    "sequence_batching", "ensemble_scheduling", "instance_group", "version_policy", "parameters",
    "response_cache",
}  # fmt: skip


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


class _Importer:
    def __init__(self, path: Path, text: str, sink: Sink, artifact_base: str) -> None:
        self.path, self.text, self.sink = path, text, sink
        self.artifact_base = artifact_base.rstrip("/")

    def where(self, needle: str) -> Span:
        """The first line of the config mentioning ``needle`` (protobuf keeps no positions)."""
        for i, line in enumerate(self.text.splitlines(), 1):
            if not line.lstrip().startswith("#") and re.search(rf"\b{re.escape(needle)}\b", line):
                return Span.point(str(self.path), i, line.find(needle) + 1)
        return Span.point(str(self.path))

    def cannot(self, needle: str, why: str) -> None:
        self.sink.report("SS712", why, self.where(needle))

    def name_ok(self, name: str, what: str) -> bool:
        if _NAME.fullmatch(name):
            return True
        self.sink.report("SS712", f"{what} '{name}' is not a spec name (letters, digits, '_')", self.where(name))
        return False

    def tensor(self, kind: str, t: Any) -> str | None:
        for desc, _ in t.ListFields():
            if desc.name not in ("name", "data_type", "dims", "reshape", "optional"):
                self.cannot(desc.name, f"{kind} '{t.name}': field '{desc.name}' cannot be expressed")
        dtype = _DTYPE.get(_enum_name(t, "data_type", t.data_type), "fp32")
        out = f"  {kind} {_tensor_name(t.name)}: {dtype}[{', '.join(str(d) for d in t.dims)}]"
        if t.HasField("reshape"):
            out += f" reshape [{', '.join(str(d) for d in t.reshape.shape)}]"
        if getattr(t, "optional", False):
            out += " optional"
        return out

    def batching(self, config: Any) -> str | None:
        parts = [f"max {config.max_batch_size}"]
        if config.HasField("dynamic_batching"):
            db = config.dynamic_batching
            for desc, _ in db.ListFields():
                if desc.name in ("preserve_ordering", "priority_queue_policy"):
                    self.cannot(desc.name, f"dynamic_batching.{desc.name} cannot be expressed")
            if db.preferred_batch_size:
                parts.append(f"preferred [{', '.join(str(b) for b in db.preferred_batch_size)}]")
            # An empty dynamic_batching is written as 'delay 0us' (0 is Triton's default delay).
            parts.append(f"delay {_duration(db.max_queue_delay_microseconds)}")
            if db.priority_levels:
                parts.append(f"priorities {db.priority_levels} default {db.default_priority_level}")
            if db.HasField("default_queue_policy"):
                q = db.default_queue_policy
                if q.allow_timeout_override:
                    self.cannot("allow_timeout_override", "queue policy allow_timeout_override cannot be expressed")
                action = "delay" if _enum_name(q, "timeout_action", q.timeout_action) == "DELAY" else "reject"
                queue = [f"on_timeout {action}"]
                if q.default_timeout_microseconds:
                    queue.insert(0, f"timeout {_duration(q.default_timeout_microseconds)}")
                if q.max_queue_size:
                    queue.append(f"size {q.max_queue_size}")
                parts.append("queue { " + "  ".join(queue) + " }")
        elif config.max_batch_size == 0:
            return None
        return "  batching { " + "  ".join(parts) + " }"

    def sequence(self, sb: Any) -> str:
        for desc, _ in sb.ListFields():
            if desc.name not in ("max_sequence_idle_microseconds", "direct", "oldest"):
                self.cannot(desc.name, f"sequence_batching.{desc.name} cannot be expressed")
        for strategy in ("direct", "oldest"):
            if sb.HasField(strategy) and getattr(sb, strategy).ListFields():
                self.cannot(strategy, f"sequence_batching.{strategy} settings cannot be expressed")
        parts = []
        if sb.max_sequence_idle_microseconds:
            parts.append(f"idle {_duration(sb.max_sequence_idle_microseconds)}")
        parts.append(f"strategy {'oldest' if sb.HasField('oldest') else 'direct'}")
        return "  sequence { " + "  ".join(parts) + " }"

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
        if len(groups) > 1:
            self.cannot("instance_group", "several instance groups cannot be expressed; only the first is kept")
        g = groups[0]
        for desc, _ in g.ListFields():
            if desc.name not in ("count", "kind", "name"):
                self.cannot(desc.name, f"instance_group.{desc.name} cannot be expressed")
        kind = _enum_name(g, "kind", g.kind)
        out = []
        if kind == "KIND_GPU":
            out.append("  resources { gpu 1 }")
        elif kind == "KIND_MODEL":
            self.cannot("KIND_MODEL", "instance kind KIND_MODEL cannot be expressed")
        if g.count > 1:
            out.append(f"  instances {g.count}")
        return out

    def model(self, config: Any, model_dir: Path, serve_in: Sequence[str]) -> str | None:
        name = config.name or model_dir.name
        if not self.name_ok(name, "model name"):
            return None
        for desc, _ in config.ListFields():
            if desc.name == "model_warmup" and _derived_warmup(config, name):
                continue  # what shipspec derives itself for a production environment
            if desc.name not in _HANDLED:
                self.cannot(desc.name, f"field '{desc.name}' cannot be expressed in the spec")
        runtime = config.platform or config.backend
        fmt = _FORMATS.get(runtime) or {
            "onnxruntime": ir.ModelFormat.ONNX,
            "pytorch": ir.ModelFormat.PYTORCH,
            "tensorrt": ir.ModelFormat.TENSORRT,
            "tensorflow": ir.ModelFormat.TENSORFLOW,
        }.get(runtime)
        if fmt is None:
            self.cannot(runtime or "name", f"runtime '{runtime}' is not one of the spec's formats; written as python")
            fmt = ir.ModelFormat.PYTHON
        elif RUNTIME[fmt] != ("platform" if config.platform else "backend", runtime):
            field_name, value = RUNTIME[fmt]
            self.cannot(runtime, f"'{runtime}' is written as {field_name} \"{value}\" (the same runtime)")
        found = _version_from_dirs(model_dir)
        version, vdir = found if found else ("1.0.0", 1_000_000)
        lines = [f"model {name} {{", f'  version "{version}"', f"  format {fmt.value}"]
        if fmt is not ir.ModelFormat.ENSEMBLE:
            filename = config.default_model_filename or layout.ARTIFACT_FILE[fmt.value]
            lines.append(f"  artifact {_quote(f'{self.artifact_base}/{name}/{vdir}/{filename}')}")
        for kind in ("input", "output"):
            if not getattr(config, kind):
                self.cannot(
                    "name",
                    f"no {kind}s declared (Triton would auto-complete them from the model file); "
                    "the spec needs the full signature",
                )
        lines += [x for t in config.input if (x := self.tensor("input", t))]
        lines += [x for t in config.output if (x := self.tensor("output", t))]
        if (b := self.batching(config)) is not None:
            lines.append(b)
        if config.HasField("sequence_batching"):
            lines.append(self.sequence(config.sequence_batching))
        lines += self.instances(config)
        lines += self.steps(config.ensemble_scheduling) if config.HasField("ensemble_scheduling") else []
        for key, value in sorted(config.parameters.items()):
            lines.append(f"  parameter {_quote(key)} = {_quote(value.string_value)}")
        if config.HasField("response_cache") and config.response_cache.enable:
            lines.append("  cache on")
        if config.HasField("version_policy"):
            vp = config.version_policy
            if vp.HasField("all"):
                lines.append("  versions all")
            elif vp.HasField("latest"):
                lines.append(f"  versions latest {vp.latest.num_versions or 1}")
            else:
                self.cannot("specific", "a specific version policy cannot be expressed")
        if serve_in:
            lines.append(f"  serve in {', '.join(serve_in)}")
        lines.append("}")
        return "\n".join(lines) + "\n"


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
_KEYWORDS = frozenset({"input", "output", "reshape", "optional"})


def _tensor_name(name: str) -> str:
    """A tensor name as spec text: bare when it is a spec name, else quoted (``"input.1"``)."""
    return name if _NAME.fullmatch(name) and name not in _KEYWORDS else _quote(name)


def _quote(value: str) -> str:
    # A spec string is a JSON string (compiler/lower/values.py reads it with json.loads):
    # quotes, backslashes, newlines and control characters are all escaped (issue 17).
    return json.dumps(value, ensure_ascii=False)


# Where imported artifacts are said to live until the user says otherwise.
ARTIFACT_BASE = "s3://CHANGE-ME/models"


def import_path(path: Path, serve_in: Sequence[str] = (), artifact_base: str = ARTIFACT_BASE) -> Imported:
    """Spec text for every config under ``path``, with a diagnostic per field it cannot express.

    Artifacts are named ``<artifact_base>/<model>/<version dir>/<file>``.
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
