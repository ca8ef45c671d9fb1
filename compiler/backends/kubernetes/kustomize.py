"""One kustomization.yaml per directory under deploy/, assembled from what the
other backends rendered: every Kubernetes object file becomes a resource, and
every file that names a config map becomes part of a configMapGenerator (whose
content hash in the name rolls the pods when the file changes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from compiler.backends.base import OutputFile
from compiler.backends.facts import summary
from compiler.backends.file_order import changed_places
from compiler.diagnostics import Sink, Span
from compiler.output import FactsAt, facts_at
from compiler.serialize import to_yaml
from compiler.targets.layout import DEPLOY

if TYPE_CHECKING:
    from compiler.backends.memo import Units

IGNORE_EXTRANEOUS = {"argocd.argoproj.io/compare-options": "IgnoreExtraneous"}


_UNDER = f"{DEPLOY}/"
# An output file's documents as its slot holds them (``output.facts_at`` reads it so): a stored
# file's ``FactsAt``, which its ``documents`` property would load.
_DOCUMENTS = OutputFile.__dict__["documents"]


def _top_dir(path: str) -> str | None:
    """``deploy/<dir>`` of a path at least two levels below ``deploy/``, else None (without
    splitting every path: this runs for each of 33,000 files at 1,000 models)."""
    if not path.startswith(_UNDER):
        return None
    end = path.find("/", len(_UNDER))
    return path[:end] if end >= 0 else None


# kustomize rewrites references to a generated ConfigMap (adding its content
# hash) only in the kinds it knows; an Argo Rollout's pod template is not one
# of them, so this configuration teaches it where a Rollout names ConfigMaps.
ROLLOUT_CONFIG = "kustomizeconfig/rollout.yaml"
_POD = "spec/template/spec"
_ROLLOUT_REFS = {
    "nameReference": [
        {
            "kind": "ConfigMap",
            "version": "v1",
            "fieldSpecs": [
                {"group": "argoproj.io", "version": "v1alpha1", "kind": "Rollout", "path": path}
                for path in (
                    f"{_POD}/volumes/configMap/name",
                    f"{_POD}/volumes/projected/sources/configMap/name",
                    f"{_POD}/containers/env/valueFrom/configMapKeyRef/name",
                    f"{_POD}/containers/envFrom/configMapRef/name",
                    f"{_POD}/initContainers/env/valueFrom/configMapKeyRef/name",
                    f"{_POD}/initContainers/envFrom/configMapRef/name",
                )
            ],
        }
    ]
}


def _yaml(doc: dict[str, Any], units: Units | None) -> str:
    """The kustomization's YAML, memoised by its content: an environment's lists every
    object of every model (writing it out was most of assembling at 1,000 models)."""
    if units is None:
        return to_yaml(doc)
    text: str = units.value("kustomization", lambda _sink, d: to_yaml(d), Sink(), doc)
    return text


# Argo CD keeps each managed object's status in the Application (status.resources, and again
# in a sync's result: a few hundred bytes an object), and the Application is one etcd value
# (1.5 MiB by default): one of about 3,000 objects stops syncing ("etcdserver: request is too
# large"; argo-cd#14486). And it builds the directory with one kustomize run, which grows
# faster than the objects (bench/kustomize_scale.py: 19 s at 2,800, 111 s at 5,600) against
# Argo CD's 60-90 s for manifest generation. Each deploy/<dir> is one Application.
APPLICATION_OBJECTS = 2000


def assemble(files: Sequence[OutputFile], units: Units | None = None, sink: Sink | None = None) -> list[OutputFile]:
    """Each directory's kustomization (and SS733 into ``sink`` for a directory of more objects
    than one Argo CD Application holds well: ``APPLICATION_OBJECTS``).

    A directory's kustomization is a function of its files' parts (``_part``, in order) and of
    its first file's source alone. A watching build (``units.by_identity``) keeps last step's
    files and where each one's part went (``_Placed``) and each directory's result. Where the
    files are last step's objects in last step's places but for a few, only those few are
    read (``_placed_again``); else each file handed out again (the same object) takes its part
    from last step. A directory whose parts and source are as they were keeps its files. An
    edit of one model's CPU leaves every part as it was: no directory's kustomization is made
    again."""
    carry = units is not None and units.by_identity
    known = units.carried_state.get(_STATE) if carry and units is not None else None
    last, old_dirs = known if known is not None else (None, {})
    placed = _placed_again(files, last) if last is not None else None
    if placed is None:
        placed = _placed(files, last) if carry else _placed_once(files)
    by_dir, sources = placed.by_dir, placed.sources
    dirs: dict[str, tuple[list[Part], Span, int, list[OutputFile]]] = {}
    out: list[OutputFile] = []
    for top in sorted(by_dir):
        listed, source = by_dir[top], sources[top]
        kept = old_dirs.get(top)
        if kept is not None and (kept[0] is listed or kept[0] == listed) and kept[1] == source:
            count, made = kept[2], kept[3]
        else:
            count, made = _directory(top, listed, source, units)
        dirs[top] = (listed, source, count, made)
        if made and count > APPLICATION_OBJECTS and sink is not None:
            sink.report(
                "SS733",
                f"{top}: {count} objects in one Argo CD Application, which records each one's status "
                "(past about 3,000, more than etcd stores) and builds them with one kustomize run "
                "(past about 4,000, longer than Argo CD waits): it stops syncing",
                source,
                hint="serve the models of this environment in more than one environment",
            )
        out += made
    if carry and units is not None:
        units.state[_STATE] = (placed, dirs)
    return out


class _Placed(NamedTuple):
    """Where a run of files' parts went: the files (a copy: a caller may change its list), for
    each its directory, part and place in that directory's list (None: not under a directory
    of ``deploy/``), each directory's parts in order, and its first file's source."""

    files: tuple[OutputFile, ...]
    at: list[tuple[str, Part, int] | None]
    by_dir: dict[str, list[Part]]
    sources: dict[str, Span]


def _placed(files: Sequence[OutputFile], last: _Placed | None) -> _Placed:
    """Every file's part, taken from ``last`` for a file it holds (the same object), and where
    each went, for a watching build's next step."""
    old = {id(f): (f, a) for f, a in zip(last.files, last.at, strict=True)} if last is not None else {}
    at: list[tuple[str, Part, int] | None] = []
    by_dir: dict[str, list[Part]] = {}
    sources: dict[str, Span] = {}
    # Runs of files in one directory are common (a unit's files): its list is looked up once a run.
    top_at, listed = "", []
    for f in files:
        kept = old.get(id(f))
        hit = kept[1] if kept is not None and kept[0] is f else None
        if hit is not None:
            top, part = hit[0], hit[1]
        else:
            found = _top_dir(f.path)
            if found is None:
                at.append(None)
                continue
            top, part = found, _part(f, found)
        if top != top_at:
            top_at, listed = top, _listed(top, f, by_dir, sources)
        at.append((top, part, len(listed)))
        listed.append(part)
    return _Placed(tuple(files), at, by_dir, sources)


