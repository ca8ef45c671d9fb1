"""Statements more than one block kind takes: resources, replicas, environment variables."""

from __future__ import annotations

from typing import Any

from compiler import ir, units
from compiler.lark_standalone import Token, Tree
from compiler.lower.values import Lowering, Node, args


def replicas(cx: Lowering, stmt: Tree[Token]) -> ir.ReplicaRange | None:
    nums = args(stmt)
    low = cx.integer(nums[0], minimum=0)
    high = cx.integer(nums[-1], minimum=1)
    if low is None or high is None:
        return None
    if low > high and not {id(nums[0]), id(nums[-1])} & cx.refused:
        cx.sink.report("SS302", f"replicas {low}..{high}: the minimum is above the maximum", cx.span(stmt))
        return None
    return ir.ReplicaRange(low, high, cx.span(stmt))


def resources(cx: Lowering, block: Node, gpu_key: str = "gpu") -> ir.Resources:
    assert isinstance(block, Tree)
    f: dict[str, Any] = {}
    seen: set[str] = set()
    for stmt in block.find_data("resource_stmt"):
        key_tok, value_tok = args(stmt)
        key = cx.keyword(key_tok, ("cpu", "memory", "gpu", "storage"), "resource")
        if key is None:
            continue
        if key in seen:
            cx.sink.report("SS106", f"'{key}' is given twice", cx.span(stmt))
            continue
        seen.add(key)
        if key == "cpu":
            cpu = cx.unit(value_tok, units.number, "SS202")
            if cpu is not None and cpu <= 0:
                cx.sink.report("SS303", "cpu must be above 0", cx.span(value_tok))
            elif cpu is not None:
                f["cpu"] = cpu
        elif key in ("memory", "storage"):  # storage: the local disk the pod's files take (ephemeral storage)
            f[key] = cx.unit(value_tok, units.size)
        else:
            f["gpu"] = cx.integer(value_tok) or 0
    return ir.Resources(span=cx.span(block), **f)


def env_var(cx: Lowering, stmt: Tree[Token]) -> ir.EnvVar:
    name, value = args(stmt)
    assert isinstance(value, Tree)
    literal = args(value)[0]
    if value.data == "secret_ref":
        ref = cx.string(literal)
        if not ref or "://" not in ref and ":" not in ref:
            cx.sink.report(
                "SS204",
                f"secret reference '{ref}' names no store",
                cx.span(literal),
                hint='write it as "STORE:PATH#KEY", e.g. "vault:ml/fraud#db"',
            )
        return ir.EnvVar(str(name), ir.SecretRef(ref, cx.span(literal)), cx.span(stmt))
    text = cx.string(literal)
    if _looks_secret(str(name)):
        cx.sink.report(
            "SS507",
            f"'{name}' looks like a secret but is given as a plain value",
            cx.span(literal),
            hint=f'refer to a secret store instead: env {name} = secret "vault:path#key"',
        )
    return ir.EnvVar(str(name), text, cx.span(stmt))


_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL")


def _looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)
