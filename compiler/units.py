"""Units: the literal forms a spec may write, normalised for the IR.

Durations become seconds, sizes bytes, percentages ratios in [0, 1] and rates
requests per second. Each parser returns ``(value, error)`` so the caller can
report against the literal's own span.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(r"^(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?P<unit>%|[A-Za-z]*)$")

DURATION_UNITS: dict[str, Decimal] = {
    "us": Decimal("0.000001"),
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
    "w": Decimal(604800),
}
SIZE_UNITS: dict[str, int] = {
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
}
RATE_UNITS = {"rps": Decimal(1), "rpm": Decimal(1) / Decimal(60)}


def split(text: str) -> tuple[Decimal, str] | None:
    m = _QUANTITY.match(text)
    if not m:
        return None
    try:
        return Decimal(m["num"]), m["unit"]
    except InvalidOperation:  # pragma: no cover - the regex admits only numbers
        return None


def _num(d: Decimal) -> float:
    return float(d)


def duration(text: str) -> tuple[float | None, str | None]:
    parts = split(text)
    if parts is None or parts[1] not in DURATION_UNITS:
        return None, f"'{text}' is not a duration; write a number with us, ms, s, m, h, d or w"
    num, unit = parts
    if num < 0:
        return None, f"duration '{text}' is negative"
    return _num(num * DURATION_UNITS[unit]), None


def size(text: str) -> tuple[int | None, str | None]:
    parts = split(text)
    if parts is None or parts[1] not in SIZE_UNITS:
        return None, f"'{text}' is not a size; write a number with Ki, Mi, Gi, Ti (or K, M, G, T)"
    num, unit = parts
    value = num * SIZE_UNITS[unit]
    if value != value.to_integral_value() or value < 0:
        return None, f"size '{text}' is not a whole number of bytes"
    return int(value), None


def percent(text: str) -> tuple[float | None, str | None]:
    parts = split(text)
    if parts is None or parts[1] != "%":
        return None, f"'{text}' is not a percentage; write it like 99.9%"
    num = parts[0]
    if num < 0 or num > 100:
        return None, f"percentage '{text}' is outside 0%..100%"
    return _num(num / 100), None


def rate(text: str) -> tuple[float | None, str | None]:
    parts = split(text)
    if parts is None or parts[1] not in RATE_UNITS:
        return None, f"'{text}' is not a request rate; write it like 200rps"
    return _num(parts[0] * RATE_UNITS[parts[1]]), None


def number(text: str) -> tuple[float | None, str | None]:
    parts = split(text)
    if parts is None or parts[1]:
        return None, f"'{text}' is not a plain number"
    return _num(parts[0]), None


def integer(text: str) -> tuple[int | None, str | None]:
    parts = split(text)
    if parts is None or parts[1] or parts[0] != parts[0].to_integral_value():
        return None, f"'{text}' is not a whole number"
    return int(parts[0]), None


def format_duration(seconds: float) -> str:
    """The shortest exact Prometheus-style duration (``1h30m`` style not needed)."""
    ms = round(seconds * 1000)
    if ms == 0 and seconds > 0:
        return f"{round(seconds * 1_000_000)}us"
    for unit, size_ms in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size_ms == 0:
            return f"{ms // size_ms}{unit}"
    return f"{ms}ms"
