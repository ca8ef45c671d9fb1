"""The pipeline as calls: load, lower and check a spec; render and validate its outputs."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from compiler.checks import check
from compiler.checks.kept import Kept
from compiler.diagnostics import Diagnostic, Sink, any_error
from compiler.ir import Spec
from compiler.output import OutputFile
from compiler.parse.sources import Loaded, Store, load
from compiler.parse.syntax import SourceFile
from compiler.records import Record, record
from compiler.resolve import Resolved, resolve

if TYPE_CHECKING:
    from compiler.backends.memo import Units
    from compiler.backends.render import Templates
    from compiler.cache import Cache
    from compiler.parallel import Beside


@record
class Checked(Record):
    """A spec read, lowered, resolved and checked: what every later stage starts from."""

    resolved: Resolved
    sources: tuple[SourceFile, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def spec(self) -> Spec:
        return self.resolved.spec

    @property
    def has_errors(self) -> bool:
        return any_error(self.diagnostics)

    @property
    def texts(self) -> dict[str, str]:
        return {s.path: s.text for s in self.sources}


class Reported(Protocol):
    """What a run reports: its diagnostics, and the spec texts they point into."""

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]: ...

    @property
    def texts(self) -> dict[str, str]: ...


def validate(inputs: Sequence[Path], store: Store | None = None, *, allow: frozenset[str] = frozenset()) -> Checked:
    """Load, lower, resolve and check; allowed and follow-on warnings left out (compiler.allowances)."""
    return allowed(check_loaded(load(inputs, store)), allow, rendered=False)


def allowed(checked: Checked, allow: frozenset[str], *, rendered: bool) -> Checked:
    """``checked`` with the diagnostics a run reports: ``--allow``/config codes and inline
    ``# shipspec: allow(...)`` applied, follow-on warnings of an erroring block dropped."""
    from dataclasses import replace

    from compiler import allowances

    return replace(
        checked, diagnostics=allowances.apply(checked.sources, checked.diagnostics, allow, rendered=rendered)
    )


def check_loaded(loaded: Loaded, earlier: Resolved | None = None, kept: Kept | None = None) -> Checked:
    """Resolve and check a loaded spec (``earlier``: the last resolve of a watching process;
    ``kept``: what its checks kept of the last step, ``compiler.checks.kept``)."""
    resolved = resolve(loaded.spec, earlier)
    return _checked(loaded, resolved, _found(resolved, kept))


def _found(resolved: Resolved, kept: Kept | None = None) -> list[Diagnostic]:
    sink = Sink()
    check(resolved, sink, kept)
    return sink.items


# A one-shot build (a store on disk) of a spec of this many models or more runs its checks
# in a forked child while it loads what the last build kept (``parallel.Beside``): at 1,000
# models they were ~0.1 s of a one-model edit's compile, on one core while the other sat idle.
CHECKS_APART_FROM = 300
# The most a build waits for the child's answer once it needs it; then it checks itself.
CHECKS_WAIT_S = 30.0


def _checked(loaded: Loaded, resolved: Resolved, found: list[Diagnostic]) -> Checked:
    if any(d.code < "SS100" for d in loaded.diagnostics):
        # A file that did not parse may hold the definitions other files use;
        # "unknown name" there would only echo the syntax error.
        found = [d for d in found if d.code not in _ECHOES_OF_MISSING_FILES]
    from compiler.allowances import ordered

    return Checked(resolved, loaded.sources, ordered(found, loaded.diagnostics))


_ECHOES_OF_MISSING_FILES = frozenset({"SS101", "SS109", "SS402", "SS502", "SS603"})


