"""Multi-window, multi-burn-rate alerting: the windows and their burn factors.

The four alerts of the Google SRE workbook (chapter "Alerting on SLOs") are
stated for a 30-day period as "this share of the error budget is spent within
this long window": 2% in 1h and 5% in 6h page, 10% in 1d and 10% in 3d open a
ticket. A burn rate is budget spent per unit of budget-time, so the factor for
any period P is ``share * P / long_window``; a 30-day SLO gets the familiar
14.4 / 6 / 3 / 1 and a 28-day SLO its own 13.44 / 5.6 / 2.8 / 0.933. Each long
window is paired with a short window (1/12 of it) so an alert resets soon after
the burn stops.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86_400.0
# The SLO period when an SLA names none (its error_rate alone).
DEFAULT_PERIOD = 30 * DAY

# (severity, long window s, short window s, share of the budget)
_POLICY: tuple[tuple[str, float, float, float], ...] = (
    ("page", 3_600.0, 300.0, 0.02),
    ("page", 21_600.0, 1_800.0, 0.05),
    ("ticket", DAY, 7_200.0, 0.10),
    ("ticket", 3 * DAY, 21_600.0, 0.10),
)

# The windows every SLI is recorded over, besides the SLO period itself.
SLI_WINDOWS: tuple[float, ...] = (300.0, 1_800.0, 3_600.0, 7_200.0, 21_600.0, DAY, 3 * DAY)

LONGEST_ALERT_WINDOW = max(long for _, long, _, _ in _POLICY)


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """One burn-rate alert: fire when both windows burn faster than ``factor``."""

    severity: str
    long: float
    short: float
    budget_share: float
    factor: float


def burn_windows(period: float) -> tuple[BurnWindow, ...]:
    """The four burn-rate alerts for an SLO period given in seconds."""
    return tuple(
        BurnWindow(severity, long, short, share, round(share * period / long, 6))
        for severity, long, short, share in _POLICY
    )


def prom_duration(seconds: float) -> str:
    """A Prometheus duration in its largest whole unit: 300 -> '5m', 86400 -> '1d'."""
    s = int(round(seconds))
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if s and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def number(value: float) -> str:
    """A float as PromQL text without float noise (0.0144, not 0.014400000000000001)."""
    text = f"{value:.10g}"
    return text


def never_fires(objective: float, period: float) -> list[BurnWindow]:
    """The burn-rate alerts whose threshold is an error ratio of 1 or more:
    an error ratio cannot exceed 1, so those alerts can never fire."""
    budget = 1.0 - objective
    return [w for w in burn_windows(period) if w.factor * budget >= 1.0]


@dataclass(frozen=True, slots=True)
class Objective:
    """One error-ratio SLO: the SLI name, its objective and period."""

    slo: str
    objective: float
    period: float
    what: str  # words for summaries: "availability", "p99 latency under 50ms"


def latency_slo_name(percentile: float) -> str:
    return f"latency-p{percentile:g}".replace(".", "-")
