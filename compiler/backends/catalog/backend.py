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
from compiler.backends.catalog.validate import validate_markdown
from compiler.backends.memo import Scope
from compiler.backends.memo import unit as render_unit
from compiler.backends.objects import Renders
from compiler.backends.render import Raw, Templates
from compiler.diagnostics import Sink, Span
from compiler.resolve import Placement, Resolved, namespace
from compiler.targets import layout
from compiler.targets.grafana import dashboard_uid, runbook_url

KIND = "markdown"


def _envs_in_order(envs: list[ir.Environment]) -> list[ir.Environment]:
    """Environments along the promotion path (tier rank), then by name."""
    return sorted(envs, key=lambda e: (e.tier.rank if e.tier else len(ir.Tier), e.name))


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit, size in (("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def _resources(r: ir.Resources | None) -> str:
    if r is None:
        return ""
    parts = []
    if r.cpu is not None:
        parts.append(f"{words.num(r.cpu)} CPU")
    if r.memory is not None:
        parts.append(_size(r.memory))
    if r.gpu:
        parts.append(f"{r.gpu} GPU")
    return ", ".join(parts)


def _spec_place(span: Span) -> Raw:
    return md.code(f"{span.file}:{span.line}")


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

    def link_from_page(self, model: str) -> Raw:
        if model not in self.r.models:
            return md.code(model)
        return md.link(model, f"{model}.md")

    @staticmethod
    def from_page(path: str) -> str:
        """A path of the output root as a link from a model page."""
        depth = layout.catalog_model_page("x").count("/")
        return "../" * depth + path

    # -- per model -----------------------------------------------------------

    def placements(self, model: ir.Model) -> list[Placement]:
        return [self.r.place(model, e) for e in _envs_in_order(self.r.served(model))]

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

    def environments(self, model: ir.Model) -> list[dict[str, Raw]]:
        rows = []
        for p in self.placements(model):
            pinned = p.override is not None and p.override.version is not None
            version = p.version or "unversioned"
            replicas = f"{p.replicas.min}..{p.replicas.max}" if p.replicas else "1"
            rows.append(
                {
                    "env": md.cell(p.env.name),
                    "tier": md.cell(p.env.tier.value if p.env.tier else ""),
                    "where": md.code(f"{p.env.cluster or 'in-cluster'}/{p.namespace}"),
                    "version": md.cell(f"{version} (pinned)" if pinned else version),
                    "replicas": md.cell(replicas),
                    "resources": md.cell(_resources(p.resources) or "—"),
                    "instances": md.cell(str(p.instances)),
                    "gate": md.cell(f"from {p.gate.source.name}" if p.gate else "—"),
                }
            )
        return rows

    def lineage(self, model: ir.Model) -> list[dict[str, Raw]]:
        uses: dict[str, list[str]] = {}
        if model.trained_on:
            uses.setdefault(model.trained_on.name, []).append("trained on")
        training = self.trainings.get(model.name)
        if training and training.dataset:
            uses.setdefault(training.dataset.name, []).append(
                f"training job in {training.environment.name}" if training.environment else "training job"
            )
        for g in self.gates_of.get(model.name, []):
            for c in g.conditions:
                if c.dataset:
                    uses.setdefault(c.dataset.name, []).append(f"gate {g.source.name} → {g.target.name}: {c.metric}")
        rows = []
        for name, why in uses.items():
            ds = self.r.datasets.get(name)
            rows.append(
                {
                    "dataset": md.cell(name),
                    "version": md.cell(ds.version if ds and ds.version else "—"),
                    "sha256": md.code(ds.sha256) if ds and ds.sha256 else md.cell("— (no digest: not reproducible)"),
                    "uri": md.code(ds.uri) if ds and ds.uri else md.cell("—"),
                    "owners": md.owners(ds.owners) if ds else md.cell("—"),
                    "use": md.cell("; ".join(dict.fromkeys(why))),
                }
            )
        return rows

    def training(self, model: ir.Model) -> dict[str, Raw] | None:
        t = self.trainings.get(model.name)
        if t is None:
            return None
        scale = f"{t.nodes} node(s) × {t.gpus} GPU(s)" if t.gpus else f"{t.nodes} node(s), CPU"
        hyper = ", ".join(
            f"{h.name} {h.value if isinstance(h.value, str) else words.num(h.value)}" for h in t.hyperparameters
        )
        return {
            "env": md.cell(t.environment.name if t.environment else "—"),
            "image": md.code(t.image) if t.image else md.cell("—"),
            "scale": md.cell(scale),
            "hyperparameters": md.cell(hyper or "—"),
            "tracking": md.url(t.tracking) if t.tracking else md.cell("—"),
            "experiment": md.cell(t.experiment or "—"),
            "source": _spec_place(t.span),
        }

    def slas(self, model: ir.Model) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for p in self.placements(model):
            sla = p.sla
            if sla is None:
                continue
            table = [
                {"objective": md.cell(what), "window": md.cell(period), "budget": md.cell(budget)}
                for what, period, budget in words.sla_budgets(sla)
            ]
            out.append({"env": md.cell(p.env.name), "rows": table, "source": _spec_place(sla.span)})
        return out

    def monitors(self, model: ir.Model) -> list[dict[str, Raw]]:
        rows = []
        for p in self.placements(model):
            for mon in p.monitors:
                for rule in mon.rules:
                    rows.append(
                        {
                            "env": md.cell(p.env.name),
                            "condition": md.cell(words.monitor_rule(rule)),
                            "for": md.cell(words.duration(rule.duration)),
                            "action": md.cell(rule.action or "alert"),
                        }
                    )
        return rows

    def gates(self, model: ir.Model) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for g in self.gates_of.get(model.name, []):
            out.append(
                {
                    "title": md.cell(
                        f"{g.source.name} → {g.target.name}"
                        + (" (production)" if self.r.tier(g.target.name) is ir.Tier.PRODUCTION else "")
                    ),
                    "conditions": [md.cell(words.condition(c)) for c in g.conditions],
                    "load": md.cell(words.load(g.load)) if g.load else None,
                    "canary": md.cell(words.canary(g.canary)) if g.canary else None,
                    "approvers": md.owners(g.approval)
                    if g.approval
                    else md.cell("none: promotes when the checks pass"),
                    "source_place": _spec_place(g.span),
                }
            )
        return out

    def links(self, model: ir.Model) -> dict[str, object]:
        dashboards = []
        for p in self.placements(model):
            path = layout.dashboard_path(p.env.name, model.name)
            dashboards.append(
                {
                    "env": md.cell(p.env.name),
                    "file": md.link(path, self.from_page(path)),
                    "uid": md.code(dashboard_uid(p.env.name, model.name)),
                    "manifests": md.link(f"{layout.env_dir(p.env.name)}/", self.from_page(layout.env_dir(p.env.name))),
                }
            )
        runbooks = self.r.project.runbooks
        return {
            "dashboards": dashboards,
            "runbook": md.url(runbook_url(runbooks, model.name)) if runbooks else None,
        }

    def diagram(self, model: ir.Model) -> Raw:
        served = {e.name: e for e in self.r.served(model)}
        gates = self.gates_of.get(model.name, [])
        names = set(served) | {g.source.name for g in gates} | {g.target.name for g in gates}
        envs = _envs_in_order([self.r.environments[n] for n in names if n in self.r.environments])
        nodes = []
        for e in envs:
            tier = e.tier.value if e.tier else "no tier"
            if e.name in served:
                version = self.r.place(model, e).version or "unversioned"
                css = "production" if e.tier is ir.Tier.PRODUCTION else None
                nodes.append(mermaid.Node(mermaid.env_id(e.name), (f"{e.name} ({tier})", version), css))
            else:
                nodes.append(mermaid.Node(mermaid.env_id(e.name), (f"{e.name} ({tier})", "not served"), "outside"))
        known = {e.name for e in envs}
        edges = []
        for g in gates:
            if g.source.name not in known or g.target.name not in known:
                continue  # an unknown environment: the checker reports it
            lines = [words.condition(c) for c in g.conditions]
            lines += [words.load(g.load)] if g.load else []
            lines += [f"canary {words.canary(g.canary)}"] if g.canary else []
            lines += [f"approval {' '.join(g.approval)}"] if g.approval else []
            edges.append(mermaid.Edge(mermaid.env_id(g.source.name), mermaid.env_id(g.target.name), tuple(lines)))
        return Raw(mermaid.flowchart(nodes, edges))

    def model_view(self, model: ir.Model) -> dict[str, object]:
        ensemble = model.format is ir.ModelFormat.ENSEMBLE
        members = sorted({s.model.name for s in model.steps})
        return {
            "name": md.cell(model.name),
            "owners": md.owners(model.owners or self.r.project.owners),
            "owners_inherited": not model.owners and bool(self.r.project.owners),
            "format": md.cell(model.format.value if model.format else "—"),
            "artifact": md.code(model.artifact)
            if model.artifact
            else md.cell("— (an ensemble: no artifact of its own)" if ensemble else "—"),
            "version": md.cell(model.version or "unversioned"),
            "source": _spec_place(model.span),
            "inputs": md.joined(md.code(f"{t.name}: {t.dtype}{list(t.dims)}") for t in model.inputs),
            "outputs": md.joined(md.code(f"{t.name}: {t.dtype}{list(t.dims)}") for t in model.outputs),
            "members": md.joined(self.link_from_page(n) for n in members),
            "used_by": md.joined(self.link_from_page(n) for n in self.used_by.get(model.name, [])),
            "environments": self.environments(model),
            "diagram": self.diagram(model),
            "lineage": self.lineage(model),
            "training": self.training(model),
            "slas": self.slas(model),
            "monitors": self.monitors(model),
            "gates": self.gates(model),
            "links": self.links(model),
        }

    # -- the index -------------------------------------------------------------

    def project_diagram(self) -> Raw:
        envs = _envs_in_order(list(self.r.environments.values()))
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
        serving = _envs_in_order([e for e in self.r.environments.values() if self.r.placements(e)])
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
        for e in _envs_in_order(list(self.r.environments.values())):
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
        files = []
        index = self._render(ctx, "catalog/index.md.j2", source, o=catalog.index_view())
        if index is not None:
            files.append(OutputFile(layout.CATALOG_INDEX, index, source, kind=KIND))
        for model in catalog.r.models.values():
            # A render unit of exactly the template's inputs (the view is plain data).
            files += render_unit(ctx, "catalog.page", _page, model.name, model.span, catalog.model_view(model))
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


def _page(templates: Templates, sink: Sink, model: str, source: Span, view: dict[str, object]) -> list[OutputFile]:
    page = _Backend._render(Scope(templates, sink), "catalog/model.md.j2", source, m=view)
    return [] if page is None else [OutputFile(layout.catalog_model_page(model), page, source, kind=KIND)]


BACKEND = _Backend()
