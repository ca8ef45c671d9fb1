"""The catalog's index as data: what it reads (``IndexInputs``) and its template's view.

Like a model's page, the index is a render unit keyed on its inputs, and its view is made
from those inputs alone: this module never sees the resolved spec. So a field the index
shows cannot be left out of its key (a stale index from the cache), and a field it does not
show (a CPU request, a comment that moves a span) does not make it again. The inputs are
values, not the model records they come from: any field of a model changes its record.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable
from typing import NamedTuple

from compiler import ir
from compiler.backends.catalog import markdown as md
from compiler.backends.catalog import mermaid, words
from compiler.backends.catalog.page import envs_in_order
from compiler.backends.render import Raw
from compiler.records import Record, record
from compiler.resolve import Placement, Project, Resolved, namespace
from compiler.targets import layout

# What the index shows of an SLA in one environment: its latency objectives (percentile,
# threshold), its availability objective, error rate and throughput.
SlaShown = tuple[tuple[tuple[float, float], ...], float | None, float | None, float | None]


class IndexModel(NamedTuple):
    """What the index shows of one model; ``placements`` in promotion order: (environment,
    version, SLA) where it is served. Tuples, not records: ``content_key`` pickles a
    thousand of them in C."""

    name: str
    format: ir.ModelFormat | None
    owners: tuple[str, ...]
    trained_on: str | None
    placements: tuple[tuple[str, str | None, SlaShown | None], ...]


class IndexGate(NamedTuple):
    source: str
    target: str
    model: str
    approval: bool
    datasets: tuple[str, ...]  # of its conditions


@record
class IndexInputs(Record):
    """Everything the index shows, and nothing else."""

    project: Project
    models: tuple[IndexModel, ...]  # the resolved models, in their order
    environments: tuple[ir.Environment, ...]
    placed: tuple[tuple[str, tuple[str, ...]], ...]  # per environment, the models it serves
    datasets: tuple[ir.Dataset, ...]
    gates: tuple[IndexGate, ...]  # in spec order
    trainings: tuple[tuple[str, str | None], ...]  # (model, dataset)


def content_key(i: IndexInputs) -> str:
    """The digest of what the index shows besides the records it holds (the project, the
    environments and datasets, which key the unit as records do): models, gates, placements
    and trainings are tuples of plain values, which ``pickle`` writes without calling back
    into Python but for each tuple class. Walked as a unit's inputs are (records by digest,
    each value by type), they were the costliest key of a one-shot build at 1,000 models."""
    data = pickle.dumps((i.models, i.gates, i.placed, i.trainings), protocol=4)
    return hashlib.sha256(data).hexdigest()


def _sla_shown(sla: ir.Sla | None) -> SlaShown | None:
    if sla is None:
        return None
    latency = tuple((o.percentile, o.threshold) for o in sla.latency)
    available = sla.availability.objective if sla.availability else None
    return latency, available, sla.error_rate, sla.throughput


def model_row(m: ir.Model, placed: Iterable[Placement]) -> IndexModel:
    """What the index shows of ``m``, served in ``placed`` (in promotion order)."""
    return IndexModel(
        m.name,
        m.format,
        tuple(m.owners),
        m.trained_on.name if m.trained_on else None,
        tuple((p.env.name, p.version, _sla_shown(p.sla)) for p in placed),
    )


def gate_row(g: ir.Gate) -> IndexGate:
    """What the index shows of a gate."""
    return IndexGate(
        g.source.name,
        g.target.name,
        g.model.name,
        bool(g.approval),
        tuple(c.dataset.name for c in g.conditions if c.dataset),
    )


def inputs(r: Resolved, models: tuple[IndexModel, ...], gates: tuple[IndexGate, ...] | None = None) -> IndexInputs:
    """The index's inputs from the resolved spec; ``models``: each resolved model's row
    (``model_row``), in their order; ``gates``: each gate's row (``gate_row``), in the spec's
    order, where the caller has them."""
    envs = tuple(r.environments.values())
    if gates is None:
        gates = tuple(map(gate_row, r.spec.gates))
    return IndexInputs(
        r.project,
        models,
        envs,
        tuple((e.name, tuple(m.name for m in r.served_models(e))) for e in envs),  # (not placed: names only)
        tuple(r.datasets.values()),
        gates,
        tuple((t.model.name, t.dataset.name if t.dataset else None) for t in r.spec.trainings),
    )


class _View:
    def __init__(self, i: IndexInputs) -> None:
        self.i = i
        self.known = {m.name for m in i.models}
        self.tiers = {e.name: e.tier for e in i.environments}
        self.placed = dict(i.placed)
        self.gates = sorted(i.gates, key=self.gate_order)

    def gate_order(self, g: IndexGate) -> tuple[int, str, int, str, str]:
        """Gates along the promotion path: by the tier of their source, then of their target."""

        def rank(name: str) -> int:
            tier = self.tiers.get(name)
            return tier.rank if tier else len(ir.Tier)

        return rank(g.source), g.source, rank(g.target), g.target, g.model

    def link(self, model: str) -> Raw:
        if model not in self.known:
            return md.code(model)
        return md.link(model, layout.catalog_model_page(model)[len(layout.CATALOG_DIR) + 1 :])

    @staticmethod
    def sla_summary(m: IndexModel) -> Raw:
        parts = []
        for env, _version, sla in m.placements:
            if sla is None:
                continue
            latency, available, error_rate, throughput = sla
            terms = [f"p{words.num(p)} < {words.duration(t)}" for p, t in latency]
            if available is not None:
                terms.append(f"{words.pct(available)} available")
            if error_rate is not None:
                terms.append(f"errors < {words.pct(error_rate)}")
            if throughput is not None:
                terms.append(f"≥ {words.num(throughput)}rps")
            parts.append(f"{env}: {', '.join(terms)}")
        return md.cell("; ".join(parts) or "—")

    def diagram(self) -> Raw:
        nodes = []
        for e in envs_in_order(list(self.i.environments)):
            tier = e.tier.value if e.tier else "no tier"
            count = len(self.placed.get(e.name, ()))
            nodes.append(
                mermaid.Node(
                    mermaid.env_id(e.name),
                    (f"{e.name} ({tier})", f"{count} model(s)" if count else ""),
                    "production" if e.tier is ir.Tier.PRODUCTION else None,
                )
            )
        by_edge: dict[tuple[str, str], list[str]] = {}
        for g in self.gates:
            if g.source in self.tiers and g.target in self.tiers:
                by_edge.setdefault((g.source, g.target), []).append(g.model + (" (approval)" if g.approval else ""))
        edges = [
            mermaid.Edge(mermaid.env_id(s), mermaid.env_id(t), tuple(models)) for (s, t), models in by_edge.items()
        ]
        return Raw(mermaid.flowchart(nodes, edges))

    def datasets(self) -> list[dict[str, object]]:
        users_of: dict[str, set[str]] = {}  # dataset -> the models trained or evaluated on it
        for m in self.i.models:
            if m.trained_on:
                users_of.setdefault(m.trained_on, set()).add(m.name)
        for model, dataset in self.i.trainings:
            if dataset:
                users_of.setdefault(dataset, set()).add(model)
        for g in self.i.gates:
            for dataset in g.datasets:
                users_of.setdefault(dataset, set()).add(g.model)
        return [
            {
                "name": md.cell(ds.name),
                "version": md.cell(ds.version or "—"),
                "sha256": md.code(ds.sha256) if ds.sha256 else md.cell("—"),
                "uri": md.code(ds.uri) if ds.uri else md.cell("—"),
                "owners": md.owners(ds.owners) if ds.owners else md.cell("—"),
                "used_by": md.joined(self.link(u) for u in sorted(users_of.get(ds.name, ()))) or md.cell("—"),
            }
            for ds in self.i.datasets
        ]

    def view(self) -> dict[str, object]:
        project = self.i.project
        in_order = envs_in_order(list(self.i.environments))
        serving = [e for e in in_order if self.placed.get(e.name)]
        gates_of: dict[str, list[IndexGate]] = {}
        for g in self.gates:
            gates_of.setdefault(g.model, []).append(g)
        models = []
        for m in self.i.models:
            versions = {env: version for env, version, _sla in m.placements}
            models.append(
                {
                    "link": self.link(m.name),
                    "format": md.cell(m.format.value if m.format else "—"),
                    "owners": md.owners(m.owners or project.owners),
                    "versions": [
                        md.cell(versions[e.name] or "unversioned") if e.name in versions else md.cell("—")
                        for e in serving
                    ],
                    "sla": self.sla_summary(m),
                    "gates": md.cell(", ".join(f"{g.source} → {g.target}" for g in gates_of.get(m.name, [])) or "—"),
                }
            )
        environments = [
            {
                "name": md.cell(e.name),
                "tier": md.cell(e.tier.value if e.tier else "—"),
                "where": md.code(f"{e.cluster or 'in-cluster'}/{namespace(e)}"),
                "models": md.joined(self.link(name) for name in self.placed.get(e.name, ())) or md.cell("—"),
            }
            for e in in_order
        ]
        return {
            "project": md.cell(project.name),
            "owners": md.owners(project.owners) if project.owners else md.cell("—"),
            "repository": md.url(project.repository) if project.repository else None,
            "runbooks": md.url(project.runbooks) if project.runbooks else None,
            "env_names": [md.cell(e.name) for e in serving],
            "models": models,
            "diagram": self.diagram(),
            "environments": environments,
            "datasets": self.datasets(),
        }


def view(i: IndexInputs) -> dict[str, object]:
    """The index template's view, from ``i`` alone."""
    return _View(i).view()
