"""Large files no render unit renders (an environment's rules file and PrometheusRule), their
texts put in the build's spool (``backends.memo.Spool``) instead of held until emit.

A unit's texts go to the build's spool as it is rendered (``backends.memo``); the rules files
are rendered every time, outside any unit. At 1,000 models production's are 7.6 and 7.9 MB, and
making each as one string took several copies of it at once (the groups joined, indented,
rendered into the template, made into bytes for its digest), then held it until emit; the heap
those copies grew was not given back (issue 16, target 6). ``streamed`` writes such a text in
parts and hashes it as they go, so no copy of the whole is ever made in this process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from compiler.diagnostics import Span
from compiler.output import OutputFile, header, stored

_BATCH = 1 << 20  # characters written to the spool at a time


def streamed(
    ctx: Any,
    path: str,
    source: Span,
    kind: str,
    documents: tuple[dict[str, Any], ...],
    parts: Iterable[str],
) -> OutputFile | None:
    """The file whose text is ``parts`` joined, with that text in the build's spool, read back
    when asked (``output.StoredFile``), or None where that cannot be (no spool, a failing
    one, a part with a carriage return): the caller then makes the text as one string.
    Its digest and length are those of ``output.file_bytes`` of the whole text."""
    units = ctx.units
    spool = units.spool if units is not None else None
    if spool is None or spool.failed:
        return None
    sha = hashlib.sha256()
    head = header(OutputFile(path, "", source, kind)).encode("utf-8")
    sha.update(head)
    size, newlines = len(head), 0  # newlines: a trailing run not hashed yet (file_bytes strips it)
    start: int | None = None
    written = 0
    batch: list[str] = []
    batched = 0

    def flush() -> bool:
        nonlocal start, written, batched
        text = "".join(batch)
        batch.clear()
        batched = 0
        try:
            at = spool.add(text)
        except OSError:  # a full or failing temporary directory: the text is made in memory
            spool.failed = True
            return False
        if start is None:
            start = at.offset
        if at.offset != start + written:  # not one run of the spool: make it in memory
            return False
        written += at.length
        return True

    for part in parts:
        if "\r" in part:  # file_bytes turns CRLF into LF across parts: not made here
            return None
        body = part.rstrip("\n")
        if body:
            data = ("\n" * newlines + body).encode("utf-8")
            sha.update(data)
            size += len(data)
            newlines = len(part) - len(body)
        else:
            newlines += len(part)
        batch.append(part)
        batched += len(part)
        if batched >= _BATCH and not flush():
            return None
    if (batch or start is None) and not flush():
        return None
    sha.update(b"\n")
    size += 1
    assert start is not None
    return stored(path, (start, written), source, kind, documents, None, (sha.hexdigest(), size), spool)


def spooled(ctx: Any, f: OutputFile) -> OutputFile:
    """``f``, or (in a build with a spool) the same file with its text in the spool."""
    made = streamed(ctx, f.path, f.source, f.kind, f.documents, [f.text]) if f.config_map is None else None
    return f if made is None else made
