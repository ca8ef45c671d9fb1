"""The monitoring backend: per environment, a raw Prometheus rules file, the
same groups in a ``PrometheusRule``, a ``ServiceMonitor`` per served model
(Triton's metrics port) and a Grafana dashboard per model in a ConfigMap.

The raw rules file is not a Kubernetes object (kind ``prometheus-rules``, no
documents), so the environment's kustomization does not list it; it is what
``promtool`` and a plain Prometheus read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from compiler import ir
from compiler.backends.base import FileValidator, OutputFile, RenderContext, any_version
from compiler.backends.memo import Units, group_each, keyed_over, keyed_value, unit, unit_over
from compiler.backends.memo import text as kept_text
from compiler.backends.monitoring import alerting
from compiler.backends.monitoring.absence import absence_group
from compiler.backends.monitoring.dashboard import dashboard
from compiler.backends.monitoring.rules_yaml import dashboard_json, groups_yaml, text_block
from compiler.backends.monitoring.signals import serving_group, signal_groups
from compiler.backends.monitoring.slo import (
    Group,
    Scope,
    Target,
    availability_groups,
    availability_sli_group,
    latency_groups,
    summary_quantile,
)
from compiler.backends.render import Raw, Templates
from compiler.backends.spooled import spooled, streamed
from compiler.diagnostics import Sink, Span
from compiler.resolve import Placement, Project, availability_objective, namespace
from compiler.resources import templates_dir
from compiler.serialize import load_all
from compiler.targets.kubernetes import k8s_name
from compiler.targets.layout import dashboard_path, monitoring_dir
from compiler.targets.triton import has_histograms

RULES_KIND = "prometheus-rules"
_NAME = attrgetter("name")
METRICS_PORT = "http-metrics"  # the Service port the kubernetes backend gives Triton's 8002 (k8s_serving.service)
SCRAPE_INTERVAL, SCRAPE_TIMEOUT = "15s", "10s"


def _labels(project: Project, env: ir.Environment, **extra: str) -> dict[str, str]:
    out = {
        "app.kubernetes.io/managed-by": "shipspec",
        "app.kubernetes.io/part-of": project.name,
        "shipspec.dev/environment": env.name,
    }
    out.update(extra)
    return out


def _selected_by(ctx: RenderContext) -> dict[str, str]:
    """The labels the Prometheus Operator selects ServiceMonitors and
    PrometheusRules by: the monitoring environment's ``prometheus_label``s."""
    return dict(_selecting(ctx))


def _selecting(ctx: RenderContext) -> tuple[tuple[str, str], ...]:
    """``_selected_by`` as the spec gives it: a unit's input a watching process keys by value
    (``memo.identities``), not a dict made again each build."""
    home = ctx.resolved.monitoring_env
    return home.prometheus_labels if home is not None else ()


def _load(path: str, text: str, sink: Sink, source: Any) -> tuple[dict[str, Any], ...]:
    try:
        docs = [d for d in load_all(text) if d is not None]
    except yaml.YAMLError as e:
        sink.report("SS805", f"{path}: {e}".replace("\n", " "), source)
        return ()
    return tuple(docs)


_MARK = "__shipspec_view_"
_SKELETON = "monitoring skeleton"  # its entries' first part in ``Templates.derived``


class _Unfilled(Exception):
    """A placeholder the template transformed (e.g. concatenated): parse for real."""


def _marker(key: str, value: Any) -> Any:
    if isinstance(value, dict) and value:
        return {_MARK + key: _MARK}
    if isinstance(value, list | tuple) and value:
        return [_MARK + key]
    if isinstance(value, str) and value:
        return _MARK + key
    return value  # numbers, booleans, None, empties: literal (they may steer conditionals)


