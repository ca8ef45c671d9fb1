"""``shipspec diff --base REV``: what a change to the spec does to each environment.

The spec is compiled twice in memory, as it was at REV (read with ``git show``,
nothing is checked out) and as it is in the working tree. The rendered objects are
paired by identity (apiVersion group, kind, namespace, name for Kubernetes objects;
the file for anything else), so an object that moves between files, or a
Deployment that becomes a Rollout, reads as what it is. Fields are compared with
``structure.diff`` (named lists by name, YAML 1.2, lines as committed).

The report leads with what reviewers ask first: which model versions move in
which environment, and the risk flags (production touched, a gate or SLA
loosened, a controller the cluster must now run, secrets or identities
changed); then one collapsible section per environment.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from compiler import ir
from compiler.commands.structure import ABSENT, Field, leaves, load_pbtxt, load_yaml
from compiler.commands.structure import diff as diff_trees
from compiler.emit import file_bytes
from compiler.errors import UsageError
from compiler.output import OutputFile
from compiler.targets import layout

if TYPE_CHECKING:
    from compiler.pipeline import Build
    from compiler.resolve import Resolved

# The first line of every markdown report: the PR workflow finds its own comment by it.
MARKER = "<!-- shipspec-diff -->"
# GitHub refuses comment bodies over 65,536 characters.
COMMENT_LIMIT = 60_000
FIELDS_SHOWN = 40

# Custom resources and the controller that must run in the cluster for them to do anything.
CONTROLLERS: dict[tuple[str, str], str] = {
    ("argoproj.io", "Rollout"): "Argo Rollouts",
    ("argoproj.io", "AnalysisTemplate"): "Argo Rollouts",
    ("argoproj.io", "Application"): "Argo CD",
    ("argoproj.io", "ApplicationSet"): "Argo CD (ApplicationSet controller)",
    ("monitoring.coreos.com", "PrometheusRule"): "prometheus-operator",
    ("monitoring.coreos.com", "ServiceMonitor"): "prometheus-operator",
    ("monitoring.coreos.com", "PodMonitor"): "prometheus-operator",
    ("networking.istio.io", "VirtualService"): "Istio",
    ("networking.istio.io", "DestinationRule"): "Istio",
    ("serving.kserve.io", "InferenceService"): "KServe",
    ("kubeflow.org", "PyTorchJob"): "Kubeflow training operator",
    ("keda.sh", "ScaledObject"): "KEDA",
    ("external-secrets.io", "ExternalSecret"): "External Secrets Operator",
}
IDENTITY_KINDS = frozenset({
    "Secret", "ExternalSecret", "SecretStore", "ClusterSecretStore", "ServiceAccount",
    "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding",
})  # fmt: skip
IDENTITY_FIELDS = ("secret", "serviceaccount", "permissions", "token", "credential", "password")


class GitError(Exception):
    pass


def _git(args: Sequence[str], cwd: Path) -> bytes:
    try:
        r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {' '.join(args)}: {exc}") from exc
    if r.returncode != 0:
        raise GitError(r.stderr.decode(errors="replace").strip() or f"git {' '.join(args)} failed")
    return r.stdout


def materialise(rev: str, spec_dirs: Sequence[Path], dest: Path) -> None:
    """Write the spec files of ``rev`` under ``dest`` at the same relative paths."""
    top = Path(_git(["rev-parse", "--show-toplevel"], Path.cwd()).decode().strip())
    prefix = Path.cwd().resolve().relative_to(top.resolve())
    for spec in spec_dirs:
        rel = (prefix / spec).as_posix()
        names = _git(["ls-tree", "-r", "-z", "--name-only", rev, "--", rel], top).split(b"\0")
        for name in filter(None, names):
            path = name.decode()
            if not path.endswith(".ship"):
                continue
            target = dest / Path(path).relative_to(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_git(["show", f"{rev}:{path}"], top))


# -- objects -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Obj:
    """One rendered object (a YAML document, a pbtxt message or a text file) and where it is."""

    key: tuple[str, ...]
    label: str
    path: str
    tree: Any
    line: int
    kind: str = ""
    group: str = ""  # the apiVersion group ('' for the core group)


# The catalog restates what the other sections change: its own section, shown last.
CATALOG_GROUP = layout.CATALOG_DIR


def group(path: str) -> str:
    """The section a file belongs to: its environment (``deploy/<env>/``), ``argocd``, ``.github``,
    the catalog (``docs/catalog``) or ``(other)``.

    ``.github``, ``docs/catalog`` and ``(other)`` cannot be environment names."""
    parts = path.split("/")
    if parts[0] == "deploy" and len(parts) > 2:
        return parts[1]
    if path.startswith(CATALOG_GROUP + "/"):
        return CATALOG_GROUP
    return ".github" if path.startswith(".github/") else "(other)"


def _api_group(api_version: Any) -> str:
    text = str(api_version or "")
    return text.split("/")[0] if "/" in text else ""


def _hide_secrets(doc: Any) -> Any:
    if isinstance(doc, dict) and doc.get("kind") == "Secret":
        for section in ("data", "stringData"):
            values = doc.get(section)
            if isinstance(values, dict):
                for k in values:
                    values[k] = "(hidden)"
    return doc


def objects(files: Sequence[OutputFile]) -> dict[tuple[str, ...], Obj]:
    out: dict[tuple[str, ...], Obj] = {}
    for f in files:
        text = file_bytes(f).decode("utf-8")
        docs: list[Any] | None = None
        try:
            if f.path.endswith((".yaml", ".yml", ".json")):
                docs = load_yaml(text)
            elif f.path.endswith(".pbtxt"):
                docs = [load_pbtxt(text)]
        except ValueError:
            docs = None
        if docs is None:
            out[("file", f.path)] = Obj(("file", f.path), f.path, f.path, text.splitlines(), 1)
            continue
        for n, doc in enumerate(docs):
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            first = min(doc.lines.values(), default=1) if hasattr(doc, "lines") and doc.lines else 1
            if isinstance(meta, dict) and "kind" in doc and "name" in meta:
                api, kind = _api_group(doc.get("apiVersion")), str(doc["kind"])
                ns = str(meta.get("namespace", ""))
                key: tuple[str, ...] = ("k8s", api, kind, ns, str(meta["name"]))
                label = f"{kind} {ns + '/' if ns else ''}{meta['name']}"
                out[key] = Obj(key, label, f.path, _hide_secrets(doc), first, kind, api)
            else:
                key = ("file", f.path, str(n))
                label = f.path if len(docs) == 1 else f"{f.path} (document {n + 1})"
                out[key] = Obj(key, label, f.path, doc, first)
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """One object added, removed or changed, with its changed fields."""

    group: str
    label: str
    status: str  # added | removed | changed
    old_path: str | None
    new_path: str | None
    fields: tuple[Field, ...]
    kind: str = ""
    api_group: str = ""


def _text_fields(a: list[str], b: list[str]) -> list[Field]:
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            where = f"line {j1 + 1}" if j2 - j1 <= 1 else f"lines {j1 + 1}-{j2}"
            out.append(
                Field(
                    where,
                    "\n".join(a[i1:i2]) if i2 > i1 else ABSENT,
                    "\n".join(b[j1:j2]) if j2 > j1 else ABSENT,
                    i1 + 1 if i2 > i1 else None,
                    j1 + 1 if j2 > j1 else None,
                )
            )
    return out


def _whole(obj: Obj, added: bool) -> list[Field]:
    if isinstance(obj.tree, list) and obj.key[0] == "file" and len(obj.key) == 2:
        text = "\n".join(obj.tree)
        return [
            Field(
                "content",
                ABSENT if added else text,
                text if added else ABSENT,
                None if added else 1,
                1 if added else None,
            )
        ]
    return [
        Field(p, ABSENT if added else v, v if added else ABSENT, None if added else ln, ln if added else None)
        for p, v, ln in leaves(obj.tree, "", obj.line)
    ]


def compare(old: Sequence[OutputFile], new: Sequence[OutputFile]) -> list[Change]:
    before, after = objects(old), objects(new)
    changes = []
    for key in before.keys() | after.keys():
        a, b = before.get(key), after.get(key)
        some = b or a
        assert some is not None
        if a is None or b is None:
            status = "added" if a is None else "removed"
            fields = _whole(some, added=a is None)
        else:
            if key[0] == "file" and len(key) == 2:
                fields = _text_fields(a.tree, b.tree)
            else:
                fields = diff_trees(a.tree, b.tree, "", a.line, b.line)
            if not fields:
                continue
            status = "changed"
        changes.append(
            Change(
                group(some.path),
                some.label,
                status,
                a.path if a else None,
                b.path if b else None,
                tuple(fields),
                some.kind,
                some.group,
            )
        )
    return sorted(changes, key=lambda c: (c.group == CATALOG_GROUP, c.group, c.new_path or c.old_path or "", c.label))


# -- what the spec moves: versions, gates, SLAs --------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """The top of the report: version moves and risk flags."""

    environments: tuple[str, ...]
    versions: tuple[tuple[str, tuple[tuple[str | None, str | None], ...]], ...]  # model -> per env (before, after)
    risks: tuple[str, ...]
    tiers: dict[str, str] = field(default_factory=dict)


def _served(r: Resolved | None) -> dict[tuple[str, str], str | None]:
    if r is None:
        return {}
    return {(m.name, e.name): r.place(m, e).version for m in r.models.values() for e in r.served(m)}


def _env_order(r: Resolved | None) -> list[ir.Environment]:
    if r is None:
        return []
    return sorted(r.environments.values(), key=lambda e: (e.tier.rank if e.tier else 99, e.name))


def _gate_key(g: ir.Gate) -> str:
    return f"{g.source.name} -> {g.target.name} for {g.model.name}"


def _looser(op: str, old: float, new: float) -> bool:
    return new < old if op in (">", ">=") else new > old


def gate_risks(old: Resolved | None, new: Resolved) -> list[str]:
    out: list[str] = []
    before = {_gate_key(g): g for g in (old.spec.gates if old else ())}
    after = {_gate_key(g): g for g in new.spec.gates}
    for key in sorted(before):
        a, b = before[key], after.get(key)
        if b is None:
            out.append(f"gate removed: `{key}`")
            continue
        conds = {(c.kind, c.metric, c.dataset.name if c.dataset else ""): c for c in b.conditions}
        for c in a.conditions:
            d = conds.get((c.kind, c.metric, c.dataset.name if c.dataset else ""))
            if d is None:
                out.append(f"gate loosened: `{key}`: {c.kind} {c.metric} {c.op} {c.threshold:g} removed")
            elif d.op == c.op and _looser(c.op, c.threshold, d.threshold):
                out.append(f"gate loosened: `{key}`: {c.metric} {c.op} {c.threshold:g} → {d.op} {d.threshold:g}")
        if a.load and (
            b.load is None
            or b.load.threshold > a.load.threshold
            or b.load.rate < a.load.rate
            or b.load.duration < a.load.duration
        ):
            out.append(f"gate loosened: `{key}`: load test " + ("removed" if b.load is None else "weaker"))
        if a.canary and len(b.canary) < len(a.canary):
            out.append(f"gate loosened: `{key}`: canary steps {len(a.canary)} → {len(b.canary)}")
        gone = sorted(set(a.approval) - set(b.approval))
        if gone:
            out.append(f"gate loosened: `{key}`: approval no longer needs {' '.join(gone)}")
    return out


def sla_risks(old: Resolved | None, new: Resolved) -> list[str]:
    out: list[str] = []
    before = {(s.model.name, s.environment.name): s for s in (old.spec.slas if old else ())}
    after = {(s.model.name, s.environment.name): s for s in new.spec.slas}
    for (model, env), a in sorted(before.items()):
        where = f"`{model}` in `{env}`"
        b = after.get((model, env))
        if b is None:
            out.append(f"SLA removed: {where}")
            continue
        lat = {o.percentile: o.threshold for o in b.latency}
        for o in a.latency:
            t = lat.get(o.percentile)
            if t is None or t > o.threshold:
                now = "removed" if t is None else f"{t * 1000:g}ms"
                out.append(f"SLA loosened: {where}: p{o.percentile:g} latency {o.threshold * 1000:g}ms → {now}")
        if a.availability and (b.availability is None or b.availability.objective < a.availability.objective):
            now = f"{b.availability.objective * 100:g}%" if b.availability else "removed"
            out.append(f"SLA loosened: {where}: availability {a.availability.objective * 100:g}% → {now}")
        if a.error_rate is not None and (b.error_rate is None or b.error_rate > a.error_rate):
            now = f"{b.error_rate * 100:g}%" if b.error_rate is not None else "removed"
            out.append(f"SLA loosened: {where}: error rate {a.error_rate * 100:g}% → {now}")
        if a.throughput is not None and (b.throughput is None or b.throughput < a.throughput):
            now = f"{b.throughput:g}rps" if b.throughput is not None else "removed"
            out.append(f"SLA loosened: {where}: throughput {a.throughput:g}rps → {now}")
    return out


def _identity_touched(c: Change) -> bool:
    if c.kind in IDENTITY_KINDS:
        # Added or removed, or changed beyond labels and shipspec's own annotations (a version
        # annotation moving on a ServiceAccount changes no identity; a cloud role annotation does).
        return c.status != "changed" or any(not f.path.startswith(_BOOKKEEPING) for f in c.fields)
    return any(any(w in f.path.lower() for w in IDENTITY_FIELDS) for f in c.fields)


_BOOKKEEPING = ('metadata.annotations["shipspec.dev/', "metadata.labels")


def summarise(changes: Sequence[Change], old: Resolved | None, new: Resolved) -> Summary:
    envs = _env_order(new) + [e for e in _env_order(old) if e.name not in new.environments]
    tiers = {e.name: e.tier.value for e in envs if e.tier}
    a, b = _served(old), _served(new)
    versions = []
    for model in sorted({m for m, _ in a.keys() | b.keys()}):
        cells = tuple((a.get((model, e.name)), b.get((model, e.name))) for e in envs)
        moved = any(
            x != y or ((model, e.name) in a) != ((model, e.name) in b) for (x, y), e in zip(cells, envs, strict=True)
        )
        if moved:
            versions.append(
                (
                    model,
                    tuple(
                        (
                            a[(model, e.name)] or "(none)" if (model, e.name) in a else None,
                            b[(model, e.name)] or "(none)" if (model, e.name) in b else None,
                        )
                        for e in envs
                    ),
                )
            )
    risks: list[str] = []
    by_group: dict[str, list[Change]] = {}
    for c in changes:
        by_group.setdefault(c.group, []).append(c)
    for g, items in sorted(by_group.items()):
        if tiers.get(g) == "production":
            risks.append(f"production touched: `{g}` ({_counts(items)})")
    risks.extend(gate_risks(old, new))
    risks.extend(sla_risks(old, new))
    for g, items in sorted(by_group.items()):
        before_kinds = {(c.api_group, c.kind) for c in items if c.status != "added"}
        for c in items:
            ctl = CONTROLLERS.get((c.api_group, c.kind))
            if c.status == "added" and ctl and (c.api_group, c.kind) not in before_kinds:
                cluster = next((e.cluster for e in envs if e.name == g and e.cluster), None)
                where = f" in cluster `{cluster}`" if cluster else ""
                flag = (
                    f"new controller needed: `{g}` now has a {c.kind} ({c.api_group}): the {ctl} controller "
                    f"must run{where}"
                )
                if flag not in risks:
                    risks.append(flag)
    for c in changes:
        if _identity_touched(c):
            risks.append(f"secrets or identities changed: {c.status} {c.label} in `{c.group}`")
    return Summary(tuple(e.name for e in envs), tuple(versions), tuple(dict.fromkeys(risks)), tiers)


# -- the report --------------------------------------------------------------


def _counts(items: Sequence[Change]) -> str:
    counts = {s: sum(c.status == s for c in items) for s in ("changed", "added", "removed")}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _show(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, str) and "\n" not in value:
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, str):
        text = value
    else:
        text = yaml.safe_dump(_plain(value), default_flow_style=True, width=10**6, sort_keys=False).strip()
        text = text.removesuffix("...").strip()
    return text if len(text) <= 300 else text[:297] + "..."


def _field_lines(c: Change, f: Field) -> list[str]:
    where = []
    if f.new_line is not None and c.new_path:
        where.append(f"{c.new_path}:{f.new_line}")
    if (
        f.old_line is not None
        and c.old_path
        and (f.new_line is None or c.old_path != c.new_path or f.old_line != f.new_line)
    ):
        where.append(f"was {c.old_path}:{f.old_line}")
    out = [f"@@ {f.path or '(document)'} @@ {' '.join(where)}".rstrip()]
    for sign, value in (("-", f.old), ("+", f.new)):
        if value is not ABSENT:
            out.extend(f"{sign} {line}" for line in _show(value).splitlines() or [""])
    return out


def _versions_table(s: Summary, markdown: bool) -> list[str]:
    if not s.versions:
        return ["No model version moves.", ""]
    used = [i for i, _ in enumerate(s.environments) if any(cells[i] != (None, None) for _, cells in s.versions)]
    head = ["model", *(s.environments[i] for i in used)]
    rows = []
    for model, cells in s.versions:
        row = [model]
        for i in used:
            x, y = cells[i]
            if x == y:
                row.append(x or "·")
            else:
                moved = f"{x or '—'} → {y or '—'}"
                row.append(f"**{moved}**" if markdown else moved)
        rows.append(row)
    if markdown:
        return [
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
            *("| " + " | ".join(r) + " |" for r in rows),
            "",
        ]
    width = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip() for r in [head, *rows]] + [""]


def render_report(changes: Sequence[Change], summary: Summary | None, markdown: bool) -> str:
    out: list[str] = []
    if markdown:
        out += [MARKER, "## shipspec: what this change does", ""]
    if summary is not None:
        out += ["### Model versions" if markdown else "Model versions per environment (before → after):", ""]
        out += _versions_table(summary, markdown)
        out += ["### Risks" if markdown else "Risks:", ""]
        out += [f"- :warning: {r}" if markdown else f"  ! {r}" for r in summary.risks] or ["None flagged."]
        out.append("")
    if not changes:
        out.append("No rendered output changes.")
        return "\n".join(out) + "\n"
    groups: dict[str, list[Change]] = {}
    for c in changes:
        groups.setdefault(c.group, []).append(c)
    tiers = summary.tiers if summary else {}
    for name, items in groups.items():
        tier = f" ({tiers[name]})" if name in tiers else ""
        if markdown:
            out += ["<details>", f"<summary><b>{name}</b>{tier}: {_counts(items)}</summary>", ""]
        else:
            out.append(f"== {name}{tier}: {_counts(items)}")
        for c in items:
            sign = {"added": "+", "removed": "-", "changed": "~"}[c.status]
            path = c.new_path or c.old_path
            moved = f" (was `{c.old_path}`)" if c.old_path and c.new_path and c.old_path != c.new_path else ""
            if markdown:
                out += [f"**{sign} {c.label}** {c.status} — `{path}`{moved}", "", "```diff"]
            else:
                out.append(f"{sign} {c.label} {c.status}: {path}{moved.replace('`', '')}")
            body: list[str] = []
            for f in c.fields[:FIELDS_SHOWN]:
                body += _field_lines(c, f)
            if len(c.fields) > FIELDS_SHOWN:
                body.append(f"… {len(c.fields) - FIELDS_SHOWN} more fields")
            out += body if markdown else [f"    {line}" for line in body]
            out += ["```", ""] if markdown else []
        out += ["</details>", ""] if markdown else [""]
    text = "\n".join(out).rstrip("\n") + "\n"
    if markdown and len(text) > COMMENT_LIMIT:
        cut = text[:COMMENT_LIMIT].rsplit("\n", 1)[0]
        if cut.count("```") % 2:
            cut += "\n```"
        if cut.count("<details>") > cut.count("</details>"):
            cut += "\n</details>"
        text = cut + "\n\n… the report is longer than a comment allows; the job summary has all of it.\n"
    return text


def base_files(
    rev: str, spec_dirs: Sequence[Path], templates: Path | None, ci_install: str | None = None
) -> tuple[list[OutputFile], Build]:
    """Compile the spec as it was at ``rev``; returns (files, build)."""
    from compiler.pipeline import build

    with tempfile.TemporaryDirectory() as tmp:
        materialise(rev, spec_dirs, Path(tmp))
        old = os.getcwd()
        os.chdir(tmp)  # same relative paths, so headers and spans compare equal
        try:
            result = build(
                [Path(s) for s in spec_dirs], templates.resolve() if templates else None, ci_install=ci_install
            )
        finally:
            os.chdir(old)
    return list(result.files), result


@dataclass(frozen=True, slots=True)
class Changes:
    """``shipspec diff``: the report, and whether the spec at the base revision compiled."""

    text: str
    base_compiles: bool


def report(old: Build | None, new: Build, markdown: bool) -> str:
    """The report of what ``new`` renders differently from ``old`` (None: nothing before)."""
    old_ok = old is not None and not old.has_errors
    found = compare(list(old.files) if old is not None and old_ok else [], list(new.files))
    summary = summarise(found, old.checked.resolved if old is not None and old_ok else None, new.checked.resolved)
    return render_report(found, summary, markdown)


def against(
    rev: str,
    inputs: Sequence[Path],
    templates: Path | None,
    new: Build,
    markdown: bool,
    ci_install: str | None = None,
) -> Changes:
    """What ``new`` renders differently from the spec at ``rev`` (all of it when that does not compile).

    Raises UsageError when git cannot produce the spec at ``rev``."""
    relative = [Path(os.path.relpath(p)) for p in inputs]
    try:
        _, old = base_files(rev, relative, templates, ci_install)
    except GitError as exc:
        raise UsageError(f"cannot read the spec at {rev}: {exc}") from exc
    return Changes(report(old, new, markdown), base_compiles=not old.has_errors)