def _listed(top: str, f: OutputFile, by_dir: dict[str, list[Part]], sources: dict[str, Span]) -> list[Part]:
    """``top``'s parts so far (a new list, with ``f``'s source as the directory's, for its
    first file). Asked once a run of files in one directory: a unit's files are one run."""
    got = by_dir.get(top)
    if got is None:
        got = by_dir[top] = []
        sources[top] = f.source
    return got


def _placed_once(files: Sequence[OutputFile]) -> _Placed:
    """``_placed(files, None)`` for a build that keeps nothing for a next step (a one-shot
    build: where each of 33,500 files went was 4.6 MiB of a cold compile's peak at 1,000
    models), each file's directory and part made in the loop itself (``_top_dir`` and
    ``_part``, a call each, were a third of a one-shot assembly)."""
    by_dir: dict[str, list[Part]] = {}
    sources: dict[str, Span] = {}
    top_at, listed = "", []
    after = len(_UNDER)
    docs_of = _DOCUMENTS.__get__
    for f in files:
        path = f.path
        if not path.startswith(_UNDER):
            continue
        end = path.find("/", after)
        if end < 0:
            continue
        top = path[:end]
        docs = docs_of(f, OutputFile)
        if type(docs) is FactsAt:
            _, count, rollout, namespace = docs
        else:
            count, rollout, namespace = summary(docs)
        if top != top_at:
            top_at, listed = top, _listed(top, f, by_dir, sources)
        listed.append((path[end + 1 :], count, rollout, namespace, f.config_map or None))
    return _Placed((), [], by_dir, sources)


