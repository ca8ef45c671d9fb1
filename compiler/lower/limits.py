"""Every number a spec writes gets a range, checked once before lowering (issue 17).

A literal with too many digits or too large an exponent is refused before any
conversion (``int(Decimal('1e999999999'))`` runs for minutes; 5,000 digits hit
Python's int-string limit; 400-digit floats become infinity). A literal whose
value, in its base unit, exceeds ``limits.MAX_NUMBER`` is refused too. Each is
an SS303 at the literal, and the token is replaced by a harmless ``1`` (with its
unit) so lowering goes on and reports everything else in the file; the file has
an error, so nothing is rendered from the stand-in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from compiler import limits, units
from compiler.diagnostics import Sink, Span
from compiler.lark_standalone import Token, Tree

_LITERAL = re.compile(r"^(?P<sign>-?)(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?P<unit>%|[A-Za-z]*)$")
_FACTORS: dict[str, Decimal] = {
    **units.DURATION_UNITS,
    **{k: Decimal(v) for k, v in units.SIZE_UNITS.items()},
    **units.RATE_UNITS,
}
_TYPES = frozenset({"NUMBER", "QUANTITY", "PERCENTILE"})


def problem(text: str) -> str | None:
    """Why the numeric literal ``text`` (``12``, ``1.5e3``, ``4Gi``, ``p99``) is out of range."""
    literal = text[1:] if text.startswith("p") else text
    m = _LITERAL.match(literal)
    if m is None:
        return None  # not a number the lowering will convert; its own checks apply
    why = limits.number_problem(m["num"])
    if why is not None:
        return why
    try:
        value = Decimal(m["num"]) * _FACTORS.get(m["unit"], Decimal(1))
    except InvalidOperation:
        return "is not a number"
    if value > limits.MAX_NUMBER:
        return f"is larger than {limits.MAX_NUMBER:.0e} (in its base unit)"
    return None


def screen(tree: Tree[Token], sink: Sink, span: Callable[[Token], Span]) -> set[int]:
    """Report every out-of-range literal in ``tree`` and replace it with a stand-in;
    returns the ids of the stand-ins (lowering skips them: no second diagnostic)."""
    refused: set[int] = set()
    for sub in tree.iter_subtrees():
        for i, child in enumerate(sub.children):
            if not isinstance(child, Token) or child.type not in _TYPES:
                continue
            text = str(child)
            why = problem(text)
            if why is None:
                continue
            shown = text if len(text) <= 40 else f"{text[:20]}…{text[-8:]} ({len(text)} characters)"
            sink.report("SS303", f"number {shown} {why}", span(child), hint="write a value of a realistic size")
            m = _LITERAL.match(text[1:] if text.startswith("p") else text)
            stand_in = "p50" if text.startswith("p") else "1" + (m["unit"] if m else "")
            sub.children[i] = Token.new_borrow_pos(child.type, stand_in, child)
            refused.add(id(sub.children[i]))
    return refused
