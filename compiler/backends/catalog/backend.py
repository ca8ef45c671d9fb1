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

import pickle

import jinja2

from compiler import ir
from compiler.backends.base import FileValidator, OutputFile, RenderContext, any_version
from compiler.backends.catalog import index
from compiler.backends.catalog import page as model_page
from compiler.backends.catalog.page import PageInputs
from compiler.backends.catalog.validate import validate_markdown
from compiler.backends.memo import Scope, unit_each, unit_over
from compiler.backends.objects import Renders
from compiler.backends.render import Templates
from compiler.diagnostics import Sink, Span
from compiler.resolve import Placement, Resolved
from compiler.targets import layout

KIND = "markdown"


class _Catalog:
    """One render of the catalog: the resolved spec and the paths it links between."""

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        self.r: Resolved = ctx.resolved
        self.spec = ctx.spec
        self.gates_of = _gates_of(ctx, self)
        self.trainings: dict[str, ir.Training] = {}
        for t in self.spec.trainings:
            self.trainings.setdefault(t.model.name, t)
        self.used_by: dict[str, list[str]] = {}  # ensemble members -> the ensembles that step through them
        self._placed: dict[str, tuple[ir.Model, list[Placement]]] = {}
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

    # -- per model -----------------------------------------------------------

    def placements(self, model: ir.Model) -> list[Placement]:
        """``model``'s placements in promotion order (made once a render: the index and its page read them)."""
        made = self._placed.get(model.name)
        if made is None or made[0] is not model:
            made = self._placed[model.name] = (
                model,
                [self.r.place(model, e) for e in model_page.envs_in_order(self.r.served(model))],
            )
        return made[1]

    def page_inputs(self, model: ir.Model, placements: list[Placement] | None = None) -> PageInputs:
        """What ``model``'s page shows (``catalog.page``: the view is made from these alone);
        ``placements``: its ``placements``, where the caller has them."""
        gates = tuple(self.gates_of.get(model.name, []))
        training = self.trainings.get(model.name)
        members = sorted({s.model.name for s in model.steps}) if model.steps else []
        return PageInputs(
            model,
            self.r.project,
            tuple(self.placements(model) if placements is None else placements),
            gates,
            training,
            tuple(self.used_by.get(model.name, [])),
            tuple(members),
            tuple(n for n in members if n in self.r.models),
            tuple((n, self.r.environments.get(n)) for n in sorted(set(model_page.gate_env_names(gates)))),
            tuple((n, self.r.datasets.get(n)) for n in sorted(set(model_page.lineage_names(model, training, gates)))),
        )


class _Backend:
    name = "catalog"
    validators: dict[str, FileValidator] = {KIND: any_version(validate_markdown)}

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        if not ctx.spec.models:
            return []
        catalog = _Catalog(ctx)
        source = ctx.resolved.project.declared.span if ctx.resolved.project.declared else ctx.spec.models[0].span
        # A render unit of the values the index shows (its view is made from them alone).
        models = list(catalog.r.models.values())
        shown = index.inputs(catalog.r, _rows(ctx, catalog, models), _gate_rows(ctx))
        keys = (_content_key(ctx, shown),)
        files = unit_over(
            ctx, "catalog.index", _index, keys, shown, shown.project, shown.environments, shown.datasets, source
        )

        # A render unit per model of the records its page shows (its view is made from them alone).
        def make(model: ir.Model) -> tuple[PageInputs]:
            return (catalog.page_inputs(model),)

        owners = [model.name for model in models]
        shared = (catalog.r.project,)
        return files + unit_each(ctx, "catalog.page", _page, models, make=make, owners=owners, shared=shared)

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


# What a watching build keeps of the index for its next step (``Units.state``): each model's
# row by its name, and the content key with the values it was made from; and each model's
# gates in promotion order, and the index's row of each gate with the gates it was made from.
_ROWS, _KEY, _GATES_OF, _GATE_ROWS = "catalog.rows", "catalog.key", "catalog.gates_of", "catalog.gate_rows"


