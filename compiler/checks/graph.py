"""The promotion graph: gates go up the tiers, form no cycle, and every
production deployment is reached through them."""

from __future__ import annotations

from collections import defaultdict

from compiler import ir
from compiler.checks.kept import ONE_SHOT, Lookup, Memo
from compiler.diagnostics import Sink
from compiler.resolve import Resolved

# Tiers a model may enter without a gate: where work starts and where merged
# changes land first.
ENTRY_TIERS = frozenset({ir.Tier.DEVELOPMENT, ir.Tier.TRAINING, ir.Tier.TESTING, ir.Tier.STAGING})
_EVALUATION_TIERS = frozenset({ir.Tier.TRAINING, ir.Tier.TESTING})


def check_gates(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Each gate goes up the tier order between environments that serve its model,
    and a gate into production names its approvers.

    Failing: ``gate prod -> staging for m { }``. Passing: ``gate staging -> prod for m { approval @org/leads }``.
    """
    spec = r.spec
    envs, models = memo.table("environments", r.environments), memo.table("models", r.models)
    memo.each(_check_gate, sink, spec.gates, envs, models)
    _check_cycles(spec, sink, memo)


def _check_gate(sink: Sink, gate: ir.Gate, envs: Lookup[str, ir.Environment], models: Lookup[str, ir.Model]) -> None:
    src, dst = envs.get(gate.source.name), envs.get(gate.target.name)
    model = models.get(gate.model.name)
    if src is None or dst is None or src.tier is None or dst.tier is None:
        return
    if ir.Tier.MONITORING in (src.tier, dst.tier):
        bad = gate.source if src.tier is ir.Tier.MONITORING else gate.target
        sink.report("SS505", f"'{bad.name}' is a monitoring environment; nothing is promoted through it", bad.span)
        return
    if dst.tier.rank <= src.tier.rank and src.name != dst.name:
        sink.report(
            "SS404",
            f"gate {src.name} ({src.tier.value}) -> {dst.name} ({dst.tier.value}) does not go up the tiers",
            gate.span,
            hint="tiers in order: development, training, testing, staging, preprod, production",
        )
    if src.name == dst.name:
        sink.report("SS401", f"gate from '{src.name}' to itself", gate.span)
    if dst.tier is ir.Tier.PRODUCTION and not gate.approval:
        sink.report(
            "SS403", f"gate into production '{dst.name}' has no approval", gate.span, hint="add: approval @org/team"
        )
    if model is None:
        return
    served = {ref.name for ref in model.serve_in}
    if dst.name not in served:
        sink.report(
            "SS405",
            f"gate target '{dst.name}' does not serve '{model.name}'",
            gate.target.span,
            hint=f"add '{dst.name}' to the model's 'serve in' list",
        )
    if src.name not in served and src.tier not in _EVALUATION_TIERS:
        sink.report("SS405", f"gate source '{src.name}' does not serve '{model.name}'", gate.source.span)


def _find_cycle(graph: dict[str, list[ir.Gate]]) -> list[ir.Gate] | None:
    """The gates of one cycle, by depth-first search (iterative: chains may be long)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in sorted(graph):
        if root in state:
            continue
        path: list[ir.Gate] = []
        stack = [(root, iter(graph.get(root, ())))]
        state[root] = 1
        while stack:
            node, edges = stack[-1]
            gate = next(edges, None)
            if gate is None:
                state[node] = 2
                stack.pop()
                if path:
                    path.pop()
                continue
            nxt = gate.target.name
            if state.get(nxt) == 1:
                cycle = path + [gate]
                return cycle[next(i for i, g in enumerate(cycle) if g.source.name == nxt) :]
            if nxt not in state:
                state[nxt] = 1
                path.append(gate)
                stack.append((nxt, iter(graph.get(nxt, ()))))
    return None


def _check_cycles(spec: ir.Spec, sink: Sink, memo: Memo) -> None:
    edges: dict[str, list[ir.Gate]] = defaultdict(list)
    for gate in spec.gates:
        if gate.source.name != gate.target.name:
            edges[gate.model.name].append(gate)
    by_model = memo.table("gates between environments by model", {m: tuple(gates) for m, gates in edges.items()})
    memo.each(_check_cycle, sink, sorted(edges), by_model)


def _check_cycle(sink: Sink, model: str, edges: Lookup[str, tuple[ir.Gate, ...]]) -> None:
    """The model's gates between environments (in spec order) form no cycle."""
    graph: dict[str, list[ir.Gate]] = defaultdict(list)
    for gate in edges.get(model) or ():
        graph[gate.source.name].append(gate)
    cycle = _find_cycle(graph)
    if cycle:
        names = [g.source.name for g in cycle] + [cycle[-1].target.name]
        sink.report("SS401", f"gates for '{model}' form a cycle: {' -> '.join(names)}", cycle[-1].span)


def _ensembles_of(spec: ir.Spec) -> dict[str, list[ir.Model]]:
    out: dict[str, list[ir.Model]] = defaultdict(list)
    for m in spec.models:
        for step in m.steps:
            out[step.model.name].append(m)
    return out


def check_reachability(r: Resolved, sink: Sink, memo: Memo = ONE_SHOT) -> None:
    """Every production deployment of a model is reached by a chain of gates
    from an entry tier (development, training, testing or staging).

    A model served in production only as a member of an ensemble is covered by
    the ensemble's gates. Failing: ``serve in staging, prod`` with no gate into
    prod. Passing: add ``gate staging -> prod for m { approval @org/leads }``.
    """
    spec = r.spec
    envs = memo.table("environments", r.environments)
    gates_of: dict[str, list[ir.Gate]] = defaultdict(list)
    for gate in spec.gates:
        gates_of[gate.model.name].append(gate)
    names = list(dict.fromkeys(m.name for m in spec.models))
    gates = memo.table("gates by model", {name: tuple(gates_of.get(name, ())) for name in names})
    # Once per model (an ensemble's for each of its members too): linear in gates.
    reached = memo.table("reached by model", dict(zip(names, memo.results(_reached, names, gates, envs), strict=True)))
    ensembles = memo.table("ensembles by member", {m: tuple(e) for m, e in _ensembles_of(spec).items()})
    memo.each(_check_reached, sink, spec.models, envs, reached, ensembles)


def _reached(model: str, gates: Lookup[str, tuple[ir.Gate, ...]], envs: Lookup[str, ir.Environment]) -> frozenset[str]:
    """The environments a chain of the model's gates reaches from an entry tier."""
    # Forward closure from the entry tiers, iterative: linear in gates whatever the
    # shape (issue 17: long chains, all-to-all ladders).
    out: dict[str, list[str]] = defaultdict(list)
    for g in gates.get(model) or ():
        out[g.source.name].append(g.target.name)
    done = {e for e in out if (env := envs.get(e)) is not None and env.tier in ENTRY_TIERS}
    todo = list(done)
    while todo:
        for nxt in out[todo.pop()]:
            if nxt not in done:
                done.add(nxt)
                todo.append(nxt)
    return frozenset(done)


def _check_reached(
    sink: Sink,
    model: ir.Model,
    envs: Lookup[str, ir.Environment],
    reached: Lookup[str, frozenset[str]],
    ensembles: Lookup[str, tuple[ir.Model, ...]],
) -> None:
    """``model``'s production deployments, given where each model's gates reach
    (``_reached``) and the ensembles each model is a member of."""
    for ref in model.serve_in:
        env = envs.get(ref.name)
        if env is None or env.tier is not ir.Tier.PRODUCTION or ref.name in (reached.get(model.name) or ()):
            continue
        if any(
            ref.name in {r.name for r in e.serve_in} and ref.name in (reached.get(e.name) or ())
            for e in ensembles.get(model.name) or ()
        ):
            continue
        sink.report(
            "SS402",
            f"'{model.name}' is served in production '{ref.name}' but no chain of gates leads there",
            ref.span,
            hint=f"add a gate, e.g.: gate staging -> {ref.name} for {model.name} {{ approval @org/team }}",
        )
