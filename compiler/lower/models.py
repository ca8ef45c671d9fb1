"""Model blocks: tensors, batching, sequences, ensemble steps, version policies and tests."""

from __future__ import annotations

from typing import Any

from compiler import ir, units
from compiler.diagnostics import Span
from compiler.lark_standalone import Token, Tree
from compiler.lower.statements import env_var, resources
from compiler.lower.values import INT32_MAX, Lowering, Node, args, keyword_of


def tensor_name(cx: Lowering, tok: Node) -> str:
    """A tensor name: a NAME as written, or a quoted string (``"input.1"``) unquoted."""
    if isinstance(tok, Token) and tok.type == "STRING":
        value = cx.string(tok)
        if not value:
            cx.sink.report("SS204", "a tensor name cannot be empty", cx.span(tok))
        return value
    return str(tok)


def tensor(cx: Lowering, stmt: Tree[Token]) -> ir.Tensor | None:
    name, ttype, *opts = args(stmt)
    assert isinstance(ttype, Tree)
    dtype_tok, *dim_toks = args(ttype)
    dtype = cx.keyword(dtype_tok, ir.DTYPES, "data type")
    dims = tuple(dim(cx, t) for t in dim_toks)
    reshape: tuple[int, ...] | None = None
    optional = False
    fmt: str | None = None
    labels: str | None = None
    for opt in opts:
        assert isinstance(opt, Tree)
        if opt.data == "reshape":
            reshape = tuple(dim(cx, t) for t in args(opt))
        elif opt.data == "tensor_format" and stmt.data != "input":
            cx.sink.report("SS204", "only an input has a 'layout'", cx.span(opt))
        elif opt.data == "tensor_format":
            fmt = cx.keyword(args(opt)[0], ir.TENSOR_FORMATS, "tensor format")
        elif opt.data == "labels" and stmt.data != "output":
            cx.sink.report("SS204", "only an output has 'labels' (Triton's label_filename)", cx.span(opt))
        elif opt.data == "labels":
            labels = cx.string(args(opt)[0])
        else:
            optional = True
    if dtype is None:
        return None
    return ir.Tensor(tensor_name(cx, name), dtype, dims, cx.span(stmt), reshape, optional, fmt, labels)


def dim(cx: Lowering, tok: Node) -> int:
    value, _ = units.integer(str(tok))
    if value is None or (value < 1 and value != -1) or value > INT32_MAX:
        cx.sink.report("SS303", f"dimension {tok} must be a positive integer or -1 (variable)", cx.span(tok))
        return 1
    return value


def batching(cx: Lowering, tree: Tree[Token]) -> ir.Batching:
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    single = frozenset({"batch_max", "preferred", "delay", "priorities", "preserve_ordering"})
    levels: dict[int, ir.QueuePolicy] = {}
    for kind, stmt in cx.statements(tree, single):
        spans[kind] = cx.span(stmt)
        a = args(stmt)
        if kind == "batch_max":
            f["max_batch_size"] = cx.integer(a[0], minimum=1) or 0
        elif kind == "preferred":
            assert isinstance(a[0], Tree)
            sizes = [cx.integer(t, minimum=1) for t in args(a[0])]
            f["preferred"] = tuple(s for s in sizes if s is not None)
        elif kind == "delay":
            f["delay"] = cx.unit(a[0], units.duration)
        elif kind == "priorities":
            f["priority_levels"] = cx.integer(a[0], minimum=1)
            f["default_priority"] = cx.integer(a[1], minimum=1)
            if f["priority_levels"] and f["default_priority"] and f["default_priority"] > f["priority_levels"]:
                cx.sink.report(
                    "SS303",
                    f"default priority {f['default_priority']} is above the {f['priority_levels']} levels",
                    cx.span(a[1]),
                )
        elif kind == "preserve_ordering":
            f["preserve_ordering"] = True
        elif kind == "queue":
            # `queue { … }` is the default policy; `queue LEVEL { … }` one priority level's.
            level = cx.integer(a[0], minimum=1) if a and isinstance(a[0], Token) else 0
            if level is None:
                continue
            if level in levels or (level == 0 and "queue" in f):
                what = f"'queue {level}'" if level else "'queue'"
                cx.sink.report("SS106", f"{what} is given twice", cx.span(stmt))
                continue
            spans[f"queue.{level}"] = cx.span(stmt)
            if level:
                levels[level] = queue(cx, stmt)
            else:
                f["queue"] = queue(cx, stmt)
    if levels:
        f["priority_queues"] = tuple(sorted(levels.items()))
    return ir.Batching(span=cx.span(tree), spans=spans, **f)


