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
identity to the digest a build computed for it. A build looks its records up by
identity and carries the digests found (``Units.carried``); it computes the rest. Two
records with one identity (never made by the lowering today) are left to compute,
so a table can only save work, never stand one record in for another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from compiler.resolve import Placement, Resolved

KIND = "digests"

Identity = tuple[Any, ...]


def identities(resolved: Resolved, file_keys: Mapping[str, str]) -> list[tuple[Any, Identity]]:
    """Each record of ``resolved`` a unit key stands in by its digest, with its identity
    (``file_keys``: each spec file's ``parse.sources.file_key`` by its display path)."""
    spec = resolved.spec
    found: dict[Identity, list[Any]] = {}
    r: Any
    for r in (*_keyed(spec), *spec.slas):
        key = file_keys.get(r.span.file)
        if key is not None:
            ident = (key, type(r).__qualname__, r.span.line, r.span.column)
            found.setdefault(ident, []).append(r)
    unique = {id(rs[0]): ident for ident, rs in found.items() if len(rs) == 1}

    def of(r: Any) -> Identity | None:
        return None if r is None else unique.get(id(r))

    placed: dict[int, Identity | None] = {}

    def placement(p: Placement) -> Identity | None:
        if id(p) not in placed:
            placed[id(p)] = None  # while its members are looked at (a cycle is never placed)
            optional = [() if r is None else of(r) for r in (p.gate, p.canary, p.sla)]  # (): none
            parts = [of(p.model), of(p.env), *optional, *map(of, p.monitors), *map(placement, p.members)]
            if all(part is not None for part in parts):
                placed[id(p)] = (
                    "Placement",
                    *parts[:5],
                    tuple(parts[5 : 5 + len(p.monitors)]),
                    tuple(parts[5 + len(p.monitors) :]),
                )
        return placed[id(p)]

    out: list[tuple[Any, Identity]] = []
    for r in _keyed(spec):
        if (mine := of(r)) is not None:
            out.append((r, mine))
    for env in spec.environments:
        resolved.placements(env)  # made now (memoised) so that the build's are the ones seeded
    for p in _placements(resolved.placed()):
        if (mine := placement(p)) is not None:
            out.append((p, mine))
    return out


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


def _placements(top: Iterable[Placement]) -> Iterable[Placement]:
    """Placements and their members, each once."""
    seen: set[int] = set()
    stack = list(top)
    while stack:
        p = stack.pop()
        if id(p) not in seen:
            seen.add(id(p))
            yield p
            stack.extend(p.members)


def seed(carried: dict[int, tuple[Any, bytes]], known: list[tuple[Any, Identity]], table: Any) -> None:
    """Put each record's digest from ``table`` (a store's entry; anything else: nothing) in ``carried``."""
    if not isinstance(table, dict):
        return
    for r, ident in known:
        digest = table.get(ident)
        if isinstance(digest, bytes):
            carried[id(r)] = (r, digest)


def table_of(held: Mapping[int, tuple[Any, bytes]], known: list[tuple[Any, Identity]]) -> dict[Identity, bytes]:
    """The table for the next build: each known record's digest this build used."""
    out: dict[Identity, bytes] = {}
    for r, ident in known:
        found = held.get(id(r))
        if found is not None and found[0] is r:
            out[ident] = found[1]
    return out
