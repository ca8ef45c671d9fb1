"""What a build took from the cache on disk."""

from __future__ import annotations

from compiler.cache import Cache


def record_hits(store: Cache) -> list[str]:
    """The kind of each entry ``store.get`` finds from now on, in order (the list fills as it reads)."""
    kinds: list[str] = []
    read = store.get

    def get(kind: str, key: str) -> object:
        found = read(kind, key)
        if found is not None:
            kinds.append(kind)
        return found

    store.get = get  # type: ignore[method-assign]
    return kinds