def _fill(node: Any, view: dict[str, Any]) -> Any:
    if isinstance(node, str):
        if node.startswith(_MARK) and node[len(_MARK) :] in view:
            return view[node[len(_MARK) :]]
        if _MARK in node:
            raise _Unfilled(node)
        return node
    if isinstance(node, dict):
        if len(node) == 1:
            ((key, value),) = node.items()
            if value == _MARK and isinstance(key, str) and key[len(_MARK) :] in view:
                return dict(view[key[len(_MARK) :]])
        return {_fill(k, view): _fill(v, view) for k, v in node.items()}
    if isinstance(node, list):
        if len(node) == 1 and isinstance(node[0], str) and node[0].startswith(_MARK):
            value = view.get(node[0][len(_MARK) :])
            if isinstance(value, list | tuple):
                return list(value)
        return [_fill(v, view) for v in node]
    return node


def _obj(
    templates: Templates,
    sink: Sink,
    path: str,
    template: str,
    source: Any,
    parsed: dict[str, Any] | None = None,
    **view: Any,
) -> OutputFile:
    """Render a template; its documents come from a skeleton (the template
    rendered once with placeholders and parsed) filled with this view's
    values. Parsing every small document back costs ~0.5 ms in PyYAML's
    constructor, filling a skeleton microseconds; when a template transforms
    a value the skeleton cannot place, the text is parsed for real.
    ``parsed`` gives what YAML reads back for view values passed as ``Raw`` text."""
    text = templates.render(template, o=view)
    if not templates.shipped(template):
        # An override may transform a placeholder past recognition (``| upper``): the skeleton
        # is only as good as the templates it was checked with, shipspec's own.
        return OutputFile(path, text, source, documents=_load(path, text, sink, source))
    literal = tuple(sorted((k, repr(v)) for k, v in view.items() if _marker(k, v) is v))
    skeletons = templates.derived
    key = (_SKELETON, template, literal)
    if key not in skeletons:
        marked = {k: _marker(k, v) for k, v in view.items()}
        skeletons[key] = _load(path, templates.render(template, o=marked), Sink(), source) or None
    skeleton = skeletons[key]
    if skeleton is not None:
        try:
            values = {**view, **(parsed or {})}
            return OutputFile(path, text, source, documents=tuple(_fill(d, values) for d in skeleton))
        except (_Unfilled, KeyError, TypeError):
            pass
    return OutputFile(path, text, source, documents=_load(path, text, sink, source))


@dataclass(slots=True)
class _Scoped:
    """What a model's units render with (``memo.unit``): the build's memo and templates, another sink."""

    units: Units | None
    templates: Templates
    sink: Sink


