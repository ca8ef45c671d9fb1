"""Write an edited spec back without touching the bytes around the edit (issue 17).

Specs are read normalised (``parse.read_source``: no BOM, ``\\r\\n`` as ``\\n``),
and edits are made on that text. Writing the normalised text back would turn a
CRLF file into LF and drop its BOM — even for a promote that is then refused.
``splice`` finds the one span where the new normalised text differs from the old
and replaces only the matching bytes of the original file, in its line endings.
"""

from __future__ import annotations

BOM = "\ufeff".encode()


def normalise(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def _raw_offset(raw_text: str, start: int, index: int) -> int:
    """The index in ``raw_text`` (BOM stripped: ``start``) of normalised index ``index``."""
    i, n = start, 0
    while n < index:
        i += 2 if raw_text.startswith("\r\n", i) else 1
        n += 1
    return i


def splice(raw: bytes, new: str) -> bytes:
    """The bytes of ``raw`` with its normalised text replaced by ``new``, only where they differ."""
    old = normalise(raw)
    if old == new:
        return raw
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    raw_text = raw.decode("utf-8")
    start = 1 if raw_text.startswith("\ufeff") else 0
    lo = _raw_offset(raw_text, start, prefix)
    hi = _raw_offset(raw_text, lo, len(old) - suffix - prefix)
    middle = new[prefix : len(new) - suffix]
    if "\r\n" in raw_text and raw_text.count("\r\n") * 2 >= raw_text.count("\n"):
        middle = middle.replace("\n", "\r\n")
    return (raw_text[:lo] + middle + raw_text[hi:]).encode("utf-8")
