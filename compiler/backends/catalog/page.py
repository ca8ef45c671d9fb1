"""One model's catalog page as data: what it reads (``PageInputs``) and its template's view.

The page is a render unit (``backends.memo``) keyed on ``PageInputs``: the records the
page shows, gathered by the backend from the resolved spec. The view is made from those
inputs alone (this module never sees the resolved spec), so the key holds everything
the page depends on, and a build whose inputs for a page are unchanged neither makes its
view nor renders it (issue 16: making all 1,000 views to key the pages on them was a
tenth of a one-field edit).
"""

from __future__ import annotations

from compiler import ir
from compiler.backends.catalog import markdown as md
from compiler.backends.catalog import mermaid, words
from compiler.backends.render import Raw
from compiler.diagnostics import Span
from compiler.records import Record, record
from compiler.resolve import Placement, Project
from compiler.targets import layout
from compiler.targets.grafana import dashboard_uid, runbook_url


@record
class PageInputs(Record):
    """Everything a model's page shows, and nothing else."""

    model: ir.Model
    project: Project
    # Where it is served, in promotion order (tier rank, then name).
    placements: tuple[Placement, ...]
    # The gates of this model, in promotion order.
    gates: tuple[ir.Gate, ...]
    training: ir.Training | None
    used_by: tuple[str, ...]  # the ensembles that step through it
    members: tuple[str, ...]  # its ensemble steps' models, by name
    known: tuple[str, ...]  # which of ``members`` are models of the spec (linked; the others are code)
    # The environments its gates name, by name (None: no such environment).
    environments: tuple[tuple[str, ir.Environment | None], ...]
    # The datasets its lineage names, by name (None: no such dataset).
    datasets: tuple[tuple[str, ir.Dataset | None], ...]


def envs_in_order(envs: list[ir.Environment]) -> list[ir.Environment]:
    """Environments along the promotion path (tier rank), then by name."""
    return sorted(envs, key=lambda e: (e.tier.rank if e.tier else len(ir.Tier), e.name))


def lineage_names(model: ir.Model, training: ir.Training | None, gates: tuple[ir.Gate, ...]) -> list[str]:
    """The datasets a model's page names: trained on, its training job's, its gates' conditions'."""
    names = [model.trained_on.name] if model.trained_on else []
    names += [training.dataset.name] if training and training.dataset else []
    names += [c.dataset.name for g in gates for c in g.conditions if c.dataset]
    return names


def gate_env_names(gates: tuple[ir.Gate, ...]) -> list[str]:
    return [n for g in gates for n in (g.source.name, g.target.name)]


def spec_place(span: Span) -> Raw:
    return md.code(f"{span.file}:{span.line}")


