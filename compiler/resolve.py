"""The resolve stage: the IR as one ``Placement`` per (model, environment).

A model's effective settings in an environment (after that environment's
override), the version it runs there, the gate into it, its SLA and monitors,
and an ensemble's members are decided here, once. Checks and backends read
placements; none of them re-derives these decisions.

``resolve`` takes any lowered spec, including one with errors the checks have
yet to report: an unknown name simply resolves to nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress, count, repeat
from pathlib import PurePosixPath
from typing import Protocol, TypeVar

from compiler import ir
from compiler.changes import changed_models
from compiler.records import Record, record
from compiler.targets import kubernetes as k8s
from compiler.targets import slo as slo_target
from compiler.targets import triton as triton_target
from compiler.workdir import relative


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_N = TypeVar("_N", bound=_Named)


def _first_by_name(items: Iterable[_N]) -> dict[str, _N]:
    """Names to items; the first of a name wins (later ones are duplicates the checks report)."""
    out: dict[str, _N] = {}
    for item in items:
        out.setdefault(item.name, item)
    return out


@record
class Project(Record):
    """The project with every default applied: backends never ask "is there a project?"."""

    name: str
    registry: str | None
    owners: tuple[str, ...]
    triton_version: str
    kubernetes_version: str
    repository: str | None
    runbooks: str | None
    declared: ir.Project | None
    triton_digest: str | None = None  # "sha256:…", pinned beside the Triton image tag

    @classmethod
    def of(cls, spec: ir.Spec) -> Project:
        p = spec.project
        if p is None:
            return cls("shipspec", None, (), triton_target.DEFAULT_RELEASE, k8s.DEFAULT_VERSION, None, None, None)
        return cls(
            p.name,
            p.registry,
            p.owners,
            p.triton_version,
            p.kubernetes_version,
            p.repository,
            p.runbooks,
            p,
            p.triton_digest,
        )


@record
class Placement(Record):
    """One model in one environment, with everything the environment decides for it."""

    model: ir.Model
    env: ir.Environment
    override: ir.Override | None
    version: str | None  # the override's pin, else the model's own
    replicas: ir.ReplicaRange | None
    resources: ir.Resources | None
    batching: ir.Batching | None
    instances: int
    gate: ir.Gate | None  # the gate into this environment for this model (first by source name)
    canary: ir.Gate | None  # the first such gate that has canary steps
    sla: ir.Sla | None
    monitors: tuple[ir.Monitor, ...]
    members: tuple[Placement, ...]  # an ensemble's members in this environment, recursively, by name

    @property
    def name(self) -> str:
        return k8s.k8s_name(self.model.name)

    @property
    def namespace(self) -> str:
        return namespace(self.env)

    @property
    def production(self) -> bool:
        return self.env.tier is ir.Tier.PRODUCTION

    @property
    def gpu(self) -> int:
        return self.resources.gpu if self.resources else 0

    @property
    def gpus_here(self) -> bool:
        """Whether this environment runs GPU instances at all: not development, where every
        instance runs on CPU and its pod asks for no GPU."""
        return self.env.tier is not ir.Tier.DEVELOPMENT

    @property
    def uses_gpu(self) -> bool:
        """GPU instances where the model asks for GPUs and the environment runs them."""
        return self.gpu > 0 and self.gpus_here

    @property
    def pod_models(self) -> tuple[Placement, ...]:
        """The model and every model its pod loads (an ensemble's members, recursively), by name."""
        seen: dict[str, Placement] = {}
        stack: list[Placement] = [self]
        while stack:
            p = stack.pop()
            if p.model.name not in seen:
                seen[p.model.name] = p
                stack.extend(p.members)
        return tuple(seen[n] for n in sorted(seen))

    @property
    def pod_resources(self) -> ir.Resources | None:
        """What this model's pod needs to load every model in ``pod_models``: cpu
        and memory summed (each model's instances run in the one container), and
        the most GPUs any of them asks for (Triton's KIND_GPU instances share the
        devices the pod sees), none where the environment runs no GPU instances
        (``gpus_here``): a GPU there would sit idle, and a development quota of no
        GPUs (the default) makes the API server refuse the pod. None when no model in
        the pod declares resources."""
        declared = [p.resources for p in self.pod_models if p.resources is not None]
        if not declared:
            return None
        cpus = [r.cpu for r in declared if r.cpu is not None]
        memories = [r.memory for r in declared if r.memory is not None]
        storages = [r.storage for r in declared if r.storage is not None]
        span = self.resources.span if self.resources is not None else declared[0].span
        return ir.Resources(
            span,
            cpu=round(sum(cpus), 6) if cpus else None,
            memory=sum(memories) if memories else None,
            gpu=max(r.gpu for r in declared) if self.gpus_here else 0,
            storage=sum(storages) if storages else None,
        )

    @property
    def pod_gpu(self) -> int:
        """The GPUs the pod requests (see ``pod_resources``)."""
        res = self.pod_resources
        return res.gpu if res is not None else 0


def namespace(env: ir.Environment) -> str:
    """An environment's namespace; the environment's own name when none is given."""
    return env.namespace if env.namespace is not None else env.name.replace("_", "-")


# The dataclass's __init__ and __repr__ are written out: dataclass compiled them from source
# in every cold start (issue 16). It stays a dataclass (fields).
@dataclass(init=False, repr=False, eq=False)
class Resolved:
    """A spec with its names indexed and its placements decided (each computed once, on first use)."""

    spec: ir.Spec
    project: Project
    environments: dict[str, ir.Environment]
    models: dict[str, ir.Model]
    datasets: dict[str, ir.Dataset]
    _gates: dict[tuple[str, str], ir.Gate]
    _canaries: dict[tuple[str, str], ir.Gate]
    _slas: dict[tuple[str, str], ir.Sla]
    _monitors: dict[tuple[str, str], tuple[ir.Monitor, ...]]
    _placed: dict[tuple[str, str], Placement] = field(default_factory=dict)
    # An earlier build's placements (``compile --watch``), taken where they still hold.
    _earlier: dict[tuple[str, str], Placement] = field(default_factory=dict)

    def __init__(
        self,
        spec: ir.Spec,
        project: Project,
        environments: dict[str, ir.Environment],
        models: dict[str, ir.Model],
        datasets: dict[str, ir.Dataset],
        _gates: dict[tuple[str, str], ir.Gate],
        _canaries: dict[tuple[str, str], ir.Gate],
        _slas: dict[tuple[str, str], ir.Sla],
        _monitors: dict[tuple[str, str], tuple[ir.Monitor, ...]],
        _placed: dict[tuple[str, str], Placement] | None = None,
        _earlier: dict[tuple[str, str], Placement] | None = None,
    ) -> None:
        self.spec = spec
        self.project = project
        self.environments = environments
        self.models = models
        self.datasets = datasets
        self._gates = _gates
        self._canaries = _canaries
        self._slas = _slas
        self._monitors = _monitors
        self._placed = {} if _placed is None else _placed
        self._earlier = {} if _earlier is None else _earlier
        # Made on first use: every backend asks for each environment's models, and each model's
        # environments, and a scan of every model each time was quadratic (issue 16, target 1).
        self._served_models: dict[str, list[ir.Model]] | None = None
        # The earlier resolve's, where it made them (``_served_moved_on``).
        self._earlier_served_in: dict[str, list[ir.Model]] | None = None
        # The models whose records are not the earlier resolve's objects (``compiler.changes``;
        # None: not known, or no earlier resolve).
        self.changed: frozenset[str] | None = None
        self.changed_since: ir.Spec | None = None
        # The earlier resolve's ``served_placements``, where it made them.
        self._earlier_served: dict[int, tuple[Placement, ...]] | None = None
        self._ensembles: list[ir.Model] | None = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)
        return f"{self.__class__.__qualname__}({shown})"

    # -- names -------------------------------------------------------------

    def served(self, model: ir.Model) -> list[ir.Environment]:
        """The environments a model's ``serve in`` names (unknown names left out)."""
        return [self.environments[r.name] for r in model.serve_in if r.name in self.environments]

    def loaded_in(self, model: ir.Model) -> list[ir.Environment]:
        """The environments whose pods load ``model``: where it is served, and
        where an ensemble that has it as a member is served (spec order)."""
        wanted = {r.name for r in model.serve_in}
        if self._ensembles is None:
            self._ensembles = [m for m in self.spec.models if m.steps]
        for other in self._ensembles:
            if not wanted.issuperset(r.name for r in other.serve_in):
                for env in self.served(other):
                    if env.name not in wanted and any(
                        p.model.name == model.name for p in self.place(other, env).pod_models
                    ):
                        wanted.add(env.name)
        return [env for env in self.spec.environments if env.name in wanted]

    def tier(self, name: str) -> ir.Tier | None:
        env = self.environments.get(name)
        return env.tier if env else None

    # -- placements --------------------------------------------------------

    def place(self, model: ir.Model, env: ir.Environment) -> Placement:
        """The model as it runs in ``env`` (memoised; members placed in the same environment)."""
        key = (model.name, env.name)
        hit = self._placed.get(key)
        if hit is not None and hit.model is model and hit.env is env:
            return hit
        placed = self._earlier.get(key)
        if not (
            placed is not None
            and placed.model is model
            and placed.env is env
            # A model no edit changed (nor its ensembles, nor what models share) is placed as before.
            and ((self.changed is not None and model.name not in self.changed) or self._holds(placed, (model.name,)))
        ):
            placed = self._place(model, env, (model.name,))
        self._placed[key] = placed
        return placed

    def _holds(self, p: Placement, path: tuple[str, ...]) -> bool:
        """Whether an earlier build's placement is what ``_place`` would make now: its model
        and environment are this spec's objects, and so are the gate, canary, SLA, monitors
        and members this spec's indexes give it. A watching process's edit leaves most
        records the same objects (their files' IR is reused), so most placements are kept,
        and with them the digests render units are keyed on (``backends.memo``)."""
        m, e = p.model.name, p.env.name
        if (
            self._gates.get((e, m)) is not p.gate
            or self._canaries.get((e, m)) is not p.canary
            or self._slas.get((m, e)) is not p.sla
        ):
            return False
        monitors = self._monitors.get((m, e), ())
        if len(monitors) != len(p.monitors) or not all(map(operator.is_, monitors, p.monitors)):
            return False
        if not p.members and not p.model.steps:
            return True  # most models: no members to hold, and none to sort to find so
        names = [n for n in sorted({s.model.name for s in p.model.steps}) if n in self.models and n not in path]
        if [q.model.name for q in p.members] != names:
            return False
        return all(
            self.models[q.model.name] is q.model and q.env is p.env and self._holds(q, (*path, q.model.name))
            for q in p.members
        )

    def _place(self, model: ir.Model, env: ir.Environment, path: tuple[str, ...]) -> Placement:
        override = next((o for o in env.overrides if o.model.name == model.name), None)
        members: list[Placement] = []
        for name in sorted({s.model.name for s in model.steps}):
            member = self.models.get(name)
            if member is not None and name not in path:  # a cycle is the checker's to report
                members.append(self._place(member, env, (*path, name)))
        return Placement(
            model=model,
            env=env,
            override=override,
            version=next((o.version for o in env.overrides if o.model.name == model.name and o.version), None)
            or model.version,
            replicas=(override.replicas if override and override.replicas else None) or env.replicas,
            resources=override.resources if override and override.resources else model.resources,
            batching=override.batching if override and override.batching else model.batching,
            instances=override.instances if override and override.instances else model.instances,
            gate=self._gates.get((env.name, model.name)),
            canary=self._canaries.get((env.name, model.name)),
            sla=self._slas.get((model.name, env.name)),
            monitors=self._monitors.get((model.name, env.name), ()),
            members=tuple(members),
        )

    def placed(self) -> list[Placement]:
        """The placements made so far (``place``), each (model, environment) once."""
        return list(self._placed.values())

    def placements(self, env: ir.Environment) -> list[Placement]:
        """Every model an environment serves, in spec order."""
        return [self.place(m, env) for m in self._served_in().get(env.name, ())]

    def served_models(self, env: ir.Environment) -> list[ir.Model]:
        """Every model an environment serves, in spec order."""
        return list(self._served_in().get(env.name, ()))

    def serves(self, env: ir.Environment) -> bool:
        """Whether any model is served in ``env`` (``placements`` would give some)."""
        return bool(self._served_in().get(env.name))

    def _served_in(self) -> dict[str, list[ir.Model]]:
        if self._served_models is None:
            moved = self._served_moved_on()
            if moved is None:
                moved = {}
                for m in self.spec.models:
                    for name in dict.fromkeys(r.name for r in m.serve_in):
                        moved.setdefault(name, []).append(m)
            self._served_models, self._earlier_served_in = moved, None
        return self._served_models

    def _served_moved_on(self) -> dict[str, list[ir.Model]] | None:
        """``_served_in`` from the earlier resolve's, where this spec's models are its at the
        same places but for a few new objects that name the same environments: each of those
        is put where its predecessor was (a watching step went through 1,000 models' ``serve
        in`` lists for it, ~3 ms). None where that does not hold."""
        earlier, before = self._earlier_served_in, self.changed_since
        if earlier is None or before is None:
            return None
        models, was = self.spec.models, before.models
        if len(models) != len(was):
            return None
        at = list(compress(range(len(models)), map(operator.is_not, models, was)))
        if len(at) > max(8, len(models) // 8):  # (past that, listing them all again is as quick)
            return None
        news, olds = {id(models[i]) for i in at}, {id(was[i]) for i in at}
        if any(map(news.__contains__, map(id, was))) or any(map(olds.__contains__, map(id, models))):
            return None  # a model moved (renamed: models are in name order), not only replaced
        out = dict(earlier)
        copied: set[str] = set()
        for i in at:
            new, old = models[i], was[i]
            names = list(dict.fromkeys(r.name for r in new.serve_in))
            if names != list(dict.fromkeys(r.name for r in old.serve_in)):
                return None
            for name in names:
                if name not in copied:
                    out[name] = list(out[name])
                    copied.add(name)
                listed = out[name]
                # by identity, in C (``list.index`` compares records field by field)
                listed[next(compress(count(), map(operator.is_, listed, repeat(old))))] = new
        return out

    @cached_property
    def served_placements(self) -> dict[int, tuple[Placement, ...]]:
        """Each model's placements in the environments its ``serve in`` names, in that order
        (unknown names left out), by the model's ``id`` (two models may share a name). A model
        no edit changed (``changed``) takes the earlier resolve's, which ``place`` would give
        it again (3,250 placements looked up at 1,000 models, each watching step)."""
        earlier, changed = self._earlier_served, self.changed
        if earlier is None or changed is None:
            return {id(m): tuple(self.place(m, e) for e in self.served(m)) for m in self.spec.models}
        out: dict[int, tuple[Placement, ...]] = {}
        for m in self.spec.models:
            kept = earlier.get(id(m))
            # (a tuple that holds the model keeps it alive, so its id is still its own)
            if kept and kept[0].model is m and m.name not in changed:
                out[id(m)] = kept
            else:
                out[id(m)] = tuple(self.place(m, e) for e in self.served(m))
        return out

    def version_in(self, model: str, env: str) -> str | None:
        """The version of ``model`` that ``env`` runs: its override's pin, else the model's own."""
        m, e = self.models.get(model), self.environments.get(env)
        if m is None:
            return None
        if e is None:
            return m.version
        return self.place(m, e).version

    # -- project-wide facts --------------------------------------------------

    @cached_property
    def spec_dir(self) -> str:
        """The spec directory the workflows pass to shipspec (``specs`` by default)."""
        tops = set()
        for f in self.spec.files:
            p = PurePosixPath(f)
            if p.is_absolute() or not p.parts or p.parts[0] == "..":
                rel = PurePosixPath(relative(f)) if p.is_absolute() else p
                if not rel.parts or rel.parts[0] == "..":
                    return "specs"
                p = rel
            tops.add(p.parts[0] if len(p.parts) > 1 else ".")
        return tops.pop() if len(tops) == 1 else "specs"

    @cached_property
    def monitoring_env(self) -> ir.Environment | None:
        """The environment of tier monitoring (where rules, alerting and drift jobs live), if any."""
        return next((e for e in self.spec.environments if e.tier is ir.Tier.MONITORING), None)

    @property
    def has_histograms(self) -> bool:
        return triton_target.has_histograms(self.project.triton_version)


def resolve(spec: ir.Spec, earlier: Resolved | None = None) -> Resolved:
    """Index the spec's names and prepare its placements (computed on first use; an
    ``earlier`` resolve's placements are reused where they still hold)."""
    changed = changed_models(spec, earlier.spec) if earlier is not None else None
    if earlier is not None and changed is not None:
        gates, canaries, slas, monitors = _indexes_moved_on(earlier, spec, changed)
    else:
        gates, canaries, slas, monitors = _indexes(spec.gates, spec.slas, spec.monitors)
    project = Project.of(spec)
    if earlier is not None and earlier.project == project:
        project = earlier.project  # the same object: a watching process keys units by identity
    resolved = Resolved(
        spec=spec,
        project=project,
        environments=_first_by_name(spec.environments),
        models=_first_by_name(spec.models),
        datasets=_first_by_name(spec.datasets),
        _gates=gates,
        _canaries=canaries,
        _slas=slas,
        _monitors=monitors,
        _earlier=None if earlier is None else earlier._placed,
    )
    if earlier is not None:
        resolved.changed, resolved.changed_since = changed, earlier.spec
        resolved._earlier_served = earlier.__dict__.get("served_placements")
        resolved._earlier_served_in = earlier._served_models
    if earlier is not None and "spec_dir" in earlier.__dict__ and earlier.spec.files == spec.files:
        resolved.__dict__["spec_dir"] = earlier.spec_dir  # made of the files' paths alone
    return resolved


_Indexes = tuple[
    dict[tuple[str, str], ir.Gate],
    dict[tuple[str, str], ir.Gate],
    dict[tuple[str, str], ir.Sla],
    dict[tuple[str, str], tuple[ir.Monitor, ...]],
]


def _indexes(gates: Iterable[ir.Gate], slas: Iterable[ir.Sla], monitors: Iterable[ir.Monitor]) -> _Indexes:
    """The gate and canary of each (target, model), the SLA and monitors of each (model,
    environment): the first gate by source name, the first SLA, every monitor in order."""
    by_target: dict[tuple[str, str], ir.Gate] = {}
    canaries: dict[tuple[str, str], ir.Gate] = {}
    for g in sorted(gates, key=lambda g: g.source.name):  # the first by source name wins
        by_target.setdefault((g.target.name, g.model.name), g)
        if g.canary:
            canaries.setdefault((g.target.name, g.model.name), g)
    by_placement: dict[tuple[str, str], ir.Sla] = {}
    for s in slas:
        by_placement.setdefault((s.model.name, s.environment.name), s)
    watched: dict[tuple[str, str], list[ir.Monitor]] = {}
    for mon in monitors:
        watched.setdefault((mon.model.name, mon.environment.name), []).append(mon)
    return by_target, canaries, by_placement, {k: tuple(v) for k, v in watched.items()}


def _indexes_moved_on(earlier: Resolved, spec: ir.Spec, changed: frozenset[str]) -> _Indexes:
    """``_indexes`` of ``spec``, from ``earlier``'s: ``changed`` names every model whose gates,
    SLAs or monitors are not ``earlier``'s objects (``changes.changed_models``), and each
    entry is one model's, so only those models' entries are made again (at 1,000 models
    ~4,000 records went through these loops each watching step). The tables are looked up,
    never gone through in order."""
    tables = earlier._gates, earlier._canaries, earlier._slas, earlier._monitors
    if not changed:
        return tables
    gates, canaries, slas, monitors = dict(tables[0]), dict(tables[1]), dict(tables[2]), dict(tables[3])
    for g in earlier.spec.gates:
        if g.model.name in changed:
            gates.pop((g.target.name, g.model.name), None)
            canaries.pop((g.target.name, g.model.name), None)
    for s in earlier.spec.slas:
        if s.model.name in changed:
            slas.pop((s.model.name, s.environment.name), None)
    for m in earlier.spec.monitors:
        if m.model.name in changed:
            monitors.pop((m.model.name, m.environment.name), None)
    mine = _indexes(
        (g for g in spec.gates if g.model.name in changed),
        (s for s in spec.slas if s.model.name in changed),
        (m for m in spec.monitors if m.model.name in changed),
    )
    gates.update(mine[0])
    canaries.update(mine[1])
    slas.update(mine[2])
    monitors.update(mine[3])
    return gates, canaries, slas, monitors


# -- SLO objectives: an SLA's numbers as the error-ratio SLOs the rules alert on --


def period_of(sla: ir.Sla) -> float:
    return sla.availability.window if sla.availability else slo_target.DEFAULT_PERIOD


def windows_of(sla: ir.Sla) -> float | None:
    """The period whose burn-rate window table the SLA chose (``windows 7d``), if any."""
    return sla.availability.windows if sla.availability else None


def availability_objective(sla: ir.Sla) -> slo_target.Objective | None:
    """The error-ratio SLO: availability and error_rate measure the same SLI
    (failed over all requests), so the stricter budget of the two governs."""
    budgets = []
    if sla.availability:
        budgets.append(1.0 - sla.availability.objective)
    if sla.error_rate is not None:
        budgets.append(sla.error_rate)
    if not budgets:
        return None
    return slo_target.Objective(
        "availability", round(1.0 - min(budgets), 9), period_of(sla), "availability", windows_of(sla)
    )


def latency_objective(sla: ir.Sla, o: ir.LatencyObjective) -> slo_target.Objective:
    return slo_target.Objective(
        slo_target.latency_slo_name(o.percentile),
        round(o.percentile / 100, 9),
        period_of(sla),
        f"p{o.percentile:g} latency under {o.threshold * 1000:g}ms",
        windows_of(sla),
    )
