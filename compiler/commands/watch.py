"""``shipspec compile --watch``: compile, then recompile whenever a spec file changes.

The process keeps what it built in memory (a ``compiler.cache.Memory``): each
file's lowered IR by path and text, what the checks found per item, the render units
of the last build, and the record of the tree it wrote (``compiler.settled``). A
change re-reads the spec files, lowers only those whose text changed, checks again
only the items whose records, or the records they look up, changed
(``compiler.checks.kept``), renders only the units whose inputs changed (a loop over models
hands back last step's blocks of the models the edit left alone without asking them:
``compiler.changes``), and, over a tree still as
it was written, plans without reading or screening the paths it wrote
(``emit.plan_over``), looking only at the files its render did not hand out again
(the same objects as its last plan's: ``emit.kept``); it writes only the files whose
bytes changed. Only the
files it is about to rewrite or remove (and the directories on their way, and
the ledger) are compared with what it wrote: one of them edited by hand makes it
plan over what is there, and report the edit (SS901) as compile does; a hand
edit elsewhere is left to ``shipspec check``, rather than stat every file of the
tree on every keystroke. Builds use the
project's ``shipspec.toml`` as a one-shot compile does (allowed warnings, ``[ci]
install``) and hold the output root's lock while planning and writing.

Changes are found by polling the spec files' modification times (and the set
of files) every ``interval`` seconds: no dependency, works on every platform and
file system (network mounts and containers included, where inotify events are
unreliable), and at 1,000 files a poll is a few milliseconds of ``stat``.

``Watcher`` is the in-process API (a language server can hold one and call
``step``); ``run`` is the command's loop.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from compiler import emit, emit_journal, pipeline, settled
from compiler.cache import Memory
from compiler.diagnostics import Diagnostic
from compiler.parse.sources import discover, display_paths
from compiler.parse.syntax import SourceFile


class Snapshot(dict[str, tuple[int, int]]):
    """Spec files' (mtime_ns, size) by path; and (``found``) the files and problems the
    discovery that listed them found, which the build this snapshot starts loads rather
    than walk the directories again. Equal as the dicts are."""

    found: tuple[list[Path], list[Diagnostic]] | None = None


def snapshot(inputs: Sequence[Path]) -> Snapshot:
    """Every spec file under ``inputs`` with its (mtime_ns, size)."""
    files, problems = discover(inputs)
    out = Snapshot()
    out.found = files, problems
    posix = os.sep == "/"  # (then a path's name is its posix form: no second string made)
    for path in files:
        name = os.fspath(path)
        try:
            st = os.stat(name)
        except OSError:
            continue
        out[name if posix else path.as_posix()] = (st.st_mtime_ns, st.st_size)
    return out


class Watcher:
    """Compiles ``inputs`` into ``out`` from memory; ``step`` recompiles when something changed."""

    def __init__(
        self,
        inputs: Sequence[Path],
        out: Path,
        templates: Path | None = None,
        force: bool = False,
        allow: frozenset[str] = frozenset(),
        ci_install: str | None = None,
    ) -> None:
        self.inputs, self.out, self.templates, self.force = list(inputs), out, templates, force
        self.allow, self.ci_install = allow, ci_install
        self.store = Memory()
        self.seen: Snapshot | None = None
        self.built: pipeline.Build | None = None  # the last build (a language server reads its diagnostics)
        # The last plan it applied and recorded, for the next plan over the recorded tree, and
        # the ledger that plan left (its digest and bytes: ``settled.holds``).
        self.kept: emit.Kept | None = None
        self.ledger: tuple[str, bytes | bytearray] | None = None

    def compile(self, seen: Snapshot | None = None) -> pipeline.Planned:
        """One compile (and write, when it has no errors) from what is in memory (``seen``:
        the snapshot a poll just took). The cyclic collector waits meanwhile (it walked the
        whole held heap mid-step, about a third of a step at 1,000 models); ``run`` collects
        after reporting, while nothing waits."""
        with _collector_waiting():
            return self._compile(seen)

    def _compile(self, seen: Snapshot | None) -> pipeline.Planned:
        # Taken before the files are read: a change while building is seen by the next poll.
        last, self.seen = self.seen, snapshot(self.inputs) if seen is None else seen
        earlier = self.built.checked.resolved if self.built is not None else None
        built = self.built = pipeline.build(
            self.inputs,
            self.templates,
            store=self.store,
            allow=self.allow,
            ci_install=self.ci_install,
            read_before=_unchanged(self.built, last, self.seen),
            earlier=earlier,
            discovered=getattr(self.seen, "found", None),
        )
        self.store.sweep("ir")
        if built.has_errors:
            return pipeline.plan(built, self.out, force=self.force, store=self.store)
        with emit_journal.locked(self.out):  # one shipspec writes a tree at a time, as compile does
            tree = settled.recorded(self.store, self.out)
            planned = pipeline.plan(built, self.out, force=self.force, store=self.store, tree=tree, kept=self.kept)
            p = planned.plan
            if (
                tree is not None
                and p is not None
                and not settled.holds(tree, self.out, [*p.write, *p.delete], self.ledger)
            ):
                # Something it is about to change moved since it wrote it: plan over what is there.
                tree = None
                planned = pipeline.plan(built, self.out, force=self.force, store=self.store)
            settles = built.key is not None
            if planned.plan is not None:
                planned.plan.hash_ledger = False  # it keeps the ledger it leaves (``self.ledger``)
            if pipeline.emit(planned, self.store, settles=settles) and settles and planned.plan is not None:
                assert built.key is not None
                inputs = settled.Inputs(planned.checked.sources, settled.with_allowed(built.key, self.allow))
                if not settled.record(self.store, self.out, inputs, planned.checked.diagnostics, planned.plan, tree):
                    pipeline.observe(planned.plan, self.store)  # no record: the plain hints, then
                else:
                    # Bound to the ledger just recorded: a plan over any other record is made whole.
                    now = settled.recorded(self.store, self.out)
                    self.kept = emit.kept(planned.plan, built.files, now.ledger) if now is not None else None
                    left = planned.plan
                    if left.ledger_sha is not None and left.ledger_left is not None:
                        self.ledger = left.ledger_sha, left.ledger_left
        return planned

    def step(self) -> pipeline.Planned | None:
        """Recompile if a spec file changed, appeared or went since the last compile; else None."""
        with _collector_waiting():  # the poll too: a collection it set off walked the held heap
            now = snapshot(self.inputs)
            if self.seen is not None and now == self.seen:
                return None
            return self._compile(now)


def _unchanged(built: pipeline.Build | None, last: Snapshot | None, now: Snapshot) -> list[SourceFile]:
    """The spec files of the last build whose (mtime_ns, size) are as the last poll found them:
    their texts are not read again (a step read and hashed every file). What the poll takes
    for "nothing changed" is what this takes for "this file did not change"."""
    if built is None or last is None:
        return []
    same = set(display_paths([p for p, st in now.items() if last.get(p) == st]))
    return [s for s in built.checked.sources if s.path in same]


@contextlib.contextmanager
def _collector_waiting() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run(
    inputs: Sequence[Path],
    out: Path,
    templates: Path | None,
    force: bool,
    report: Callable[[pipeline.Planned], object],
    interval: float = 0.2,
    cycles: int | None = None,
    allow: frozenset[str] = frozenset(),
    ci_install: str | None = None,
) -> int:
    """Compile, then poll every ``interval`` seconds until interrupted (or ``cycles`` polls).

    The cyclic collector stays off for the whole loop and collects once after each report,
    while the loop waits for the next edit. Turned back on as each step ended (as ``Watcher``
    leaves it for other callers), it collected at the next allocation, before the report: a
    full collection over the held heap, 0.1-0.3 s at 1,000 models on some steps."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _loop(Watcher(inputs, out, templates, force, allow, ci_install), report, interval, cycles)
    finally:
        if enabled:
            gc.enable()


def _loop(watcher: Watcher, report: Callable[[pipeline.Planned], object], interval: float, cycles: int | None) -> int:
    report(watcher.compile())
    gc.collect()
    polls = 0
    try:
        while cycles is None or polls < cycles:
            time.sleep(interval)
            polls += 1
            done = watcher.step()
            if done is not None:
                report(done)
                gc.collect()  # the step's cyclic garbage, now that its result is out
    except KeyboardInterrupt:
        pass
    return 0
