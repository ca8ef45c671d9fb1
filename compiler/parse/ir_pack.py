"""The lowered IR of a build's spec files as one cache entry: each file's own pickle, under
its own key (``sources.file_key``: the sha256 of its path and text), behind one MAC.

A warm compile at 1,000 models read 1,001 ``ir`` entries, an open, a MAC and an unpickle
each: opening and checking them was ~50 ms of its ~0.15 s IR load (issue 16). From a pack,
one read and one MAC, then each file unpickled from its own bytes. The spec is never one
pickle of every file: that costs about what parsing them again does, and any edit changes it.

A pack is kept per set of inputs (``key``) on disk only: a watching process holds each
file's IR in its memory already. A load whose files are mostly in the pack takes the others
from their own entries (an edit, a new file), as before; the pack is written again once
more than one file in ``REPACK`` of the load was not in it, or was in it and is not loaded."""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

KIND = "irs"
REPACK = 16


def key(displays: Iterable[str]) -> str:
    """The pack of a load of these inputs (as ``sources.display_path`` shows them)."""
    from compiler.cache import digest  # (not imported by a load without the cache: validate)

    return digest(KIND, *sorted(displays))


class Pack:
    """A pack read back: each file's pickle, by its key."""

    def __init__(self, keys: list[str], pickles: list[bytes]) -> None:
        self.index = dict(zip(keys, pickles, strict=True))

    @classmethod
    def read(cls, store: Any, name: str) -> Pack | None:
        from compiler.cache import InParts

        entry = store.get(KIND, name)
        if isinstance(entry, InParts) and isinstance(entry.head, list) and isinstance(entry.parts, list):
            keys, pickles = entry.head, entry.parts
            if len(keys) == len(pickles) and all(type(p) is bytes for p in pickles):
                return cls(keys, pickles)
        return None

    def raw(self, file: str) -> bytes | None:
        return self.index.get(file)

    def get(self, file: str) -> Any:
        """The file's ``(nodes, diagnostics)``, or None: not in the pack, or not loadable (the
        pack's MAC held, so only a pack this code did not write; a miss all the same)."""
        data = self.index.get(file)
        if data is None:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # noqa: BLE001 - a miss, never an error
            return None


def stale(pack: Pack | None, files: int, found: int) -> bool:
    """Whether to write the pack again: ``found`` of a load's ``files`` (distinct keys) were in it."""
    if pack is None:
        return files > 0
    return (files - found + len(pack.index) - found) * REPACK > files


def write(store: Any, name: str, pack: Pack | None, keys: Sequence[str], parsed: dict[str, Any]) -> None:
    """Put the pack of ``keys`` (each once), each file's pickle taken from the old ``pack``
    where it is there. In parts (``cache.InParts``), each file's pickle made as it is written:
    a first compile's entries are written when its tree exists, and holding every file's
    pickle until then was 2.4 MiB more of its peak at 1,000 models."""

    def pickles() -> Iterator[bytes]:
        for file in keys:
            data = pack.raw(file) if pack is not None else None
            yield data if data is not None else pickle.dumps(parsed[file], protocol=pickle.HIGHEST_PROTOCOL)

    from compiler.cache import InParts

    store.put(KIND, name, InParts(list(keys), pickles()))


def on_disk(store: Any) -> bool:
    """Whether ``store`` is the cache on disk (which packs)."""
    from compiler.cache import Cache

    return isinstance(store, Cache)
