"""Triton server releases: what each supports, and the container image that
ships it. Pure facts, read by the checker and the backends alike."""

from __future__ import annotations

from compiler.records import Record, record


@record
class Release(Record):
    """One supported Triton server release and what its model config and metrics offer."""

    version: str
    container: str  # the NGC image tag (YY.MM) that ships it
    model_metrics: bool  # ModelConfig.model_metrics (histogram bucket edges)
    latency_histograms: bool  # nv_inference_*_histogram_ms families
    note: str


# The releases shipspec renders for and tests against (docs/triton.md shows this table).
# 2.51.0 is the server the live tests run (the nvidia-pytriton 0.7.0 wheel); 2.52.0 is the
# first with latency histograms and model_metrics; 2.73.0 is current (tritonclient 2.73's
# ModelConfig is the protobuf every rendered config is parsed with).
RELEASES: dict[str, Release] = {
    r.version: r
    for r in (
        Release("2.51.0", "24.10", False, False, "the server the live tests run; latency as summaries only"),
        Release("2.52.0", "24.11", True, True, "first with model_metrics and latency histograms"),
        Release("2.73.0", "26.08", True, True, "current; the default target"),
    )
}

# The release configs and images target when the project names none: the current one.
DEFAULT_RELEASE = "2.73.0"

# Triton's container releases are monthly and each bumps the server's minor
# version by one: 2.40.0 shipped as 23.11, 2.51.0 as 24.10 (the version the
# tests run), 2.59.0 as 25.06, 2.73.0 as 26.08. Only that known span is mapped;
# outside it the checker refuses the version rather than guess an image tag.
TRITON_MINOR_MIN = 40
TRITON_MINOR_MAX = 73
_TRITON_ANCHOR = (51, 2024, 10)  # minor 51 -> 24.10

# The histogram whose bucket edges the model config can set (milliseconds).
LATENCY_HISTOGRAM = "nv_inference_first_response_histogram_ms"
# First server version whose model config accepts ``model_metrics``; the
# ``nv_inference_*_histogram_ms`` latency histograms exist from the same release.
MODEL_METRICS_SINCE = (2, 52)
HISTOGRAM_MINOR = MODEL_METRICS_SINCE[1]


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2.51.0"`` -> ``(2, 51, 0)``; non-numeric parts count as 0."""
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def supports_model_metrics(triton_version: str) -> bool:
    return version_tuple(triton_version)[:2] >= MODEL_METRICS_SINCE


def has_histograms(version: str) -> bool:
    """Latency histograms (``nv_inference_*_histogram_ms``) exist from 2.52 on."""
    return supports_model_metrics(version)


def triton_minor(version: str) -> int | None:
    """The minor number of a ``2.MINOR.PATCH`` Triton version, or None."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or parts[0] != "2":
        return None
    return int(parts[1])


def triton_release(version: str) -> str | None:
    """The NGC container release (``YY.MM``) that ships a Triton server version."""
    minor = triton_minor(version)
    if minor is None or not TRITON_MINOR_MIN <= minor <= TRITON_MINOR_MAX:
        return None
    anchor_minor, year, month = _TRITON_ANCHOR
    months = year * 12 + (month - 1) + (minor - anchor_minor)
    return f"{months // 12 % 100:02d}.{months % 12 + 1:02d}"
