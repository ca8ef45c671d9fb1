"""Mermaid flowcharts of the promotion graph: per model and for the whole project.

Node ids are the spec's names behind a prefix (``env_prod``): a bare name could be
one of Mermaid's keywords (``end``, ``graph``) or start an edge (``o``, ``x``).
Every label is quoted, with the characters that close a label or read as HTML
written as Mermaid's entity codes; line breaks are ``<br/>``, which Mermaid keeps.
The live test parses every diagram with Mermaid's own parser.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_ENTITIES = {"#": "#35;", "&": "#38;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;", "\n": " ", "\r": " "}


def text(value: str) -> str:
    """A value as label text: nothing in it can end the label or become markup."""
    return "".join(_ENTITIES.get(c, c) for c in value)


def label(*lines: str) -> str:
    """A quoted label of escaped lines."""
    return '"' + "<br/>".join(text(line) for line in lines if line) + '"'


def env_id(name: str) -> str:
    return f"env_{name}"


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    lines: tuple[str, ...]
    css: str | None = None  # a class defined in the diagram (production, outside)


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    lines: tuple[str, ...]


_CLASSES = {
    "production": "stroke-width:3px",
    "outside": "stroke-dasharray:4 3",  # an environment a gate names that does not serve the model
}


def flowchart(nodes: Sequence[Node], edges: Iterable[Edge]) -> str:
    """A left-to-right flowchart of the nodes (in the given order) and edges."""
    out = ["flowchart LR"]
    for n in nodes:
        out.append(f"  {n.id}[{label(*n.lines)}]")
    for e in edges:
        arrow = f"-->|{label(*e.lines)}|" if any(e.lines) else "-->"
        out.append(f"  {e.source} {arrow} {e.target}")
    used = sorted({n.css for n in nodes if n.css})
    for css in used:
        out.append(f"  classDef {css} {_CLASSES[css]}")
        out.append(f"  class {','.join(n.id for n in nodes if n.css == css)} {css}")
    return "\n".join(out)
