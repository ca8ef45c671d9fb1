"""How Triton counts requests, where it miscounts.

Triton 2.51 counts each failed ensemble request twice in
``nv_inference_request_failure``: once under the ensemble's version directory
and once more under ``version="1"`` (where it also counts the ensemble's
successes); when the ensemble's own directory is 1 the same series is
incremented twice. Either way the ensemble's failures summed over versions
are exactly twice its failed requests (seen with a real tritonserver 2.51: a
member failing 10 of 40 requests gave failure counters 10 + 10, or 20 on one
series, and 30 successes; tests/test_monitoring_ensemble_live.py). So every
error-ratio SLI and canary query divides an ensemble's failures by
``ENSEMBLE_FAILURE_COUNT``: each request counts once.
"""

from __future__ import annotations

ENSEMBLE_FAILURE_COUNT = 2
FAILURE = "nv_inference_request_failure"


def failure_rate(selector: str, window: str, *, ensemble: bool, by: str = "sum by (model)") -> str:
    """Failed requests per second, each counted once."""
    rate = f"{by} (rate({FAILURE}{selector}[{window}]))"
    return f"{rate} / {ENSEMBLE_FAILURE_COUNT}" if ensemble else rate