class _Backend:
    name = "monitoring"
    # Rule groups are checked as data before they are laid out (rules_problems);
    # Alertmanager's configuration is checked as the text written.
    validators: dict[str, FileValidator] = {alerting.ALERTMANAGER_KIND: any_version(alerting.validate_config)}

    def render(self, ctx: RenderContext) -> list[OutputFile]:
        spec, project = ctx.spec, ctx.resolved.project
        version = project.triton_version
        files: list[OutputFile] = []
        body = functools.partial(_placement, ctx.units, ctx.templates)
        selecting = _selecting(ctx)
        r = ctx.resolved
        # Each environment's first SLA's (else first monitor's) span, and every ensemble's name:
        # looked for once, not over every SLA and monitor for each environment (an environment
        # without SLAs went over all 2,000 at 1,000 models, every watching step).
        first_sla = {s.environment.name: s.span for s in reversed(spec.slas)}
        first_monitor = {m.environment.name: m.span for m in reversed(spec.monitors)}
        ensembles = frozenset(m.name for m in spec.models if m.format is ir.ModelFormat.ENSEMBLE)
        for env in spec.environments:
            models = r.served_models(env)
            if not models:
                continue
            out_dir, ns = monitoring_dir(env.name), namespace(env)
            names: list[str] = []  # each model's groups' names, in order
            group_keys: list[str | None] = []  # the key of each model's groups (and of the shared ones)
            problems: list[list[str]] = []  # each group's own problems (group_problems)
            texts: list[Any] = []  # each model's groups as YAML (str, or memo.LazyText), in order
            periods: dict[str, float] = {}  # model -> SLO period, for the shared SLI rules
            quantiles: set[float] = set()

            # One body per placement, placed only where a block is not handed back: a watching
            # build hands back an unchanged one's whole.
            def make(m: ir.Model, env: ir.Environment = env) -> tuple[Placement, Project, tuple[tuple[str, str], ...]]:
                return r.place(m, env), project, selecting

            blocks: list[tuple[_Placed, ...]] = []
            bodies = group_each(
                ctx,
                "monitoring.placement",
                body,
                models,
                make=make,
                owners=[m.name for m in models],
                shared=(env, project, selecting),
                blocks=blocks,
            )
            for fold in _folds(ctx, models, blocks) if blocks else [_fold(models, bodies)]:
                periods.update(fold.periods)
                quantiles |= fold.quantiles
                group_keys += fold.group_keys
                names += fold.names
                problems += fold.problems
                texts += fold.texts
                files += fold.files
            path = f"{out_dir}/rules.yml"
            source = first_sla.get(env.name)
            if source is None:
                source = first_monitor.get(env.name, env.span)
            shared: list[Group] = []
            shared_texts: list[str] = []
            shared_problems: list[list[str]] = []
            wrapped: list[OutputFile] = []
            for part, share in enumerate(shared_parts(tuple(map(_NAME, models)))):
                members = set(share)
                # (a name is one model's: two alike are an error, and nothing renders)
                scope = (env.name, ns, share, tuple(sorted(ensembles & members)), part)
                # A value of what the shared groups read: not over the models' units, whose keys
                # change with any field of any model (a replica count, a CPU request). Sets as
                # sorted tuples: a set of strings pickles in this process's hash order, a miss in
                # the next.
                own_periods = {m: p for m, p in periods.items() if m in members}
                shared_key, made_shared = keyed_value(
                    ctx, "monitoring.shared", _shared_groups, scope, own_periods, tuple(sorted(quantiles)), version
                )
                group_keys.insert(part, shared_key)
                shared += made_shared[0]
                shared_texts.append(made_shared[1])
                shared_problems += made_shared[2]
                # A unit over the shared groups' key: the PrometheusRule around them was made
                # again every build (its shell rendered and parsed back, the groups' text read
                # from the memo's pack and checked: a one-model edit's compile made 7 at 1,000 models).
                given_shared = (made_shared[0], made_shared[1], ctx)
                wrapped += unit_over(
                    ctx,
                    "monitoring.shared_rule",
                    self._shared_rule_unit,
                    (shared_key,),
                    given_shared,
                    env,
                    part,
                    project,
                    selecting,
                    out_dir,
                    source,
                )
            # What Prometheus' rule loader would refuse (rules_problems), from each group's own
            # problems (memoised with it) and the names repeated across them.
            for problem in _problems([g["name"] for g in shared] + names, shared_problems + problems, 5):
                ctx.sink.report("SS804", f"{path}: {problem}", source)
            # groups_yaml joins one line per line: the YAML of a list is its parts' joined. The file
            # is a unit over the groups' keys: an edit that leaves every group as it was (most
            # edits) takes it from the memo rather than laying out 8 MB again at 1,000 models.
            given_parts = ([*shared_texts, *texts], ctx)
            files += unit_over(ctx, "monitoring.rules", self._rules_unit, group_keys, given_parts, out_dir, source)
            files += wrapped
        files += self._alerting(ctx)
        return files

    def _alerting(self, ctx: RenderContext) -> list[OutputFile]:
        """The monitoring tier: drift jobs, the retrain relay, Alertmanager's configuration."""
        return alerting.render(ctx)

    def _rules_unit(
        self, _templates: Templates, _sink: Sink, given: tuple[list[str], RenderContext], out_dir: str, source: Span
    ) -> list[OutputFile]:
        """The rules file as a unit over its groups' keys (``given``: their texts, and the build's
        context, whose spool it is written to; its templates are the unit's)."""
        parts, ctx = given
        return [self._rules_file(ctx, [kept_text(p) for p in parts], out_dir, source)]

    def _rules_file(self, ctx: RenderContext, parts: list[str], out_dir: str, source: Span) -> OutputFile:
        """The environment's rules file (for Prometheus' ``rule_files`` and ``promtool``): every
        group, shared and each model's, whose YAML is ``parts`` joined by newlines (their
        problems are ``_shared_groups``' and ``_groups_of``' to report)."""
        path = f"{out_dir}/rules.yml"
        # The groups are emitted once and laid out here and in the models' PrometheusRules:
        # YAML emission is the cost of this backend (thousands of rules per environment). With
        # the shipped template and a spool, the file is written to the spool part by part
        # (``spooled.streamed``): the template rendered around a placeholder, the parts laid
        # out where it landed; otherwise the whole text is made here.
        raw_template = "monitoring/rules.yaml.j2"
        raw = _streamed(ctx, path, source, RULES_KIND, (), raw_template, {"groups": Raw(_PLACEHOLDER)}, parts, 2)
        if raw is None:
            raw_text = ctx.templates.render(raw_template, o={"groups": _indent("\n".join(parts), 2)})
            raw = spooled(ctx, OutputFile(path, raw_text, source, RULES_KIND))
        return raw

    def _shared_rule_unit(
        self,
        _templates: Templates,
        sink: Sink,
        given: tuple[list[Group], Any, RenderContext],
        env: ir.Environment,
        part: int,
        _project: Project,
        _selecting: tuple[tuple[str, str], ...],
        out_dir: str,
        source: Span,
    ) -> list[OutputFile]:
        """The shared rule as a unit over its groups' key (``given``: the groups, their text and
        the build's context, whose spool it is written to; what it reports goes to the unit's
        ``sink``). The project and the selecting labels key it: its labels are made of them."""
        groups, text, ctx = given
        own = replace(ctx, sink=sink)
        return [self._shared_rule(own, env, part, groups, [kept_text(text)], out_dir, source)]

    def _shared_rule(
        self,
        ctx: RenderContext,
        env: ir.Environment,
        part: int,
        groups: list[Group],
        parts: list[str],
        out_dir: str,
        source: Span,
    ) -> OutputFile:
        """The PrometheusRule of the groups the ``part``-th share of an environment's models
        have in common (``shared_parts``; each model's own groups are in a PrometheusRule of
        the model's: one object of them all outgrew what the cluster stores, ``_model_rule``)."""
        suffix = f"-{part + 1}" if part else ""
        view = {
            "name": f"{k8s_name(env.name)}-slo{suffix}",
            "namespace": namespace(env),
            "labels": _labels(ctx.resolved.project, env, **_selected_by(ctx)),
        }
        wrapped_path = f"{out_dir}/prometheusrule-slo{'.' + str(part + 1) if part else ''}.yaml"
        wrapped_template = "monitoring/prometheusrule.yaml.j2"
        # The document is the template rendered around a placeholder (small to
        # parse back), with the groups put where the placeholder landed.
        shell_view = {**view, "groups": Raw(_PLACEHOLDER)}
        shell = ctx.templates.render(wrapped_template, o=shell_view)
        docs = tuple(_replace(d, groups) for d in _load(wrapped_path, shell, ctx.sink, source))
        wrapped = _streamed(ctx, wrapped_path, source, "yaml", docs, wrapped_template, shell_view, parts, 4, shell)
        if wrapped is None:
            text = "\n".join(parts)
            wrapped_text = ctx.templates.render(wrapped_template, o={**view, "groups": _indent(text, 4)})
            wrapped = spooled(ctx, OutputFile(wrapped_path, wrapped_text, source, documents=docs))
        return wrapped