def _gates_of(ctx: RenderContext, catalog: _Catalog) -> dict[str, list[ir.Gate]]:
    """Each model's gates in promotion order (``_Catalog.gate_order``); a watching build takes
    last step's list of a model no edit changed (``Units.changed``: its gates are the records
    they were, and the environments whose tiers order them too) and sorts only the changed
    models' gates: sorting all 3,000 at 1,000 models by a key made in Python was ~2 ms a step."""
    units = ctx.units
    gates = ctx.spec.gates
    changed = units.changed if units is not None and units.by_identity else None
    last: dict[str, list[ir.Gate]] | None = units.carried_state.get(_GATES_OF) if units is not None else None
    if changed is None or last is None:
        made: dict[str, list[ir.Gate]] = {}
        order = sorted(gates, key=catalog.gate_order)
    else:
        made = {name: kept for name, kept in last.items() if name not in changed}
        order = sorted((g for g in gates if g.model.name in changed), key=catalog.gate_order) if changed else []
    for g in order:
        made.setdefault(g.model.name, []).append(g)
    if units is not None and units.by_identity:
        units.state[_GATES_OF] = made
    return made


def _rows(ctx: RenderContext, catalog: _Catalog, models: list[ir.Model]) -> tuple[index.IndexModel, ...]:
    """Each model's row of the index; a watching build takes last step's for a model no edit
    changed (``Units.changed``: a row is made of the model's own records and the
    environments' order), instead of placing every model again."""
    units = ctx.units
    if units is None or not units.by_identity:
        return tuple(index.model_row(m, catalog.placements(m)) for m in models)
    changed = units.changed
    known: dict[str, index.IndexModel] = units.carried_state.get(_ROWS, {}) if changed is not None else {}
    rows = []
    for m in models:
        row = known.get(m.name) if changed is not None and m.name not in changed else None
        rows.append(row if row is not None else index.model_row(m, catalog.placements(m)))
    units.state[_ROWS] = {row.name: row for row in rows}
    return tuple(rows)


def _gate_rows(ctx: RenderContext) -> tuple[index.IndexGate, ...]:
    """Each gate's row of the index (``index.gate_row``); a watching build takes last step's
    for a gate that is the very record it was, where it was (a row is made of its own fields)."""
    units = ctx.units
    gates = ctx.spec.gates
    if units is None or not units.by_identity:
        return tuple(map(index.gate_row, gates))
    last = units.carried_state.get(_GATE_ROWS)
    if last is None or len(last[0]) != len(gates):
        rows = tuple(map(index.gate_row, gates))
    else:
        rows = tuple(r if g is k else index.gate_row(g) for g, k, r in zip(gates, last[0], last[1], strict=True))
    units.state[_GATE_ROWS] = (gates, rows)
    return rows


def _content_key(ctx: RenderContext, shown: index.IndexInputs) -> str:
    """``index.content_key``; a watching build's last step's, where what it is made of is equal."""
    units = ctx.units
    if units is None or not units.by_identity:
        return index.content_key(shown)
    last = units.carried_state.get(_KEY)
    if (
        last is not None
        and (shown.gates, shown.placed, shown.trainings) == last[0][1:]  # strings and booleans only
        and _same_rows(shown.models, last[0][0])
    ):
        key: str = last[1]
    else:
        key = index.content_key(shown)
    units.state[_KEY] = ((shown.models, shown.gates, shown.placed, shown.trainings), key)
    return key


def _same_rows(now: tuple[index.IndexModel, ...], before: tuple[index.IndexModel, ...]) -> bool:
    """Whether the rows pickle the same (``content_key``): each kept row is last step's object,
    and one made again is compared by its pickle (1 == 1.0, but the index shows them apart)."""
    return len(now) == len(before) and all(
        a is b or pickle.dumps(a, protocol=4) == pickle.dumps(b, protocol=4) for a, b in zip(now, before, strict=True)
    )


def _index(
    templates: Templates,
    sink: Sink,
    inputs: index.IndexInputs,
    _project: object,
    _environments: object,
    _datasets: object,
    source: Span,
) -> list[OutputFile]:
    """The index, from ``inputs``: keyed by ``index.content_key`` and by the records it holds
    (the project, environments and datasets, passed only to key it), reported at ``source``."""
    text = _Backend._render(Scope(templates, sink), "catalog/index.md.j2", source, o=index.view(inputs))
    return [] if text is None else [OutputFile(layout.CATALOG_INDEX, text, source, kind=KIND)]


def _page(templates: Templates, sink: Sink, inputs: PageInputs) -> list[OutputFile]:
    source = inputs.model.span
    text = _Backend._render(Scope(templates, sink), "catalog/model.md.j2", source, m=model_page.view(inputs))
    return [] if text is None else [OutputFile(layout.catalog_model_page(inputs.model.name), text, source, kind=KIND)]


BACKEND = _Backend()