def queue(cx: Lowering, tree: Tree[Token]) -> ir.QueuePolicy:
    f: dict[str, Any] = {}
    for kind, stmt in cx.statements(tree, frozenset({"queue_timeout", "queue_size", "queue_action", "queue_override"})):
        a = args(stmt)
        if kind == "queue_override":
            f["allow_override"] = True
        elif kind == "queue_timeout":
            f["timeout"] = cx.unit(a[0], units.duration)
        elif kind == "queue_size":
            f["max_size"] = cx.integer(a[0], minimum=1)
        else:
            f["on_timeout"] = cx.keyword(a[0], ("reject", "delay"), "timeout action") or "reject"
    return ir.QueuePolicy(span=cx.span(tree), **f)


def lower_model(cx: Lowering, tree: Tree[Token]) -> ir.Model:
    name, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    lists: dict[str, list[Any]] = {
        k: []
        for k in (
            "inputs",
            "outputs",
            "env",
            "steps",
            "parameters",
            "tests",
            "benchmarks",
            "serve_in",
            "triton_fields",
            "batch_inputs",
            "batch_outputs",
        )  # fmt: skip
    }
    single = frozenset(
        {
            "version",
            "format",
            "artifact",
            "trained_on",
            "owners",
            "batching",
            "sequence",
            "resources",
            "instances",
            "cache",
            "versions",
            "tests",
            "serve",
            "identity",
            "runtime",
            "signature",
            "decoupled",
        }
    )
    for kind, stmt in cx.statements(tree, single):
        spans.setdefault(kind, cx.span(stmt))
        a = args(stmt)
        if kind in ("version", "artifact"):
            f[kind] = cx.string(a[0])
            if kind == "artifact" and len(a) > 1:  # artifact "URI" sha256 "HEX"
                digest = cx.string(a[1])
                if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest.lower()):
                    f["artifact_sha256"] = digest.lower()
                else:
                    cx.sink.report("SS204", "sha256 must be 64 hexadecimal characters", cx.span(a[1]))
        elif kind == "identity":
            provider = cx.keyword(a[0], ("aws", "gcp", "azure"), "identity provider")
            if provider is not None:
                f["identity"] = (provider, cx.string(a[1]))
        elif kind == "format":
            fmt = cx.keyword(a[0], tuple(m.value for m in ir.ModelFormat), "model format")
            f["format"] = ir.ModelFormat(fmt) if fmt else None
        elif kind == "trained_on":
            f["trained_on"] = cx.ref(a[0])
        elif kind == "owners":
            f["owners"] = tuple(str(t) for t in a)
        elif kind in ("input", "output"):
            if (declared := tensor(cx, stmt)) is not None:
                lists[kind + "s"].append(declared)
        elif kind == "batching":
            f["batching"] = batching(cx, stmt)
        elif kind == "sequence":
            f["sequence"] = sequence(cx, stmt)
        elif kind == "resources":
            f["resources"] = resources(cx, a[0])
        elif kind == "serve":
            assert isinstance(a[0], Tree)
            lists["serve_in"].extend(cx.ref(t) for t in args(a[0]))
        elif kind == "instances":
            f["instances"] = cx.integer(a[0], minimum=1) or 1
        elif kind == "env_var":
            lists["env"].append(env_var(cx, stmt))
        elif kind == "step":
            lists["steps"].append(step(cx, stmt))
        elif kind == "parameter":
            lists["parameters"].append((cx.string(a[0]), cx.string(a[1])))
        elif kind == "cache":
            f["cache"] = cx.keyword(a[0], ("on", "off"), "cache setting") == "on"
        elif kind == "versions":
            f["version_policy"] = versions(cx, stmt)
        elif kind == "tests":
            tests(cx, stmt, lists)
            for key in ("test_requirements", "evaluate"):
                if values := lists.pop(key, []):
                    f[key] = values[-1]
        elif kind == "runtime":
            which = cx.keyword(a[0], ("platform", "backend"), "runtime field")
            if which is not None:
                f["runtime"] = (which, cx.string(a[1]))
        elif kind == "signature":
            f["auto_signature"] = cx.keyword(a[0], ("auto",), "signature") == "auto"
        elif kind == "decoupled":
            f["decoupled"] = True
        elif kind == "batch_input":
            target, dtype_tok, kind_tok, source = a
            b_dtype = cx.keyword(dtype_tok, ("int32", "fp32"), "batch input data type")
            b_kind = cx.keyword(kind_tok, ir.BATCH_INPUT_KINDS, "batch input kind")
            if b_dtype and b_kind:
                lists["batch_inputs"].append(
                    ir.BatchInput(tensor_name(cx, target), b_dtype, b_kind, tensor_name(cx, source), cx.span(stmt))
                )
        elif kind == "batch_output":
            target, kind_tok, source = a
            if b_kind := cx.keyword(kind_tok, ir.BATCH_OUTPUT_KINDS, "batch output kind"):
                lists["batch_outputs"].append(
                    ir.BatchOutput(tensor_name(cx, target), b_kind, tensor_name(cx, source), cx.span(stmt))
                )
        elif kind == "triton_fields":
            spans[f"triton_fields.{len(lists['triton_fields'])}"] = cx.span(stmt)
            lists["triton_fields"].append(cx.string(a[0]))
    fmt = f.get("format")
    needed = ("version", "format") if fmt is ir.ModelFormat.ENSEMBLE else ("version", "format", "artifact")
    # a statement that was written but held an invalid value is reported already
    cx.require(f, tuple(k for k in needed if k not in spans), f"model '{name}'", name)
    for key in ("inputs", "outputs"):
        if not lists[key] and not f.get("auto_signature"):
            cx.sink.report("SS107", f"model '{name}' declares no {key}", cx.span(name))
    if fmt is ir.ModelFormat.ENSEMBLE and not lists["steps"]:
        cx.sink.report("SS107", f"ensemble '{name}' has no 'step' statements", cx.span(name))
    if fmt is not None and fmt is not ir.ModelFormat.ENSEMBLE and lists["steps"]:
        cx.sink.report("SS204", "only an ensemble has steps", spans["step"])
    collected: dict[str, Any] = {k: tuple(v) for k, v in lists.items()}
    return ir.Model(name=str(name), span=cx.span(tree), spans=spans, **collected, **f)


