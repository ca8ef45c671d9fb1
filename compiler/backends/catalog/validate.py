"""The catalog's own check of what it rendered (``BACKEND.validators``): Markdown that GitHub
renders as intended. Every table row has its header's number of cells (a ``|`` in a value
that escaped its escaping would add one), code fences close, and each Mermaid block is a
flowchart. Mermaid's own parser reads every diagram in tests/live/test_catalog_mermaid.py."""

from __future__ import annotations

import re

from compiler.diagnostics import Sink
from compiler.output import OutputFile

_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> int:
    return len(_CELL_SEPARATOR.split(line.strip())) - 2


def validate_markdown(f: OutputFile, sink: Sink) -> None:
    problems: list[str] = []
    fence: str | None = None
    header: int | None = None
    for number, line in enumerate(f.text.split("\n"), start=1):
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip()
                if fence == "mermaid":
                    following = f.text.split("\n")[number : number + 1]
                    if not following or not following[0].startswith("flowchart "):
                        problems.append(f"line {number}: a mermaid block that is not a flowchart")
            else:
                fence = None
            header = None
            continue
        if fence is not None:
            continue
        if line.startswith("|"):
            if header is None:
                header = _cells(line)
            elif _cells(line) != header:
                problems.append(f"line {number}: a table row of {_cells(line)} cells under a header of {header}")
        else:
            header = None
    if fence is not None:
        problems.append("a code block is never closed")
    for problem in problems[:5]:
        sink.report("SS804", f"{f.path}: {problem}", f.source)
