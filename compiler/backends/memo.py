"""Render units: one backend's files for one model (or model x environment), memoised.

A unit is a function of only the values it is given (frozen IR records, a
``resolve.Placement``, the project, strings) and of the templates. Its result (the
files it rendered, the facts of their documents (``backends.facts``), the
diagnostics it reported and its validation verdict) is kept under the digest of the
unit's name and the pickle of those values (the larger records in them by the digest
of their own pickle, ``digest_of``); templates
and shipspec's own code are not in that digest, so a ``Units`` is only ever filled and
read under one build configuration (``pipeline.units_key``: the code's version, the
template overrides, the switches). A pickle that differs for equal values (shared
references, set order) is a miss, never a wrong hit.

A unit's files are validated as it is rendered (``Units.check``, set by ``pipeline``)
and only then cut to facts, so a unit taken from the memo is neither rendered nor
parsed back nor validated again, and a build never holds every parsed document.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import os
import pickle
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import accumulate, chain, compress
from operator import attrgetter, itemgetter, methodcaller, not_
from sys import intern
from typing import Any, NamedTuple, TypeVar, cast

from compiler.backends.facts import facts, summary
from compiler.backends.memo_groups import Bodies, Kept, Traced, kept_of, result_of, unit_keys, unit_kinds
from compiler.cache import InParts
from compiler.changes import OwnerStates
from compiler.diagnostics import Diagnostic, Sink, Span
from compiler.errors import ShipspecError
from compiler.output import FactsAt, OutputFile, StoredFile, digest_of, pieces, stored, stored_each
from compiler.records import Record, TupleRecord

_T = TypeVar("_T")

# Where a kept file's text is in the memo's text pack: (offset, length) of its UTF-8.
TextAt = tuple[int, int]
# path, text (or where it is kept), source, kind, documents, config_map, the sha256 and length of its bytes
# (documents: their facts, or where the memo keeps them apart: ``output.FactsAt``)
FileRecord = tuple[str, "str | TextAt", Span, str, "tuple[dict[str, Any], ...] | FactsAt", str | None, str, int]


@dataclass(frozen=True, slots=True)
class Scope:
    """What a render unit renders with: the templates, and its own sink (no resolved spec)."""

    templates: Any
    sink: Sink


class UnitResult(
    tuple[tuple[FileRecord, ...], tuple[Diagnostic, ...], tuple[Diagnostic, ...] | None, str | None, Any, bool]
):
    """What one unit rendered: its files, the diagnostics rendering reported, and (once
    validated under ``k8s_version``) the validation diagnostics of those files; made with
    ``of``. A tuple: a memo at 1,000 models holds ~18,000, and a tuple subclass without a
    ``__new__`` of its own loads without a call into Python (a record's ``__init__`` was
    ~20 ms of each one-shot compile's load)."""

    __slots__ = ()

    @classmethod
    def of(
        cls,
        files: tuple[FileRecord, ...],
        diagnostics: tuple[Diagnostic, ...],
        verdict: tuple[Diagnostic, ...] | None = None,
        k8s_version: str | None = None,
        value: Any = None,
        trimmed: bool = False,
    ) -> UnitResult:
        """``value``: what a value unit (``Units.value``) computed (it renders no files);
        ``trimmed``: the files' documents are only their ``backends.facts.facts``, enough for
        the policy checks and the kustomization, not for validation, so such a result is used
        only with its verdict."""
        return cls((files, diagnostics, verdict, k8s_version, value, trimmed))

    @property
    def files(self) -> tuple[FileRecord, ...]:
        return self[0]

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self[1]

    @property
    def verdict(self) -> tuple[Diagnostic, ...] | None:
        return self[2]

    @property
    def k8s_version(self) -> str | None:
        return self[3]

    @property
    def value(self) -> Any:
        return self[4]

    @property
    def trimmed(self) -> bool:
        return self[5]

    def _replace(self, **changes: Any) -> UnitResult:
        made = list(self)
        for name, v in changes.items():
            made[_RESULT_FIELDS.index(name)] = v
        return UnitResult(made)

    def __repr__(self) -> str:
        return "UnitResult(" + ", ".join(f"{n}={v!r}" for n, v in zip(_RESULT_FIELDS, self, strict=True)) + ")"

    def kept(self, shared: dict[Any, tuple[Any, Any]]) -> UnitResult:
        """This result as the memo keeps it: documents trimmed to their facts, each part
        equal to one already kept being that same object (``shared``: equal in types and key
        order too, so 1 and True never merge; ``_shared``): the pickle then builds it once.
        Most facts repeat (security contexts, spread rules): 0.3 s of loading the memo at
        1,000 models became 0.02 s."""
        if self.trimmed or not self.files:
            return self
        files = tuple(
            (p, t, s, k, tuple(_shared(facts(d), shared) for d in docs), c, g, n)
            for p, t, s, k, docs, c, g, n in self.files
        )
        return self._replace(files=files, trimmed=True)


_RESULT_FIELDS = ("files", "diagnostics", "verdict", "k8s_version", "value", "trimmed")


# What a forked worker sends back (Units.export): the number of units it rendered, per unit
# its key, result and where its files are in the worker's, and the loop bodies it kept.
Exported = tuple[int, list[tuple[str, UnitResult, list[int]]], dict[bytes, Kept]]


@dataclass
class Units:
    """The unit results an earlier build left (``known``) and the ones this build used."""

    known: dict[str, UnitResult] = field(default_factory=dict)
    used: dict[str, UnitResult] = field(default_factory=dict)
    # This build's units, rendered or taken from the memo: key -> the files (with ``check``,
    # each unit's verdict is ``used[key].verdict``). In a watching build, only those booked one
    # by one: the units of a body it replays are that body's (``replayed``).
    files: dict[str, Booked] = field(default_factory=dict)
    # In a watching build, the id of every file in ``files``: validation passes over the files
    # no unit made (``unbooked``; a one-shot build makes the set once, when it validates: held,
    # it was 3 MiB of a cold compile's peak at 1,000 models).
    file_ids: set[int] = field(default_factory=set)
    # There too, the bodies this build replayed (by id: each once), and how many of them made
    # each file (by id, ``_file_counts``): last step's counts moved by the few bodies an edit
    # replaced (``_carried_files``: [last step's bodies, their counts]), not a set of 33,500
    # ids made again each step, nor each body's units booked one by one.
    replayed: dict[int, _Group] = field(default_factory=dict)
    _carried_files: list[Any] | None = None
    _counts: dict[int, int] | None = None
    _files_kept: list[Any] | None = None
    # There too, the file ids of the bodies ``_file_counts`` counted in or out (None: counted
    # afresh), and what ``unbooked`` carries from step to step (``backends.unbooked``): last
    # step's, in a list a step empties as it takes it, and this step's.
    _moved: list[frozenset[int]] | None = None
    _carried_rest: list[Any] = field(default_factory=list)
    _rest_kept: list[Any] = field(default_factory=list)
    rendered: int = 0
    # The Kubernetes version this build validates against, and what validates a unit's files
    # as it is rendered (None: the build does not validate). A result the memo keeps has
    # only its documents' facts, so with ``check`` one without a verdict for this version
    # is a miss.
    k8s_version: str | None = None
    check: Callable[[list[OutputFile]], tuple[Diagnostic, ...]] | None = None
    _shared: dict[Any, tuple[Any, Any]] = field(default_factory=dict)
    # The texts of ``known``'s files, when its entry was ``packed``.
    pack: TextPack | None = None
    # Where this build's rendered texts go as each unit is rendered (a build whose memo is
    # packed on disk); None: they stay in its results.
    spool: Spool | None = None
    # id() of a record -> (the record, its digest) for ``digest_of``: this build's, and what an
    # earlier build in this process left (``compile --watch``: its unchanged IR objects).
    held: dict[int, tuple[Any, bytes]] = field(default_factory=dict)
    carried: dict[int, tuple[Any, bytes]] = field(default_factory=dict)
    # A record's digest as the last build on disk made it, found by where the record comes from
    # (``digest_table.lookup``; None: none, or a process that carries them in ``carried``).
    lookup: Callable[[Any], bytes | None] | None = None
    # Validation verdicts of files no unit rendered, by the digest of what validation reads
    # (``verdict_key``): the earlier build's and this build's.
    known_verdicts: dict[str, tuple[Diagnostic, ...]] = field(default_factory=dict)
    verdicts: dict[str, tuple[Diagnostic, ...]] = field(default_factory=dict)
    # A watching process's unit keys by their inputs' identities (``identities``): this build's
    # (``by_identity`` set) and the last build's. A unit given the very records it was given
    # last time (all an edit left alone) takes its key from there instead of pickling them
    # again; the entry holds those records, so their ids are not reused meanwhile.
    by_identity: bool = False
    keys: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = field(default_factory=dict)
    carried_keys: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = field(default_factory=dict)
    # There too, the files each key's result was made into (this build's, and the last's): a
    # result the memo hands out again (the same object) is the same files.
    made: dict[str, tuple[UnitResult, tuple[OutputFile, ...]]] = field(default_factory=dict)
    carried_made: dict[str, tuple[UnitResult, tuple[OutputFile, ...]]] = field(default_factory=dict)
    # There too, what an aggregate over every file keeps of this step for the next, by its
    # name (``kustomize.assemble``'s parts and directories): this build's, and the last's.
    state: dict[str, Any] = field(default_factory=dict)
    carried_state: dict[str, Any] = field(default_factory=dict)
    # There too, loop bodies over units (``group``) by their inputs' identities: this build's
    # and the last's. The units a body used while it ran (``_Used``, in order), so that one
    # handed back without running counts them as used just as running it would have.
    # What, besides a body's inputs, its result depends on: the build configuration the
    # pipeline keeps this memo under (templates, switches; ``pipeline.units_key``).
    config: str = ""
    groups: dict[tuple[Any, ...], _Group] = field(default_factory=dict)
    carried_groups: dict[tuple[Any, ...], _Group] = field(default_factory=dict)
    _recording: list[_Used] | None = None
    # There too, the models whose records this build's spec does not share with the spec of
    # the step that kept ``carried_state`` (``compiler.changes``; None: not known, or not a
    # watching build): a block of a loop's items whose owners are all left alone is handed
    # back whole, by their names (``unit_each``, ``group_each``: ``owners``).
    changed: frozenset[str] | None = None
    # A build on disk keeps its loop bodies over units for the next process (``memo_groups``):
    # by the digest of each body's inputs, the earlier build's (``known_bodies``) and this
    # build's; and the units the body now running has used (``_trace``).
    keeps_bodies: bool = False
    known_bodies: dict[bytes, Kept] = field(default_factory=dict)
    # There too, what a block's owners' records are made of (``changes.owner_states``): a
    # block of a loop's items is kept under its owners' states as well, and found by them
    # without making its inputs (``owned_blocks``). None: blocks kept by their inputs only.
    owned: OwnerStates | None = None
    bodies: Bodies = field(default_factory=Bodies)
    _trace: list[Traced] | None = None
    # A watching build's ``keys``, ``used`` and ``made`` are last step's very dicts, carried on
    # (``resume``) when it renders under the same configuration: each entry is keyed by content
    # (or by identities its entry holds alive), so one no unit of this step asked for is never
    # a wrong answer, and a replayed body, which last step's books already hold, adds nothing
    # (booking its ~18,000 units into fresh dicts was ~12 ms of a one-model step). How many
    # entries ``used`` held when they were last made afresh (``_books_base``) bounds what
    # they gather before a step makes them afresh again (``_STALE``).
    books_carried: bool = False
    _books_base: int = 0

    @classmethod
    def from_entry(cls, entry: Any, texts: Callable[[str], TextPack | None] | None = None) -> Units:
        """The memo a store's ``units`` entry holds (anything else: an empty one). An entry
        ``packed`` (in parts) names its text pack, which ``texts`` opens (unopenable: an
        empty memo)."""
        if isinstance(entry, tuple) and len(entry) == 2 and all(isinstance(e, dict) for e in entry):
            return cls(known=entry[0], known_verdicts=entry[1])
        if isinstance(entry, InParts) and isinstance(entry.head, tuple) and len(entry.head) == 4:
            verdicts, name, _, facts_sha = entry.head
            if isinstance(verdicts, dict) and isinstance(name, str) and isinstance(facts_sha, str) and texts:
                pack = texts(name)
                if pack is not None and pack.facts_data is not None:
                    pack.facts_sha = facts_sha
                    return cls(
                        known={key: result for part in entry.parts for key, result in _pairs(part)},
                        known_verdicts=verdicts,
                        pack=pack,
                    )
        return cls()

    def step(self) -> dict[str, Any]:
        """What a watching process keeps of this build for its next (``resume``): the digests,
        keys and files made from its records, and what aggregates kept (``state``)."""
        base = self._books_base if self.books_carried else len(self.used)
        books = (self.config, self.k8s_version, self.keys, self.used, self.made, base)
        if self._files_kept is None:
            # One list, however often asked: the one step that moves its counts on marks it moved.
            self._files_kept = [self.replayed, self._file_counts()]
        files = self._files_kept
        return {
            "digests": self.held,
            "state": self.state,
            "groups": self.groups,
            "books": books,
            "files": files,
            "rest": self._rest_kept,
        }

    def resume(self, step: Any) -> None:
        """Key by identity, with what the last build of this process kept (``step``; anything
        else: nothing)."""
        kept = step if isinstance(step, dict) else {}
        self.by_identity = True
        self.carried = kept.get("digests", {})
        books = kept.get("books")
        if type(books) is tuple and len(books) == 6:
            config, k8s_version, keys, used, made, base = books
            if (config, k8s_version) == (self.config, self.k8s_version) and len(used) <= base + max(base // 4, _STALE):
                self.keys, self.used, self.made, self._books_base = keys, used, made, base
                self.books_carried = True
            else:
                self.carried_keys, self.carried_made = keys, made
        files = kept.get("files")
        if type(files) is list and len(files) == 2:
            self._carried_files = files
        rest = kept.get("rest")
        if type(rest) is list and rest:
            self._carried_rest = rest
        self.carried_state = kept.get("state", {})
        self.carried_groups = kept.get("groups", {})

    def since(self, resolved: Any) -> None:
        """Know which models ``resolved``'s spec changed since the spec of the step ``resume``
        took what it kept from (``changed``: the resolve's own answer, when that was the spec
        it resolved after), and keep its spec for the next step to compare with."""
        from compiler.changes import changed_models

        spec, before = resolved.spec, self.last_spec()
        if before is None:
            self.changed = None
        elif before is resolved.changed_since:
            self.changed = resolved.changed
        else:
            self.changed = changed_models(spec, before)
        self.state[_SPEC] = spec

    def last_spec(self) -> Any:
        """The spec of the step ``resume`` took what it kept from (``changed`` is since it; None: none)."""
        return self.carried_state.get(_SPEC)

    def _block_key(self, name: str, shared: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """What a loop's blocks are kept under besides their items' owners: the loop's name,
        the build configuration and the identities of what every item is given alike (None:
        blocks are not kept by their owners in this build: not a watching one)."""
        if not self.by_identity or self._recording is not None:
            return None
        return identities(name, (self.config, self.k8s_version, *shared))

    def _handed_block(self, key: tuple[Any, ...]) -> _Group | None:
        """Last step's block under ``key`` (whose last part is its items' owners), replayed, when
        this build changed none of its owners' models; else None. Its parts (``_by_parts``)
        are kept for the next step with it."""
        found: _Group | None = self.carried_state.get(_BLOCKS, {}).get(key)
        if found is None or not self._untouched(key[-1]):
            return None
        self._replay(found)
        self._keep_block(key, found)
        parts = self.carried_state.get(_PARTS, {}).get(key)
        if parts is not None:
            self._keep_parts(key, parts)
        return found

    def _untouched(self, owners: Sequence[Any]) -> bool:
        """Whether this build changed none of ``owners``' models (None: not known, so no)."""
        changed = self.changed
        if changed is None:
            return False
        return not changed or changed.isdisjoint(o if type(o) is str else o[0] for o in owners)

    def _keep_block(self, key: tuple[Any, ...], found: _Group) -> None:
        self.state.setdefault(_BLOCKS, {})[key] = found

    def _last_parts(self, key: tuple[Any, ...]) -> tuple[_Group, ...] | None:
        """Last step's parts of the block under ``key`` (None: none kept, or not known to hold)."""
        if self.changed is None:
            return None
        parts: tuple[_Group, ...] | None = self.carried_state.get(_PARTS, {}).get(key)
        return parts

    def _keep_parts(self, key: tuple[Any, ...], parts: tuple[_Group, ...]) -> None:
        self.state.setdefault(_PARTS, {})[key] = parts

    def entry(self) -> tuple[dict[str, UnitResult], dict[str, tuple[Diagnostic, ...]]]:
        """What to keep for the next build: the units and verdicts this build used, no others
        (a watching build: its books' ``used`` itself, which may hold more, as ``resume`` says)."""
        if self.by_identity and self.check is not None:
            return self.used, self.verdicts
        if self.check is not None:
            # A validating build trims each result as it renders it (``keyed``), and every other
            # it uses comes from an entry or a worker that did: a copy, not 15,000 calls a step.
            return dict(self.used), self.verdicts
        return {key: result.kept(self._shared) for key, result in self.used.items()}, self.verdicts

    def packed(self, name: str) -> tuple[_Packed, Iterator[bytes]]:
        """``entry`` for a store on disk: each file's text in a pack named ``name`` (the
        chunks, made as they are written), the entry naming it and where each text is.
        A later build reads the few texts it needs (``output.StoredFile``), not all.

        The entry is in parts (``cache.InParts``) of ``PART_UNITS`` units, each made as it
        is written: a pickler remembers every object it wrote until its pickle ends (16 B
        a slot, about 500,000 of them at 1,000 models: the last peak of a cold compile),
        and the units as packed here were a copy of every file record held from the
        build until the cache was closed. The records the parts share (spans, repeated
        facts) go in the head, so that each is written and loaded once.

        Both are made when the cache writes them: a first compile's are deferred until its
        tree exists, and what laying them out takes (the list of units, the walk for what
        parts share) is then taken once the tree is written, not held through emit.

        The files' documents' facts are not in the entry: ``_Packed.facts`` makes them, to be
        put as a blob of their own beside the pack (before the entry, whose head holds their
        sha256), and each file holds where its facts are and what a kustomization reads of
        them (``output.FactsAt``). Loading them was about half of loading the entry, and a
        one-shot build reads them only in the child that verifies the Kubernetes policy."""
        items = _Items(self)
        return _Packed(items, name), _chunks(self._texts(items))

    def _texts(self, items: _Items) -> Iterator[str | tuple[TextPack | Spool, int, int]]:
        """Each text of ``items``' files and values, or where it is, in the order ``_parts`` places them."""
        for _, kept in items():
            texts: list[str | tuple[TextPack | Spool, int, int]] = []
            self._placed(kept, 0, texts)
            yield from texts

    def _parts(self, items: list[tuple[str, UnitResult]]) -> Iterator[list[str | UnitResult]]:
        """The units of ``items`` with their texts where ``packed`` lays them out, ``PART_UNITS``
        at a time (each let go of once written), as a flat list of key, result, key, ...
        (a pair each was 18,000 tuples more to write and to load)."""
        at = 0
        index = 0  # of the next file's facts in ``_facts_parts``' order
        for start in range(0, len(items), PART_UNITS):
            part: list[str | UnitResult] = []
            for key, kept in items[start : start + PART_UNITS]:
                placed, at = self._placed(kept, at)
                if placed.files:
                    files = tuple(
                        (p, t, s, k, FactsAt((index + i, *_summary(d))), c, g, n)
                        for i, (p, t, s, k, d, c, g, n) in enumerate(placed.files)
                    )
                    index += len(files)
                    placed = placed._replace(files=files)
                part += (key, placed)
            yield part

    def _facts_parts(self, items: list[tuple[str, UnitResult]]) -> Iterator[list[tuple[dict[str, Any], ...]]]:
        """The documents' facts of ``items``' files, in the order ``_parts`` numbers them, a
        part of ``PART_UNITS`` units at a time (one read from this memo's facts where the file
        holds where they are)."""
        for start in range(0, len(items), PART_UNITS):
            yield [self._documents(r[4]) for _, kept in items[start : start + PART_UNITS] for r in kept.files]

    def _documents(self, docs: tuple[dict[str, Any], ...] | FactsAt) -> tuple[dict[str, Any], ...]:
        if isinstance(docs, FactsAt):
            assert self.pack is not None, "facts kept apart came from this memo's"
            return self.pack.facts(docs.at)
        return docs

    def _placed(
        self, kept: UnitResult, at: int, texts: list[str | tuple[TextPack | Spool, int, int]] | None = None
    ) -> tuple[UnitResult, int]:
        """``kept`` with its texts placed in the pack from ``at`` on, and where the next goes.
        With ``texts``, only where they are read from is added to it (``kept`` as given):
        ``packed`` lays the pack out first, then makes each part in the same order."""
        files = []
        for p, t, s, k, d, c, g, n in kept.files:
            if isinstance(t, str):
                length = len(t) if t.isascii() else len(t.encode("utf-8"))
                if texts is not None:
                    texts.append(t)
            elif isinstance(t, InSpool):
                assert self.spool is not None, "a text in a spool came from this build's"
                length = t.length
                if texts is not None:
                    texts.append((self.spool, t.offset, t.length))
            else:
                assert self.pack is not None, "a text kept in a pack came from this memo's"
                length = t[1]
                if texts is not None:
                    texts.append((self.pack, *t))
            if texts is None:
                files.append((p, (at, length), s, k, d, c, g, n))
            at += length
        if files:
            kept = kept._replace(files=tuple(files))
        if isinstance(kept.value, tuple) and any(_packs(v) for v in kept.value):
            parts: list[Any] = []
            for v in kept.value:
                source: TextPack | Spool | None = self.pack
                if isinstance(v, LazyText):
                    source, v = v.source, v.packed
                if isinstance(v, str) and len(v) >= PACKED_TEXT:
                    data = v.encode("utf-8")
                    if texts is not None:
                        texts.append(v)
                    else:
                        parts.append(PackedText(at, len(data), hashlib.sha256(data).hexdigest()))
                    at += len(data)
                elif isinstance(v, PackedText):
                    assert source is not None, "a text kept in a pack came from this memo's"
                    if texts is not None:
                        texts.append((source, v.offset, v.length))
                    else:
                        parts.append(v._replace(offset=at))
                    at += v.length
                else:
                    parts.append(v)
            if texts is None:
                kept = kept._replace(value=tuple(parts))
        return kept, at

    def worth_keeping(self) -> bool:
        """Whether this build's memo is worth writing over the earlier one: writing (and the next
        process reading) it costs about as much as rendering a few hundred units, so a build that
        took nearly everything from the earlier memo keeps that one. Its few new units are
        rendered again by the next build; results are the same either way."""
        if not self.known:
            return bool(self.used)
        new = sum(1 for key in self.used if key not in self.known)
        new += sum(1 for key in self.verdicts if key not in self.known_verdicts)
        return new * 20 > len(self.used) + len(self.verdicts)

    def bodies_worth_keeping(self) -> bool:
        """Whether this build's kept bodies are worth writing over the earlier ones (as
        ``worth_keeping``: only where a twentieth of them are new)."""
        new = sum(1 for key in self.bodies if key not in self.known_bodies)
        return new * 20 > len(self.bodies)

    def run(
        self, name: str, fn: Callable[..., list[OutputFile]], templates: Any, sink: Sink, *inputs: Any
    ) -> list[OutputFile]:
        return self.keyed(name, fn, templates, sink, *inputs)[1]

    def keyed(
        self, name: str, fn: Callable[..., list[OutputFile]], templates: Any, sink: Sink, *inputs: Any
    ) -> tuple[str | None, list[OutputFile]]:
        """``run``, with the unit's key (None: its inputs do not pickle, so it is not memoised)."""
        try:
            key, ids = self._key_of(name, inputs)
        except Exception:  # noqa: BLE001 - an input that does not pickle: render, never memoise
            if self._trace is not None:
                self._trace.append(Traced(None, False, ()))
            return None, fn(templates, sink, *inputs)
        hit = self.used.get(key) or self.known.get(key)
        if hit is not None and self.check is not None and (hit.verdict is None or hit.k8s_version != self.k8s_version):
            hit = None  # its documents are facts only: it cannot be validated, so render it again
        if hit is None:
            own = Sink()
            rendered = fn(templates, own, *inputs)
            self.rendered += 1
            hit = UnitResult.of(tuple(self._record(f) for f in rendered), tuple(own.items))
            if self.check is not None:
                # Validated as rendered, then only its documents' facts are kept: a build never
                # holds every parsed document at once (most of a cold compile's memory), and a
                # forked worker sends back the verdict and the facts instead of whole documents.
                verdict = self.check(rendered)
                hit = hit._replace(verdict=verdict, k8s_version=self.k8s_version).kept(self._shared)
            hit = self._spooled(hit)
        sink.extend(hit.diagnostics)
        self.used[key] = hit
        made = (self.made if self.books_carried else self.carried_made).get(key) if self.by_identity else None
        if made is not None and made[0] is hit:
            files = list(made[1])
        else:
            files = self._files(hit.files)
        if self.by_identity:
            made_files = tuple(files)  # not the list: a caller may extend the one it is given
            self.made[key] = (hit, made_files)
            if self._recording is not None:
                self._recording.append(_Used(ids, inputs, key, hit, made_files))
        _add(self.files, key, files)
        if self.by_identity:
            self.file_ids.update(map(id, files))
        if self._trace is not None:
            self._trace.append(Traced(key, False, files))
        return key, files

    def _record(self, f: OutputFile) -> FileRecord:
        """What the memo keeps of a file a unit rendered. A file already in this build's spool
        (an environment's rules file, written there part by part) stays where it is: reading
        its 8 MB back to keep it would undo what spooling it spared."""
        if isinstance(f, StoredFile) and self.spool is not None and f.in_pack(self.spool) and f.digest is not None:
            return (f.path, InSpool(*f.at), f.source, f.kind, f.documents, f.config_map, f.digest, f.size)
        return (f.path, f.text, f.source, f.kind, f.documents, f.config_map, *digest_of(f))

    def _file(
        self,
        path: str,
        text: str | TextAt,
        source: Span,
        kind: str,
        documents: tuple[dict[str, Any], ...] | FactsAt,
        config_map: str | None,
        digest: str,
        size: int,
    ) -> OutputFile:
        if isinstance(text, str):
            # A text at hand is this build's (or a watching process's last step's), its documents too.
            assert not isinstance(documents, FactsAt), "facts kept apart come with a kept text"
            return OutputFile(path, text, source, kind, documents, config_map, digest)
        if isinstance(text, InSpool):
            assert self.spool is not None, "only a build with a spool spools"
            # Where it is as the record holds it (offset, length): a tuple made for each file
            # was 1.8 MiB of a cold compile's peak at 1,000 models (issue 16, target 6).
            return stored(path, text, source, kind, documents, config_map, (digest, size), self.spool)
        assert self.pack is not None, "an entry with texts in a pack is only loaded with its pack"
        return stored(path, text, source, kind, documents, config_map, (digest, size), self.pack)

    def _files(self, records: tuple[FileRecord, ...]) -> list[OutputFile]:
        """``_file`` of each record, a text in this memo's pack (most of them) made at once:
        a one-shot build at 1,000 models hands back 33,500 files."""
        pack, file = self.pack, self._file
        if pack is None:
            return [file(*r) for r in records]
        return [
            stored(p, t, s, k, d, c, (g, n), pack) if type(t) is tuple else file(p, t, s, k, d, c, g, n)
            for p, t, s, k, d, c, g, n in records
        ]

    def _spooled(self, result: UnitResult) -> UnitResult:
        """``result`` with its files' texts in the spool (when this build has one)."""
        spool = self.spool
        if spool is None or spool.failed or not any(isinstance(r[1], str) for r in result.files):
            return result
        try:
            files = tuple((p, spool.add(t) if isinstance(t, str) else t, *rest) for p, t, *rest in result.files)
        except OSError:  # a full or failing temporary directory: the texts stay in memory from here on
            spool.failed = True
            return result
        return result._replace(files=files)

    def value(self, name: str, fn: Callable[..., Any], sink: Sink, *inputs: Any) -> Any:
        """``fn(sink, *inputs)`` (a value, not files: data a backend lays out with other
        units' data), or its memoised value with its diagnostics."""
        return self.keyed_value(name, fn, sink, *inputs)[1]

    def keyed_value(self, name: str, fn: Callable[..., Any], sink: Sink, *inputs: Any) -> tuple[str | None, Any]:
        """``value``, with its key (None: its inputs do not pickle, so it is not memoised). A
        string of ``PACKED_TEXT`` characters or more directly in a tuple value comes back from
        a packed memo as a ``LazyText``: read it with ``text``."""
        try:
            key, ids = self._key_of(name, inputs)
        except Exception:  # noqa: BLE001 - an input that does not pickle: compute, never memoise
            if self._trace is not None:
                self._trace.append(Traced(None, True, None))
            return None, fn(sink, *inputs)
        hit = self.used.get(key) or self.known.get(key)
        if hit is not None:
            sink.extend(hit.diagnostics)
            self.used[key] = hit
            if self._recording is not None:
                self._recording.append(_Used(ids, inputs, key, hit, None))
            found = self._found(hit)
            if self._trace is not None:
                self._trace.append(Traced(key, True, found))
            return key, found
        own = Sink()
        result = self._spooled_value(fn(own, *inputs))
        self.rendered += 1
        sink.extend(own.items)
        self.used[key] = UnitResult.of((), tuple(own.items), value=result)
        if self._recording is not None:
            self._recording.append(_Used(ids, inputs, key, self.used[key], None))
        if self._trace is not None:
            self._trace.append(Traced(key, True, result))
        return key, result

    def _found(self, hit: UnitResult) -> Any:
        """A value unit's value as a build hands it out: a text kept in the memo's pack as a ``LazyText``."""
        found = hit.value
        if type(found) is tuple and self.pack is not None and any(type(v) is PackedText for v in found):
            pack = self.pack
            found = tuple(LazyText(pack, v) if type(v) is PackedText else v for v in found)
        return found

    def _spooled_value(self, value: Any) -> Any:
        """``value`` with each text ``packed`` would keep in the pack (a string of ``PACKED_TEXT``
        characters or more, directly in a tuple) in this build's spool, as a ``LazyText`` over
        it: a cold compile held every model's rule groups' YAML until the memo was written
        (7 MiB at 1,000 models), though a build reads each once or twice."""
        spool = self.spool
        if spool is None or spool.failed or type(value) is not tuple:
            return value
        if not any(type(v) is str and len(v) >= PACKED_TEXT for v in value):
            return value
        made = []
        try:
            for v in value:
                if type(v) is str and len(v) >= PACKED_TEXT:
                    data = v.encode("utf-8")
                    at = spool.put(data)
                    v = LazyText(spool, PackedText(at.offset, at.length, hashlib.sha256(data).hexdigest()))
                made.append(v)
        except OSError:  # a full or failing temporary directory: the texts stay in memory from here on
            spool.failed = True
            return value
        return tuple(made)

    def keyed_over(
        self, name: str, fn: Callable[..., Any], sink: Sink, keys: Any, given: Any, *inputs: Any
    ) -> tuple[str | None, Any]:
        """``fn(sink, given, *inputs)``, memoised on ``keys`` (other units' or values' keys) and
        ``inputs``, not on ``given``: what those keys determine (what the units rendered, or
        what ``fn`` adds to a list it is given). A key of None (not memoised) computes it every
        time. With the value's key (None: not memoised)."""
        if any(k is None for k in keys):
            return None, fn(sink, given, *inputs)
        return self.keyed_value(name, lambda own, _keys, *rest: fn(own, given, *rest), sink, tuple(keys), *inputs)

    def run_over(
        self,
        name: str,
        fn: Callable[..., list[OutputFile]],
        templates: Any,
        sink: Sink,
        keys: Any,
        given: Any,
        *inputs: Any,
    ) -> list[OutputFile]:
        """``fn(templates, sink, given, *inputs)``: files, as ``run`` renders them, memoised on
        ``keys`` (render units' keys) and ``inputs``, not on ``given`` (what those keys
        determine, as in ``over``). A key of None renders it every time."""
        if any(k is None for k in keys):
            return fn(templates, sink, given, *inputs)
        return self.run(name, lambda t, s, _keys, *rest: fn(t, s, given, *rest), templates, sink, tuple(keys), *inputs)

    def digest_of(self, obj: Any, cls: type) -> bytes:
        """The sha256 of a record's class and fields as a key pickles them, made once per object
        (by identity: ``held`` keeps each object alive, so its id is not reused). Most records
        a key names already have theirs: their fields are not read again."""
        found = self.held.get(id(obj))
        if found is None or found[0] is not obj:
            found = self.carried.get(id(obj))
            if found is None or found[0] is not obj:
                known = self.lookup(obj) if self.lookup is not None else None
                if known is None:
                    known = hashlib.sha256(_pickle((_tag(cls), _fields_of(cls)(obj)))).digest()
                found = (obj, known)
            self.held[id(obj)] = found
        return found[1]

    def _key_of(self, name: str, inputs: tuple[Any, ...]) -> tuple[str, tuple[Any, ...] | None]:
        """``_key``, or (``by_identity``) the key a unit of the same name and identical inputs
        had in this build or the last; with those identities (None: not keyed by them)."""
        if not self.by_identity:
            return self._key(name, inputs), None
        ids = identities(name, inputs)
        if ids is None:
            return self._key(name, inputs), None
        found = self.keys.get(ids) or self.carried_keys.get(ids)
        key = found[1] if found is not None else self._key(name, inputs)
        self.keys[ids] = (inputs, key)
        return key, ids

    def group(self, name: str, fn: Callable[..., _T], sink: Sink, *inputs: Any) -> _T:
        """``fn(own_sink, *inputs)``: a loop body that renders through this memo's units and
        reads nothing but its arguments (records, plain values: ``identities``), its
        diagnostics reported into ``sink`` after it. A watching build hands back the result
        of last step's body over the very same inputs without running it, counting the
        units it used as used again (their keys, files and verdicts, as ``keyed`` would):
        asking each of a step's ~15,000 units was about a sixth of a one-model step. The result
        is shared: a caller must not change it. Not nested: a body inside another runs.
        A build that ``keeps_bodies`` hands back a body kept by an earlier process instead
        (``memo_groups``; ``_kept_body``)."""
        return cast(_T, self._grouped(name, fn, sink, inputs)[0])

    def _grouped(
        self, name: str, fn: Callable[..., Any], sink: Sink, inputs: tuple[Any, ...]
    ) -> tuple[Any, _Group | None]:
        """``group``'s result, with the body's record (None: not one it keeps by identity)."""
        if not self.by_identity or self._recording is not None:
            if self.keeps_bodies and self._trace is None and not self.by_identity:
                return self._kept_body(name, fn, sink, inputs)[0], None
            return fn(sink, *inputs), None
        ids = identities(name, (self.config, self.k8s_version, *inputs))
        if ids is None:
            return fn(sink, *inputs), None
        found = self.groups.get(ids) or self.carried_groups.get(ids)
        if found is None:
            own = Sink()
            self._recording = []
            try:
                result = fn(own, *inputs)
                found = _Group.of(inputs, result, self._recording, tuple(own.items))
            finally:
                self._recording = None
        else:
            self._replay(found)
        self.groups[ids] = found
        sink.extend(found.diagnostics)
        return found.result, found

    def _kept_body(
        self, name: str, fn: Callable[..., _T], sink: Sink, inputs: tuple[Any, ...]
    ) -> tuple[_T, Kept | None]:
        """``group`` in a build on disk: the result kept under the digest of the body's name, the
        build configuration and its inputs, its units booked as used (as ``keyed`` would book
        them); else the body run, and kept when it can be (``memo_groups.kept_of``). With the
        result, what this build keeps of the body (None: nothing)."""
        try:
            key = bytes.fromhex(self._key(f"group:{name}", (self.config, self.k8s_version, *inputs)))
        except Exception:  # noqa: BLE001 - inputs that do not pickle: run, never keep
            return fn(sink, *inputs), None
        kept = self.bodies.get(key) or self.known_bodies.get(key)
        if kept is not None:
            handed = self._handed(kept)
            if handed is not None:
                if key not in self.bodies:
                    self.bodies[key] = kept  # (the earlier build's, in memory as it was loaded)
                sink.extend(handed[0])
                return cast(_T, handed[1]), kept
        own = Sink()
        self._trace = []
        try:
            result = fn(own, *inputs)
            trace = self._trace
        finally:
            self._trace = None
        sink.extend(own.items)
        made = kept_of(trace, result, own.items)
        if made is not None:
            self.bodies.keep(key, made)
        return result, made

    def owned_blocks(
        self,
        name: str,
        body: Callable[[Sink, tuple[Any, ...]], tuple[_T, ...]],
        sink: Sink,
        items: Sequence[Any],
        owners: Sequence[Any],
        shared: tuple[Any, ...],
        make: Callable[[Any], Any] | None,
    ) -> list[_T]:
        """``body`` over each block of ``BLOCK`` items (``make(item)`` each, with ``make``), kept
        by its inputs as ``_kept_body`` keeps it, and by its owners' states too: a block whose
        owners' records, and what every item shares, come from files of the same bytes as when
        an earlier build kept it is handed back without making its inputs (``changes``; the
        loop's contract is ``unit_each``'s ``owners``)."""
        assert self.owned is not None and len(owners) == len(items), "an owner for each item"
        try:
            base: str | None = self._key(f"owned:{name}", (self.config, self.k8s_version, self.owned.shape, *shared))
        except Exception:  # noqa: BLE001 - shared inputs that do not pickle: by the inputs alone
            base = None
        states = self.owned.states
        named = _named(owners)
        out: list[_T] = []
        for at in range(0, len(items), BLOCK):
            mine = named[at : at + BLOCK]
            state = [states.get(o if type(o) is str else o[0]) for o in mine]
            key = None
            if base is not None and None not in state:
                from compiler.cache import digest

                key = bytes.fromhex(digest(base, _pickle(tuple(mine)), *cast(list[str], state)))
                kept = self.bodies.get(key) or self.known_bodies.get(key)
                handed = self._handed(kept) if kept is not None else None
                if kept is not None and handed is not None:
                    if key not in self.bodies:
                        self.bodies[key] = kept
                    sink.extend(handed[0])
                    out += handed[1]
                    continue
            part = items[at : at + BLOCK]
            given = tuple(part) if make is None else tuple(make(i) for i in part)
            result, made = self._kept_body(name, body, sink, (given,))
            if key is not None and made is not None:
                self.bodies.keep(key, made)
            out += result
        return out

    def _handed(self, kept: Kept) -> tuple[tuple[Diagnostic, ...], Any] | None:
        """``kept``'s diagnostics and result, with its units booked as used and their files
        handed out; None (nothing booked) where a unit is not in the memo, or not validated as
        this build validates. Each step is a pass over the block's units in C: a one-model edit
        at 1,000 models hands back some 15,000 units in 200 blocks, and a Python loop over them
        (the lookups, the verdicts, the booking) was ~60 ms of it."""
        used, known, check = self.used, self.known, self.check
        keys, kinds = unit_keys(kept), unit_kinds(kept)
        # ``used`` first: a unit rendered again this build (its memo entry not validated) is its own.
        found = list(map(used.get, keys, map(known.get, keys))) if used else list(map(known.get, keys))
        if None in found:
            return None
        hits = cast(list[UnitResult], found)
        file_units = list(map(_VALUE_UNIT.__ne__, kinds))
        if check is not None and any(file_units):
            files_hits = list(compress(hits, file_units))
            if None in map(VERDICT, files_hits) or set(map(_K8S_VERSION, files_hits)) != {self.k8s_version}:
                return None
        made = self._handed_out(hits, file_units)
        try:
            result = result_of(kept, made)
        except Exception:  # noqa: BLE001 - a result this code cannot load: run the body
            return None
        used.update(zip(keys, hits, strict=True))
        files = self.files
        booked = list(compress(zip(keys, made, strict=True), file_units))
        at = len(files)
        if files.keys().isdisjoint(map(_FIRST, booked)):
            files.update(booked)
            if len(files) - at == len(booked):
                return result
            for key, _ in booked:  # a unit the body used twice: its files twice, as ``keyed`` books them
                files.pop(key, None)
        for key, handed in booked:
            _add(files, key, handed, copy=False)
        return result

    def _handed_out(self, hits: list[UnitResult], file_units: list[bool]) -> list[Any]:
        """What each unit of a kept body hands out (its value, or its files: ``file_units``
        says which), the files made together where every text is in this memo's pack
        (``output.stored_each``): a block's units hold a few files each, too few for a batch
        of their own."""
        pack = self.pack
        groups = list(map(_FIRST, compress(hits, file_units)))  # UnitResult.files
        records = list(chain.from_iterable(groups))
        if pack is None or not _PACKED.issuperset(map(type, map(_SECOND, records))):
            return [
                self._files(hit.files) if is_files else self._found(hit)
                for hit, is_files in zip(hits, file_units, strict=True)
            ]
        files = stored_each(records, pack)
        ends = list(accumulate(map(len, groups)))
        each = list(map(files.__getitem__, map(slice, [0, *ends[:-1]], ends)))
        if len(each) == len(hits):
            return each
        split = iter(each)
        return [next(split) if is_files else self._found(hit) for hit, is_files in zip(hits, file_units, strict=True)]

    def _replay(self, g: _Group) -> None:
        """What ``keyed`` and ``keyed_value`` did for the units ``g``'s body used, but for
        their results, which the group hands back whole: a few dict updates, not a call each."""
        if not self.books_carried:
            self.keys.update(g.keys)
            self.used.update(g.used)
            self.made.update(g.made)
        self.replayed[id(g)] = g  # its files and verdicts stand as the body's (``unbooked``, ``unit_verdicts``)

    def unit_verdicts(self) -> list[tuple[Diagnostic, ...] | None]:
        """The validation verdicts of the units this build booked (None: one without): one by
        one, and each replayed body's together (a unit in two is reported twice, which a
        report's ``allowances.ordered`` makes once)."""
        verdicts = list(map(VERDICT, map(self.used.__getitem__, self.files)))
        verdicts += [g.verdicts for g in self.replayed.values()]
        return verdicts

    def unbooked(self, files: list[OutputFile]) -> list[OutputFile]:
        """The files of ``files`` that no unit this build booked made (their verdicts are the units')."""
        if not self.by_identity:
            done = set(map(id, chain.from_iterable(self.files.values())))
            return list(compress(files, map(not_, map(done.__contains__, map(id, files)))))
        from compiler.backends import unbooked

        counts = self._file_counts()  # first: it is what finds the ids ``moved`` (None until it has)
        moved = None if self._moved is None else chain.from_iterable(self._moved)
        found, carried = unbooked.unbooked(files, counts, self.file_ids, moved, self._carried_rest)
        self._rest_kept[:] = [carried]
        return found

    def _file_counts(self) -> dict[int, int]:
        """How many of the bodies this build replayed made each file, by its id: last step's
        counts, less the bodies replayed then and not now, plus those now and not then (where
        the books were carried: the same configuration), else counted afresh. Exact: each
        counted file is held by a body held in ``replayed``, so its id is no other's."""
        if self._counts is not None:
            return self._counts
        now, carried = self.replayed, self._carried_files
        self._carried_files = None
        if carried is None or carried[0] is None or not self.books_carried:
            counts = Counter(chain.from_iterable(g.file_ids for g in now.values()))
        else:
            last, counts = carried
            carried[0] = None  # changed in place: a step that stops before keeping its own counts afresh
            moved = self._moved = []
            for at, g in last.items():
                if at not in now:
                    moved.append(g.file_ids)
                    for i in g.file_ids:
                        n = counts[i] - 1
                        if n:
                            counts[i] = n
                        else:
                            del counts[i]
            added = [g.file_ids for at, g in now.items() if at not in last]
            moved += added
            counts.update(chain.from_iterable(added))
        self._counts = counts
        return counts

    def _key(self, name: str, inputs: tuple[Any, ...]) -> str:
        """The digest of the unit's name and the pickle of its inputs."""
        from compiler.cache import digest

        _HELD.units = self
        try:
            # One pickle of all the inputs: a record shared by many units (a placement's model,
            # the project) stands in it by its digest, made once per object (``digest_of``).
            return digest(name, _pickle(inputs))
        finally:
            _HELD.units = None  # a build's records are not kept past its keys

    def forked(self) -> Units:
        """What a forked worker renders with: this memo, validation and the digests held
        (what it used goes back by ``export``)."""
        carried = {**self.carried, **self.held}
        return Units(
            known=self.known,
            k8s_version=self.k8s_version,
            check=self.check,
            carried=carried,
            lookup=self.lookup,
            pack=self.pack,
            # Its loop bodies are kept as the parent's are (and sent back with its units).
            config=self.config,
            keeps_bodies=self.keeps_bodies,
            known_bodies=self.known_bodies,
            owned=self.owned,
        )

    def export(self, files: list[OutputFile]) -> Exported:
        """This build's units, to travel back from a forked worker that rendered ``files``:
        the number rendered and (key, result, where its files are in ``files``)."""
        at = {id(f): i for i, f in enumerate(files)}
        log = []
        for key, unit_files in self.files.items():
            where = [at[id(f)] for f in unit_files if id(f) in at]
            log.append((key, self.used[key], where))
        return self.rendered, log, self.bodies

    def adopt(self, exported: Exported, files: list[OutputFile]) -> None:
        """Take in what a forked worker's ``export`` sent back with its ``files`` (with a spool,
        their texts go there and ``files`` holds stored files in their place)."""
        rendered, log, bodies = exported
        self.rendered += rendered
        for body, kept in bodies.items():
            self.bodies.keep(body, kept)
        for key, result, where in log:
            spooled = self._spooled(result)
            if spooled is not result:
                made = [self._file(*r) for r in spooled.files]
                for j, i in enumerate(where):  # a unit used twice lists its files twice
                    files[i] = made[j % len(made)]
            self.used[key] = spooled
            booked = [files[i] for i in where]
            _add(self.files, key, booked)
            if self.by_identity:
                self.file_ids.update(map(id, booked))


# A text in a value's tuple at least this long is kept in the memo's pack, not in its entry: a
# model's rule groups' YAML (7.6 MB of the entry at 1,000 models) is read only where a file
# over it is made again, not every time the memo is loaded.
PACKED_TEXT = 512


class _Items:
    """The units ``Units.packed`` lays out, in order: taken from ``used`` when first asked for."""

    def __init__(self, units: Units) -> None:
        self.units = units
        self.made: list[tuple[str, UnitResult]] | None = None

    def __call__(self) -> list[tuple[str, UnitResult]]:
        if self.made is None:
            units = self.units
            self.made = [(key, result.kept(units._shared)) for key, result in units.used.items()]
        return self.made


class _Packed(InParts):
    """``Units.packed``'s entry: its head and parts made as the cache writes them, and the
    facts its files' documents are (``facts``, written first: the head holds their sha256)."""

    def __init__(self, items: _Items, name: str) -> None:
        super().__init__(None, ())
        self.items, self.name = items, name
        self.facts_sha: str | None = None

    def facts(self) -> Iterator[bytes]:
        """The blob of the facts, as the cache writes an entry in parts (``cache.InParts``): by
        one pickler, the facts the parts share first, then each part's with the pickler's
        memory back to the head's (``TextPack.facts`` loads them with one unpickler)."""
        items, units = self.items(), self.items.units
        sha = hashlib.sha256()
        out = io.BytesIO()
        # Protocol 3, as ``cache`` writes parts: each object under the index its pickler gives it.
        pickler = pickle.Pickler(out, protocol=3)
        pickler.dump(_facts_between(items, PART_UNITS, units._documents))
        head = pickler.memo.copy()
        for part in units._facts_parts(items):
            pickler.dump(part)
            pickler.memo = head  # (copied in: the pickler does not change this dict)
            chunk = out.getvalue()
            out.seek(0)
            out.truncate()
            sha.update(chunk)
            yield chunk
        self.facts_sha = sha.hexdigest()

    def written(self) -> tuple[Any, Iterable[Any]]:
        items, units = self.items(), self.items.units
        # Without the facts written whole (a blob that failed), an entry no build takes.
        head = (units.verdicts, self.name, _shared_between(items, PART_UNITS), self.facts_sha)
        return head if self.facts_sha is not None else None, units._parts(items)


PART_UNITS = 250  # units per part of a packed entry (``Units.packed``)


class PackedText(NamedTuple):
    """Where a value's text is in the memo's pack, and the sha256 of its UTF-8 (the pack is
    not signed: the entry holding this is)."""

    offset: int
    length: int
    sha: str


def _packs(v: Any) -> bool:
    return isinstance(v, PackedText | LazyText) or (isinstance(v, str) and len(v) >= PACKED_TEXT)


class LazyText:
    """A value's text as a build takes it from the memo's pack (or, made by this build, from
    its spool): read, and checked, when ``str()`` asks; true when not empty, as the text is."""

    __slots__ = ("packed", "source")

    def __init__(self, source: TextPack | Spool, packed: PackedText) -> None:
        self.source, self.packed = source, packed

    def __str__(self) -> str:
        offset, length, sha = self.packed
        data = self.source.raw(offset, length)
        if hashlib.sha256(data).hexdigest() != sha:
            raise ShipspecError(
                f"the build cache is damaged ({self.source.where()}: a kept text is not what was "
                "written); delete the .shipspec/cache directory under the output root"
            )
        return str(data, "utf-8")

    def __bool__(self) -> bool:
        return self.packed.length > 0


def text(value: str | LazyText) -> str:
    """A value's text, read from the memo's pack where it was kept there (``LazyText``)."""
    return value if isinstance(value, str) else str(value)


class InSpool(NamedTuple):
    """Where a text this build rendered is in its ``Spool``."""

    offset: int
    length: int


class Spool:
    """The texts this build renders, written out as each unit is rendered (an unnamed
    temporary file) and read back when asked: a cold compile held every rendered text until
    it wrote the tree (82 MiB of its peak at 1,000 models). The memo's pack is made from it."""

    checked = False  # this process's own file: read again when asked, not kept

    def __init__(self, fh: Any) -> None:
        self.fh, self.size, self.failed = fh, 0, False

    def __del__(self) -> None:
        # Closed once nothing reads it any more (a stored file, the pack being written): the
        # temporary file has no name, so closing it is all there is to remove.
        self.fh.close()

    @classmethod
    def open(cls) -> Spool | None:
        """A spool, or None where there is no positional read (texts stay in memory)."""
        if not hasattr(os, "pread") or not hasattr(os, "pwrite"):
            return None
        import tempfile

        try:
            return cls(tempfile.TemporaryFile(buffering=0))
        except OSError:
            return None

    def add(self, text: str) -> InSpool:
        return self.put(text.encode("utf-8"))

    def put(self, data: bytes) -> InSpool:
        view = memoryview(data)
        fd = self.fh.fileno()
        while view:
            # At this offset whatever a failed write left (pwrite): a text is whole or not there.
            view = view[os.pwrite(fd, view, self.size + len(data) - len(view)) :]
        at = InSpool(self.size, len(data))
        self.size += len(data)
        return at

    def raw(self, offset: int, length: int) -> bytes:
        data: bytes = os.pread(self.fh.fileno(), length, offset)
        if len(data) != length:
            raise OSError(f"the build's text spool ended early at {offset}")
        return data

    def text(self, offset: int, length: int) -> str:
        return str(self.raw(offset, length), "utf-8")

    def where(self) -> str:
        return "this build's text spool"

    def facts(self, index: int) -> tuple[dict[str, Any], ...]:
        raise AssertionError("a file this build rendered has its documents at hand")


class TextPack:
    """The texts of a packed memo's files, read where they are (a memory map of the pack):
    each is checked against its file's digest when read (``output.StoredFile``), so the
    pack itself is not signed."""

    checked = True

    def __init__(self, data: Any, where: str, facts: Any = None, sha: str | None = None) -> None:
        self.data, self.place = data, where
        # The files' documents' facts (``output.FactsAt``): the bytes of their pickles, checked
        # against ``sha`` (which the signed entry holds) and loaded the first time one is asked for.
        self.facts_data, self.facts_sha = facts, sha
        self.loaded: list[tuple[dict[str, Any], ...]] | None = None

    def text(self, offset: int, length: int) -> str:
        return str(self.data[offset : offset + length], "utf-8")

    def raw(self, offset: int, length: int) -> bytes:
        return bytes(self.data[offset : offset + length])

    def where(self) -> str:
        return self.place

    def facts(self, index: int) -> tuple[dict[str, Any], ...]:
        if self.loaded is None:
            self.loaded = self._load_facts()
        return self.loaded[index]

    def _load_facts(self) -> list[tuple[dict[str, Any], ...]]:
        data = self.facts_data
        if data is None or self.facts_sha is None or hashlib.sha256(data).hexdigest() != self.facts_sha:
            raise ShipspecError(
                f"the build cache is damaged ({self.place}: the kept documents' facts are not what was "
                "written); delete the .shipspec/cache directory under the output root"
            )
        # Signed through ``facts_sha``, which the entry's MAC covers: only this user's shipspec
        # wrote it: the head, then a pickle per part of the entry (``_Packed.facts``).
        loaded: list[tuple[dict[str, Any], ...]] = []
        stream = io.BytesIO(data)
        reader = pickle.Unpickler(stream)
        reader.load()  # what the parts share: the reader keeps it for them
        while stream.tell() < len(data):
            loaded += reader.load()
        return loaded


def _chunks(texts: Iterable[str | tuple[TextPack | Spool, int, int]]) -> Iterator[bytes]:
    """The pack's bytes in order, about a MiB at a time (a text read from a spool or pack
    a MiB at a time too: an environment's rules file is 8 MB)."""
    batch: list[bytes] = []
    size = 0
    for t in texts:
        if isinstance(t, str):
            found: Iterable[bytes] = (t.encode("utf-8"),)
        else:
            found = pieces(*t)
        for data in found:
            batch.append(data)
            size += len(data)
            if size >= _CHUNK:
                yield b"".join(batch)
                batch, size = [], 0
    if batch:
        yield b"".join(batch)


_CHUNK = 1 << 20


def _pairs(part: list[Any]) -> Iterator[tuple[Any, Any]]:
    """(key, result) of a part of a packed entry (``Units._parts``)."""
    it = iter(part)
    return zip(it, it, strict=True)


def _summary(docs: tuple[dict[str, Any], ...] | FactsAt) -> tuple[int, bool, str | None]:
    """What a kustomization reads of a file's documents (``facts.summary``), kept with it."""
    return (docs.document_count, docs.rollout, docs.namespace) if type(docs) is FactsAt else summary(docs)


def _shared_between(items: list[tuple[str, UnitResult]], size: int) -> tuple[Any, ...]:
    """The spans that units in more than one part of ``size`` (``Units.packed``) hold: the
    few written in the head, for every part to refer to (their documents' facts are kept
    apart: ``_facts_between``)."""
    return _across((f[2], i // size) for i, (_, result) in enumerate(items) for f in result.files)


def _facts_between(
    items: list[tuple[str, UnitResult]], size: int, documents: Callable[[Any], tuple[dict[str, Any], ...]]
) -> tuple[Any, ...]:
    """The facts' dicts and lists that units in more than one part of ``size`` hold (the
    ``documents`` of each file: ``Units._documents``), for the head of their blob."""
    found = ((d, i // size) for i, (_, result) in enumerate(items) for f in result.files for d in documents(f[4]))
    return _across(((d, part) for d, part in found if isinstance(d, dict | list)), deep=True)


def _across(placed: Iterable[tuple[Any, int]], deep: bool = False) -> tuple[Any, ...]:
    """The objects ``placed`` (each with the part it is in) holds in more than one part, by
    identity, in the order each was first found in a second part; ``deep``: the dicts and
    lists inside each too (one seen before is not looked into again)."""
    # No nested function calling itself: its closure would be a cycle holding ``seen`` (~6 MiB
    # of ids at 1,000 models), and a one-build command runs without the cyclic collector.
    seen: dict[int, int] = {}  # id -> the first part it was found in (-1: found in another)
    found: list[Any] = []
    for top, part in placed:
        todo = [top]
        while todo:
            obj = todo.pop()
            first = seen.get(id(obj))
            if first is None:
                seen[id(obj)] = part
                if deep:
                    inner = [v for v in (obj.values() if isinstance(obj, dict) else obj) if isinstance(v, dict | list)]
                    todo += reversed(inner)  # popped in their own order, as a depth-first walk finds them
            elif first != part and first != -1:
                seen[id(obj)] = -1
                found.append(obj)
    return tuple(found)


def _shared(value: Any, table: dict[Any, tuple[Any, Any]]) -> Any:
    """``value`` with every dict and list equal to one in ``table`` replaced by that one, and
    every string in it (a key or a value) interned: each document's strings are parsed anew,
    and the facts of a cold compile at 1,000 models held 8,535 strings "v1", 6,523 "triton"
    and 4,254 "Deployment" (about 9 MiB of copies in all). Equal means of the same types
    throughout, in the same key order, as their reprs would tell: 1, True and 1.0 never
    merge, nor 0.0 and -0.0."""
    return _canonical(value, table)[0]


# What stands for True and False in a table's keys (True == 1, so not the bools themselves).
_TRUE, _FALSE = ("bool", True), ("bool", False)


def _canonical(value: Any, table: dict[Any, tuple[Any, Any]]) -> tuple[Any, Any]:
    """``_shared``'s value, and its key in ``table``: a string or an int itself, a dict's or
    a list's a tuple of its items' keys (the key ``table`` holds, so a parent's key refers
    to its children's instead of copying them). Keyed by repr, every dict's key was the text
    of all it held, its children's again at each level: 3.4 MiB of a cold compile's peak at
    1,000 models."""
    kind = type(value)
    if kind is str:
        value = intern(value)
        return value, value
    if kind is int or value is None:
        return value, value
    if kind is bool:
        return value, _TRUE if value else _FALSE
    key: list[Any]
    if isinstance(value, dict):
        made: Any = {}
        key = ["dict"]
        for k, v in value.items():
            k, k_key = _canonical(k, table)
            made[k], v_key = _canonical(v, table)
            key += (k_key, v_key)
    elif isinstance(value, list):
        made = []
        key = ["list"]
        for v in value:
            v, v_key = _canonical(v, table)
            made.append(v)
            key.append(v_key)
    else:
        return value, (kind, repr(value))
    whole = tuple(key)
    found = table.get(whole)
    if found is None:
        found = table[whole] = (made, whole)
    return found


class _Reducers(dict[type, Any]):
    """A reducer per dataclass type (a record): its type and the tuple of every field's value,
    the content ``pickle.dumps`` writes without asking ``dataclasses.fields`` per object
    (most of a unit's key). Key bytes only, never loaded."""

    def __missing__(self, cls: type) -> Any:
        if isinstance(cls, TupleRecord):  # a tuple, pickled as the record it was: its class and its fields
            reduced = partial(_tuple_reduced, cls)
            self[cls] = reduced
            return reduced
        if issubclass(cls, type):
            # A class (an enum's): by name, as without a table. A string from a reducer is
            # that; raising KeyError instead cost an exception per class pickled, every time.
            self[cls] = _BY_NAME
            return _BY_NAME
        if not dataclasses.is_dataclass(cls):
            # What the pickler does without a table (enums, str subclasses such as Raw).
            self[cls] = _DEFAULT_REDUCE
            return _DEFAULT_REDUCE
        getter = _fields_of(cls)
        if (cls.__module__, cls.__qualname__) not in _BY_DIGEST:

            def reduce(obj: Any) -> Any:
                return cls, getter(obj)

            self[cls] = reduce
            return reduce

        def by_digest(obj: Any) -> Any:
            held = _HELD.units
            return (cls, getter(obj)) if held is None else (_ref, (held.digest_of(obj, cls),))

        self[cls] = by_digest
        return by_digest


# A record made a tuple (``records.TupleRecord``: a span, a reference), to load without a
# call into Python, is keyed as the record it was, by its type and its fields, in the same bytes.
def _tuple_reduced(cls: type, value: tuple[Any, ...]) -> tuple[Any, ...]:
    return cls, tuple(value)


_PROTOCOL = pickle.HIGHEST_PROTOCOL
_BY_NAME = attrgetter("__qualname__")
# Records that stand in a key by the digest of their own pickle, made once per object
# (``Units.digest_of``): a placement's model and environment, the placements themselves, the
# project and gates are shared by many units (an environment by every placement in it), and
# a watching process keeps the digests of the objects an edit left unchanged. Datasets,
# trainings and monitors too: a kept body's key (``memo_groups``) pickled each inline in
# every unit of a block of gate workflows, catalog pages or drift jobs (65-83 KB a block at
# 1,000 models), and the digests of all of them come from the last build's table
# (``digest_table``). Smaller records (spans above all) are pickled inline: a digest each
# would cost more than it saves.
_BY_DIGEST = frozenset(
    {
        ("compiler.ir", "Model"),
        ("compiler.ir", "Environment"),
        ("compiler.ir", "Project"),
        ("compiler.ir", "Gate"),
        ("compiler.ir", "Dataset"),
        ("compiler.ir", "Training"),
        ("compiler.ir", "Monitor"),
        ("compiler.resolve", "Placement"),
        ("compiler.resolve", "Project"),
    }
)


class _Held:
    """The ``Units`` whose digests the reducers use while it computes a key."""

    units: Units | None = None


_HELD = _Held()


def _ref(digest: bytes) -> Any:
    """What a record stands in a key as; key bytes are never loaded."""
    raise TypeError("a unit key is never unpickled")


_DEFAULT_REDUCE = methodcaller("__reduce_ex__", _PROTOCOL)
_REDUCERS = _Reducers()


_PLAIN = frozenset({str, int, float, bool, type(None), bytes})


def identities(name: str, inputs: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """What decides a unit's key without pickling its inputs, where each input is a record
    or an enum member (by identity: records are frozen all the way down, the assumption
    ``Units.digest_of`` rests on too), a plain value (by value, with its type: 1, 1.0 and
    True are equal keys of a dict), a tuple of these (element by element), a dict of
    strings to strings (labels), a record of strings only (``_BY_VALUE``) or a record a
    backend makes again each build from other records (``_BY_FIELDS``: field by field);
    None for anything else (a view a backend made: its key is pickled)."""
    made: list[Any] = [name]
    for x in inputs:
        found = _identity(x)
        if found is _UNKNOWN:
            return None
        made.append(found)
    return tuple(made)


_UNKNOWN = object()
_VALUE_UNIT = ord("v")  # a kept body's unit that is a value (``memo_groups.unit_kinds``)
# How a type's values stand in a unit's identities (``_kind``), by type: most inputs are
# records and strings, and a watch step asks for tens of thousands of them.
_STR, _PLAIN_KIND, _FLOAT, _TUPLE, _DICT, _VALUE, _FIELDS, _ID, _NONE = range(9)
_KINDS: dict[type, int] = {}


def _kind(t: type) -> int:
    if t is str:
        return _STR
    if t is float:
        return _FLOAT
    if t in _PLAIN:
        return _PLAIN_KIND
    if t is tuple:
        return _TUPLE
    if t is dict:
        return _DICT
    named = (t.__module__, t.__qualname__)
    if named in _BY_VALUE:
        return _VALUE
    if named in _BY_FIELDS:
        return _FIELDS
    if issubclass(t, (Record, enum.Enum)) or isinstance(t, TupleRecord):  # (by identity)
        return _ID
    return _NONE


def _identity(x: Any) -> Any:
    # Each form but a string's starts with a type, so no two forms are equal.
    t = type(x)
    kind = _KINDS.get(t)
    if kind is None:
        kind = _KINDS[t] = _kind(t)
    if kind == _ID:
        return (t, id(x))
    if kind == _STR:
        return x
    if kind == _TUPLE:
        made: list[Any] = [t]
        for y in x:
            # Records and strings inline: a block of units' inputs is mostly these.
            ty = type(y)
            inner = _KINDS.get(ty)
            if inner == _ID:
                made.append((ty, id(y)))
            elif inner == _STR:
                made.append(y)
            else:
                found = _identity(y)
                if found is _UNKNOWN:
                    return _UNKNOWN
                made.append(found)
        return tuple(made)
    if kind == _PLAIN_KIND or kind == _VALUE:
        return (t, x)
    if kind == _FLOAT:
        return (t, struct.pack(">d", x))  # its bits, as it pickles: 0.0 == -0.0
    if kind == _FIELDS:
        fields = _identity(_fields_of(t)(x))
        return _UNKNOWN if fields is _UNKNOWN else (t, fields)
    if kind == _DICT and all(type(k) is str and type(v) is str for k, v in x.items()):
        return (t, tuple(x.items()))  # in order: a key pickles a dict's items in order
    return _UNKNOWN


_FIELD_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _fields_of(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    getter = _FIELD_GETTERS.get(cls)
    if getter is None:
        names = [f.name for f in dataclasses.fields(cls)]
        if len(names) > 1:
            getter = attrgetter(*names)
        elif names:
            one = attrgetter(names[0])
            getter = lambda obj: (one(obj),)  # noqa: E731 - one field, still a tuple
        else:
            getter = lambda obj: ()  # noqa: E731
        _FIELD_GETTERS[cls] = getter
    return getter


# Records a backend makes again each build out of the records it was given (the IR's, the
# resolved spec's): keyed by their fields' identities, so an edit that left those records
# alone leaves the unit's key alone too.
_BY_FIELDS = frozenset(
    {("compiler.backends.catalog.page", "PageInputs"), ("compiler.backends.github.views", "GateInputs")}
)


# Frozen dataclasses of strings (and None) only, made again each build: keyed by value.
_BY_VALUE = frozenset({("compiler.backends.monitoring.slo", "Target")})


def verdict_key(f: OutputFile, k8s_version: str) -> str:
    """What validating a file reads: its kind, path, text and source, and the Kubernetes
    version (documents are what the text parses to; validators are shipspec's code). The
    text by the sha256 of the file's bytes where that is known (a spooled file's: reading
    an 8 MB rules file back to hash it was a sixth of a one-model edit's peak memory);
    those bytes are the header, which kind and source decide, and the text."""
    from compiler.cache import digest

    s = f.source
    text = ("bytes", f.digest) if f.digest is not None else ("text", f.text)
    return digest(
        "verdict", f.kind, f.path, *text, s.file, f"{s.line}:{s.column}:{s.end_line}:{s.end_column}", k8s_version
    )


class _Used(NamedTuple):
    """A unit a group's body used: its identities (None: keyed by pickle) and inputs, its key
    and result, and (a unit of files) the files it handed out."""

    ids: tuple[Any, ...] | None
    inputs: tuple[Any, ...]
    key: str
    result: UnitResult
    files: tuple[OutputFile, ...] | None


class _Group(NamedTuple):
    """A group's body as it last ran: its inputs (held, so their ids are not reused), its
    result and what it reported; and what its units left in a memo's books (``keys``,
    ``used``, ``made``, ``files``), laid out to be put back as they are."""

    inputs: tuple[Any, ...]
    result: Any
    diagnostics: tuple[Diagnostic, ...]
    keys: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]]
    used: dict[str, UnitResult]
    made: dict[str, tuple[UnitResult, tuple[OutputFile, ...]]]
    # (held: the ids in ``file_ids`` are no other objects' while the group is)
    files: tuple[tuple[str, tuple[OutputFile, ...]], ...]
    file_ids: frozenset[int]  # of every file in ``files``: what ``Units._file_counts`` counts
    # The validation verdicts of its units' files, each unit's once (None: a unit without one).
    verdicts: tuple[Diagnostic, ...] | None

    @classmethod
    def of(cls, inputs: tuple[Any, ...], result: Any, used: list[_Used], diagnostics: tuple[Diagnostic, ...]) -> _Group:
        files = tuple((u.key, u.files) for u in used if u.files is not None)
        checked = {u.key: u.result.verdict for u in used if u.files is not None}
        return cls(
            inputs,
            result,
            diagnostics,
            {u.ids: (u.inputs, u.key) for u in used if u.ids is not None},
            {u.key: u.result for u in used},
            {u.key: (u.result, u.files) for u in used if u.files is not None},
            files,
            frozenset(id(f) for _, made in files for f in made),
            _joined(checked.values()),
        )

    @classmethod
    def merged(cls, result: tuple[Any, ...], groups: Sequence[_Group]) -> _Group:
        """The bodies ``groups`` (in order) as one, whose result is ``result``: replayed, it
        leaves the books as replaying each of them would."""
        keys: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = {}
        used: dict[str, UnitResult] = {}
        made: dict[str, tuple[UnitResult, tuple[OutputFile, ...]]] = {}
        for g in groups:
            keys.update(g.keys)
            used.update(g.used)
            made.update(g.made)
        return cls(
            tuple(g.inputs for g in groups),
            result,
            tuple(d for g in groups for d in g.diagnostics),
            keys,
            used,
            made,
            tuple(f for g in groups for f in g.files),
            frozenset().union(*(g.file_ids for g in groups)),
            _joined(g.verdicts for g in groups),
        )


def _joined(verdicts: Iterable[tuple[Diagnostic, ...] | None]) -> tuple[Diagnostic, ...] | None:
    """The diagnostics of ``verdicts`` in order (None: one of them is None)."""
    joined: list[Diagnostic] = []
    for v in verdicts:
        if v is None:
            return None
        joined += v
    return tuple(joined)


# A unit's files in a memo's books (``Units.files``): a tuple as a replayed body left them, or a
# list of the books' own.
Booked = list[OutputFile] | tuple[OutputFile, ...]
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
VERDICT = itemgetter(2)  # UnitResult.verdict, as a function over many
_K8S_VERSION = itemgetter(3)  # UnitResult.k8s_version
_PACKED = frozenset({tuple})  # the type of a file record's text kept in the memo's pack (where it is)


def _add(books: dict[str, Booked], key: str, files: Booked, *, copy: bool = True) -> None:
    """Book ``files`` as the files of one more use of the unit ``key``; a list given is copied
    unless ``copy`` is False (a caller may extend the list it was handed)."""
    got = books.get(key)
    if got is None:
        books[key] = list(files) if copy and type(files) is list else files
    elif type(got) is list:
        got.extend(files)
    else:
        books[key] = [*got, *files]


def _pickle(value: Any) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    # No memo: equal values pickle the same whether or not they are one object. A string the
    # IR shares when parsed is two when loaded from the cache, which made a kept body's key
    # (many units' inputs in one pickle) differ between a cold compile and the next.
    pickler.fast = True
    pickler.dump(_standing(value) if type(value) is tuple else value)
    return out.getvalue()


# What a record stands as in a key's pickle (``_standing``): a tuple of this mark, then the
# digest of a record that stands by digest (``_BY_DIGEST``), or a tuple of its type's tag and
# its fields. Plain data the pickler writes without calling back into Python: without a memo
# (``fast``) each class or function it names was imported again to check it, ~2.7 us a
# record, three quarters of a kept body's key (700-850 records a block of catalog pages).
# No value a spec or backend makes is a tuple that starts with a string that starts with NUL.
_REF = "\x00ref"
_ATOMS = frozenset({str, int, float, bool, type(None), bytes})


def _tag(cls: type) -> str:
    return f"\x00{cls.__module__}.{cls.__qualname__}"


def _standing(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """``values`` with each record in it, in tuples at any depth, as its type's ``_stands``
    makes it (the same object where there is none)."""
    if _ATOMS.issuperset(map(type, values)):  # most tuples in a key: strings and numbers
        return values
    made = list(values)
    for i, v in enumerate(made):
        t = type(v)
        if t in _ATOMS:
            continue
        if t is tuple:
            made[i] = _standing(v)
            continue
        how = _STANDS.get(t)
        if how is None:
            how = _STANDS[t] = _stands(t)
        made[i] = how(v)
    return tuple(made)


def _as_is(v: Any) -> Any:
    return v


def _stands(cls: type) -> Callable[[Any], Any]:
    """How a value of ``cls`` stands in a key: a record as ``_REF`` said; anything else (an
    enum member, a dict, a list) as it is, for the pickler and its reducers (``_Reducers``)."""
    if isinstance(cls, TupleRecord):  # a tuple: it stands as the record it was, its type's tag and its fields
        tuple_tag = _tag(cls)
        return lambda obj: (tuple_tag, _standing(tuple(obj)))
    if isinstance(cls, type) and issubclass(cls, type) or not dataclasses.is_dataclass(cls):
        return _as_is
    getter = _fields_of(cls)
    tag = _tag(cls)
    if (cls.__module__, cls.__qualname__) not in _BY_DIGEST:

        def fields(obj: Any) -> Any:
            return (tag, _standing(getter(obj)))

        return fields

    def by_digest(obj: Any) -> Any:
        held = _HELD.units
        if held is None:  # not in a key: its fields, as any record's
            return (tag, _standing(getter(obj)))
        return (_REF, held.digest_of(obj, cls))

    return by_digest


_STANDS: dict[type, Callable[[Any], Any]] = {}


def keyed_over(
    ctx: Any, name: str, fn: Callable[..., Any], keys: Any, given: Any, *inputs: Any
) -> tuple[str | None, Any]:
    """``fn(ctx.sink, given, *inputs)``, or its value memoised on ``keys`` and ``inputs``
    (``Units.keyed_over``), with the value's key (None: not memoised) for a unit over it."""
    units: Units | None = ctx.units
    if units is None:
        return None, fn(ctx.sink, given, *inputs)
    return units.keyed_over(name, fn, ctx.sink, keys, given, *inputs)


def keyed_value(ctx: Any, name: str, fn: Callable[..., Any], *inputs: Any) -> tuple[str | None, Any]:
    """``fn(ctx.sink, *inputs)``, or its memoised value (``Units.keyed_value``), with its key
    (None: not memoised) for a unit over it."""
    units: Units | None = ctx.units
    if units is None:
        return None, fn(ctx.sink, *inputs)
    return units.keyed_value(name, fn, ctx.sink, *inputs)


def unit_over(
    ctx: Any, name: str, fn: Callable[..., list[OutputFile]], keys: Any, given: Any, *inputs: Any
) -> list[OutputFile]:
    """``fn(ctx.templates, ctx.sink, given, *inputs)``, or its files memoised on the units'
    ``keys`` and ``inputs`` (``Units.run_over``)."""
    units: Units | None = ctx.units
    if units is None:
        return fn(ctx.templates, ctx.sink, given, *inputs)
    return units.run_over(name, fn, ctx.templates, ctx.sink, keys, given, *inputs)


def group(ctx: Any, name: str, fn: Callable[..., _T], *inputs: Any) -> _T:
    """``fn(own_sink, *inputs)``, its diagnostics then reported into ``ctx.sink``; or, in a
    watching build, last step's result over the same inputs (``Units.group``)."""
    units: Units | None = ctx.units
    if units is None:
        return fn(ctx.sink, *inputs)
    return units.group(name, fn, ctx.sink, *inputs)


def group_each(
    ctx: Any,
    name: str,
    fn: Callable[..., _T],
    inputs: Sequence[Any],
    *,
    make: Callable[[Any], tuple[Any, ...]] | None = None,
    owners: Sequence[Any] | None = None,
    shared: tuple[Any, ...] = (),
    blocks: list[tuple[_T, ...]] | None = None,
) -> list[_T]:
    """``group(ctx, name, fn, *i)`` for each ``i`` of ``inputs`` (or of ``make(item)`` for each
    item, with ``make``), in order. A build on disk keeps them a block of ``BLOCK`` at a
    time (``memo_groups``): a one-shot compile keys and hands back 52 blocks of monitoring
    placements at 1,000 models rather than 3,250 bodies.

    ``blocks``: where a watching build that hands back blocks by their owners puts each block's
    results (of ``BLOCK`` items, in order; a block handed back is the very tuple it was last
    step), for a caller that puts them together a block at a time.

    ``owners`` (one per item: a model's name, or a tuple that starts with it and tells the
    model's items apart) and ``shared`` (every input not made from the owner's records: the
    same for all items) let a watching build hand back last step's block of ``BLOCK`` items
    whose owners no edit changed (``Units.changed``) without making their inputs or asking
    their bodies one by one. ``make(item)`` must read nothing but the owner's records
    (``compiler.changes``), what ``shared`` holds and what no edit of a model changes."""
    units: Units | None = ctx.units
    key = units._block_key(name, shared) if units is not None and owners is not None else None
    if units is not None and key is not None and owners is not None:

        def items(part: Sequence[Any], sink: Sink) -> tuple[tuple[_T, ...], _Group | None]:
            assert units is not None
            made = [units._grouped(name, fn, sink, make(i) if make is not None else i) for i in part]
            found = [g for _, g in made if g is not None]
            result = tuple(r for r, _ in made)
            return result, _Group.merged(result, found) if len(found) == len(made) else None

        return _by_owners(units, ctx.sink, key, owners, inputs, items, blocks)

    def block(sink: Sink, given: tuple[tuple[Any, ...], ...]) -> tuple[_T, ...]:
        return tuple(fn(sink, *i) for i in given)

    if units is not None and owners is not None and units.owned is not None and _keeps(units):
        return units.owned_blocks(f"{name}[]", block, ctx.sink, inputs, owners, shared, make)
    given = inputs if make is None else [make(i) for i in inputs]
    if units is None or units.by_identity or not units.keeps_bodies:
        return [group(ctx, name, fn, *i) for i in given]
    out: list[_T] = []
    for at in range(0, len(given), BLOCK):
        out += units.group(f"{name}[]", block, ctx.sink, tuple(given[at : at + BLOCK]))
    return out


# Units a watching build hands back together (``unit_each``): one edit misses the blocks of
# its units, and each costs about as much to ask again as one unit to render.
BLOCK = 64
# A block an edit touched runs again a part of ``PART`` items at a time, each part whose owners
# the edit left alone handed back as last step's (``_by_parts``): keying a block's 63 other items
# again was about a sixth of a one-model watch step.
PART = 8
# How many entries a watching build's carried books (``Units.books_carried``) may gather past
# what they held when last made afresh, at least: a step that finds more makes them afresh.
_STALE = 2000
# Where a watching build keeps the spec it rendered and its blocks and their parts by owners
# (``Units.state``).
_SPEC, _BLOCKS, _PARTS = "spec", "blocks", "parts"


def _by_owners(
    units: Units,
    sink: Sink,
    key: tuple[Any, ...],
    owners: Sequence[Any],
    items: Sequence[Any],
    run: Callable[[Sequence[Any], Sink], tuple[tuple[_T, ...], _Group | None]],
    blocks: list[tuple[_T, ...]] | None = None,
) -> list[_T]:
    """Each block of ``BLOCK`` items: last step's, where its owners are left alone
    (``Units._handed_block``), else made again part by part (``_by_parts``), kept for the
    next step by its owners (and each block's results put in ``blocks``, where given)."""
    assert len(owners) == len(items), "an owner for each item"
    every = _named(owners)
    out: list[_T] = []
    for at in range(0, len(items), BLOCK):
        mine = (*key, tuple(every[at : at + BLOCK]))
        found = units._handed_block(mine)
        if found is not None:
            sink.extend(found.diagnostics)
            result = found.result
        else:
            result, found = _by_parts(units, sink, mine, items[at : at + BLOCK], run)
            if found is not None:
                units._keep_block(mine, found)
                result = found.result  # (the tuple a later step hands back)
        out += result
        if blocks is not None:
            blocks.append(result)
    return out


def _by_parts(
    units: Units,
    sink: Sink,
    key: tuple[Any, ...],
    items: Sequence[Any],
    run: Callable[[Sequence[Any], Sink], tuple[tuple[_T, ...], _Group | None]],
) -> tuple[tuple[_T, ...], _Group | None]:
    """The block under ``key`` (its owners last), ``PART`` items at a time: last step's part,
    replayed, where the block had the same owners then and this build changed none of the
    part's; else ``run`` over its items (reporting into ``sink``). The block as one group
    of its parts (None: a part that cannot be kept), its parts kept for the next step."""
    owners = key[-1]
    last = units._last_parts(key)
    result: list[_T] = []
    parts: list[_Group] = []
    whole = True
    for i, at in enumerate(range(0, len(items), PART)):
        found = last[i] if last is not None and i < len(last) and units._untouched(owners[at : at + PART]) else None
        if found is not None:
            units._replay(found)
            sink.extend(found.diagnostics)
            result += found.result
        else:
            made, found = run(items[at : at + PART], sink)
            result += made
        if found is None:
            whole = False
        else:
            parts.append(found)
    if not whole:
        return tuple(result), None
    units._keep_parts(key, tuple(parts))
    return tuple(result), _Group.merged(tuple(result), parts)


def _named(owners: Sequence[Any]) -> list[Any]:
    """Each item's owner, one named twice in a loop (the checks refuse that for every loop using
    owners today) told apart by its place among its own items: never two blocks alike."""
    if len(set(owners)) == len(owners):
        return list(owners)  # most loops: no owner twice (counted in C; a step asks ~12,000 owners)
    seen: dict[Any, int] = {}
    named = []
    for o in owners:
        n = seen.get(o, 0)
        seen[o] = n + 1
        named.append(o if n == 0 else (*(o if type(o) is tuple else (o,)), n))
    return named


def unit_each(
    ctx: Any,
    name: str,
    fn: Callable[..., list[OutputFile]],
    inputs: Sequence[Any],
    view: Callable[..., tuple[Any, ...]] | None = None,
    *,
    make: Callable[[Any], tuple[Any, ...]] | None = None,
    owners: Sequence[Any] | None = None,
    shared: tuple[Any, ...] = (),
) -> list[OutputFile]:
    """``unit(ctx, name, fn, *i)`` for each ``i`` of ``inputs`` in order (or of ``make(item)``
    for each item, with ``make``), their files joined; a watching build hands back each
    block of ``BLOCK`` whose inputs are all the very objects they were last step whole
    (``Units.group``), without asking its units, and a build on disk each block an earlier
    process kept (``memo_groups``). With ``owners`` and ``shared`` (``group_each``), a
    watching build hands back a block whose owners no edit changed without making its
    inputs at all.

    With ``view``, ``fn`` takes ``view(*i)``, made only where a block is not handed back:
    what of its item the unit reads. A build on disk keys the unit by it, so that an edit
    of the item that leaves it alone (a model's CPU, for a Triton config) hands back its
    files as before instead of rendering them again (in a one-shot process, without
    importing what renders them). A watching build keys it by the item, whose records it
    keys by identity without pickling them, and makes the view only to render."""
    units: Units | None = ctx.units
    if view is not None and units is not None and units.by_identity:
        fn = _viewed(fn, view)
        name, view = f"{name}@item", None
    args: Callable[..., tuple[Any, ...]] = view if view is not None else _items
    if units is None or not (units.by_identity or units.keeps_bodies):
        given = inputs if make is None else [make(i) for i in inputs]
        return [f for i in given for f in unit(ctx, name, fn, *args(*i))]
    templates = ctx.templates

    def block(sink: Sink, given: tuple[tuple[Any, ...], ...]) -> tuple[OutputFile, ...]:
        assert units is not None
        return tuple(f for i in given for f in units.run(name, fn, templates, sink, *args(*i)))

    key = units._block_key(name, shared) if owners is not None else None
    if key is not None and owners is not None:

        def items(part: Sequence[Any], sink: Sink) -> tuple[tuple[OutputFile, ...], _Group | None]:
            assert units is not None
            given = tuple(part) if make is None else tuple(make(i) for i in part)
            result, found = units._grouped(f"{name}[]", block, sink, (given,))
            return tuple(result), found

        return _by_owners(units, ctx.sink, key, owners, inputs, items)
    if owners is not None and units.owned is not None and _keeps(units):
        return units.owned_blocks(f"{name}[]", block, ctx.sink, inputs, owners, shared, make)
    given = inputs if make is None else [make(i) for i in inputs]
    out: list[OutputFile] = []
    for at in range(0, len(given), BLOCK):
        out += units.group(f"{name}[]", block, ctx.sink, tuple(given[at : at + BLOCK]))
    return out


def _keeps(units: Units) -> bool:
    """Whether ``units`` keeps loop bodies for a later process and would run one now (``group``)."""
    return units.keeps_bodies and not units.by_identity and units._trace is None and units._recording is None


def _items(*item: Any) -> tuple[Any, ...]:
    return item


def _viewed(
    fn: Callable[..., list[OutputFile]], view: Callable[..., tuple[Any, ...]]
) -> Callable[..., list[OutputFile]]:
    def rendered(templates: Any, sink: Sink, *item: Any) -> list[OutputFile]:
        return fn(templates, sink, *view(*item))

    return rendered


def unit(ctx: Any, name: str, fn: Callable[..., list[OutputFile]], *inputs: Any) -> list[OutputFile]:
    """``fn(ctx.templates, sink, *inputs)``, or its memoised result (with its diagnostics
    reported into ``ctx.sink``). ``fn`` must read nothing but its arguments."""
    units: Units | None = ctx.units
    if units is None:
        return fn(ctx.templates, ctx.sink, *inputs)
    return units.run(name, fn, ctx.templates, ctx.sink, *inputs)