class _Fold(NamedTuple):
    """Placements' bodies put together, as their environment's rules and files take them."""

    periods: dict[str, float]
    quantiles: frozenset[float]
    group_keys: list[str | None]
    names: list[str]
    problems: list[list[str]]
    texts: list[Any]
    files: list[OutputFile]


def _fold(models: Sequence[ir.Model], bodies: Sequence[_Placed]) -> _Fold:
    """``bodies`` (one for each of ``models``, in order) put together."""
    fold = _Fold({}, frozenset(), [], [], [], [], [])
    quantiles: set[float] = set()
    for model, made in zip(models, bodies, strict=True):
        if made.period is not None:
            fold.periods[model.name] = made.period
        quantiles |= made.quantiles
        fold.group_keys.append(made.group_key)
        fold.names.extend(made.names)
        fold.problems.extend(made.problems)
        if made.text:
            fold.texts.append(made.text)
        fold.files.extend(made.files)
    return fold._replace(quantiles=frozenset(quantiles))


# What a watching build keeps of each block's fold for the next step (``Units.state``).
_FOLDS = "monitoring.folds"


def _folds(ctx: RenderContext, models: Sequence[ir.Model], blocks: list[tuple[_Placed, ...]]) -> list[_Fold]:
    """Each block's bodies put together (``blocks``: of ``memo.BLOCK`` of ``models`` each, in
    order): last step's fold of a block handed back as the very tuple it was (its owners, so its
    models' names, with it), not 3,250 bodies put together one by one each step."""
    units = ctx.units
    assert units is not None, "blocks come from a watching build"
    last: dict[int, tuple[tuple[_Placed, ...], _Fold]] = units.carried_state.get(_FOLDS, {})
    now: dict[int, tuple[tuple[_Placed, ...], _Fold]] = units.state.setdefault(_FOLDS, {})
    folds, at = [], 0
    for block in blocks:
        kept = last.get(id(block))
        if kept is None or kept[0] is not block:
            kept = (block, _fold(models[at : at + len(block)], block))
        now[id(block)] = kept
        folds.append(kept[1])
        at += len(block)
    return folds


