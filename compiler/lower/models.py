"""Model blocks: tensors, batching, sequences, ensemble steps, version policies and tests."""

from __future__ import annotations

from typing import Any

from lark import Token, Tree

from compiler import ir, units
from compiler.diagnostics import Span
from compiler.lower.statements import env_var, resources
from compiler.lower.values import INT32_MAX, Lowering, Node, args


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
    for opt in opts:
        assert isinstance(opt, Tree)
        if opt.data == "reshape":
            reshape = tuple(dim(cx, t) for t in args(opt))
        else:
            optional = True
    if dtype is None:
        return None
    return ir.Tensor(tensor_name(cx, name), dtype, dims, cx.span(stmt), reshape, optional)


def dim(cx: Lowering, tok: Node) -> int:
    value, _ = units.integer(str(tok))
    if value is None or (value < 1 and value != -1) or value > INT32_MAX:
        cx.sink.report("SS303", f"dimension {tok} must be a positive integer or -1 (variable)", cx.span(tok))
        return 1
    return value


def batching(cx: Lowering, tree: Tree[Token]) -> ir.Batching:
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    single = frozenset({"batch_max", "preferred", "delay", "priorities", "queue"})
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
        elif kind == "queue":
            f["queue"] = queue(cx, stmt)
    return ir.Batching(span=cx.span(tree), spans=spans, **f)


def queue(cx: Lowering, tree: Tree[Token]) -> ir.QueuePolicy:
    f: dict[str, Any] = {}
    for kind, stmt in cx.statements(tree, frozenset({"queue_timeout", "queue_size", "queue_action"})):
        a = args(stmt)
        if kind == "queue_timeout":
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
        k: [] for k in ("inputs", "outputs", "env", "steps", "parameters", "tests", "benchmarks", "serve_in")
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
        }
    )
    for kind, stmt in cx.statements(tree, single):
        spans.setdefault(kind, cx.span(stmt))
        a = args(stmt)
        if kind in ("version", "artifact"):
            f[kind] = cx.string(a[0])
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
    fmt = f.get("format")
    needed = ("version", "format") if fmt is ir.ModelFormat.ENSEMBLE else ("version", "format", "artifact")
    # a statement that was written but held an invalid value is reported already
    cx.require(f, tuple(k for k in needed if k not in spans), f"model '{name}'", name)
    for key in ("inputs", "outputs"):
        if not lists[key]:
            cx.sink.report("SS107", f"model '{name}' declares no {key}", cx.span(name))
    if fmt is ir.ModelFormat.ENSEMBLE and not lists["steps"]:
        cx.sink.report("SS107", f"ensemble '{name}' has no 'step' statements", cx.span(name))
    if fmt is not None and fmt is not ir.ModelFormat.ENSEMBLE and lists["steps"]:
        cx.sink.report("SS204", "only an ensemble has steps", spans["step"])
    collected: dict[str, Any] = {k: tuple(v) for k, v in lists.items()}
    return ir.Model(name=str(name), span=cx.span(tree), spans=spans, **collected, **f)


def sequence(cx: Lowering, tree: Tree[Token]) -> ir.Sequence:
    f: dict[str, Any] = {}
    for kind, stmt in cx.statements(tree, frozenset({"seq_idle", "seq_strategy"})):
        a = args(stmt)
        if kind == "seq_idle":
            f["idle"] = cx.unit(a[0], units.duration)
        else:
            f["strategy"] = cx.keyword(a[0], ("direct", "oldest"), "sequence strategy") or "direct"
    return ir.Sequence(span=cx.span(tree), **f)


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
        else:
            pct, cmp, threshold, rate = a
            cx.upper_bound(cmp)
            p = cx.percentile(pct)
            t = cx.unit(threshold, units.duration)
            r = cx.unit(rate, units.rate)
            if p is not None and t is not None and r is not None:
                lists["benchmarks"].append(ir.Benchmark(p, t, r, cx.span(stmt)))
