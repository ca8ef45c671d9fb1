"""Training blocks: image, command, dataset, nodes, hyperparameters."""

from __future__ import annotations

from typing import Any

from compiler import ir, units
from compiler.diagnostics import Span
from compiler.lark_standalone import Token, Tree
from compiler.lower.statements import env_var, resources
from compiler.lower.values import Lowering, args


def lower_training(cx: Lowering, tree: Tree[Token]) -> ir.Training:
    name, *_ = args(tree)
    f: dict[str, Any] = {}
    spans: dict[str, Span] = {}
    env: list[ir.EnvVar] = []
    hyper: list[ir.Hyperparameter] = []
    single = frozenset(
        {
            "train_in",
            "image",
            "command",
            "train_dataset",
            "nodes",
            "gpus",
            "hyperparameters",
            "tracking",
            "experiment",
            "checkpoint",
            "resources",
        }
    )
    for kind, stmt in cx.statements(tree, single):
        spans[kind] = cx.span(stmt)
        a = args(stmt)
        if kind == "train_in":
            f["environment"] = cx.ref(a[0])
        elif kind in ("image", "tracking", "experiment"):
            f[kind] = cx.string(a[0])
        elif kind == "command":
            assert isinstance(a[0], Tree)
            f["command"] = tuple(cx.string(t) for t in args(a[0]))
        elif kind == "train_dataset":
            f["dataset"] = cx.ref(a[0])
        elif kind in ("nodes", "gpus"):
            value = cx.integer(a[0], minimum=1 if kind == "nodes" else 0)
            if value is not None:
                f[kind] = value
        elif kind == "hyperparameters":
            hyper.extend(hyperparameter(cx, h) for h in stmt.children if isinstance(h, Tree))
        elif kind == "env_var":
            env.append(env_var(cx, stmt))
        elif kind == "checkpoint":
            f["checkpoint"] = cx.unit(a[0], units.size)
            if len(a) > 1:  # checkpoint SIZE class "STORAGE-CLASS"
                f["checkpoint_class"] = cx.string(a[1])
        elif kind == "resources":
            f["resources"] = resources(cx, a[0])
    spans["environment"] = spans.get("train_in", cx.span(tree))
    cx.require(f, ("environment", "image"), f"training '{name}'", name)
    return ir.Training(
        model=cx.ref(name),
        span=cx.span(tree),
        env=tuple(env),
        hyperparameters=tuple(hyper),
        spans=spans,
        **f,
    )


def hyperparameter(cx: Lowering, tree: Tree[Token]) -> ir.Hyperparameter:
    name, value = args(tree)
    assert isinstance(value, Token)
    v: str | float
    if value.type == "STRING":
        v = cx.string(value)
    elif value.type == "NUMBER":
        v = float(str(value)) if not str(value).lstrip("-").isdigit() else int(str(value))
    else:
        v = str(value)
    return ir.Hyperparameter(str(name), v, cx.span(tree))