class _Placed(NamedTuple):
    """What one placement's body (``_placement``) makes: its files (its PrometheusRule, then
    its unit's), its groups' key, names, problems and YAML, its SLO period and quantiles."""

    files: tuple[OutputFile, ...]
    group_key: str | None
    names: tuple[str, ...]
    problems: tuple[list[str], ...]
    text: Any
    period: float | None
    quantiles: frozenset[float]


def _placement(
    units: Units | None,
    templates: Templates,
    sink: Sink,
    placed: Placement,
    project: Project,
    selecting: tuple[tuple[str, str], ...],
) -> _Placed:
    """A placement's part of its environment's monitoring: its units (``memo.group``'s body)."""
    model, sla, env = placed.model, placed.sla, placed.env
    version, runbooks = project.triton_version, project.runbooks
    out_dir, ns = monitoring_dir(env.name), namespace(env)
    mon = placed.monitors[0] if placed.monitors else None  # a second is an error (SS102)
    t = Target(model.name, env.name, ns, alerting.team_of(model, project), runbooks)
    period = None
    quantiles: frozenset[float] = frozenset()
    if sla is not None:
        objective = availability_objective(sla)
        if objective is not None:
            period = objective.period
        quantiles = frozenset(round(o.percentile / 100, 9) for o in sla.latency)
    # The model's unit reports into a sink of its own first: its diagnostics follow its groups'.
    scope = _Scoped(units, templates, sink)
    unit_ctx = _Scoped(units, templates, Sink())
    made = unit(unit_ctx, "monitoring.model", _per_model, placed, t, out_dir, project, selecting)
    # The groups read the unit's target and the placement's SLA, monitor, tier and Triton
    # version, and are memoised on those alone: not on the model's unit, whose key moves with
    # any field of the placement (a replica count, a CPU request), so such an edit leaves the
    # groups, the model's PrometheusRule and the rules file hits.
    given = (t, sla, mon, version, env.tier)
    made_now: list[list[Group]] = []  # the groups, when this build makes them
    group_key, (own, text, own_problems) = keyed_over(scope, "monitoring.groups", _groups_of, (), made_now, *given)
    files: list[OutputFile] = []
    if own:
        # The model's own PrometheusRule, a unit over its groups' key.
        name = k8s_name(model.name)
        labels = _labels(project, env, **{"app.kubernetes.io/name": name}, **dict(selecting))
        # Named so that no model's can be a shared one's (``<env>-slo``, ``<env>-slo-2``),
        # and in a directory of their own: no model's file can be a shared one's.
        rule_path = f"{out_dir}/rules/{name}.yaml"
        src = (sla or mon or model).span
        rule = (rule_path, f"{name}-rules", ns, labels, src)
        made_groups = made_now[0] if made_now else None
        files += unit_over(unit_ctx, "monitoring.rule", _model_rule, (group_key,), (given, made_groups, text), *rule)
    sink.extend(unit_ctx.sink.items)
    return _Placed(
        (*files, *made),
        group_key,
        tuple(own),
        tuple(own_problems) if own_problems is not None else (_NO_PROBLEMS,) * len(own),
        text,
        period,
        quantiles,
    )


