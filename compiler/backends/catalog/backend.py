"""The catalog backend: the model catalog people read, as Markdown under ``docs/catalog/``.

An index of every model (versions per environment, owners, SLAs, datasets, the
project's promotion graph) and one page per model: owners, format and artifact,
the version and effective settings in each environment it serves, its datasets
with versions and digests (lineage), its SLAs with their error budgets, its
monitors, the gates into each environment with their conditions and approvers,
links to its dashboards (the files the monitoring backend renders) and runbooks,
and a Mermaid diagram of its promotion graph.

Everything comes from the resolve stage (``Placement`` per model and
environment; the SLO objectives the alert rules use), so the catalog says what
the other backends render. Because it is a backend, ``shipspec compile`` writes
it and ``shipspec check`` fails when the committed copy is stale. Secrets never
appear: environment variables are not part of the catalog.
"""

from __future__ import annotations

import jinja2

from compiler import ir
from compiler.backends.base import FileValidator, OutputFile, RenderContext, any_version
from compiler.backends.catalog import markdown as md
from compiler.backends.catalog import mermaid, words
from compiler.backends.catalog import page as model_page
from compiler.backends.catalog.page import PageInputs
from compiler.backends.catalog.validate import validate_markdown
from compiler.backends.memo import Scope, over
from compiler.backends.memo import unit as render_unit
from compiler.backends.objects import Renders
from compiler.backends.render import Raw, Templates
from compiler.diagnostics import Sink, Span
from compiler.resolve import Placement, Resolved, namespace
from compiler.targets import layout

KIND = "markdown"


