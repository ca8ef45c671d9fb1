"""Syntax tree to IR: types every literal, normalises units, keeps spans.

Problems local to one statement (a wrong unit, a percentage over 100, a
repeated statement, a missing required one) are reported here; problems that
need the whole spec are the checks' business.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from lark import Token, Tree

from compiler import ir, units
from compiler.diagnostics import Sink, Span, did_you_mean

_VALUE_TERMINALS = frozenset({"NAME", "STRING", "NUMBER", "QUANTITY", "PERCENTILE", "OWNER", "CMP"})
T = TypeVar("T")
Node = Tree[Token] | Token


def _args(tree: Tree[Token]) -> list[Node]:
    return [c for c in tree.children if isinstance(c, Tree) or c.type in _VALUE_TERMINALS]


class Lowerer:
    def __init__(self, path: str, sink: Sink) -> None:
        self.path = path
        self.sink = sink

    # ---- spans and literals ---------------------------------------------
    def span(self, node: Node) -> Span:
        if isinstance(node, Token):
            line, col = node.line or 1, node.column or 1
            return Span(self.path, line, col, node.end_line or line, node.end_column or col + 1)
        meta = node.meta
        if getattr(meta, "empty", True):
            return Span.point(self.path)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def string(self, tok: Node) -> str:
        assert isinstance(tok, Token)
        try:
            value = json.loads(str(tok))
        except json.JSONDecodeError:
            self.sink.report(
                "SS013",
                f"invalid escape in string {tok}",
                self.span(tok),
                hint='allowed escapes: \\" \\\\ \\n \\t \\uXXXX',
            )
            return str(tok)[1:-1]
        assert isinstance(value, str)
        return value

    def unit(self, tok: Node, parse: Callable[[str], tuple[T | None, str | None]], code: str = "SS201") -> T | None:
        value, error = parse(str(tok))
        if error is not None:
            if "outside 0%..100%" in error:
                code = "SS301"
            self.sink.report(code, error, self.span(tok))
        return value

    def integer(self, tok: Node, minimum: int = 0) -> int | None:
        value = self.unit(tok, units.integer, "SS203")
        if value is not None and value < minimum:
            self.sink.report("SS303", f"{value} is below the minimum of {minimum}", self.span(tok))
            return None
        return value

    def keyword(self, tok: Node, allowed: tuple[str, ...], what: str) -> str | None:
        word = str(tok)
        if word in allowed:
            return word
        self.sink.report(
            "SS104",
            f"unknown {what} '{word}'; expected one of: {', '.join(allowed)}",
            self.span(tok),
            hint=did_you_mean(word, allowed),
        )
        return None

    def ref(self, tok: Node) -> ir.Ref:
        return ir.Ref(str(tok), self.span(tok))

    def statements(self, block: Tree[Token], unique: frozenset[str]) -> Iterator[tuple[str, Tree[Token]]]:
        """Yield (keyword, statement); report repeats of single-valued ones."""
        seen: dict[str, Span] = {}
        for child in block.children:
            if not isinstance(child, Tree):
                continue
            kind = str(child.data)
            if kind in unique:
                if kind in seen:
                    first = seen[kind]
                    self.sink.report(
                        "SS106",
                        f"'{_keyword(child)}' is given twice",
                        self.span(child),
                        hint=f"first given at line {first.line}",
                    )
                    continue
                seen[kind] = self.span(child)
            yield kind, child

    def require(self, present: dict[str, Any], needed: tuple[str, ...], what: str, name_tok: Node) -> None:
        for key in needed:
            if present.get(key) in (None, ()):
                self.sink.report(
                    "SS107",
                    f"{what} has no '{key.replace('_version', '')}' statement",
                    self.span(name_tok),
                )

    # ---- blocks ----------------------------------------------------------
    def block(self, tree: Tree[Token]) -> object | None:
        handler = getattr(self, f"lower_{tree.data}", None)
        return handler(tree) if handler else None

    def lower_project(self, tree: Tree[Token]) -> ir.Project:
        name, *_ = _args(tree)
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        single = frozenset({"registry", "triton_version", "kubernetes_version", "repository", "runbooks", "owners"})
        for kind, stmt in self.statements(tree, single):
            spans[kind] = self.span(stmt)
            if kind == "owners":
                f["owners"] = tuple(str(t) for t in _args(stmt))
            else:
                f[kind] = self.string(_args(stmt)[0])
        return ir.Project(name=str(name), span=self.span(tree), spans=spans, **f)

    def lower_dataset(self, tree: Tree[Token]) -> ir.Dataset:
        name, *_ = _args(tree)
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        for kind, stmt in self.statements(tree, frozenset({"version", "uri", "sha256", "owners"})):
            spans[kind] = self.span(stmt)
            if kind == "owners":
                f["owners"] = tuple(str(t) for t in _args(stmt))
            else:
                f[kind] = self.string(_args(stmt)[0])
        if (digest := f.get("sha256")) is not None and not _is_sha256(digest):
            self.sink.report("SS204", "sha256 must be 64 hexadecimal characters", spans["sha256"])
        self.require(f, ("version", "uri"), f"dataset '{name}'", name)
        return ir.Dataset(name=str(name), span=self.span(tree), spans=spans, **f)

    def replicas(self, stmt: Tree[Token]) -> ir.ReplicaRange | None:
        nums = _args(stmt)
        low = self.integer(nums[0], minimum=0)
        high = self.integer(nums[-1], minimum=1)
        if low is None or high is None:
            return None
        if low > high:
            self.sink.report("SS302", f"replicas {low}..{high}: the minimum is above the maximum", self.span(stmt))
            return None
        return ir.ReplicaRange(low, high, self.span(stmt))

    def resources(self, block: Tree[Token], gpu_key: str = "gpu") -> ir.Resources:
        f: dict[str, Any] = {}
        seen: set[str] = set()
        for stmt in block.find_data("resource_stmt"):
            key_tok, value_tok = _args(stmt)
            key = self.keyword(key_tok, ("cpu", "memory", "gpu"), "resource")
            if key is None:
                continue
            if key in seen:
                self.sink.report("SS106", f"'{key}' is given twice", self.span(stmt))
                continue
            seen.add(key)
            if key == "cpu":
                cpu = self.unit(value_tok, units.number, "SS202")
                if cpu is not None and cpu <= 0:
                    self.sink.report("SS303", "cpu must be above 0", self.span(value_tok))
                elif cpu is not None:
                    f["cpu"] = cpu
            elif key == "memory":
                f["memory"] = self.unit(value_tok, units.size)
            else:
                f["gpu"] = self.integer(value_tok) or 0
        return ir.Resources(span=self.span(block), **f)

    def lower_environment(self, tree: Tree[Token]) -> ir.Environment:
        name, *_ = _args(tree)
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        selectors: list[tuple[str, str]] = []
        tolerations: list[str] = []
        overrides: list[ir.Override] = []
        single = frozenset({"tier", "cluster", "namespace", "replicas", "shadow", "quota", "gateway"})
        for kind, stmt in self.statements(tree, single):
            spans[kind] = self.span(stmt)
            a = _args(stmt)
            if kind == "tier":
                tier = self.keyword(a[0], tuple(t.value for t in ir.Tier), "tier")
                f["tier"] = ir.Tier(tier) if tier else None
            elif kind in ("cluster", "namespace", "gateway"):
                f[kind] = self.string(a[0])
            elif kind == "replicas":
                f["replicas"] = self.replicas(stmt)
            elif kind == "shadow":
                ratio = self.unit(a[1], units.percent)
                if ratio is not None:
                    f["shadow"] = ir.Shadow(self.ref(a[0]), ratio, self.span(stmt))
            elif kind == "node_selector":
                selectors.append((self.string(a[0]), self.string(a[1])))
            elif kind == "toleration":
                tolerations.append(self.string(a[0]))
            elif kind == "quota":
                f["quota"] = self.resources(a[0])
            elif kind == "override":
                overrides.append(self.override(stmt))
        if "tier" not in spans:
            self.require(f, ("tier",), f"environment '{name}'", name)
        return ir.Environment(
            name=str(name),
            span=self.span(tree),
            node_selector=tuple(selectors),
            tolerations=tuple(tolerations),
            overrides=tuple(overrides),
            spans=spans,
            **f,
        )

    def override(self, tree: Tree[Token]) -> ir.Override:
        name, *_ = _args(tree)
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        for kind, stmt in self.statements(tree, frozenset({"replicas", "resources", "batching", "instances", "version"})):
            spans.setdefault(kind, self.span(stmt))
            if kind == "version":  # the version this environment runs (set by shipspec promote)
                f["version"] = self.string(_args(stmt)[0])
            elif kind == "replicas":
                f["replicas"] = self.replicas(stmt)
            elif kind == "resources":
                f["resources"] = self.resources(_args(stmt)[0])
            elif kind == "batching":
                f["batching"] = self.batching(stmt)
            elif kind == "instances":
                f["instances"] = self.integer(_args(stmt)[0], minimum=1)
        return ir.Override(model=self.ref(name), span=self.span(tree), spans=spans, **f)

    def tensor_name(self, tok: Node) -> str:
        """A tensor name: a NAME as written, or a quoted string (``"input.1"``) unquoted."""
        if isinstance(tok, Token) and tok.type == "STRING":
            value = self.string(tok)
            if not value:
                self.sink.report("SS204", "a tensor name cannot be empty", self.span(tok))
            return value
        return str(tok)

    def tensor(self, stmt: Tree[Token]) -> ir.Tensor | None:
        name, ttype, *opts = _args(stmt)
        assert isinstance(ttype, Tree)
        dtype_tok, *dim_toks = _args(ttype)
        dtype = self.keyword(dtype_tok, ir.DTYPES, "data type")
        dims = tuple(self.dim(t) for t in dim_toks)
        reshape: tuple[int, ...] | None = None
        optional = False
        for opt in opts:
            assert isinstance(opt, Tree)
            if opt.data == "reshape":
                reshape = tuple(self.dim(t) for t in _args(opt))
            else:
                optional = True
        if dtype is None:
            return None
        return ir.Tensor(self.tensor_name(name), dtype, dims, self.span(stmt), reshape, optional)

    def dim(self, tok: Node) -> int:
        value, _ = units.integer(str(tok))
        if value is None or (value < 1 and value != -1):
            self.sink.report("SS303", f"dimension {tok} must be a positive integer or -1 (variable)", self.span(tok))
            return 1
        return value

    def batching(self, tree: Tree[Token]) -> ir.Batching:
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        single = frozenset({"batch_max", "preferred", "delay", "priorities", "queue"})
        for kind, stmt in self.statements(tree, single):
            spans[kind] = self.span(stmt)
            a = _args(stmt)
            if kind == "batch_max":
                f["max_batch_size"] = self.integer(a[0], minimum=1) or 0
            elif kind == "preferred":
                assert isinstance(a[0], Tree)
                sizes = [self.integer(t, minimum=1) for t in _args(a[0])]
                f["preferred"] = tuple(s for s in sizes if s is not None)
            elif kind == "delay":
                f["delay"] = self.unit(a[0], units.duration)
            elif kind == "priorities":
                f["priority_levels"] = self.integer(a[0], minimum=1)
                f["default_priority"] = self.integer(a[1], minimum=1)
                if f["priority_levels"] and f["default_priority"] and f["default_priority"] > f["priority_levels"]:
                    self.sink.report(
                        "SS303",
                        f"default priority {f['default_priority']} is above the {f['priority_levels']} levels",
                        self.span(a[1]),
                    )
            elif kind == "queue":
                f["queue"] = self.queue(stmt)
        return ir.Batching(span=self.span(tree), spans=spans, **f)

    def queue(self, tree: Tree[Token]) -> ir.QueuePolicy:
        f: dict[str, Any] = {}
        for kind, stmt in self.statements(tree, frozenset({"queue_timeout", "queue_size", "queue_action"})):
            a = _args(stmt)
            if kind == "queue_timeout":
                f["timeout"] = self.unit(a[0], units.duration)
            elif kind == "queue_size":
                f["max_size"] = self.integer(a[0], minimum=1)
            else:
                f["on_timeout"] = self.keyword(a[0], ("reject", "delay"), "timeout action") or "reject"
        return ir.QueuePolicy(span=self.span(tree), **f)

    def env_var(self, stmt: Tree[Token]) -> ir.EnvVar:
        name, value = _args(stmt)
        assert isinstance(value, Tree)
        literal = _args(value)[0]
        if value.data == "secret_ref":
            ref = self.string(literal)
            if not ref or "://" not in ref and ":" not in ref:
                self.sink.report(
                    "SS204",
                    f"secret reference '{ref}' names no store",
                    self.span(literal),
                    hint='write it as "STORE:PATH#KEY", e.g. "vault:ml/fraud#db"',
                )
            return ir.EnvVar(str(name), ir.SecretRef(ref, self.span(literal)), self.span(stmt))
        text = self.string(literal)
        if _looks_secret(str(name)):
            self.sink.report(
                "SS507",
                f"'{name}' looks like a secret but is given as a plain value",
                self.span(literal),
                hint=f'refer to a secret store instead: env {name} = secret "vault:path#key"',
            )
        return ir.EnvVar(str(name), text, self.span(stmt))

    def lower_model(self, tree: Tree[Token]) -> ir.Model:
        name, *_ = _args(tree)
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        lists: dict[str, list[Any]] = {
            k: [] for k in ("inputs", "outputs", "env", "steps", "parameters", "tests", "benchmarks", "serve_in")
        }
        single = frozenset(
            {"version", "format", "artifact", "trained_on", "owners", "batching", "sequence", "resources",
             "instances", "cache", "versions", "tests", "serve"}
        )  # fmt: skip
        for kind, stmt in self.statements(tree, single):
            spans.setdefault(kind, self.span(stmt))
            a = _args(stmt)
            if kind in ("version", "artifact"):
                f[kind] = self.string(a[0])
            elif kind == "format":
                fmt = self.keyword(a[0], tuple(m.value for m in ir.ModelFormat), "model format")
                f["format"] = ir.ModelFormat(fmt) if fmt else None
            elif kind == "trained_on":
                f["trained_on"] = self.ref(a[0])
            elif kind == "owners":
                f["owners"] = tuple(str(t) for t in a)
            elif kind in ("input", "output"):
                if (tensor := self.tensor(stmt)) is not None:
                    lists[kind + "s"].append(tensor)
            elif kind == "batching":
                f["batching"] = self.batching(stmt)
            elif kind == "sequence":
                f["sequence"] = self.sequence(stmt)
            elif kind == "resources":
                f["resources"] = self.resources(a[0])
            elif kind == "serve":
                assert isinstance(a[0], Tree)
                lists["serve_in"].extend(self.ref(t) for t in _args(a[0]))
            elif kind == "instances":
                f["instances"] = self.integer(a[0], minimum=1) or 1
            elif kind == "env_var":
                lists["env"].append(self.env_var(stmt))
            elif kind == "step":
                lists["steps"].append(self.step(stmt))
            elif kind == "parameter":
                lists["parameters"].append((self.string(a[0]), self.string(a[1])))
            elif kind == "cache":
                f["cache"] = self.keyword(a[0], ("on", "off"), "cache setting") == "on"
            elif kind == "versions":
                f["version_policy"] = self.versions(stmt)
            elif kind == "tests":
                self.tests(stmt, lists)
        fmt = f.get("format")
        needed = ("version", "format") if fmt is ir.ModelFormat.ENSEMBLE else ("version", "format", "artifact")
        # a statement that was written but held an invalid value is reported already
        self.require(f, tuple(k for k in needed if k not in spans), f"model '{name}'", name)
        for key in ("inputs", "outputs"):
            if not lists[key]:
                self.sink.report("SS107", f"model '{name}' declares no {key}", self.span(name))
        if fmt is ir.ModelFormat.ENSEMBLE and not lists["steps"]:
            self.sink.report("SS107", f"ensemble '{name}' has no 'step' statements", self.span(name))
        if fmt is not None and fmt is not ir.ModelFormat.ENSEMBLE and lists["steps"]:
            self.sink.report("SS204", "only an ensemble has steps", spans["step"])
        return ir.Model(
            name=str(name),
            span=self.span(tree),
            spans=spans,
            **{k: tuple(v) for k, v in lists.items()},
            **f,
        )

    def sequence(self, tree: Tree[Token]) -> ir.Sequence:
        f: dict[str, Any] = {}
        for kind, stmt in self.statements(tree, frozenset({"seq_idle", "seq_strategy"})):
            a = _args(stmt)
            if kind == "seq_idle":
                f["idle"] = self.unit(a[0], units.duration)
            else:
                f["strategy"] = self.keyword(a[0], ("direct", "oldest"), "sequence strategy") or "direct"
        return ir.Sequence(span=self.span(tree), **f)

    def step(self, tree: Tree[Token]) -> ir.EnsembleStep:
        model, *stmts = _args(tree)
        inputs, outputs = [], []
        for stmt in stmts:
            assert isinstance(stmt, Tree)
            src, dst = _args(stmt)
            (inputs if stmt.data == "step_in" else outputs).append(
                ir.TensorMap(self.tensor_name(src), self.tensor_name(dst), self.span(stmt))
            )
        return ir.EnsembleStep(self.ref(model), tuple(inputs), tuple(outputs), self.span(tree))

    def versions(self, stmt: Tree[Token]) -> tuple[str, int | None]:
        a = _args(stmt)
        policy = self.keyword(a[0], ("latest", "all"), "version policy") or "latest"
        count = self.integer(a[1], minimum=1) if len(a) > 1 else None
        if policy == "all" and count is not None:
            self.sink.report("SS204", "'versions all' takes no count", self.span(a[1]))
            count = None
        if policy == "latest" and count is None:
            count = 1
        return policy, count

    def tests(self, tree: Tree[Token], lists: dict[str, list[Any]]) -> None:
        for stmt in tree.children:
            if not isinstance(stmt, Tree):
                continue
            a = _args(stmt)
            if stmt.data == "test_run":
                lists["tests"].append(self.string(a[0]))
            else:
                pct, cmp, threshold, rate = a
                self.upper_bound(cmp)
                p = self.percentile(pct)
                t = self.unit(threshold, units.duration)
                r = self.unit(rate, units.rate)
                if p is not None and t is not None and r is not None:
                    lists["benchmarks"].append(ir.Benchmark(p, t, r, self.span(stmt)))

    def percentile(self, tok: Node) -> float | None:
        value = float(str(tok)[1:])
        if not 0 < value < 100:
            self.sink.report("SS301", f"percentile {tok} must be between p0 and p100", self.span(tok))
            return None
        return value

    def upper_bound(self, tok: Node) -> str:
        op = str(tok)
        if op not in ("<", "<="):
            self.sink.report("SS205", f"a latency objective is an upper bound; use < or <=, not {op}", self.span(tok))
        return op

    def lower_training(self, tree: Tree[Token]) -> ir.Training:
        name, *_ = _args(tree)
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        env: list[ir.EnvVar] = []
        hyper: list[ir.Hyperparameter] = []
        single = frozenset(
            {"train_in", "image", "command", "train_dataset", "nodes", "gpus", "hyperparameters", "tracking",
             "experiment", "checkpoint", "resources"}
        )  # fmt: skip
        for kind, stmt in self.statements(tree, single):
            spans[kind] = self.span(stmt)
            a = _args(stmt)
            if kind == "train_in":
                f["environment"] = self.ref(a[0])
            elif kind in ("image", "tracking", "experiment"):
                f[kind] = self.string(a[0])
            elif kind == "command":
                assert isinstance(a[0], Tree)
                f["command"] = tuple(self.string(t) for t in _args(a[0]))
            elif kind == "train_dataset":
                f["dataset"] = self.ref(a[0])
            elif kind in ("nodes", "gpus"):
                value = self.integer(a[0], minimum=1 if kind == "nodes" else 0)
                if value is not None:
                    f[kind] = value
            elif kind == "hyperparameters":
                hyper.extend(self.hyperparameter(h) for h in stmt.children if isinstance(h, Tree))
            elif kind == "env_var":
                env.append(self.env_var(stmt))
            elif kind == "checkpoint":
                f["checkpoint"] = self.unit(a[0], units.size)
            elif kind == "resources":
                f["resources"] = self.resources(a[0])
        spans["environment"] = spans.get("train_in", self.span(tree))
        self.require(f, ("environment", "image"), f"training '{name}'", name)
        return ir.Training(
            model=self.ref(name),
            span=self.span(tree),
            env=tuple(env),
            hyperparameters=tuple(hyper),
            spans=spans,
            **f,
        )

    def hyperparameter(self, tree: Tree[Token]) -> ir.Hyperparameter:
        name, value = _args(tree)
        assert isinstance(value, Token)
        v: str | float
        if value.type == "STRING":
            v = self.string(value)
        elif value.type == "NUMBER":
            v = float(str(value)) if not str(value).lstrip("-").isdigit() else int(str(value))
        else:
            v = str(value)
        return ir.Hyperparameter(str(name), v, self.span(tree))

    def lower_sla(self, tree: Tree[Token]) -> ir.Sla:
        model, env, *_ = _args(tree)
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        latency: list[ir.LatencyObjective] = []
        single = frozenset({"availability", "error_rate", "throughput"})
        for kind, stmt in self.statements(tree, single):
            spans.setdefault(kind, self.span(stmt))
            a = _args(stmt)
            if kind == "latency":
                pct, cmp, threshold = a
                self.upper_bound(cmp)
                p = self.percentile(pct)
                t = self.unit(threshold, units.duration)
                if p is not None and t is not None:
                    if any(o.percentile == p for o in latency):
                        self.sink.report("SS106", f"latency {pct} is given twice", self.span(stmt))
                    latency.append(ir.LatencyObjective(p, t, self.span(stmt)))
            elif kind == "availability":
                objective = self.unit(a[0], units.percent)
                window = self.unit(a[1], units.duration)
                windows = self.unit(a[2], units.duration) if len(a) > 2 else None
                if objective is not None and objective >= 1.0:
                    self.sink.report(
                        "SS303", "an availability of 100% leaves no error budget", self.span(a[0]),
                        hint="write the objective you can keep, e.g. 99.9%",
                    )
                elif objective is not None and window is not None:
                    f["availability"] = ir.Availability(objective, window, self.span(stmt), windows)
            elif kind == "error_rate":
                self.upper_bound_ratio(a[0])
                f["error_rate"] = self.unit(a[1], units.percent)
            elif kind == "throughput":
                if str(a[0]) not in (">", ">="):
                    self.sink.report("SS205", "a throughput objective is a floor; use > or >=", self.span(a[0]))
                f["throughput"] = self.unit(a[1], units.rate)
        if not (latency or f):
            self.sink.report("SS107", "this SLA states no objective", self.span(tree))
        return ir.Sla(
            model=self.ref(model),
            environment=self.ref(env),
            span=self.span(tree),
            latency=tuple(sorted(latency, key=lambda o: o.percentile)),
            spans=spans,
            **f,
        )

    def upper_bound_ratio(self, tok: Node) -> None:
        if str(tok) not in ("<", "<="):
            self.sink.report("SS205", "an error rate objective is an upper bound; use < or <=", self.span(tok))

    def lower_monitor(self, tree: Tree[Token]) -> ir.Monitor:
        model, env, *rules = _args(tree)
        out: list[ir.MonitorRule] = []
        for rule in rules:
            assert isinstance(rule, Tree)
            a = _args(rule)
            signal = str(a[0])
            stat = str(a[1]) if isinstance(a[1], Token) and a[1].type == "NAME" else None
            rest = a[2:] if stat is not None else a[1:]
            cmp, threshold_tok, duration_tok = rest[:3]
            action_tree = rest[3] if len(rest) > 3 else None
            is_ratio = str(threshold_tok).endswith("%")
            threshold = (
                self.unit(threshold_tok, units.percent) if is_ratio else self.unit(threshold_tok, units.number, "SS202")
            )
            duration = self.unit(duration_tok, units.duration)
            action = None
            if isinstance(action_tree, Tree):
                action = self.keyword(_args(action_tree)[0], ("retrain", "page", "ticket", "rollback"), "action")
            if threshold is not None and duration is not None:
                out.append(
                    ir.MonitorRule(signal, stat, str(cmp), threshold, duration, action, self.span(rule), is_ratio)
                )
        return ir.Monitor(self.ref(model), self.ref(env), self.span(tree), tuple(out))

    def lower_gate(self, tree: Tree[Token]) -> ir.Gate:
        src, dst, model, *_ = _args(tree)
        f: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        conditions: list[ir.Condition] = []
        for kind, stmt in self.statements(tree, frozenset({"gate_load", "canary", "approval"})):
            spans.setdefault(kind, self.span(stmt))
            a = _args(stmt)
            if kind in ("gate_metric", "gate_drift", "gate_fairness"):
                metric, cmp, value = a[:3]
                threshold = (
                    self.unit(value, units.percent)
                    if str(value).endswith("%")
                    else self.unit(value, units.number, "SS202")
                )
                dataset = self.ref(a[3]) if len(a) > 3 else None
                if threshold is not None:
                    conditions.append(
                        ir.Condition(kind.removeprefix("gate_"), str(metric), str(cmp), threshold, self.span(stmt), dataset)
                    )
            elif kind == "gate_load":
                pct, cmp, threshold, rate, duration = a
                self.upper_bound(cmp)
                p = self.percentile(pct)
                t = self.unit(threshold, units.duration)
                r = self.unit(rate, units.rate)
                d = self.unit(duration, units.duration)
                if None not in (p, t, r, d):
                    f["load"] = ir.LoadTest(p, t, r, d, self.span(stmt))  # type: ignore[arg-type]
            elif kind == "canary":
                f["canary"] = self.canary(stmt)
            elif kind == "approval":
                f["approval"] = tuple(str(t) for t in a)
        return ir.Gate(
            source=self.ref(src),
            target=self.ref(dst),
            model=self.ref(model),
            span=self.span(tree),
            conditions=tuple(conditions),
            spans=spans,
            **f,
        )

    def canary(self, stmt: Tree[Token]) -> tuple[ir.CanaryStep, ...]:
        steps: list[ir.CanaryStep] = []
        previous = 0.0
        for step in _args(stmt):
            assert isinstance(step, Tree)
            weight_tok, duration_tok = _args(step)
            weight = self.unit(weight_tok, units.percent)
            duration = self.unit(duration_tok, units.duration)
            if weight is None or duration is None:
                continue
            if weight >= 1.0 or weight <= 0:
                self.sink.report(
                    "SS303", f"canary weight {weight_tok} must be above 0% and below 100%", self.span(weight_tok),
                    hint="full promotion follows the last step by itself",
                )
                continue
            if weight <= previous:
                self.sink.report("SS304", f"canary weight {weight_tok} does not increase", self.span(weight_tok))
                continue
            previous = weight
            steps.append(ir.CanaryStep(weight, duration, self.span(step)))
        return tuple(steps)


def _keyword(stmt: Tree[Token]) -> str:
    first = stmt.children[0] if stmt.children else None
    return str(first) if isinstance(first, Token) else str(stmt.data)


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text.lower())


_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL")


def _looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)


def lower_file(tree: Tree[Token], path: str, sink: Sink) -> list[object]:
    lowerer = Lowerer(path, sink)
    out = []
    for block in tree.children:
        if isinstance(block, Tree) and (node := lowerer.block(block)) is not None:
            out.append(node)
    return out