def _model_rule(
    templates: Templates,
    sink: Sink,
    given: tuple[tuple[Any, ...], list[Group] | None, Any],
    path: str,
    name: str,
    ns: str,
    labels: dict[str, str],
    source: Span,
) -> list[OutputFile]:
    """One model's rule groups in one environment as a PrometheusRule of its own (a unit over
    the model's unit, ``memo.unit_over``). Argo CD applies client-side by default, which keeps
    the whole object in an annotation of at most 256 KiB; an environment's groups in one
    object reach that at a few dozen models with SLAs (7.9 MB at 1,000). A model's groups
    are a few KiB, and an edit of one model rewrites only its object. ``given``: what the
    model's groups are made of, the groups when this build made them (the memo keeps their
    names and text, not the groups), and their text."""
    inputs, groups, kept = given
    if groups is None:  # the groups' value was in the memo and this file was not: made again
        groups, kept = _model_groups(Sink(), *inputs)  # (their diagnostics came with the value)
    groups_text = kept_text(kept)
    return [
        _obj(
            templates,
            sink,
            path,
            "monitoring/prometheusrule.yaml.j2",
            source,
            parsed={"groups": groups},
            name=name,
            namespace=ns,
            labels=labels,
            groups=_indent(groups_text, 4),
        )
    ]


def _groups_of(
    sink: Sink, made: list[list[Group]], *inputs: Any
) -> tuple[tuple[str, ...], str, list[list[str]] | None]:
    """The names, text and problems of ``_model_groups`` of a model's target, SLA, monitor,
    Triton version and tier (a value memoised on those, ``memo.keyed_over``): each group's own
    problems (None: there are none, an empty list per group kept in the memo being most of a
    MiB at 1,000 models). The groups themselves go to the list ``made``, not into the memo:
    at 1,000 models they were 15 MiB of every later build's memory, and only a model's own
    PrometheusRule reads them (``_model_rule``)."""
    groups, text = _model_groups(sink, *inputs)
    made.append(groups)
    found = [group_problems(g) for g in groups]
    return tuple(g["name"] for g in groups), text, found if any(found) else None


_NO_PROBLEMS: list[str] = []


# The shared groups select their models by name (``model=~"a|b|..."``, a few dozen times), so
# they grow with the names: past this many bytes of names, the next models' share is a group
# set (and a PrometheusRule) of its own. 4 KiB of names is ~150 KiB of object, under the
# 256 KiB client-side apply keeps (``validate.ANNOTATIONS_LIMIT``) at any name length.
SHARED_NAMES_BYTES = 4096