def sequence(cx: Lowering, tree: Tree[Token]) -> ir.Sequence:
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    controls: list[ir.SequenceControl] = []
    for kind, stmt in cx.statements(tree, frozenset({"seq_idle", "seq_strategy"})):
        a = args(stmt)
        if kind == "seq_idle":
            f["idle"] = cx.unit(a[0], units.duration)
        elif kind == "seq_control":
            if (c := control(cx, stmt)) is not None:
                spans[f"control.{len(controls)}"] = cx.span(stmt)
                controls.append(c)
        else:
            f["strategy"] = cx.keyword(a[0], ("direct", "oldest"), "sequence strategy") or "direct"
            strategy_settings(cx, stmt, f["strategy"], f, spans)
    return ir.Sequence(span=cx.span(tree), controls=tuple(controls), spans=spans, **f)


def control(cx: Lowering, stmt: Tree[Token]) -> ir.SequenceControl | None:
    """``control KIND TENSOR: TYPE``; start/end/ready take int32, fp32 or bool, corrid Triton's id types."""
    kind_tok, name, dtype_tok = args(stmt)
    kind = cx.keyword(kind_tok, ir.SEQUENCE_CONTROLS, "sequence control")
    dtype = cx.keyword(dtype_tok, ir.DTYPES, "data type")
    if kind is None or dtype is None:
        return None
    allowed = ("uint64", "int64", "uint32", "int32", "string") if kind == "corrid" else ir.CONTROL_FLAG_DTYPES
    if dtype not in allowed:
        what = "a correlation id" if kind == "corrid" else f"a '{kind}' flag"
        cx.sink.report("SS204", f"{what} tensor is one of {', '.join(allowed)}, not {dtype}", cx.span(dtype_tok))
        return None
    return ir.SequenceControl(kind, tensor_name(cx, name), dtype, cx.span(stmt))