class _Catalog:
    """One render of the catalog: the resolved spec and the paths it links between."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        self.r: Resolved = ctx.resolved
        self.spec = ctx.spec
        self.gates_of: dict[str, list[ir.Gate]] = {}
        for g in sorted(self.spec.gates, key=self.gate_order):
            self.gates_of.setdefault(g.model.name, []).append(g)
        self.trainings: dict[str, ir.Training] = {}
        for t in self.spec.trainings:
            self.trainings.setdefault(t.model.name, t)
        self.used_by: dict[str, list[str]] = {}  # ensemble members -> the ensembles that step through them
        for m in self.r.models.values():
            for name in sorted({s.model.name for s in m.steps}):
                self.used_by.setdefault(name, []).append(m.name)

    def gate_order(self, g: ir.Gate) -> tuple[int, str, int, str, str]:
        """Gates along the promotion path: by the tier of their source, then of their target."""

        def rank(name: str) -> int:
            tier = self.r.tier(name)
            return tier.rank if tier else len(ir.Tier)

        return rank(g.source.name), g.source.name, rank(g.target.name), g.target.name, g.model.name

    # -- links -------------------------------------------------------------

    @staticmethod
    def page(model: str) -> str:
        return layout.catalog_model_page(model)

    def link_from_index(self, model: str) -> Raw:
        if model not in self.r.models:
            return md.code(model)
        return md.link(model, self.page(model)[len(layout.CATALOG_DIR) + 1 :])

    # -- per model -----------------------------------------------------------

    def placements(self, model: ir.Model) -> list[Placement]:
        return [self.r.place(model, e) for e in model_page.envs_in_order(self.r.served(model))]

    def versions_row(self, model: ir.Model, envs: list[ir.Environment]) -> list[Raw]:
        served = {e.name for e in self.r.served(model)}
        return [
            md.cell(self.r.place(model, e).version or "unversioned") if e.name in served else md.cell("—") for e in envs
        ]

    def sla_summary(self, model: ir.Model) -> Raw:
        parts = []
        for p in self.placements(model):
            if p.sla is None:
                continue
            terms = [f"p{words.num(o.percentile)} < {words.duration(o.threshold)}" for o in p.sla.latency]
            if p.sla.availability:
                terms.append(f"{words.pct(p.sla.availability.objective)} available")
            if p.sla.error_rate is not None:
                terms.append(f"errors < {words.pct(p.sla.error_rate)}")
            if p.sla.throughput is not None:
                terms.append(f"≥ {words.num(p.sla.throughput)}rps")
            parts.append(f"{p.env.name}: {', '.join(terms)}")
        return md.cell("; ".join(parts) or "—")

    def page_inputs(self, model: ir.Model) -> PageInputs:
        """What ``model``'s page shows (``catalog.page``: the view is made from these alone)."""
        gates = tuple(self.gates_of.get(model.name, []))
        training = self.trainings.get(model.name)
        members = sorted({s.model.name for s in model.steps})
        return PageInputs(
            model,
            self.r.project,
            tuple(self.placements(model)),
            gates,
            training,
            tuple(self.used_by.get(model.name, [])),
            tuple(members),
            tuple(n for n in members if n in self.r.models),
            tuple((n, self.r.environments.get(n)) for n in sorted(set(model_page.gate_env_names(gates)))),
            tuple((n, self.r.datasets.get(n)) for n in sorted(set(model_page.lineage_names(model, training, gates)))),
        )

    # -- the index -------------------------------------------------------------

    def project_diagram(self) -> Raw:
        envs = model_page.envs_in_order(list(self.r.environments.values()))
        nodes = []
        for e in envs:
            tier = e.tier.value if e.tier else "no tier"
            count = len(self.r.placements(e))
            served = f"{count} model(s)" if count else ""
            nodes.append(
                mermaid.Node(
                    mermaid.env_id(e.name),
                    (f"{e.name} ({tier})", served),
                    "production" if e.tier is ir.Tier.PRODUCTION else None,
                )
            )
        by_edge: dict[tuple[str, str], list[str]] = {}
        for g in sorted(self.spec.gates, key=self.gate_order):
            if g.source.name in self.r.environments and g.target.name in self.r.environments:
                by_edge.setdefault((g.source.name, g.target.name), []).append(
                    g.model.name + (" (approval)" if g.approval else "")
                )
        edges = [
            mermaid.Edge(mermaid.env_id(s), mermaid.env_id(t), tuple(models)) for (s, t), models in by_edge.items()
        ]
        return Raw(mermaid.flowchart(nodes, edges))

    def index_view(self) -> dict[str, object]:
        project = self.r.project
        models = list(self.r.models.values())
        serving = model_page.envs_in_order([e for e in self.r.environments.values() if self.r.placements(e)])
        users_of: dict[str, set[str]] = {}  # dataset -> the models trained or evaluated on it
        for m in models:
            if m.trained_on:
                users_of.setdefault(m.trained_on.name, set()).add(m.name)
        for t in self.spec.trainings:
            if t.dataset:
                users_of.setdefault(t.dataset.name, set()).add(t.model.name)
        for g in self.spec.gates:
            for c in g.conditions:
                if c.dataset:
                    users_of.setdefault(c.dataset.name, set()).add(g.model.name)
        datasets = []
        for ds in self.r.datasets.values():
            users = sorted(users_of.get(ds.name, ()))
            datasets.append(
                {
                    "name": md.cell(ds.name),
                    "version": md.cell(ds.version or "—"),
                    "sha256": md.code(ds.sha256) if ds.sha256 else md.cell("—"),
                    "uri": md.code(ds.uri) if ds.uri else md.cell("—"),
                    "owners": md.owners(ds.owners) if ds.owners else md.cell("—"),
                    "used_by": md.joined(self.link_from_index(u) for u in users) or md.cell("—"),
                }
            )
        environments = []
        for e in model_page.envs_in_order(list(self.r.environments.values())):
            placed = self.r.placements(e)
            environments.append(
                {
                    "name": md.cell(e.name),
                    "tier": md.cell(e.tier.value if e.tier else "—"),
                    "where": md.code(f"{e.cluster or 'in-cluster'}/{namespace(e)}"),
                    "models": md.joined(self.link_from_index(p.model.name) for p in placed) or md.cell("—"),
                }
            )
        return {
            "project": md.cell(project.name),
            "owners": md.owners(project.owners) if project.owners else md.cell("—"),
            "repository": md.url(project.repository) if project.repository else None,
            "runbooks": md.url(project.runbooks) if project.runbooks else None,
            "env_names": [md.cell(e.name) for e in serving],
            "models": [
                {
                    "link": self.link_from_index(m.name),
                    "format": md.cell(m.format.value if m.format else "—"),
                    "owners": md.owners(m.owners or project.owners),
                    "versions": self.versions_row(m, serving),
                    "sla": self.sla_summary(m),
                    "gates": md.cell(
                        ", ".join(f"{g.source.name} → {g.target.name}" for g in self.gates_of.get(m.name, [])) or "—"
                    ),
                }
                for m in models
            ],
            "diagram": self.project_diagram(),
            "environments": environments,
            "datasets": datasets,
        }