def shared_parts(models: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``models`` in contiguous shares of at most ``SHARED_NAMES_BYTES`` of names (each name
    and its separator), in order; one share for all but the largest environments."""
    parts: list[tuple[str, ...]] = []
    start, used = 0, 0
    for i, name in enumerate(models):
        size = len(name.encode()) + 1
        if used + size > SHARED_NAMES_BYTES and i > start:
            parts.append(models[start:i])
            start, used = i, 0
        used += size
    parts.append(models[start:])
    return parts


def _shared_groups(
    _sink: Sink,
    scoped: tuple[str, str, tuple[str, ...], tuple[str, ...], int],
    periods: dict[str, float],
    quantiles: tuple[float, ...],
    version: str,
) -> tuple[list[Group], str, list[list[str]]]:
    """The rule groups the ``part``-th share of an environment's models (``scope``) have in
    common, their YAML and each one's own problems (a value unit, ``memo.value``). The first
    share's groups have the environment's group names; the next ones' end in ``.2``, ``.3``...
    (names are unique in a rules file; what the rules record is the same)."""
    environment, ns, models, ensembles, part = scoped
    scope = Scope(environment, ns, models, frozenset(ensembles))
    shared = [serving_group(scope, set(quantiles), version)]
    sli = availability_sli_group(scope.environment, scope.namespace, periods, scope.ensembles)
    shared += [sli] if sli else []
    if part:
        shared = [{**g, "name": f"{g['name']}.{part + 1}"} for g in shared]
    return shared, groups_yaml(shared), [group_problems(g) for g in shared]


def _model_groups(
    sink: Sink, t: Target, sla: ir.Sla | None, mon: ir.Monitor | None, version: str, tier: ir.Tier
) -> tuple[list[Group], str]:
    """A value unit (compiler.backends.memo): one model's rule groups in one environment,
    and their YAML."""
    groups: list[Group] = []
    if sla is not None:
        groups += availability_groups(t, sla)
        for o in sla.latency:
            if has_histograms(version):
                groups += latency_groups(t, sla, o)
            else:
                _warn_no_histogram(sink, o, version)
    groups += signal_groups(t, sla, mon, version)
    if sla is not None or mon is not None:
        every = alerting.cron(alerting.drift_interval(mon))[1] if mon and mon.rules else None
        groups.append(
            absence_group(t, page=sla is not None and tier is ir.Tier.PRODUCTION, monitor=mon, drift_every=every)
        )
    return groups, groups_yaml(groups)


def _per_model(
    templates: Templates,
    sink: Sink,
    placed: Placement,
    t: Target,
    out_dir: str,
    project: Project,
    selecting: tuple[tuple[str, str], ...],
) -> list[OutputFile]:
    """The render unit of one model in one environment (compiler.backends.memo): its
    ServiceMonitor and its dashboard's ConfigMap."""
    env, model, sla = placed.env, placed.model, placed.sla
    name = k8s_name(model.name)
    gpu = placed.uses_gpu  # not in development, where the model runs on CPU in a pod without GPUs
    version = project.triton_version
    budget = sla is not None and (
        availability_objective(sla) is not None or (has_histograms(version) and bool(sla.latency))
    )
    board = dashboard(t, sla, gpu, budget)
    key, board_json = f"{name}-{k8s_name(env.name)}.json", dashboard_json(board).rstrip("\n")
    monitor = _obj(
        templates,
        sink,
        f"{out_dir}/servicemonitor-{name}.yaml",
        "monitoring/servicemonitor.yaml.j2",
        model.span,
        name=name,
        namespace=namespace(env),
        labels=_labels(project, env, **{"app.kubernetes.io/name": name}, **dict(selecting)),
        app=name,
        port=METRICS_PORT,
        interval=SCRAPE_INTERVAL,
        timeout=SCRAPE_TIMEOUT,
    )
    config_map = _obj(
        templates,
        sink,
        dashboard_path(env.name, model.name),
        "monitoring/dashboard.yaml.j2",
        (sla or model).span,
        name=f"grafana-dashboard-{name}",
        namespace=namespace(env),
        labels=_labels(project, env, grafana_dashboard="1"),
        # A literal block (indented for its place under data:) keeps the JSON readable in diffs.
        data={key: Raw(text_block(board_json, "    "))},
        parsed={"data": {key: board_json}},
    )
    return [monitor, config_map]


_PLACEHOLDER = "__shipspec_rule_groups__"


def _streamed(
    ctx: RenderContext,
    path: str,
    source: Any,
    kind: str,
    docs: tuple[dict[str, Any], ...],
    template: str,
    shell_view: dict[str, Any],
    parts: list[str],
    width: int,
    shell: str | None = None,
) -> OutputFile | None:
    """``template`` rendered with ``parts`` joined and indented by ``width`` in the place of
    the placeholder ``shell_view`` puts there, written to the spool part by part; None where
    the template is not the shipped one (an override may read the groups' text, not only
    place it), the placeholder does not land exactly once, or there is no spool."""
    if ctx.units is None or ctx.units.spool is None or not _shipped(ctx.templates, template):
        return None
    if shell is None:
        shell = ctx.templates.render(template, o=shell_view)
    if shell.count(_PLACEHOLDER) != 1:
        return None
    before, after = shell.split(_PLACEHOLDER)
    return streamed(ctx, path, source, kind, docs, _laid_out(before, parts, width, after))


def _laid_out(before: str, parts: list[str], width: int, after: str) -> Iterator[str]:
    """``before + _indent("\\n".join(parts), width) + after``, in parts."""
    yield before
    lead = "\n" + " " * width
    for i, part in enumerate(parts):
        yield (lead if i else "") + part.replace("\n", lead)
    yield after


def _shipped(templates: Templates, name: str) -> bool:
    """Whether ``name`` is shipspec's own template (not one of a --templates directory)."""
    loader = templates.env.loader
    if loader is None:
        return False
    _, filename, _ = loader.get_source(templates.env, name)
    return filename is not None and Path(filename).resolve() == (templates_dir() / name).resolve()


def _indent(text: str, width: int) -> Raw:
    # The lines after the first, indented (split and join made a list of a few hundred thousand lines).
    return Raw(text.replace("\n", "\n" + " " * width))


def _replace(node: Any, groups: list[Group]) -> Any:
    if node == _PLACEHOLDER:
        return groups
    if isinstance(node, dict):
        return {k: _replace(v, groups) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, groups) for v in node]
    return node