def from_page(path: str) -> str:
    """A path of the output root as a link from a model page."""
    depth = layout.catalog_model_page("x").count("/")
    return "../" * depth + path


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit, size in (("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def resources(r: ir.Resources | None) -> str:
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


class _Page:
    def __init__(self, i: PageInputs) -> None:
        self.i = i
        self.envs = dict(i.environments)
        self.datasets = dict(i.datasets)

    def link(self, model: str) -> Raw:
        return md.link(model, f"{model}.md") if model in self.i.known else md.code(model)

    def environments(self) -> list[dict[str, Raw]]:
        rows = []
        for p in self.i.placements:
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
                    "resources": md.cell(resources(p.resources) or "—"),
                    "instances": md.cell(str(p.instances)),
                    "gate": md.cell(f"from {p.gate.source.name}" if p.gate else "—"),
                }
            )
        return rows

    def lineage(self) -> list[dict[str, Raw]]:
        model, training = self.i.model, self.i.training
        uses: dict[str, list[str]] = {}
        if model.trained_on:
            uses.setdefault(model.trained_on.name, []).append("trained on")
        if training and training.dataset:
            uses.setdefault(training.dataset.name, []).append(
                f"training job in {training.environment.name}" if training.environment else "training job"
            )
        for g in self.i.gates:
            for c in g.conditions:
                if c.dataset:
                    uses.setdefault(c.dataset.name, []).append(f"gate {g.source.name} → {g.target.name}: {c.metric}")
        rows = []
        for name, why in uses.items():
            ds = self.datasets.get(name)
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

    def training(self) -> dict[str, Raw] | None:
        t = self.i.training
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
            "source": spec_place(t.span),
        }

    def slas(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for p in self.i.placements:
            sla = p.sla
            if sla is None:
                continue
            table = [
                {"objective": md.cell(what), "window": md.cell(period), "budget": md.cell(budget)}
                for what, period, budget in words.sla_budgets(sla)
            ]
            out.append({"env": md.cell(p.env.name), "rows": table, "source": spec_place(sla.span)})
        return out

    def monitors(self) -> list[dict[str, Raw]]:
        rows = []
        for p in self.i.placements:
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

    def _tier(self, name: str) -> ir.Tier | None:
        env = self.envs.get(name)
        return env.tier if env else None

    def gates(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for g in self.i.gates:
            out.append(
                {
                    "title": md.cell(
                        f"{g.source.name} → {g.target.name}"
                        + (" (production)" if self._tier(g.target.name) is ir.Tier.PRODUCTION else "")
                    ),
                    "conditions": [md.cell(words.condition(c)) for c in g.conditions],
                    "load": md.cell(words.load(g.load)) if g.load else None,
                    "canary": md.cell(words.canary(g.canary)) if g.canary else None,
                    "approvers": md.owners(g.approval)
                    if g.approval
                    else md.cell("none: promotes when the checks pass"),
                    "source_place": spec_place(g.span),
                }
            )
        return out

    def links(self) -> dict[str, object]:
        model = self.i.model
        dashboards = []
        for p in self.i.placements:
            path = layout.dashboard_path(p.env.name, model.name)
            dashboards.append(
                {
                    "env": md.cell(p.env.name),
                    "file": md.link(path, from_page(path)),
                    "uid": md.code(dashboard_uid(p.env.name, model.name)),
                    "manifests": md.link(f"{layout.env_dir(p.env.name)}/", from_page(layout.env_dir(p.env.name))),
                }
            )
        runbooks = self.i.project.runbooks
        return {
            "dashboards": dashboards,
            "runbook": md.url(runbook_url(runbooks, model.name)) if runbooks else None,
        }

    def diagram(self) -> Raw:
        served = {p.env.name: p for p in self.i.placements}
        gates = self.i.gates
        names = set(served) | {g.source.name for g in gates} | {g.target.name for g in gates}
        known_envs = {p.env.name: p.env for p in self.i.placements}
        known_envs.update((n, e) for n, e in self.i.environments if e is not None and n not in known_envs)
        envs = envs_in_order([known_envs[n] for n in names if n in known_envs])
        nodes = []
        for e in envs:
            tier = e.tier.value if e.tier else "no tier"
            if e.name in served:
                version = served[e.name].version or "unversioned"
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


def view(i: PageInputs) -> dict[str, object]:
    """The model page template's view (``m``)."""
    page, model, project = _Page(i), i.model, i.project
    ensemble = model.format is ir.ModelFormat.ENSEMBLE
    return {
        "name": md.cell(model.name),
        "owners": md.owners(model.owners or project.owners),
        "owners_inherited": not model.owners and bool(project.owners),
        "format": md.cell(model.format.value if model.format else "—"),
        "artifact": md.code(model.artifact)
        if model.artifact
        else md.cell("— (an ensemble: no artifact of its own)" if ensemble else "—"),
        "version": md.cell(model.version or "unversioned"),
        "source": spec_place(model.span),
        "inputs": md.joined(md.code(f"{t.name}: {t.dtype}{list(t.dims)}") for t in model.inputs),
        "outputs": md.joined(md.code(f"{t.name}: {t.dtype}{list(t.dims)}") for t in model.outputs),
        "members": md.joined(page.link(n) for n in i.members),
        "used_by": md.joined(md.link(n, f"{n}.md") for n in i.used_by),
        "environments": page.environments(),
        "diagram": page.diagram(),
        "lineage": page.lineage(),
        "training": page.training(),
        "slas": page.slas(),
        "monitors": page.monitors(),
        "gates": page.gates(),
        "links": page.links(),
    }