@record
class Build(Record):
    checked: Checked
    files: tuple[OutputFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    key: str | None = None  # build_key of what it was built from (when built with a store)

    @property
    def has_errors(self) -> bool:
        return any_error(self.diagnostics)


def render(
    checked: Checked,
    templates: Templates,
    only: Sequence[str] | None = None,
    ci_install: str | None = None,
    units: Units | None = None,
) -> tuple[list[OutputFile], Sink]:
    """Every backend's files, sorted by path, and their diagnostics in backend order.

    A backend with ``start`` may hand back pending work (forked workers) that
    finishes while the backends after it render; each backend reports into its
    own sink, so diagnostics come out in the same order either way."""
    # Rendering imports jinja2 and every backend: `shipspec validate` never pays for them.
    from compiler.backends import BACKENDS, file_order
    from compiler.backends.base import RenderContext
    from compiler.backends.kubernetes import kustomize

    sink = Sink()
    chosen = [b for b in BACKENDS if only is None or b.name in only]
    # Backends that can hand work to forked workers start first, so that the workers run
    # beside every other backend (Triton's configs, first in order, took 1.4 s of one core
    # at 1,000 models before the Kubernetes workers were forked). Results and diagnostics
    # are taken in backend order all the same.
    first = [b for b in chosen if getattr(b, "start", None) is not None]
    started: dict[str, tuple[Any, Sink]] = {}
    try:
        for backend in [*first, *(b for b in chosen if b not in first)]:
            ctx = RenderContext(checked.resolved, templates, Sink(), ci_install, units)
            start = getattr(backend, "start", None)
            started[backend.name] = (start(ctx) if start is not None else backend.render(ctx), ctx.sink)
        files: list[OutputFile] = []
        later = []
        for backend in chosen:
            result, _ = started[backend.name]
            if isinstance(result, list):
                files.extend(result)
            elif result.files is not None:
                # Its files are at hand, its verification still under way beside (a one-shot
                # build: ~0.35 s of a child's at 1,000 models, against ~0.25 s of the other
                # backends here): waited for once this process has assembled and ordered them.
                files.extend(result.files)
                later.append(result)
            else:
                files.extend(result.finish())
        assembled = Sink()
        files.extend(kustomize.assemble(files, units, assembled))
        ordered = file_order.by_path(files, units)
        for result in later:
            result.finish()
    finally:
        for result, _ in started.values():
            if not isinstance(result, list):
                result.close()  # no-op once finished; stops workers after an error
    # Each backend's diagnostics (its own sink) in backend order, then the kustomizations':
    # the same order whichever finished first.
    for backend in chosen:
        sink.extend(started[backend.name][1].items)
    sink.extend(assembled.items)
    return ordered, sink


def build(
    inputs: Sequence[Path],
    template_dir: Path | None = None,
    *,
    validate_output: bool = True,
    store: Store | None = None,
    allow: frozenset[str] = frozenset(),
    ci_install: str | None = None,
    read_before: Sequence[SourceFile] = (),
    earlier: Resolved | None = None,
    discovered: tuple[list[Path], list[Diagnostic]] | None = None,
) -> Build:
    """Check the spec; if it has no errors, render and validate every output.

    ``allow``: warning codes not to report (inline allowances apply too); ``ci_install``:
    what the rendered workflows install (``[ci] install`` in shipspec.toml); ``read_before``:
    spec files already read (``parse.sources.load``); ``earlier``: the last build's resolve
    in a watching process (its placements are reused where they still hold); ``discovered``:
    the spec files under ``inputs`` and the problems finding them, as a caller's
    ``parse.sources.discover`` found them a moment ago.
    With a ``store`` (``compiler.cache``), each file's lowered IR and each render unit's
    files, diagnostics and validation verdict (``compiler.backends.memo``) are taken from
    it when what they depend on is unchanged: the unit's inputs, the template overrides,
    the validation switch, ``ci_install``, and shipspec's own code and data (the store's
    version). The checks always run (in memory, an item whose records, and those it looks
    up, are last step's takes last step's diagnostics: ``checks.kept``), and allowances
    apply after the store. A unit's files
    taken from the store carry only the facts of their documents (``backends.facts``);
    everything else is the same bytes."""
    loaded = load(inputs, store, read_before, discovered)
    if store is None or not _on_disk(store) or len(loaded.spec.models) < CHECKS_APART_FROM:
        raw = check_loaded(loaded, earlier, _kept_checks(store))
        checked = allowed(raw, allow, rendered=False)
        if checked.has_errors:
            return Build(checked, (), checked.diagnostics)
        return _built(loaded, raw.resolved, (raw, checked), template_dir, validate_output, store, allow, ci_install)
    from compiler.parallel import Beside

    resolved = resolve(loaded.spec, earlier)
    apart = Beside(lambda: _found(resolved))
    try:
        return _built(loaded, resolved, apart, template_dir, validate_output, store, allow, ci_install)
    finally:
        apart.close()


def _built(
    loaded: Loaded,
    resolved: Resolved,
    checks: tuple[Checked, Checked] | Beside[list[Diagnostic]],
    template_dir: Path | None,
    validate_output: bool,
    store: Store | None,
    allow: frozenset[str],
    ci_install: str | None,
) -> Build:
    """``build`` once the spec is loaded and resolved, and ``checks``: checked (as found and as
    reported), or being checked in a forked child, whose diagnostics it takes once it has
    loaded what the last build kept (a spec with errors renders nothing either way)."""
    key = None
    units = None
    memo_key = ""  # where the memo of this build configuration is kept (with a store)
    origins: Any = None  # where records come from (backends.digest_table), with the cache on disk
    table: Any = None
    if store is not None:
        from compiler.backends.memo import Units
        from compiler.parse.sources import file_key

        file_keys = {s.path: file_key(s.path, s.text) for s in loaded.sources}
        key = build_key(list(file_keys.values()), template_dir, validate_output, ci_install)
        memo_key = units_key(template_dir, validate_output, ci_install)
        memo = store.get("units", memo_key)
        units = Units.from_entry(memo, _texts(store))
        units.config = memo_key
        if validate_output:
            units.k8s_version = resolved.project.kubernetes_version
            units.check = _unit_check(units.k8s_version)
        if not _on_disk(store):  # an in-process store: what the last step kept of records an edit left alone
            units.resume(store.get("carried", "step"))
            units.since(resolved)
        else:
            from compiler.backends import digest_table

            _bodies(store, memo_key, units)
            if units.keeps_bodies:
                from compiler.changes import owner_states

                # Blocks of a loop's items found by what their owners' records are made of.
                units.owned = owner_states(resolved.spec, file_keys)
            # The digests the last build's keys stood records in by, found by each record's origin.
            origins = digest_table.Origins(resolved, file_keys)
            table = store.get(digest_table.KIND, memo_key)
            units.lookup = digest_table.lookup(origins, table)
    if isinstance(checks, tuple):
        raw, checked = checks
    else:
        if checks.pending():
            _meanwhile(template_dir, store, resolved)
        raw = _checked(loaded, resolved, checks.result(CHECKS_WAIT_S))
        checked = allowed(raw, allow, rendered=False)
        if checked.has_errors:
            return Build(checked, (), checked.diagnostics)
    if units is not None and store is not None and _on_disk(store):
        from compiler.backends.memo import Spool

        units.spool = Spool.open()  # texts rendered go out to a spool, from which the memo's pack is made
        units.bodies.spool = units.spool  # and the loop bodies it keeps
    files, found = _render_and_validate(raw, template_dir, validate_output, ci_install, units, store)
    if validate_output:
        from compiler import validate as output_validation

        output_validation.release_documents()  # validated: no validator is built after this
    if origins is not None and units is not None and store is not None:
        from compiler.backends import digest_table

        kept = digest_table.table_of(units.held, origins)
        if kept != table:
            store.put(digest_table.KIND, memo_key, kept)
    if store is not None and units is not None and not _on_disk(store):
        store.put("carried", "step", units.step())  # only this build's: the others are let go
    if store is not None and units is not None:
        memo_kept = not _on_disk(store) or units.worth_keeping()
        if memo_kept:
            # One entry for every unit this build used (and no others: the memo stays the build's size).
            _keep(store, memo_key, units)
        if units.keeps_bodies and (memo_kept or units.bodies_worth_keeping()):
            _keep_bodies(store, memo_key, units)
    return Build(checked, tuple(files), _reported(raw, found, allow), key)


def _meanwhile(template_dir: Path | None, store: Store | None, resolved: Resolved) -> None:
    """Do what rendering takes while the checks' child is still at work, where this process
    would sit idle (at 1,000 models a one-model edit's build waited 50-125 ms for it): load
    the backends' modules and shipspec's templates (~70 ms), and place every served model
    (3,250 placements, ~25 ms, which the catalog asks for). None of it depends on what the
    checks find, and what it makes the render holds to its end anyway; a spec with errors
    pays for it only in that wait."""
    from compiler.backends import BACKENDS  # noqa: F401 - asking for it imports every backend
    from compiler.backends.render import Templates

    if template_dir is None and store is not None:
        Templates.load(None, store)  # kept for this store: the render takes this one
    # Not an assert (``python -O`` drops those, and the work with them): each placement is made
    # by ``Resolved.place``, which keeps it for the render.
    _ = resolved.served_placements


def _reported(raw: Checked, found: Sequence[Diagnostic], allow: frozenset[str]) -> tuple[Diagnostic, ...]:
    """Every diagnostic of a build (checks, rendering, validation) that the run reports."""
    from dataclasses import replace

    every = replace(raw, diagnostics=_merged(raw.diagnostics, found))
    return allowed(every, allow, rendered=True).diagnostics


def _merged(a: Sequence[Diagnostic], b: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
    from compiler.allowances import ordered

    return ordered(a, b)


def _render_and_validate(
    checked: Checked,
    template_dir: Path | None,
    validate_output: bool,
    ci_install: str | None = None,
    units: Units | None = None,
    store: Store | None = None,
) -> tuple[list[OutputFile], list[Diagnostic]]:
    from itertools import chain

    from compiler import validate as output_validation
    from compiler.backends import file_validators
    from compiler.backends.render import Templates

    files, sink = render(checked, Templates.load(template_dir, store), ci_install=ci_install, units=units)
    if validate_output and not sink.has_errors:
        k8s_version, validators = checked.resolved.project.kubernetes_version, file_validators()
        rest = files
        if units is not None:
            # A unit's files were validated as it was rendered (``Units.check``; validation
            # reads nothing but the file, the version and the validators): its verdict stands.
            # In passes over all of them at once: a sink's extend and a set's update from a
            # generator for each of 14,759 units (1,000 models) cost a quarter more.
            verdicts = units.unit_verdicts()
            assert None not in verdicts, "a validating build keeps a verdict with every unit"
            sink.extend(chain.from_iterable(filter(None, verdicts)))
            rest = units.unbooked(files)
        if units is None:
            output_validation.validate_files(rest, k8s_version, sink, validators)
        else:
            from compiler.backends.memo import verdict_key

            # Every other file: its verdict by the digest of what validation reads.
            for f in rest:
                key = verdict_key(f, k8s_version)
                verdict = units.verdicts.get(key)
                if verdict is None:
                    verdict = units.known_verdicts.get(key)
                if verdict is None:
                    own = Sink()
                    output_validation.validate_files([f], k8s_version, own, validators)
                    verdict = tuple(own.items)
                units.verdicts[key] = verdict
                sink.extend(verdict)
    return files, sink.items


def _unit_check(k8s_version: str) -> Callable[[list[OutputFile]], tuple[Diagnostic, ...]]:
    """What validates a render unit's files as it is rendered (``Units.check``)."""

    validators: dict[str, Any] = {}

    def check(files: list[OutputFile]) -> tuple[Diagnostic, ...]:
        from compiler import validate as output_validation
        from compiler.backends import file_validators

        if not validators:
            validators.update(file_validators())
        own = Sink()
        output_validation.validate_files(files, k8s_version, own, validators)
        return tuple(own.items)

    return check


def _texts(store: Store) -> Callable[[str], Any] | None:
    """What opens a packed memo's texts in ``store`` (a store on disk keeps them apart)."""
    from compiler.backends.memo import TextPack

    if not _on_disk(store):
        return None
    cache = store

    def texts(name: str) -> TextPack | None:
        data, facts = cache.open_blob("texts", name), cache.open_blob("facts", name)
        return None if data is None or facts is None else TextPack(data, f"{cache.dir}/texts/{name}", facts)

    return texts


def _keep(store: Store, key: str, units: Units) -> None:
    """Put ``units``' entry in ``store``: on disk, its texts in a pack of their own beside it
    (written first: an entry whose pack is missing is an empty memo)."""
    if not _on_disk(store):
        store.put("units", key, units.entry())
        return
    if not store.writable:  # check: nothing is written, so nothing is packed
        return
    name = f"{key}.{os.urandom(8).hex()}"
    entry, chunks = units.packed(name)
    store.put_blob("texts", name, chunks, replaces=f"{key}.")
    store.put_blob("facts", name, entry.facts(), replaces=f"{key}.")
    store.put("units", key, entry)


def _bodies(store: Store, key: str, units: Units) -> None:
    """Have a build on disk keep its loop bodies over units for the next process, and take
    those the last build on disk kept (``memo_groups``; anything else in their place: none).
    A cold compile keeps them too (in its spool, not its memory: ``memo_groups.Bodies``), so
    the first one-field edit after it asks for the few its model is in, not every unit's
    key (1.13-1.23 s at 1,000 models against 0.74 s for the edits after; issue 16, target 3)."""
    from compiler.backends import memo_groups

    units.keeps_bodies = True
    found = store.get(memo_groups.KIND, key) if units.known else None
    if isinstance(found, dict):
        units.known_bodies = found


def _keep_bodies(store: Store, key: str, units: Units) -> None:
    """Put this build's kept bodies beside the memo (a body whose units are not all in the
    memo a later build loads runs again: the two need not be written together)."""
    from compiler.backends import memo_groups

    store.put(memo_groups.KIND, key, units.bodies)


def _kept_checks(store: Store | None) -> Kept | None:
    """What a watching process's checks keep from step to step, in its memory (none on disk:
    results kept by the identity of records mean nothing in another process)."""
    if store is None or _on_disk(store):
        return None
    kept = store.get("carried", "checks")
    if not isinstance(kept, Kept):
        kept = Kept()
        store.put("carried", "checks", kept)
    return kept


def _on_disk(store: Store) -> TypeGuard[Cache]:
    """Whether the store is the cache on disk (its memo's texts in a pack, its build's in a
    spool), rather than a watching process's memory."""
    from compiler.cache import Cache

    return isinstance(store, Cache)


def units_key(template_dir: Path | None, validate_output: bool, ci_install: str | None) -> str:
    """Where the render-unit memo of a build configuration is kept: everything a unit's
    result depends on besides its own inputs (``compiler.backends.memo``)."""
    return build_key(["units"], template_dir, validate_output, ci_install)


def build_key(
    file_keys: Sequence[str], template_dir: Path | None, validate_output: bool, ci_install: str | None
) -> str:
    """What a build's outputs depend on besides shipspec's code and data (the cache's version):
    each spec file (``parse.sources.file_key``), the template overrides and the switches."""
    from compiler.cache import digest, tree_digest, version_tag

    parts = [
        version_tag(),
        "validate" if validate_output else "render-only",
        tree_digest(template_dir) if template_dir is not None else "-",
        f"ci_install={ci_install or '-'}",
    ]
    return digest(*parts, *file_keys)


# Emit: what writing a build under a root would change, and writing it. Appended
# by the cli/commands split; the command line and ``promote`` call these.

if TYPE_CHECKING:
    from compiler.emit import Kept as PlanKept
    from compiler.emit import Plan
    from compiler.settled import Tree


@record
class Planned(Record):
    """A build's plan for the tree under a root: ``checked`` carries the build's
    diagnostics and the plan's (hand-edited or foreign files in the way); ``plan``
    is None when the build has errors."""

    checked: Checked
    plan: Plan | None

    @property
    def has_errors(self) -> bool:
        return self.checked.has_errors


def outcome(built: Build) -> Checked:
    """The built spec and its sources with every diagnostic of the build (checks, rendering, validation)."""
    from dataclasses import replace

    return replace(built.checked, diagnostics=built.diagnostics)


def plan(
    built: Build,
    root: Path,
    *,
    force: bool = False,
    store: Store | None = None,
    tree: Tree | None = None,
    kept: PlanKept | None = None,
) -> Planned:
    """What writing ``built`` under ``root`` would do; ``force`` overwrites or prunes hand-edited files.
    With a ``store``, files whose stat and ledger sha match what was last written are not read;
    with a ``tree`` (``settled.tree``: the root as the last compile left it), the paths it
    wrote are neither read nor screened; with what a watching process ``kept`` of the plan
    that tree records (``emit.kept``), only the files not handed out again are looked at."""
    from dataclasses import replace

    from compiler import emit as emitting

    sink = Sink(list(built.diagnostics))
    planned = None
    if built.has_errors:
        pass
    elif tree is not None:
        planned = emitting.plan_over(built.files, root, sink, tree.ledger, kept)
    else:
        planned = emitting.plan(built.files, root, sink, force=force, known=_known(store, root))
    from compiler.allowances import ordered

    # The build's (a tuple ``ordered`` made), then the plan's own: the build's are not keyed again.
    said = built.diagnostics
    return Planned(replace(built.checked, diagnostics=ordered(said, sink.items[len(said) :])), planned)


def emit(planned: Planned, store: Store | None = None, *, settles: bool = False) -> bool:
    """Write the plan, atomically and only files shipspec owns; False (nothing written) when it has errors.
    With a ``store``, what is on disk afterwards is recorded for the next plan, unless the
    caller ``settles`` the tree (``compiler.settled``: its record holds the same hints)."""
    if planned.plan is None or planned.has_errors:
        return False
    from compiler import emit as emitting

    if store is not None and _on_disk(store) and len(planned.plan.write) >= emitting.BULK:
        # A first compile's deferred cache entries are pickled in a child beside the writes
        # (the kernel's work on one core), not after them.
        store.write_apart()
    emitting.apply(planned.plan)
    if store is not None and not settles:
        observe(planned.plan, store)
    return True


def observe(plan: Plan, store: Store) -> None:
    """Keep the stat and sha256 of each file ``plan`` left, for the next plan's hints."""
    from compiler import emit as emitting

    key = _root_key(plan.root)
    known = store.get("stat", key)
    if plan.write or plan.delete or len(known or ()) != len(plan.files):
        store.put("stat", key, emitting.observed(plan, known=known))


def _known(store: Store | None, root: Path) -> Any:
    """Hints for a plan over a tree not known to be as recorded: the settled record's,
    else what ``observe`` kept."""
    if store is None:
        return None
    from compiler import settled

    hints = settled.known(store, root)
    return hints if hints is not None else store.get("stat", _root_key(root))


def _root_key(root: Path) -> str:
    from compiler.cache import root_key

    return root_key("stat", root)


def stale(built: Build, root: Path, store: Store | None = None) -> str:
    """The unified diff from the tree under ``root`` to ``built``; empty when the committed output is current."""
    return staleness(built, root, store, ledger=True).diff


@record
class Staleness(Record):
    """What ``shipspec check`` reports: the stale paths, the diff of the files (without the
    ledger's hash churn unless asked), and the ledger entries and paths that were refused:
    never read, so reported instead of diffed (a diff would show what is outside the tree:
    issue 17)."""

    paths: tuple[str, ...]
    diff: str
    refused: tuple[Diagnostic, ...] = ()


def staleness(
    built: Build, root: Path, store: Store | None = None, *, ledger: bool = False, tree: Tree | None = None
) -> Staleness:
    from compiler import emit as emitting

    sink = Sink()
    if tree is not None:
        planned = emitting.plan_over(built.files, root, sink, tree.ledger)
    else:
        planned = emitting.plan(built.files, root, sink, known=_known(store, root))
    refused = tuple(d for d in sink.items if d.code in emitting.REFUSED_PATHS)
    return Staleness(tuple(emitting.changed_paths(planned)), emitting.diff(planned, ledger=ledger), refused)
