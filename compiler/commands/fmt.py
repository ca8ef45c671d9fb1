"""``shipspec fmt``: print, check or rewrite spec files in the canonical layout."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from compiler import report
from compiler.fsutil import write_atomic
from compiler.parse.printer import format_source
from compiler.parse.sources import discover, display_path
from compiler.parse.syntax import parse_text, read_source


def run(inputs: Sequence[Path], *, check: bool, write: bool, out: TextIO) -> bool:
    """Print, check (``check``) or rewrite (``write``) the specs; False when a file cannot be
    formatted or, with ``check``, is not formatted. Problems and notes go to stderr."""
    files, problems = discover(inputs)
    diags = list(problems)
    texts: dict[str, str] = {}
    formatted: list[tuple[Path, str, str, str]] = []
    for path in files:
        display = display_path(path)
        text, errors = read_source(path, display)
        diags.extend(errors)
        if text is None:
            continue
        source, errors = parse_text(text, display)
        texts[display] = text
        if errors:
            diags.extend(errors)
            continue
        formatted.append((path, display, path.read_text(encoding="utf-8"), format_source(source)))
    if diags:
        # Never rewrite anything when some file cannot be formatted.
        report.text(diags, texts, sys.stderr, colour=False)
        return False
    changed = [(p, d, old, new) for p, d, old, new in formatted if old != new]
    if check:
        for _, display, old, new in changed:
            out.writelines(
                difflib.unified_diff(
                    old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{display}", f"b/{display}"
                )
            )
        if changed:
            print(f"{len(changed)} file(s) would be reformatted; run: shipspec fmt --write", file=sys.stderr)
        return not changed
    if write:
        for path, display, _, new in changed:
            write_atomic(path, new.encode("utf-8"))
            print(f"reformatted {display}", file=sys.stderr)
        return True
    for _, display, _, new in formatted:
        if len(formatted) > 1:
            out.write(f"# ---- {display}\n")
        out.write(new)
    return True
