"""Markdown fragments for the catalog's templates.

The templates' environment quotes every ``{{ }}`` value as YAML unless it is
``Raw``; the catalog hands its templates only ``Raw`` text made here, escaped
for where it goes: a table cell (``|`` and line breaks would end it), inline
code (a value with backticks gets a longer fence), a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from compiler.backends.render import Raw

# What Markdown (GitHub's) would read as markup inside running text or a table
# cell: a backslash, a code span, emphasis, a link, strikethrough, a cell's end, an
# HTML tag (``<`` before a letter), an entity, an underscore at a word's edge (inside a word,
# as in ``fraud_detector``, it is text). ``#`` and ``>`` matter only at a line's start,
# where a cell never is.
_SPECIAL = re.compile(r"[\\`*\[\]~|]|<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def cell(text: str) -> Raw:
    """Plain text, safe in a table cell and in running text."""
    return Raw(_SPECIAL.sub(lambda m: "\\" + m.group(0), " ".join(text.split())))


def joined(pieces: Iterable[Raw]) -> Raw:
    """Escaped pieces (links, code) joined with commas; empty when there are none."""
    return Raw(", ".join(pieces))


def code(text: str) -> Raw:
    """Inline code; in a table, a ``|`` inside it still needs its escape."""
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Raw(f"{fence}{pad}{text}{pad}{fence}")


def link(text: str, target: str) -> Raw:
    return Raw(f"[{cell(text)}]({_target(target)})")


def url(target: str) -> Raw:
    """A URL from the spec, shown as itself."""
    return Raw(f"[{cell(target)}]({_target(target)})")


def _target(target: str) -> str:
    # Spaces and parentheses would end a link destination; anything else is kept.
    return "".join("%20" if c == " " else "%28" if c == "(" else "%29" if c == ")" else c for c in target)


def owners(names: Iterable[str]) -> Raw:
    """Owners as code: a team handle in a committed file is a name, not a mention."""
    return Raw(", ".join(code(n) for n in names) or "—")
