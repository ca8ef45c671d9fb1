"""Multi-window, multi-burn-rate alerting: the windows and their burn factors.

Four alerts (Google SRE workbook, "Alerting on SLOs") each say "this share of
the error budget is spent within this long window": two page, two open a
ticket. A burn rate is budget spent per unit of budget-time, so an alert's
factor is ``share * period / long_window`` (Sloth's method). The shares depend
on the period: a 30-day SLO spends 2% / 5% / 10% / 10% (factors 14.4 / 6 / 3 /
1), but the same shares over 7 days would ticket at a burn rate of 0.23, while
the SLO is still on track. So the shares come from a table per period
(``WINDOW_TABLES``, Sloth's 7d, 28d and 30d tables); a period without its own
table uses the table of the longest tabled period not longer than it (a 14-day
SLO alerts with the 7-day shares, at factors 26.88 / 7 / 2.8 / 1.96), or the
table a spec names (``availability 99.9% over 14d windows 28d``). A period for
which the chosen windows make no sense (a long window as long as the period,
an alert that would fire below a burn rate of ``MIN_FACTOR``) is refused by
the checker (SS332). Each long window is paired with a short window (1/12 of
it) so an alert resets soon after the burn stops.
"""

from __future__ import annotations

from functools import cache

from compiler.records import Record, record

DAY = 86_400.0
# The SLO period when an SLA names none (its error_rate alone).
DEFAULT_PERIOD = 30 * DAY

# (severity, long window s, short window s, share of the budget)
Policy = tuple[tuple[str, float, float, float], ...]

_GOOGLE: Policy = (
    ("page", 3_600.0, 300.0, 0.02),
    ("page", 21_600.0, 1_800.0, 0.05),
    ("ticket", DAY, 7_200.0, 0.10),
    ("ticket", 3 * DAY, 21_600.0, 0.10),
)
# Sloth's 7-day example: a short period needs larger shares, or the slow
# alerts would fire below a burn rate of 1.
_WEEK: Policy = (
    ("page", 3_600.0, 300.0, 0.08),
    ("page", 21_600.0, 1_800.0, 0.125),
    ("ticket", DAY, 7_200.0, 0.20),
    ("ticket", 3 * DAY, 21_600.0, 0.42),
)

# Error-budget shares per window pair, by the SLO period (days) they are made for.
WINDOW_TABLES: dict[int, Policy] = {7: _WEEK, 28: _GOOGLE, 30: _GOOGLE}

# No alert may fire below this burn rate (Sloth's slowest 7d ticket is 0.98,
# its 28d one 0.933): below 1 the budget lasts the period.
MIN_FACTOR = 0.9

# The windows every SLI is recorded over, besides the SLO period itself.
SLI_WINDOWS: tuple[float, ...] = (300.0, 1_800.0, 3_600.0, 7_200.0, 21_600.0, DAY, 3 * DAY)

LONGEST_ALERT_WINDOW = max(long for table in WINDOW_TABLES.values() for _, long, _, _ in table)


@record
class BurnWindow(Record):
    """One burn-rate alert: fire when both windows burn faster than ``factor``."""

    severity: str
    long: float
    short: float
    budget_share: float
    factor: float


def table_for(period: float, windows: float | None = None) -> int:
    """The window table (its period in days) for an SLO period: the one a spec
    names, else the longest tabled period not longer than the SLO period (the
    shortest table for shorter periods; the checker refuses those)."""
    if windows is not None:
        return int(windows // DAY)
    days = period / DAY
    fitting = [d for d in WINDOW_TABLES if d <= days]
    return max(fitting) if fitting else min(WINDOW_TABLES)


@cache
def burn_windows(period: float, windows: float | None = None) -> tuple[BurnWindow, ...]:
    """The four burn-rate alerts for an SLO period given in seconds (memoised: immutable, and
    asked for three times per SLA by the checks, 3,000 times at 1,000 models, of a few periods)."""
    table = WINDOW_TABLES.get(table_for(period, windows), _GOOGLE)
    return tuple(
        BurnWindow(severity, long, short, share, round(share * period / long, 6))
        for severity, long, short, share in table
    )


def window_problems(period: float, windows: float | None = None) -> list[str]:
    """Why the chosen windows make no sense for the period (empty when they do)."""
    out = []
    for w in burn_windows(period, windows):
        if w.long >= period:
            out.append(f"the {prom_duration(w.long)} window is not shorter than the period")
        elif w.factor < MIN_FACTOR:
            out.append(
                f"the {w.severity} alert over {prom_duration(w.long)} would fire at a burn rate of "
                f"{number(w.factor)}, while the budget lasts the period"
            )
    return out


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


def never_fires(objective: float, period: float, windows: float | None = None) -> list[BurnWindow]:
    """The burn-rate alerts whose threshold is an error ratio of 1 or more:
    an error ratio cannot exceed 1, so those alerts can never fire."""
    budget = 1.0 - objective
    return [w for w in burn_windows(period, windows) if w.factor * budget >= 1.0]


@record
class Objective(Record):
    """One error-ratio SLO: the SLI name, its objective and period."""

    slo: str
    objective: float
    period: float
    what: str  # words for summaries: "availability", "p99 latency under 50ms"
    windows: float | None = None  # the period whose window table the spec chose


def latency_slo_name(percentile: float) -> str:
    return f"latency-p{percentile:g}".replace(".", "-")
