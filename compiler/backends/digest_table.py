"""The digests render-unit keys stand records in by, kept from one build to the next.

A unit key stands each model, environment, project, gate and placement in by the
digest of its own pickle (``memo.digest_of``). A one-shot compile after a one-field
edit made all of them again: about 0.12 s at 1,000 models, most of it the 3,250
placements (each pickles its SLA, monitors, resources and their spans inline).

What such a record holds is decided by where it comes from: a record of a spec file
by the file's path and text (shipspec's code and data being the same: the table is
kept per cache version, under the memo's key) and by its class and position in that
file; a placement by the records ``resolve`` makes it from (its model and
environment, the gate, canary, SLA and monitors the spec has for it, its members'
placements). That origin is the record's *identity* here, and the table maps each
identity to the digest a build computed for it. A build looks a record up by its
identity when a unit key first asks for its digest (``Units.lookup``); it computes the
rest. Two records with one identity (never made by the lowering today) are left to
compute, so a table can only save work, never stand one record in for another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from compiler.resolve import Placement, Resolved

KIND = "digests"

Identity = tuple[Any, ...]


class Origins:
    """Each record's identity, made when a unit key first asks for its digest (``Units.lookup``):
    a one-shot compile after a one-model edit asks for few of them, its blocks being found by
    their owners' states (``changes``), where making all 7,250 was 20-30 ms at 1,000 models.
    A record of the spec (``_keyed``) has one where no other record shares its origin; a
    placement where each record it is made from has one (what ``resolve`` makes of those
    records is a function of them alone)."""

    def __init__(self, resolved: Resolved, file_keys: Mapping[str, str]) -> None:
        self.spec = resolved.spec
        self.file_keys = file_keys
        self._unique: dict[int, Identity] | None = None
        self._placed: dict[int, tuple[Placement, Identity | None]] = {}

    def of(self, r: Any) -> Identity | None:
        """``r``'s identity (None: it has none, and its digest is made from its fields)."""
        if type(r) is Placement:
            return self._placement(r)
        return self._records().get(id(r))

    def _records(self) -> dict[int, Identity]:
        if self._unique is None:
            found: dict[Identity, list[Any]] = {}
            r: Any
            for r in (*_keyed(self.spec), *self.spec.slas):
                key = self.file_keys.get(r.span.file)
                if key is not None:
                    ident = (key, type(r).__qualname__, r.span.line, r.span.column)
                    found.setdefault(ident, []).append(r)
            # (the spec holds each record for the build: an id stays its own)
            self._unique = {id(rs[0]): ident for ident, rs in found.items() if len(rs) == 1}
        return self._unique

    def _placement(self, p: Placement) -> Identity | None:
        held = self._placed.get(id(p))
        if held is not None and held[0] is p:
            return held[1]
        self._placed[id(p)] = (p, None)  # while its members are looked at (a cycle is never placed)
        unique = self._records()

        def of(r: Any) -> Identity | None:
            return None if r is None else unique.get(id(r))

        optional = [() if r is None else of(r) for r in (p.gate, p.canary, p.sla)]  # (): none
        parts = [of(p.model), of(p.env), *optional, *map(of, p.monitors), *map(self._placement, p.members)]
        ident: Identity | None = None
        if all(part is not None for part in parts):
            ident = (
                "Placement",
                *parts[:5],
                tuple(parts[5 : 5 + len(p.monitors)]),
                tuple(parts[5 + len(p.monitors) :]),
            )
        self._placed[id(p)] = (p, ident)
        return ident


def _keyed(spec: Any) -> Iterable[Any]:
    """The spec's records that stand in unit keys by digest (``memo._BY_DIGEST``)."""
    return (
        *spec.models,
        *spec.environments,
        *spec.projects,
        *spec.gates,
        *spec.datasets,
        *spec.trainings,
        *spec.monitors,
    )


def lookup(origins: Origins, table: Any) -> Callable[[Any], bytes | None] | None:
    """What finds a record's digest in ``table`` (a store's entry) by its identity; None where
    ``table`` is no table."""
    if not isinstance(table, dict) or not table:
        return None

    def found(r: Any) -> bytes | None:
        ident = origins.of(r)
        digest = table.get(ident) if ident is not None else None
        return digest if isinstance(digest, bytes) else None

    return found


def table_of(held: Mapping[int, tuple[Any, bytes]], origins: Origins) -> dict[Identity, bytes]:
    """The table for the next build: the digest of each record this build used, by its identity."""
    out: dict[Identity, bytes] = {}
    for r, digest in held.values():
        ident = origins.of(r)
        if ident is not None:
            out[ident] = digest
    return out