def _warn_no_histogram(sink: Sink, o: ir.LatencyObjective, version: str) -> None:
    q = summary_quantile(o.percentile / 100)
    stand_in = "" if abs(q * 100 - o.percentile) < 1e-9 else f" (p{q * 100:g}, the next stricter quantile it keeps)"
    sink.report(
        "SS740",
        f"Triton {version} has no latency histograms: 'p{o.percentile:g} < {o.threshold * 1000:g}ms' is "
        f"alerted on the request summary's quantile{stand_in}, so the ratio of slow requests (and a latency "
        "error budget) cannot be measured exactly",
        o.span,
        hint='pin triton "2.52.0" or later for a histogram bucket at the threshold and burn-rate alerts',
    )


_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def rules_problems(doc: Any) -> list[str]:
    """What Prometheus' rule loader would refuse, short of parsing PromQL
    (the tests run the real ``promtool check rules`` for that)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        return ["top level must be a map with a 'groups' list"]
    groups = doc["groups"]
    return _problems([g.get("name") for g in groups], [group_problems(g) for g in groups])


def _problems(names: list[Any], own: list[list[str]], limit: int | None = None) -> list[str]:
    """``rules_problems`` of the groups named ``names`` given each one's ``group_problems``
    (``own``): the first ``limit`` of them."""
    if not any(own) and len(set(names)) == len(names):
        return []  # most: no group has a problem and no name is repeated (told in C)
    problems, seen = [], set()
    for name, found in zip(names, own, strict=True):
        if name in seen:
            problems.append(f"group {name!r} is repeated")
        seen.add(name)
        problems += found
        if limit is not None and len(problems) >= limit:
            return problems[:limit]
    return problems


def group_problems(g: Any) -> list[str]:
    """The problems of one group's rules (``rules_problems``, but for repeated names)."""
    problems = []
    name = g.get("name")
    for r in g.get("rules") or []:
        what = r.get("record") or r.get("alert")
        if ("record" in r) == ("alert" in r):
            problems.append(f"group {name!r}: a rule needs exactly one of record/alert")
        if "record" in r and not _METRIC.match(str(r["record"])):
            problems.append(f"{what!r}: invalid metric name")
        if not str(r.get("expr", "")).strip():
            problems.append(f"{what!r}: empty expr")
        if "for" in r and not _DURATION.match(str(r["for"])):
            problems.append(f"{what!r}: invalid duration {r['for']!r}")
        for key in r.get("labels") or {}:
            if not _LABEL.match(str(key)):
                problems.append(f"{what!r}: invalid label name {key!r}")
    return problems


BACKEND = _Backend()