class _Backend:
    name = "catalog"
    validators: dict[str, FileValidator] = {KIND: any_version(validate_markdown)}

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        if not ctx.spec.models:
            return []
        catalog = _Catalog(ctx)
        source = ctx.resolved.project.declared.span if ctx.resolved.project.declared else ctx.spec.models[0].span
        # What the index reads, not the records it reads it from: a model's record and its
        # placements change with any of its fields (a CPU request) that the index does not show.
        index = over(ctx, "catalog.index", _index, (), catalog, source, *_index_reads(catalog))
        files = [] if index is None else [OutputFile(layout.CATALOG_INDEX, index, source, kind=KIND)]
        for model in catalog.r.models.values():
            # A render unit of the records the page shows (its view is made from them alone).
            files += render_unit(ctx, "catalog.page", _page, catalog.page_inputs(model))
        return files

    @staticmethod
    def _render(ctx: Renders, template: str, source: Span, **context: object) -> str | None:
        try:
            return ctx.templates.render(template, **context)
        except (jinja2.TemplateError, TypeError) as exc:
            ctx.sink.report(
                "SS820",
                f"template {template} failed: {exc}",
                source,
                hint="fix the template (or the --templates override that replaces it)",
            )
            return None


def _index_reads(catalog: _Catalog) -> tuple[object, ...]:
    """Everything ``index_view`` reads of the spec: the project; per model its name, format,
    owners, dataset and, per environment it serves in, the version and SLA terms; which environments
    each model of the spec names (placements per environment); the environments and datasets;
    what the promotion graph and dataset users read of each gate; each training's model and
    dataset. Values, not records: an edit above a record in its file moves its spans."""
    r, spec = catalog.r, catalog.spec
    models = tuple(
        (
            m.name,
            m.format,
            m.owners,
            m.trained_on.name if m.trained_on else None,
            tuple((p.env.name, p.version, _sla_shown(p.sla)) for p in catalog.placements(m)),
        )
        for m in r.models.values()
    )
    serving = tuple((m.name, tuple(e.name for e in m.serve_in)) for m in spec.models)
    trainings = tuple((t.model.name, t.dataset.name if t.dataset else None) for t in spec.trainings)
    envs, datasets = tuple(r.environments.values()), tuple(r.datasets.values())
    # Of a gate: its environments, model, whether it asks for approval, its conditions' datasets.
    gates = tuple(
        (g.source.name, g.target.name, g.model.name, bool(g.approval), tuple(_dataset_of(c) for c in g.conditions))
        for g in spec.gates
    )
    return r.project, models, serving, envs, datasets, gates, trainings


def _dataset_of(c: ir.Condition) -> str | None:
    return c.dataset.name if c.dataset else None


def _sla_shown(sla: ir.Sla | None) -> tuple[object, ...] | None:
    """What the index shows of an SLA (``sla_summary``): its terms, not where they are written
    (an edit above it in the file moves its spans)."""
    if sla is None:
        return None
    latency = tuple((o.percentile, o.threshold) for o in sla.latency)
    available = (sla.availability.objective,) if sla.availability else None
    return latency, available, sla.error_rate, sla.throughput


def _index(sink: Sink, catalog: _Catalog, source: Span, *_read: object) -> str | None:
    """The index's text: a value (``memo.over`` of no units) keyed on ``_read``, what
    ``_index_reads`` finds ``index_view`` reads of ``catalog``."""
    return _Backend._render(Scope(catalog.ctx.templates, sink), "catalog/index.md.j2", source, o=catalog.index_view())


def _page(templates: Templates, sink: Sink, inputs: PageInputs) -> list[OutputFile]:
    source = inputs.model.span
    text = _Backend._render(Scope(templates, sink), "catalog/model.md.j2", source, m=model_page.view(inputs))
    return [] if text is None else [OutputFile(layout.catalog_model_page(inputs.model.name), text, source, kind=KIND)]


BACKEND = _Backend()
