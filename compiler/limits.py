"""Bounds on everything shipspec reads or accepts (issue 17).

Every input is bounded by size *before* it is read (``/dev/zero`` or a 2 GB sparse
file must not be pulled into memory), and every number the language accepts is
checked against a range once, when lowering, so no later phase meets an
infinity, a NaN or a 400-digit integer.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

# Bytes read at most from each kind of input.
SPEC_BYTES = 4 * 1024 * 1024
EVIDENCE_BYTES = 4 * 1024 * 1024
TRITON_CONFIG_BYTES = 4 * 1024 * 1024
CONFIG_BYTES = 1024 * 1024

# Numbers: the largest magnitude any spec value may have (an integer count, a
# quantity in its base unit, a rate). 10**15 is above every real value (a petabyte
# of memory is 1.1e15 bytes) and exactly representable as a float.
MAX_NUMBER = 10**15
# Digits in a numeric literal before it is even converted (int() of a 5,000-digit
# string is refused by Python; Decimal of '1e999999999' is exact and enormous).
MAX_DIGITS = 40


class TooLarge(Exception):
    """The input has more than ``limit`` bytes (it was not read in full)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


def read_bounded(path: Path | str, limit: int) -> bytes:
    """The bytes of ``path``, reading at most ``limit + 1``; raises TooLarge past ``limit``.

    Works for devices and pipes (``/dev/zero``), where ``stat`` says nothing."""
    with open(path, "rb") as f:
        try:
            if os.fstat(f.fileno()).st_size > limit:
                raise TooLarge(limit)
        except OSError:
            pass
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(limit)
    return data


def number_problem(text: str) -> str | None:
    """Why a numeric literal is refused before conversion, or None."""
    mantissa, _, exponent = text.lower().replace("_", "").partition("e")
    digits = sum(c.isdigit() for c in mantissa)
    if digits > MAX_DIGITS:
        return f"has {digits} digits; at most {MAX_DIGITS} are accepted"
    if exponent:
        try:
            exp = int(exponent[:12])
        except ValueError:
            return "has an invalid exponent"
        if len(exponent.lstrip("+-").lstrip("0")) > 6 or abs(exp) > 400:
            return "has an exponent out of range"
    return None


def magnitude_problem(value: float | int, limit: float = MAX_NUMBER) -> str | None:
    """Why a converted number is refused: not finite, or larger than ``limit``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    if abs(value) > limit:
        return f"is larger than {limit:g}"
    return None