_STRATEGY_SETTINGS = {"direct": ("delay", "st_utilization"),
                      "oldest": ("delay", "preferred", "preserve_ordering", "st_candidates")}  # fmt: skip


def strategy_settings(
    cx: Lowering, stmt: Tree[Token], strategy: str, f: dict[str, Any], spans: dict[str, Span]
) -> None:
    """The settings block of ``strategy direct|oldest { … }``."""
    settings = [c for c in stmt.children if isinstance(c, Tree)]
    holder: Tree[Token] = Tree("strategy", list(settings))
    single = frozenset({"delay", "preferred", "preserve_ordering", "st_candidates", "st_utilization"})
    for kind, setting in cx.statements(holder, single):
        a = args(setting)
        spans[f"strategy.{kind}"] = cx.span(setting)
        if kind not in _STRATEGY_SETTINGS.get(strategy, ()):
            cx.sink.report(
                "SS204", f"'{keyword_of(setting)}' is not a setting of the {strategy} strategy", cx.span(setting)
            )
        elif kind == "delay":
            f["delay"] = cx.unit(a[0], units.duration)
        elif kind == "preferred":
            assert isinstance(a[0], Tree)
            sizes = [cx.integer(t, minimum=1) for t in args(a[0])]
            f["preferred"] = tuple(s for s in sizes if s is not None)
        elif kind == "preserve_ordering":
            f["preserve_ordering"] = True
        elif kind == "st_candidates":
            f["candidates"] = cx.integer(a[0], minimum=1)
        else:
            f["utilization"] = cx.unit(a[0], units.number)


def step(cx: Lowering, tree: Tree[Token]) -> ir.EnsembleStep:
    model, *stmts = args(tree)
    inputs: list[ir.TensorMap] = []
    outputs: list[ir.TensorMap] = []
    for stmt in stmts:
        assert isinstance(stmt, Tree)
        src, dst = args(stmt)
        (inputs if stmt.data == "step_in" else outputs).append(
            ir.TensorMap(tensor_name(cx, src), tensor_name(cx, dst), cx.span(stmt))
        )
    return ir.EnsembleStep(cx.ref(model), tuple(inputs), tuple(outputs), cx.span(tree))


def versions(cx: Lowering, stmt: Tree[Token]) -> tuple[str, int | None]:
    a = args(stmt)
    policy = cx.keyword(a[0], ("latest", "all"), "version policy") or "latest"
    count = cx.integer(a[1], minimum=1) if len(a) > 1 else None
    if policy == "all" and count is not None:
        cx.sink.report("SS204", "'versions all' takes no count", cx.span(a[1]))
        count = None
    if policy == "latest" and count is None:
        count = 1
    return policy, count


def tests(cx: Lowering, tree: Tree[Token], lists: dict[str, list[Any]]) -> None:
    for stmt in tree.children:
        if not isinstance(stmt, Tree):
            continue
        a = args(stmt)
        if stmt.data == "test_run":
            lists["tests"].append(cx.string(a[0]))
        elif stmt.data in ("test_requirements", "evaluate"):
            lists.setdefault(str(stmt.data), []).append(cx.string(a[0]))
        else:
            pct, cmp, threshold, rate = a
            cx.upper_bound(cmp)
            p = cx.percentile(pct)
            t = cx.unit(threshold, units.duration)
            r = cx.unit(rate, units.rate)
            if p is not None and t is not None and r is not None:
                lists["benchmarks"].append(ir.Benchmark(p, t, r, cx.span(stmt)))