def _placed_again(files: Sequence[OutputFile], last: _Placed) -> _Placed | None:
    """``_placed(files, last)`` where ``files`` are ``last``'s but for a few places (compared
    object by object, in C) whose files stay in their directories: only those are read, and
    only their directories' lists copied (a step at 1,000 models places 33,500 files). None
    where that does not hold."""
    changed = changed_places(files, last.files)
    if changed is None:
        return None
    at = list(last.at)
    by_dir, sources = dict(last.by_dir), dict(last.sources)
    copied: set[str] = set()
    for i in changed:
        f, old = files[i], at[i]
        top = _top_dir(f.path)
        if old is None or top is None:
            if old is None and top is None:
                continue
            return None
        if top != old[0]:
            return None
        part, place = _part(f, top), old[2]
        if top not in copied:
            by_dir[top] = list(by_dir[top])
            copied.add(top)
        by_dir[top][place] = part
        at[i] = (top, part, place)
        if place == 0:
            sources[top] = f.source
    return _Placed(tuple(files), at, by_dir, sources)


# A file's part of its directory's kustomization: its path there, how many documents it
# holds, whether one is an Argo Rollout, the name its first Namespace document gives (None:
# none), and the config map it is generated into.
Part = tuple[str, int, bool, str | None, str | None]
_STATE = "kustomize"


def _part(f: OutputFile, top: str) -> Part:
    # A file the memo kept has its documents' summary at hand: their facts stay unread.
    at = facts_at(f)
    if at is None:
        count, rollout, namespace = summary(f.documents)
    else:
        _, count, rollout, namespace = at  # unpacked, not through its properties: ~15,000 files
    return f.path[len(top) + 1 :], count, rollout, namespace, f.config_map or None


def _directory(top: str, parts: list[Part], source: Span, units: Units | None) -> tuple[int, list[OutputFile]]:
    """The objects Argo CD manages for a directory (its documents, and a ConfigMap per
    generator) and its files: none for a directory of no documents and no config maps."""
    resources = [rel for rel, documents, _, _, _ in parts if documents]
    generators: dict[str, list[str]] = defaultdict(list)
    for rel, _, _, _, config_map in parts:
        if config_map:
            generators[config_map].append(f"{rel.rsplit('/', 1)[-1]}={rel}")
    count = sum(documents for _, documents, _, _, _ in parts) + len(generators)
    if not resources and not generators:
        return count, []
    out = []
    doc: dict[str, object] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(resources),
    }
    if generators:
        # A generated ConfigMap lives in the namespace of the pods that mount
        # it; kustomize rewrites references only within one namespace.
        namespace = next((p[3] for p in parts if p[3] is not None), None)
        ns = {"namespace": namespace} if namespace is not None else {}
        doc["configMapGenerator"] = [
            {"name": name, **ns, "files": sorted(entries)} for name, entries in sorted(generators.items())
        ]
        # Each config change makes a new hashed ConfigMap; the superseded one is
        # extraneous to Argo CD. Where the Application does not prune
        # (production), it would hold the Application OutOfSync for ever:
        # Argo CD leaves it out of the sync status instead (it is removed by
        # the next sync a person runs with prune).
        doc["generatorOptions"] = {"annotations": dict(IGNORE_EXTRANEOUS)}
        if any(p[2] for p in parts):
            doc["configurations"] = [ROLLOUT_CONFIG]
            out.append(OutputFile(f"{top}/{ROLLOUT_CONFIG}", to_yaml(_ROLLOUT_REFS), source))
    out.append(OutputFile(f"{top}/kustomization.yaml", _yaml(doc, units), source))
    return count, out
